package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * TensorFlow "SAME" padding (timm's {@code Conv2dSame}): the padding depends on the input size and may be one pixel
 * larger at the bottom/right, so it is applied in forward. The parameters are those of {@link Conv2d}, so TF-ported
 * checkpoints load under the same keys.
 */
public class Conv2dSame extends Conv2d {
    public Conv2dSame(int inChannels, int outChannels, int kernelSize, Options o) {
        super(inChannels, outChannels, kernelSize, o.padding(0));
    }

    /**
     * timm's create_conv2d_pad: symmetric padding unless {@code same} is asked for and cannot be static (a stride above
     * 1 or an even effective kernel), in which case a {@link Conv2dSame}.
     */
    public static Conv2d create(
            int in, int out, int kernel, int stride, int dilation, int groups, boolean bias, boolean same) {
        Options o = Options.defaults()
                .stride(stride)
                .dilation(dilation)
                .groups(groups)
                .bias(bias);
        boolean staticPad = stride == 1 && (dilation * (kernel - 1)) % 2 == 0;
        if (same && !staticPad) {
            return new Conv2dSame(in, out, kernel, o);
        }
        int pad = same ? dilation * (kernel - 1) / 2 : Layers.padding(kernel, stride, dilation);
        return new Conv2d(in, out, kernel, o.padding(pad));
    }

    private static long samePadding(long size, long kernel, long stride, long dilation) {
        long outSize = (size + stride - 1) / stride;
        return Math.max((outSize - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        long[] k = kernelSize();
        long[] s = stride();
        long[] d = dilation();
        long padH = samePadding(x.getShape().get(2), k[0], s[0], d[0]);
        long padW = samePadding(x.getShape().get(3), k[1], s[1], d[1]);
        if (padH > 0 || padW > 0) {
            // torch.nn.functional.pad order: last axis first
            x = x.pad(new Shape(padW / 2, padW - padW / 2, padH / 2, padH - padH / 2), 0);
        }
        return super.forwardImpl(x);
    }

    @Override
    protected String extraRepr() {
        return "Conv2dSame" + super.extraRepr().substring("Conv2d".length());
    }
}
