package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Branches run on the same input and their outputs are stacked channel-wise in the order they were added. */
class ConcatBranchesTest {
    @Test
    void concatenatesBranchOutputsInOrder() {
        try (NDManager m = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(2, 3, 1, Conv2d.Options.defaults());
            ConcatBranches b = new ConcatBranches().add("branch0", conv).add("branch1", Pool2d.max(3, 1, 1));
            b.materialize(m);
            b.initialize(new SplittableRandom(1));
            assertEquals(
                    List.of("branch0.weight", "branch0.bias"),
                    List.copyOf(b.stateDict().keySet()));
            NDArray x = m.randomNormal(new Shape(2, 2, 4, 5));
            NDArray y = b.forward(x);
            assertEquals(new Shape(2, 5, 4, 5), y.getShape());
            float[] first = y.get(":, 0:3").toFloatArray();
            float[] second = y.get(":, 3:5").toFloatArray();
            assertArrayEquals(conv.forward(x).toFloatArray(), first);
            // a 3x3 max pool with stride 1 and padding 1 never goes below the centre value
            float[] in = x.toFloatArray();
            for (int i = 0; i < in.length; i++) {
                assertEquals(true, second[i] >= in[i], "pooled value " + i);
            }
        }
    }

    @Test
    void refusesToRunWithoutBranches() {
        try (NDManager m = NDManager.newBaseManager()) {
            ConcatBranches b = new ConcatBranches();
            b.materialize(m);
            NDArray x = m.zeros(new Shape(1, 1, 2, 2));
            assertThrows(IllegalStateException.class, () -> b.forward(x));
        }
    }
}
