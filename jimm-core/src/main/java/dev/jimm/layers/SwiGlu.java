package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.SplittableRandom;

/**
 * timm's {@code SwiGLU}: {@code fc2(norm(act(fc1_g(x)) · fc1_x(x)))} with separate gate and value projections (keys
 * {@code fc1_g}, {@code fc1_x}, {@code norm}, {@code fc2}); the hidden width may be rounded up to a multiple
 * ({@code align_to}, DINOv3).
 */
public class SwiGlu extends Module {
    private final Linear fc1g;
    private final Linear fc1x;
    private final Activation.Kind act;
    private final Module norm;
    private final Linear fc2;
    private final float drop;
    private final int hidden;

    /**
     * @param inFeatures input width
     * @param hiddenFeatures hidden width before alignment
     * @param outFeatures output width
     * @param act the gate activation (SiLU for SwiGLU)
     * @param norm a norm on the hidden features (given its width by the caller through {@link #alignedHidden}), or null
     * @param bias biases on the linears
     * @param drop dropout after the gating and after fc2 (train mode only)
     * @param alignTo round the hidden width up to a multiple of this (0: as given)
     */
    public SwiGlu(
            int inFeatures,
            int hiddenFeatures,
            int outFeatures,
            Activation.Kind act,
            Module norm,
            boolean bias,
            float drop,
            int alignTo) {
        this.hidden = alignedHidden(hiddenFeatures, alignTo);
        this.act = act;
        this.drop = drop;
        fc1g = register("fc1_g", new Linear(inFeatures, hidden, bias));
        fc1x = register("fc1_x", new Linear(inFeatures, hidden, bias));
        this.norm = register("norm", norm == null ? new Identity() : norm);
        fc2 = register("fc2", new Linear(hidden, outFeatures, bias));
    }

    /** The hidden width timm uses: {@code hidden + (-hidden mod alignTo)}. */
    public static int alignedHidden(int hidden, int alignTo) {
        return alignTo > 0 ? hidden + Math.floorMod(-hidden, alignTo) : hidden;
    }

    /** timm's SwiGLU.init_weights: the gate starts with weights near zero and bias one. */
    public void initGate(SplittableRandom random) {
        if (fc1g.bias() != null) {
            Init.constant(fc1g.bias().getArray(), 1f);
        }
        Init.normal(fc1g.weight().getArray(), 1e-6, random);
    }

    public Linear fc2() {
        return fc2;
    }

    public int hiddenFeatures() {
        return hidden;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray y = Activation.apply(act, fc1g.forward(x)).mul(fc1x.forward(x));
        y = Dropout.apply(y, drop, isTraining());
        return Dropout.apply(fc2.forward(norm.forward(y)), drop, isTraining());
    }

    @Override
    protected String extraRepr() {
        return "SwiGLU(hidden=" + hidden + ")";
    }
}
