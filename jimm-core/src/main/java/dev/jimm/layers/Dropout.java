package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/** Dropout, active only in train mode. */
public class Dropout extends Module {
    private final float rate;

    public Dropout(float rate) {
        if (rate < 0 || rate >= 1) {
            throw new IllegalArgumentException("dropout rate " + rate + " is not in [0, 1)");
        }
        this.rate = rate;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return apply(x, rate, isTraining());
    }

    /** Functional dropout (PyTorch's F.dropout). */
    public static NDArray apply(NDArray x, float rate, boolean training) {
        if (!training || rate == 0f) {
            return x;
        }
        return x.getNDArrayInternal().dropout(x, rate, true).singletonOrThrow();
    }

    @Override
    protected String extraRepr() {
        return "Dropout(p=" + rate + ")";
    }
}
