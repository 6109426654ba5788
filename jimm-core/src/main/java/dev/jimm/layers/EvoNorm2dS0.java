package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code EvoNorm2dS0}: {@code x * sigmoid(v * x) / group_std(x)} (the activation is built in and dropped with
 * {@code applyAct} false, together with {@code v} and the division), then a per-channel affine. The group std is over
 * {@code (C / groups, H, W)} of the input, population variance. {@link EvoNorm2dS0a} keeps the division without the
 * activation.
 */
public class EvoNorm2dS0 extends Module {
    private final String kind;
    private final int channels;
    private final int groups;
    private final float eps;
    private final boolean divides;
    private final Parameter weight;
    private final Parameter bias;
    private final Parameter v;

    /** Groups of {@code groupSize} channels each, as EfficientNet's EvoNorm variants use. */
    public EvoNorm2dS0(int channels, int groupSize, boolean applyAct, float eps) {
        this("EvoNorm2dS0", channels, groupSize, applyAct, eps, applyAct);
    }

    /** {@code divides}: whether the output is divided by the group std ({@code kind} names the variant in errors). */
    EvoNorm2dS0(String kind, int channels, int groupSize, boolean applyAct, float eps, boolean divides) {
        if (groupSize <= 0 || channels % groupSize != 0) {
            throw new IllegalArgumentException(
                    kind + ": " + channels + " channels are not divisible by group size " + groupSize);
        }
        this.kind = kind;
        this.channels = channels;
        this.groups = channels / groupSize;
        this.eps = eps;
        this.divides = divides;
        weight = parameter("weight", channels);
        bias = parameter("bias", channels);
        v = applyAct ? parameter("v", channels) : null;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4 || s.get(1) != channels) {
            throw new IllegalArgumentException(kind + " of " + channels + " channels got input " + s);
        }
        Shape c = new Shape(1, channels, 1, 1);
        NDArray y = x;
        if (v != null) {
            y = x.mul(
                    Activation.apply(Activation.Kind.SIGMOID, x.mul(v.getArray().reshape(c))));
        }
        if (divides) {
            NDArray g = x.reshape(s.get(0), groups, -1);
            NDArray mean = g.mean(new int[] {2}, true);
            NDArray std =
                    g.sub(mean).square().mean(new int[] {2}, true).add(eps).sqrt();
            y = y.reshape(s.get(0), groups, -1).div(std).reshape(s);
        }
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
        return kind + "(" + channels + ", groups=" + groups + ", apply_act=" + (v != null) + ", eps=" + eps + ")";
    }
}
