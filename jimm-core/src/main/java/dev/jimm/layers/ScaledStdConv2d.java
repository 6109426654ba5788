package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code ScaledStdConv2d} and {@code ScaledStdConv2dSame} (Normalization-Free nets): a convolution whose weight
 * is standardized per output channel on every call, {@code (w - mean) / sqrt(var + eps) * gain * gamma / sqrt(fan_in)}
 * with the biased variance over each filter, then applied with its bias. The parameters are {@code weight},
 * {@code bias} and {@code gain} [out, 1, 1, 1], in that order, as timm's state_dict has them.
 *
 * <p>The padding is timm's: symmetric ({@code ((stride - 1) + dilation (k - 1)) / 2}), or TensorFlow's "SAME" for the
 * {@code Same} variant, static where it can be and computed from the input size where it cannot (a stride above 1 or an
 * even effective kernel).
 */
public class ScaledStdConv2d extends Conv2d {
    private final Parameter gain;
    private final double scale;
    private final double gamma;
    private final float eps;
    private final float gainInit;
    private final boolean dynamicSame;
    private boolean channelsLast = MemoryFormat.byDefault();

    private ScaledStdConv2d(
            int in,
            int out,
            int kernel,
            Options o,
            int padding,
            boolean dynamicSame,
            double gamma,
            double eps,
            double gainInit) {
        super(in, out, kernel, o.padding(padding));
        this.gain = parameter("gain", out, 1, 1, 1);
        // gamma / sqrt(fan_in), fan_in = weight[0].numel()
        this.scale = gamma * Math.pow((double) in / o.groups() * kernel * kernel, -0.5);
        this.gamma = gamma;
        this.eps = (float) eps;
        this.gainInit = (float) gainInit;
        this.dynamicSame = dynamicSame;
    }

    /**
     * timm's {@code ScaledStdConv2d} with its default (symmetric) padding; {@code o}'s padding is ignored.
     *
     * @param gamma the activation gain folded into the scale (1 when the activations carry it)
     * @param eps added to the filters' variance (timm's NFNets: 1e-5)
     * @param gainInit the initial value of every {@code gain} (timm's NFNets: 0 for a residual branch's last conv)
     */
    public static ScaledStdConv2d symmetric(
            int in, int out, int kernel, Options o, double gamma, double eps, double gainInit) {
        return new ScaledStdConv2d(
                in, out, kernel, o, Layers.padding(kernel, o.stride(), o.dilation()), false, gamma, eps, gainInit);
    }

    /**
     * timm's {@code ScaledStdConv2dSame}: TensorFlow "SAME" padding, static (symmetric) where stride 1 and an odd
     * effective kernel allow it, else computed in forward; {@code o}'s padding is ignored. Arguments as
     * {@link #symmetric}.
     */
    public static ScaledStdConv2d same(
            int in, int out, int kernel, Options o, double gamma, double eps, double gainInit) {
        boolean staticPad = o.stride() == 1 && (o.dilation() * (kernel - 1)) % 2 == 0;
        int padding = staticPad ? Layers.padding(kernel, o.stride(), o.dilation()) : 0;
        return new ScaledStdConv2d(in, out, kernel, o, padding, !staticPad, gamma, eps, gainInit);
    }

    public Parameter gain() {
        return gain;
    }

    /** The factor {@code gamma / sqrt(fan_in)} the standardized weight is scaled by, before the gain. */
    public double scale() {
        return scale;
    }

    /**
     * The weight the convolution applies: each output channel's filter standardized (biased variance, as timm's
     * {@code F.batch_norm} in training mode) and scaled by {@code gain * scale}.
     */
    public NDArray standardizedWeight() {
        NDArray w = weight().getArray();
        long out = w.getShape().get(0);
        NDArray flat = w.reshape(out, -1);
        NDArray centered = flat.sub(flat.mean(new int[] {1}, true));
        NDArray var = centered.square().mean(new int[] {1}, true);
        NDArray perChannel = Scalars.mul(gain.getArray().reshape(out, 1), scale);
        return centered.mul(perChannel.div(var.add(eps).sqrt())).reshape(w.getShape());
    }

    @Override
    void useChannelsLast(boolean on) {
        channelsLast = on;
        super.useChannelsLast(on);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        if (dynamicSame) {
            x = padSame(x);
        }
        NDArray in = channelsLast ? MemoryFormat.channelsLast(x) : x;
        return in.getNDArrayInternal()
                .convolution(
                        in,
                        standardizedWeight(),
                        bias() == null ? null : bias().getArray(),
                        new Shape(stride()),
                        new Shape(padding()),
                        new Shape(dilation()),
                        groups())
                .singletonOrThrow();
    }

    // timm's pad_same: the total padding from the input size, the odd pixel at the bottom/right
    private NDArray padSame(NDArray x) {
        long[] k = kernelSize();
        long[] s = stride();
        long[] d = dilation();
        long padH = samePadding(x.getShape().get(2), k[0], s[0], d[0]);
        long padW = samePadding(x.getShape().get(3), k[1], s[1], d[1]);
        if (padH == 0 && padW == 0) {
            return x;
        }
        // torch.nn.functional.pad order: last axis first
        return x.pad(new Shape(padW / 2, padW - padW / 2, padH / 2, padH - padH / 2), 0);
    }

    private static long samePadding(long size, long kernel, long stride, long dilation) {
        long outSize = (size + stride - 1) / stride;
        return Math.max((outSize - 1) * stride + (kernel - 1) * dilation + 1 - size, 0);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        super.resetParameters(random);
        Init.constant(gain.getArray(), gainInit);
    }

    /** Not possible: the weight is standardized on every call, so a scale folded into it would be undone. */
    @Override
    public void foldAffine(double[] scale, double[] shift) {
        throw new UnsupportedOperationException(
                extraRepr() + " standardizes its weight on every call; an affine map cannot be folded into it");
    }

    /** Does nothing: the weight is standardized into a new array on every call, so its own layout does not matter. */
    @Override
    public void storeWeightChannelsLast() {}

    @Override
    protected String extraRepr() {
        String conv = super.extraRepr();
        String args = conv.substring(conv.indexOf('(') + 1, conv.length() - 1);
        return (dynamicSame ? "ScaledStdConv2dSame(" : "ScaledStdConv2d(") + args + ", gamma=" + gamma + ", eps=" + eps
                + ")";
    }
}
