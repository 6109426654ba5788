package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * timm's {@code GluMlp.init_weights}, kept beside {@link GluMlp} (which only some models initialize this way): the
 * second half of {@code fc1} starts with weights near zero and a bias of one, whichever half is the gate.
 */
public final class GluMlpInit {
    private GluMlpInit() {}

    /** Draws the second half of {@code mlp}'s fc1 weight from N(0, 1e-6) and sets that half's bias to one. */
    public static void initGate(GluMlp mlp, SplittableRandom random) {
        Linear fc1 = (Linear) mlp.child("fc1");
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
}
