package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code RmsNorm2d}: divides each position of an NCHW map by the root mean square over its
 * channels, then scales by {@code weight} (no bias, no mean subtraction).
 */
public class RmsNorm2d extends Module {
    private final int channels;
    private final float eps;
    private final Parameter weight;

    public RmsNorm2d(int channels, float eps) {
        this.channels = channels;
        this.eps = eps;
        weight = parameter("weight", channels);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray ms = x.square().mean(new int[] {1}, true);
        NDArray y = x.div(ms.add(eps).sqrt());
        return y.mul(weight.getArray().reshape(new Shape(1, channels, 1, 1)));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
    }

    @Override
    protected String extraRepr() {
        return "RmsNorm2d(" + channels + ", eps=" + eps + ")";
    }
}
