package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code ConvNormAct}: a convolution {@code conv}, then {@code bn}, a norm that applies its own activation
 * (timm's norm_act layers), and, for a strided conv with anti-aliasing, {@code aa} after them, which then does the
 * stride instead of the conv. The families differ only in the conv, the norm and the anti-aliasing they pass.
 */
public class ConvNormAct extends Module {
    private final Conv2d conv;
    private final Module bn;
    private final Module aa;

    /** {@code conv} then {@code normAct}. */
    public ConvNormAct(Conv2d conv, Module normAct) {
        this(conv, normAct, null);
    }

    /**
     * @param antiAlias the module after the norm that does the stride (timm's {@code create_aa}), or null for none; the
     *     conv given then runs at stride 1
     */
    public ConvNormAct(Conv2d conv, Module normAct, Module antiAlias) {
        this.conv = register("conv", conv);
        this.bn = register("bn", normAct);
        this.aa = antiAlias == null ? null : register("aa", antiAlias);
    }

    /**
     * The usual one: a bias-free conv with symmetric padding, then BatchNorm (eps 1e-5) with {@code act} (IDENTITY for
     * timm's {@code apply_act=False}).
     */
    public static ConvNormAct batchNorm(
            int in, int out, int kernel, int stride, int dilation, int groups, Activation.Kind act) {
        return batchNorm(in, out, kernel, stride, dilation, groups, 1e-5f, act);
    }

    /** {@link #batchNorm(int, int, int, int, int, int, Activation.Kind)} with the norm's {@code eps}. */
    public static ConvNormAct batchNorm(
            int in, int out, int kernel, int stride, int dilation, int groups, float eps, Activation.Kind act) {
        return new ConvNormAct(
                Conv2d.symmetric(in, out, kernel, stride, dilation, groups, false), new BatchNormAct2d(out, eps, act));
    }

    /** The convolution. */
    public Conv2d conv() {
        return conv;
    }

    /** The norm, whose weight timm's zero_init_last zeroes where this conv ends a block. */
    public Module norm() {
        return bn;
    }

    /** Whether an anti-aliasing module does the stride after the norm. */
    public boolean hasAntiAlias() {
        return aa != null;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        x = bn.forward(conv.forward(x));
        return aa == null ? x : aa.forward(x);
    }
}
