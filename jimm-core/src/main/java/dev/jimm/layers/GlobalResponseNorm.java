package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * ConvNeXt-V2's Global Response Normalization, timm's {@code GlobalResponseNorm}: each channel's spatial L2 norm,
 * divided by the mean of those norms over the channels, scales the input through a learnt {@code weight} and
 * {@code bias} (both start at zero, so the layer starts as an identity). Works on NHWC ({@code channelsLast}) or NCHW
 * maps.
 */
public class GlobalResponseNorm extends Module {
    private final int dim;
    private final float eps;
    private final boolean channelsLast;
    private final Parameter weight;
    private final Parameter bias;

    /**
     * @param dim channels
     * @param eps added to the mean norm before dividing
     * @param channelsLast NHWC input when true, NCHW when false
     */
    public GlobalResponseNorm(int dim, float eps, boolean channelsLast) {
        this.dim = dim;
        this.eps = eps;
        this.channelsLast = channelsLast;
        weight = parameter("weight", dim);
        bias = parameter("bias", dim);
    }

    /** timm's default eps of 1e-6. */
    public GlobalResponseNorm(int dim, boolean channelsLast) {
        this(dim, 1e-6f, channelsLast);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        int[] spatial = channelsLast ? new int[] {1, 2} : new int[] {2, 3};
        int channelAxis = channelsLast ? 3 : 1;
        Shape wb = channelsLast ? new Shape(1, 1, 1, dim) : new Shape(1, dim, 1, 1);
        NDArray xg = x.square().sum(spatial, true).sqrt();
        NDArray xn = xg.div(xg.mean(new int[] {channelAxis}, true).add(eps));
        NDArray w = weight.getArray().reshape(wb);
        NDArray b = bias.getArray().reshape(wb);
        return x.add(x.mul(xn).mul(w).add(b));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 0f);
        Init.constant(bias.getArray(), 0f);
    }

    @Override
    protected String extraRepr() {
        return "GlobalResponseNorm(" + dim + ")";
    }
}
