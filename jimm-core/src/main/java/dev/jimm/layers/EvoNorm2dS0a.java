package dev.jimm.layers;

/**
 * timm's {@code EvoNorm2dS0a}: {@code x * sigmoid(v * x) / group_std(x)} then a per-channel affine. Unlike
 * {@link EvoNorm2dS0} the division by the group standard deviation stays when the activation is off ({@code applyAct}
 * false drops only {@code v} and the sigmoid gate), and eps defaults to 1e-3.
 */
public class EvoNorm2dS0a extends EvoNorm2dS0 {
    /** timm's default eps of the S0a variant. */
    public static final float DEFAULT_EPS = 1e-3f;

    /** Groups of {@code groupSize} channels each (timm's {@code group_size}), eps 1e-3. */
    public EvoNorm2dS0a(int channels, int groupSize, boolean applyAct) {
        this(channels, groupSize, applyAct, DEFAULT_EPS);
    }

    public EvoNorm2dS0a(int channels, int groupSize, boolean applyAct, float eps) {
        super("EvoNorm2dS0a", channels, groupSize, applyAct, eps, true);
    }
}
