package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** PyTorch's adaptive average pooling bins, against means of the slices written out by hand. */
class AdaptiveAvgPool2dTest {
    @Test
    void unequalBinsOverlapAsPyTorchDoes() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(2 * 3 * 5 * 7)
                    .toType(DataType.FLOAT32, false)
                    .reshape(2, 3, 5, 7)
                    .sin();
            NDArray y = AdaptiveAvgPool2d.apply(x, 3, 4);
            assertEquals(new Shape(2, 3, 3, 4), y.getShape());
            // rows 5 -> 3: [0,2) [1,4) [3,5); columns 7 -> 4: [0,2) [1,4) [3,6) [5,7)
            int[][] rows = {{0, 2}, {1, 4}, {3, 5}};
            int[][] cols = {{0, 2}, {1, 4}, {3, 6}, {5, 7}};
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                    NDArray cell =
                            x.get(new NDIndex(":, :, {}:{}, {}:{}", rows[i][0], rows[i][1], cols[j][0], cols[j][1]));
                    NDArray expected = cell.mean(new int[] {3}).mean(new int[] {2});
                    NDArray actual = y.get(new NDIndex(":, :, {}, {}", i, j));
                    assertEquals(0f, expected.sub(actual).abs().max().getFloat(), 1e-6f, "cell " + i + "," + j);
                }
            }
        }
    }

    @Test
    void smallerInputsAreRepeatedAndEqualBinsAreAveragePools() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 2, 2));
            NDArray up = AdaptiveAvgPool2d.apply(x, 4, 4);
            // each input cell covers a 2x2 block of the output
            assertEquals(1f, up.getFloat(0, 0, 1, 1));
            assertEquals(2f, up.getFloat(0, 0, 0, 3));
            assertEquals(3f, up.getFloat(0, 0, 3, 0));
            assertEquals(4f, up.getFloat(0, 0, 2, 2));
            NDArray one = AdaptiveAvgPool2d.apply(x, 1, 1);
            assertEquals(new Shape(1, 1, 1, 1), one.getShape());
            assertEquals(2.5f, one.getFloat(0, 0, 0, 0));
            NDArray z = m.arange(36f).reshape(1, 1, 6, 6);
            assertEquals(3.5f, AdaptiveAvgPool2d.apply(z, 3, 3).getFloat(0, 0, 0, 0), 1e-6f);
            assertEquals(z, AdaptiveAvgPool2d.apply(z, 6, 6), "same size is the input itself");
            assertThrows(IllegalArgumentException.class, () -> new AdaptiveAvgPool2d(0));
        }
    }
}
