package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** EvoNorm2dS0a on values worked out by hand: the group std divides with and without the sigmoid gate. */
class EvoNorm2dS0aTest {
    private static EvoNorm2dS0a ready(EvoNorm2dS0a n, NDManager mgr) {
        n.materialize(mgr);
        n.initialize(new SplittableRandom(0));
        return n;
    }

    private static double sigmoid(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    @Test
    void withoutActivationItStillDividesByTheGroupStd() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            // one group of the two channels: {1, 2, 3, 6}, mean 3, population variance 3.5
            EvoNorm2dS0a n = ready(new EvoNorm2dS0a(2, 2, false), mgr);
            assertFalse(n.stateDictShapes().containsKey("v"), "no v without the activation");
            Module.assign(n.weight().getArray(), new float[] {1f, 2f});
            Module.assign(n.directParameters().get("bias").getArray(), new float[] {0.5f, 0f});
            NDArray x = mgr.create(new float[] {1, 2, 3, 6}, new Shape(1, 2, 1, 2));
            double std = Math.sqrt(3.5 + 1e-3);
            float[] expected = {
                (float) (1 / std + 0.5), (float) (2 / std + 0.5), (float) (2 * 3 / std), (float) (2 * 6 / std)
            };
            assertArrayEquals(expected, n.forward(x).toFloatArray(), 1e-5f);
        }
    }

    @Test
    void withActivationGatesBySigmoidOfVxPerGroup() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            // groups of one channel each: {1, 3} (mean 2, variance 1) and {-2, 2} (mean 0, variance 4)
            EvoNorm2dS0a n = ready(new EvoNorm2dS0a(2, 1, true), mgr);
            assertEquals(new Shape(2), n.stateDictShapes().get("v"));
            Module.assign(n.directParameters().get("v").getArray(), new float[] {1f, 0.5f});
            NDArray x = mgr.create(new float[] {1, 3, -2, 2}, new Shape(1, 2, 1, 2));
            double s0 = Math.sqrt(1 + 1e-3);
            double s1 = Math.sqrt(4 + 1e-3);
            float[] expected = {
                (float) (1 * sigmoid(1) / s0),
                (float) (3 * sigmoid(3) / s0),
                (float) (-2 * sigmoid(-1) / s1),
                (float) (2 * sigmoid(1) / s1)
            };
            assertArrayEquals(expected, n.forward(x).toFloatArray(), 1e-5f);
        }
    }

    @Test
    void groupSizeMustDivideTheChannels() {
        assertThrows(IllegalArgumentException.class, () -> new EvoNorm2dS0a(24, 16, true));
    }
}
