package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code LayerScale}: a learned per-channel scale ({@code gamma}) on channels-last tokens, initialized to a
 * small constant so that residual branches start near zero (CaiT, DeiT III).
 */
public class LayerScale extends Module {
    private final int dim;
    private final float initValues;
    private final Parameter gamma;

    public LayerScale(int dim, float initValues) {
        this.dim = dim;
        this.initValues = initValues;
        this.gamma = parameter("gamma", dim);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return x.mul(gamma.getArray());
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(gamma.getArray(), initValues);
    }

    public Parameter gamma() {
        return gamma;
    }

    /** The number of channels scaled. */
    public int dim() {
        return dim;
    }

    @Override
    protected String extraRepr() {
        return getClass().getSimpleName() + "(" + dim + ", init_values=" + initValues + ")";
    }
}
