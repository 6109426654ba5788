package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** timm's AvgPool2dSame: TF "SAME" zero padding at the bottom/right, counted in the averages. */
class AvgPool2dSameTest {
    @Test
    void strideOneKeepsTheSizeAndAveragesTheZeroPaddingIn() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(1f, 10f).reshape(1, 1, 3, 3);
            NDArray y = new AvgPool2dSame(2, 1, true, false).forward(x);
            assertEquals(new Shape(1, 1, 3, 3), y.getShape());
            // inside: a plain 2x2 mean; [1 2; 4 5] -> 3
            assertEquals(3f, y.getFloat(0, 0, 0, 0), 1e-6f);
            // right column, middle row: [6 0; 9 0] / 4, the padded zeros count (countIncludePad only concerns the
            // pool's own padding)
            assertEquals(15f / 4, y.getFloat(0, 0, 1, 2), 1e-6f);
            // corner: 9 alone among three zeros
            assertEquals(9f / 4, y.getFloat(0, 0, 2, 2), 1e-6f);
        }
    }

    @Test
    void strideTwoOnAnOddSizePadsOnePixelAtTheEnd() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(25f).reshape(1, 1, 5, 5);
            NDArray y = new AvgPool2dSame(2, 2, false, true).forward(x);
            // ceil(5 / 2) = 3 outputs; padding (3 - 1) * 2 + 2 - 5 = 1, all of it bottom/right
            assertEquals(new Shape(1, 1, 3, 3), y.getShape());
            assertEquals((0 + 1 + 5 + 6) / 4f, y.getFloat(0, 0, 0, 0), 1e-6f);
            assertEquals((4 + 9) / 4f, y.getFloat(0, 0, 0, 2), 1e-6f);
            assertEquals(24 / 4f, y.getFloat(0, 0, 2, 2), 1e-6f);
        }
    }
}
