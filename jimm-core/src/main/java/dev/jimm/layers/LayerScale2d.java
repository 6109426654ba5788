package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/** timm's {@code LayerScale2d}: a learned per-channel scale ({@code gamma}) on NCHW maps. */
public class LayerScale2d extends Module {
    private final int dim;
    private final float initValues;
    private final Parameter gamma;

    public LayerScale2d(int dim, float initValues) {
        this.dim = dim;
        this.initValues = initValues;
        this.gamma = parameter("gamma", dim);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return x.mul(gamma.getArray().reshape(1, dim, 1, 1));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(gamma.getArray(), initValues);
    }

    public Parameter gamma() {
        return gamma;
    }

    @Override
    protected String extraRepr() {
        return "LayerScale2d(" + dim + ", init_values=" + initValues + ")";
    }
}
