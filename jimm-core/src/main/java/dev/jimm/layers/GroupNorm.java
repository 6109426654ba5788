package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Arrays;
import java.util.SplittableRandom;

/** Group normalization, PyTorch's {@code nn.GroupNorm(numGroups, numChannels)}. */
public class GroupNorm extends Module {
    private final int numGroups;
    private final int numChannels;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    public GroupNorm(int numGroups, int numChannels) {
        this(numGroups, numChannels, 1e-5f);
    }

    public GroupNorm(int numGroups, int numChannels, float eps) {
        if (numChannels % numGroups != 0) {
            throw new IllegalArgumentException("GroupNorm: " + numChannels + " channels not divisible by " + numGroups);
        }
        this.numGroups = numGroups;
        this.numChannels = numChannels;
        this.eps = eps;
        weight = parameter("weight", numChannels);
        bias = parameter("bias", numChannels);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        Shape shape = x.getShape();
        NDArray g = x.reshape(shape.get(0), numGroups, -1);
        NDArray mean = g.mean(new int[] {2}, true);
        NDArray centered = g.sub(mean);
        NDArray var = centered.square().mean(new int[] {2}, true);
        NDArray normed = centered.div(var.add(eps).sqrt()).reshape(shape);
        long[] bshape = new long[shape.dimension()];
        Arrays.fill(bshape, 1);
        bshape[1] = numChannels;
        Shape bs = new Shape(bshape);
        return normed.mul(weight.getArray().reshape(bs)).add(bias.getArray().reshape(bs));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
        Init.constant(bias.getArray(), 0f);
    }

    @Override
    protected String extraRepr() {
        return "GroupNorm(" + numGroups + ", " + numChannels + ", eps=" + eps + ")";
    }
}
