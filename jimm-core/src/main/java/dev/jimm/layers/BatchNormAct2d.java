package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code BatchNormAct2d}: batch norm followed by an activation in one module, so that the state_dict keys stay
 * those of the norm ({@code bn1.weight}, not {@code bn1.bn.weight}).
 */
public class BatchNormAct2d extends BatchNorm2d {
    private final Activation.Kind act;

    /** A norm with PyTorch's momentum 0.1 and the given eps, then {@code act} (IDENTITY for none). */
    public BatchNormAct2d(int numFeatures, float eps, Activation.Kind act) {
        super(numFeatures, eps, 0.1f);
        this.act = act;
    }

    public Activation.Kind act() {
        return act;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return Activation.apply(act, super.forwardImpl(x));
    }

    @Override
    protected String extraRepr() {
        return "BatchNormAct2d(" + numFeatures() + ", eps=" + eps() + ", act=" + act + ")";
    }
}
