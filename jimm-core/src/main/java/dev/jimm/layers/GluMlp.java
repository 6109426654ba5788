package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * timm's {@code GluMlp}: one {@code fc1} of twice the gated width, split in halves; {@code act(gate) · value}, an
 * optional norm, {@code fc2}. With {@code gateLast} false the first half is the gate (timm's {@code SwiGLUPacked},
 * EVA-02's packed MLP).
 */
public class GluMlp extends Module {
    private final Linear fc1;
    private final Activation.Kind act;
    private final boolean gateLast;
    private final Module norm;
    private final Linear fc2;
    private final float drop;

    /**
     * @param inFeatures input width
     * @param hiddenFeatures fc1's width: gate and value together (even)
     * @param outFeatures output width
     * @param act the gate activation
     * @param gateLast the second half of fc1 is the gate (timm's default) rather than the first
     * @param norm a norm on the {@code hiddenFeatures / 2} gated features, or null
     * @param bias biases on the linears
     * @param drop dropout after the gating and after fc2 (train mode only)
     */
    public GluMlp(
            int inFeatures,
            int hiddenFeatures,
            int outFeatures,
            Activation.Kind act,
            boolean gateLast,
            Module norm,
            boolean bias,
            float drop) {
        if (hiddenFeatures % 2 != 0) {
            throw new IllegalArgumentException("GluMlp hidden width " + hiddenFeatures + " is odd");
        }
        this.act = act;
        this.gateLast = gateLast;
        this.drop = drop;
        fc1 = register("fc1", new Linear(inFeatures, hiddenFeatures, bias));
        this.norm = register("norm", norm == null ? new Identity() : norm);
        fc2 = register("fc2", new Linear(hiddenFeatures / 2, outFeatures, bias));
    }

    /**
     * timm's {@code GluMlp.init_weights}, which only some models call: the second half of {@code fc1} (whichever half
     * is the gate) starts with weights drawn from N(0, 1e-6) and a bias of one.
     */
    public void initGate(SplittableRandom random) {
        NDArray w = fc1.weight().getArray();
        int half = (int) (w.getShape().get(0) / 2);
        // drawn into a copy of the half's shape so that the draws are the same as timm's normal_ on the slice
        try (NDArray gate = w.getManager().zeros(new Shape(half, w.getShape().get(1)))) {
            Init.normal(gate, 1e-6, random);
            w.set(new NDIndex(half + ":"), gate);
        }
        if (fc1.bias() != null) {
            fc1.bias().getArray().set(new NDIndex(half + ":"), 1f);
        }
    }

    public Linear fc2() {
        return fc2;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray h = fc1.forward(x);
        NDList parts = h.split(2, h.getShape().dimension() - 1);
        NDArray y = gateLast
                ? parts.get(0).mul(Activation.apply(act, parts.get(1)))
                : Activation.apply(act, parts.get(0)).mul(parts.get(1));
        y = Dropout.apply(y, drop, isTraining());
        return Dropout.apply(fc2.forward(norm.forward(y)), drop, isTraining());
    }
}
