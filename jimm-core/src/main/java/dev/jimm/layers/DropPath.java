package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Stochastic depth: in train mode drops a residual branch for whole samples with probability
 * {@code rate} and scales the kept ones by 1/(1-rate), as timm's {@code DropPath}.
 */
public class DropPath extends Module {
    private final float rate;

    public DropPath(float rate) {
        this.rate = rate;
    }

    public float rate() {
        return rate;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        if (!isTraining() || rate == 0f) {
            return x;
        }
        float keep = 1f - rate;
        long[] shape = new long[x.getShape().dimension()];
        java.util.Arrays.fill(shape, 1);
        shape[0] = x.getShape().get(0);
        NDArray mask =
                x.getManager().randomUniform(0f, 1f, new Shape(shape)).lt(keep).toType(x.getDataType(), false);
        return x.mul(mask).div(keep);
    }

    @Override
    protected String extraRepr() {
        return "DropPath(drop_prob=" + rate + ")";
    }
}
