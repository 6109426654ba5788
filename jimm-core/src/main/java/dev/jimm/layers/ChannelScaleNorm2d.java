package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * The part timm's {@code RmsNorm2d} and {@code SimpleNorm2d} share: each position of an NCHW map is divided by
 * {@code sqrt(statistic over its channels + eps)}, then scaled by a per-channel {@code weight} (no bias). Subclasses
 * give the statistic.
 */
abstract class ChannelScaleNorm2d extends Module {
    private final String name;
    final int channels;
    private final float eps;
    private final Parameter weight;

    ChannelScaleNorm2d(String name, int channels, float eps) {
        this.name = name;
        this.channels = channels;
        this.eps = eps;
        weight = parameter("weight", channels);
    }

    /** The [N, 1, H, W] statistic the input is divided by the square root of. */
    abstract NDArray channelStatistic(NDArray x);

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray y = x.div(channelStatistic(x).add(eps).sqrt());
        return y.mul(weight.getArray().reshape(new Shape(1, channels, 1, 1)));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
    }

    @Override
    protected String extraRepr() {
        return name + "(" + channels + ", eps=" + eps + ")";
    }
}
