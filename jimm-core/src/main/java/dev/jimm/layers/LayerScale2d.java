package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/** timm's {@code LayerScale2d}: a learned per-channel scale ({@code gamma}) on NCHW maps. */
public class LayerScale2d extends LayerScale {
    public LayerScale2d(int dim, float initValues) {
        super(dim, initValues);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return x.mul(gamma().getArray().reshape(1, dim(), 1, 1));
    }
}
