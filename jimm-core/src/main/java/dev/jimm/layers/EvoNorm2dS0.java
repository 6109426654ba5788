package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code EvoNorm2dS0}: {@code x * sigmoid(v * x) / group_std(x)} (the activation is built in and dropped with
 * {@code applyAct} false, together with {@code v}), then a per-channel affine.
 */
public class EvoNorm2dS0 extends Module {
    private final int channels;
    private final int groups;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;
    private final Parameter v;

    /** Groups of {@code groupSize} channels each, as EfficientNet's EvoNorm variants use. */
    public EvoNorm2dS0(int channels, int groupSize, boolean applyAct, float eps) {
        if (groupSize <= 0 || channels % groupSize != 0) {
            throw new IllegalArgumentException(
                    "EvoNorm2dS0: " + channels + " channels are not divisible by group size " + groupSize);
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
        Shape c = new Shape(1, channels, 1, 1);
        if (v != null) {
            NDArray g = x.reshape(s.get(0), groups, -1);
            NDArray mean = g.mean(new int[] {2}, true);
            NDArray std =
                    g.sub(mean).square().mean(new int[] {2}, true).add(eps).sqrt();
            NDArray stdMap = g.zerosLike().add(std).reshape(s);
            x = x.mul(x.mul(v.getArray().reshape(c)).getNDArrayInternal().sigmoid())
                    .div(stdMap);
        }
        return x.mul(weight.getArray().reshape(c)).add(bias.getArray().reshape(c));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
        Init.constant(bias.getArray(), 0f);
        if (v != null) {
            Init.constant(v.getArray(), 1f);
        }
    }

    @Override
    protected String extraRepr() {
        return "EvoNorm2dS0(" + channels + ", groups=" + groups + ", apply_act=" + (v != null) + ")";
    }
}
