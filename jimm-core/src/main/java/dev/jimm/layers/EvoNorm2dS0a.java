package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code EvoNorm2dS0a}: {@code x * sigmoid(v * x) / group_std(x)} then a per-channel affine. Unlike
 * {@link EvoNorm2dS0} the division by the group standard deviation stays when the activation is off ({@code applyAct}
 * false drops only {@code v} and the sigmoid gate), and eps defaults to 1e-3. The group std is over {@code (C / groups,
 * H, W)} of the input, population variance.
 */
public class EvoNorm2dS0a extends Module {
    /** timm's default eps of the S0a variant. */
    public static final float DEFAULT_EPS = 1e-3f;

    private final int channels;
    private final int groups;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;
    private final Parameter v;

    /** Groups of {@code groupSize} channels each (timm's {@code group_size}), eps 1e-3. */
    public EvoNorm2dS0a(int channels, int groupSize, boolean applyAct) {
        this(channels, groupSize, applyAct, DEFAULT_EPS);
    }

    public EvoNorm2dS0a(int channels, int groupSize, boolean applyAct, float eps) {
        if (groupSize <= 0 || channels % groupSize != 0) {
            throw new IllegalArgumentException(
                    "EvoNorm2dS0a: " + channels + " channels are not divisible by group size " + groupSize);
        }
        this.channels = channels;
        this.groups = channels / groupSize;
        this.eps = eps;
        weight = parameter("weight", channels);
        bias = parameter("bias", channels);
        v = applyAct ? parameter("v", channels) : null;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != channels) {
            throw new IllegalArgumentException("EvoNorm2dS0a of " + channels + " channels got input " + s);
        }
        Shape c = new Shape(1, channels, 1, 1);
        NDArray g = x.reshape(s.get(0), groups, -1);
        NDArray mean = g.mean(new int[] {2}, true);
        NDArray std = g.sub(mean).square().mean(new int[] {2}, true).add(eps).sqrt();
        NDArray y = x;
        if (v != null) {
            y = x.mul(
                    Activation.apply(Activation.Kind.SIGMOID, x.mul(v.getArray().reshape(c))));
        }
        y = y.reshape(s.get(0), groups, -1).div(std).reshape(s);
        return y.mul(weight.getArray().reshape(c)).add(bias.getArray().reshape(c));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
        Init.constant(bias.getArray(), 0f);
        if (v != null) {
            Init.constant(v.getArray(), 1f);
        }
    }

    /** The per-channel scale (for zero-init of a residual branch's last norm). */
    public Parameter weight() {
        return weight;
    }

    @Override
    protected String extraRepr() {
        return "EvoNorm2dS0a(" + channels + ", groups=" + groups + ", apply_act=" + (v != null) + ", eps=" + eps + ")";
    }
}
