package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * timm's {@code AvgPool2dSame}: TensorFlow "SAME" padding for average pooling, applied in forward because it depends on
 * the input size (the extra pixel, if any, goes to the bottom/right). The padding is zeros put in before pooling, so
 * they count in the averages whatever {@code countIncludePad} says (that flag only concerns the pooling's own padding,
 * which is none); timm's ResNets use it for the shortcut of dilated stages.
 */
public class AvgPool2dSame extends Module {
    private final int kernel;
    private final int stride;
    private final boolean ceilMode;
    private final boolean countIncludePad;

    public AvgPool2dSame(int kernel, int stride, boolean ceilMode, boolean countIncludePad) {
        if (kernel < 1 || stride < 1) {
            throw new IllegalArgumentException("kernel " + kernel + " and stride " + stride + " must be positive");
        }
        this.kernel = kernel;
        this.stride = stride;
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
    }

    /** timm's get_same_padding: the total padding of one axis. */
    static long samePadding(long size, int kernel, int stride) {
        long outSize = (size + stride - 1) / stride;
        return Math.max((outSize - 1) * stride + kernel - size, 0);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        long padH = samePadding(x.getShape().get(2), kernel, stride);
        long padW = samePadding(x.getShape().get(3), kernel, stride);
        if (padH > 0 || padW > 0) {
            // torch.nn.functional.pad order: last axis first
            x = x.pad(new Shape(padW / 2, padW - padW / 2, padH / 2, padH - padH / 2), 0);
        }
        return x.getNDArrayInternal()
                .avgPool(
                        new Shape(kernel, kernel),
                        new Shape(stride, stride),
                        new Shape(0, 0),
                        ceilMode,
                        countIncludePad);
    }

    @Override
    protected String extraRepr() {
        return "AvgPool2dSame(kernel_size=" + kernel + ", stride=" + stride + (ceilMode ? ", ceil_mode=True" : "")
                + ")";
    }
}
