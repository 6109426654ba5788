package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/** timm's {@code RmsNorm} over the last dimension: x / sqrt(mean(x²) + eps), times {@code weight}. */
public class RmsNorm extends Module {
    private final int dim;
    private final float eps;
    private final Parameter weight;

    public RmsNorm(int dim, float eps) {
        this.dim = dim;
        this.eps = eps;
        this.weight = parameter("weight", dim);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray ms = x.square().mean(new int[] {-1}, true);
        return x.div(ms.add(eps).sqrt()).mul(weight.getArray());
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
    }

    public Parameter weight() {
        return weight;
    }

    @Override
    protected String extraRepr() {
        return "RmsNorm((" + dim + ",), eps=" + eps + ")";
    }
}
