package dev.jimm.layers;

import java.util.SplittableRandom;

/**
 * timm's usual CNN {@code _init_weights}, one variant per family: every Conv2d weight kaiming-normal (fan out), and per
 * choice zero conv biases, N(0, std) Linear weights and zero Linear biases; what is not chosen keeps PyTorch's default.
 * One pass over the modules in registration order, so a seed gives the same weights as a hand-written loop.
 */
public final class ConvNetInit {
    private final boolean zeroConvBiases;
    private final double linearStd;
    private final boolean zeroLinearBiases;

    private ConvNetInit(boolean zeroConvBiases, double linearStd, boolean zeroLinearBiases) {
        this.zeroConvBiases = zeroConvBiases;
        this.linearStd = linearStd;
        this.zeroLinearBiases = zeroLinearBiases;
    }

    /** Kaiming-normal (fan out) conv weights only. */
    public static ConvNetInit fanOutConvs() {
        return new ConvNetInit(false, Double.NaN, false);
    }

    /** Also zeroes every conv bias. */
    public ConvNetInit withZeroConvBiases() {
        return new ConvNetInit(true, linearStd, zeroLinearBiases);
    }

    /** Also draws every Linear weight from N(0, std). */
    public ConvNetInit withLinearStd(double std) {
        if (!(std > 0)) {
            throw new IllegalArgumentException("linear std " + std + " must be positive");
        }
        return new ConvNetInit(zeroConvBiases, std, zeroLinearBiases);
    }

    /** Also zeroes every Linear bias. */
    public ConvNetInit withZeroLinearBiases() {
        return new ConvNetInit(zeroConvBiases, linearStd, true);
    }

    /** Fills the weights under {@code root} in place. */
    public void apply(Module root, SplittableRandom random) {
        for (Module m : root.namedModules().values()) {
            if (m instanceof Conv2d c) {
                Init.kaimingNormalFanOut(c.weight().getArray(), random);
                if (zeroConvBiases && c.bias() != null) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            } else if (m instanceof Linear l) {
                if (!Double.isNaN(linearStd)) {
                    Init.normal(l.weight().getArray(), linearStd, random);
                }
                if (zeroLinearBiases && l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            }
        }
    }
}
