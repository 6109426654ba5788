package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code SimpleNorm2d}: divides each position of an NCHW map by the standard deviation of its
 * channels (unbiased variance, as torch.var's default), then scales by {@code weight}; unlike
 * LayerNorm it does not subtract the mean and has no bias.
 */
public class SimpleNorm2d extends Module {
    private final int channels;
    private final float eps;
    private final Parameter weight;

    public SimpleNorm2d(int channels, float eps) {
        if (channels < 2) {
            throw new IllegalArgumentException("SimpleNorm2d needs at least 2 channels for an unbiased variance, got " + channels);
        }
        this.channels = channels;
        this.eps = eps;
        weight = parameter("weight", channels);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray centered = x.sub(x.mean(new int[] {1}, true));
        NDArray var = centered.square().sum(new int[] {1}, true).div((float) (channels - 1));
        NDArray y = x.div(var.add(eps).sqrt());
        return y.mul(weight.getArray().reshape(new Shape(1, channels, 1, 1)));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
    }

    @Override
    protected String extraRepr() {
        return "SimpleNorm2d(" + channels + ", eps=" + eps + ")";
    }
}
