package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Nearest upsampling by a whole factor, on values worked out by hand. */
class UpsampleTest {
    @Test
    void eachPixelBecomesABlock() {
        try (NDManager m = NDManager.newBaseManager()) {
            // two channels of 2x2: 1 2 / 3 4 and 5 6 / 7 8
            NDArray x = m.arange(1f, 9f).reshape(1, 2, 2, 2);
            NDArray y = new Upsample(2).forward(x);
            assertEquals(new Shape(1, 2, 4, 4), y.getShape());
            assertArrayEquals(
                    new float[] {
                        1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4, //
                        5, 5, 6, 6, 5, 5, 6, 6, 7, 7, 8, 8, 7, 7, 8, 8
                    },
                    y.toFloatArray());
        }
    }

    @Test
    void aFactorOfFourOnANonSquareMap() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2}, new Shape(1, 1, 1, 2));
            NDArray y = new Upsample(4).forward(x);
            assertEquals(new Shape(1, 1, 4, 8), y.getShape());
            float[] row = {1, 1, 1, 1, 2, 2, 2, 2};
            float[] all = new float[32];
            for (int r = 0; r < 4; r++) {
                System.arraycopy(row, 0, all, 8 * r, 8);
            }
            assertArrayEquals(all, y.toFloatArray());
        }
    }

    @Test
    void refusesAFactorBelowOne() {
        assertThrows(IllegalArgumentException.class, () -> new Upsample(0));
    }
}
