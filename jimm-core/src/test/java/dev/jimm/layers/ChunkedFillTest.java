package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ChunkedFill} writes a stream in row-major order whatever the shape (one chunk, chunks of whole rows, chunks
 * within a row), and {@link Init}'s streamed initializers draw exactly what filling a whole Java array did.
 */
class ChunkedFillTest {
    private static final int C = ChunkedFill.CHUNK_ELEMENTS;

    @Test
    void writesTheStreamInRowMajorOrderForEveryWayOfChunking() {
        long[][] shapes = {
            {}, // a scalar
            {7},
            {3, 5, 2},
            {C + 3}, // one axis longer than a chunk: chunks within it
            {5, C / 2 + 1}, // one row per chunk
            {3, 4, C / 3}, // several rows per chunk, and a last partial one
            {2, 3, 5, C / 4 + 7}, // chunks along the third axis under two fixed indices
        };
        try (NDManager m = NDManager.newBaseManager()) {
            for (long[] s : shapes) {
                NDArray a = m.zeros(new Shape(s));
                int[] k = {0};
                ChunkedFill.fill(a, () -> k[0]++);
                float[] v = a.toFloatArray();
                assertEquals(v.length, k[0], "values drawn for " + a.getShape());
                for (int i = 0; i < v.length; i++) {
                    // the counter stays below 2^24, so every value is exact in float32
                    assertEquals(i, v[i], "element " + i + " of " + a.getShape());
                }
            }
        }
    }

    @Test
    void writesThroughATransposedViewAndKeepsTheDtype() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray base = m.zeros(new Shape(3, C / 2));
            NDArray t = base.transpose();
            int[] k = {0};
            ChunkedFill.fill(t, () -> k[0]++);
            // element (i, j) of the transposed view is i * 3 + j; base[j][i] shows it
            float[] b = base.toFloatArray();
            assertEquals(1f * 3 + 2, b[2 * (C / 2) + 1]);
            assertEquals(7f * 3 + 0, b[7]);

            NDArray half = m.zeros(new Shape(4), DataType.FLOAT64);
            ChunkedFill.fill(half, () -> 0.5f);
            assertEquals(DataType.FLOAT64, half.getDataType());
            assertArrayEquals(new double[] {0.5, 0.5, 0.5, 0.5}, half.toDoubleArray());
        }
    }

    @Test
    void streamedInitDrawsWhatAWholeArrayDid() {
        // odd sizes over chunk boundaries: Box-Muller pairs must not be cut differently than in one array
        long[] shape = {3, C / 2 + 1};
        int n = 3 * (C / 2 + 1);
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray a = m.zeros(new Shape(shape));

            Init.normal(a, 0.5, new SplittableRandom(11));
            assertArrayEquals(wholeArrayNormal(n, 0.5, new SplittableRandom(11)), a.toFloatArray());

            Init.uniform(a, 0.3, new SplittableRandom(12));
            SplittableRandom r = new SplittableRandom(12);
            float[] u = new float[n];
            for (int i = 0; i < n; i++) {
                u[i] = (float) ((r.nextDouble() * 2 - 1) * 0.3);
            }
            assertArrayEquals(u, a.toFloatArray());

            Init.truncNormal(a, 0.02, new SplittableRandom(13));
            r = new SplittableRandom(13);
            float[] t = new float[n];
            for (int i = 0; i < n; i++) {
                double x;
                do {
                    x = r.nextGaussian();
                } while (Math.abs(x) > 2);
                t[i] = (float) (x * 0.02);
            }
            assertArrayEquals(t, a.toFloatArray());

            Init.constant(a, 0.25f);
            float[] c = a.toFloatArray();
            for (float x : c) {
                assertEquals(0.25f, x);
            }
        }
    }

    /** Box-Muller over a whole array, pair by pair, as Init drew before it streamed. */
    private static float[] wholeArrayNormal(int n, double std, SplittableRandom random) {
        float[] v = new float[n];
        for (int i = 0; i < n; i += 2) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1)) * std;
            v[i] = (float) (r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < n) {
                v[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
            }
        }
        return v;
    }
}
