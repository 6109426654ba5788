package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The rotary tables against timm's formulas written out in double, and the rotation against its definition; the shared
 * SwiGLU / GluMlp layers and BEiT's relative position index against hand-worked values.
 */
class RotaryEmbeddingTest {
    @Test
    void catTableIsSinThenCosOfCoordinateTimesBandEachTwice() {
        int dim = 8; // 2 bands per axis
        int h = 2;
        int w = 3;
        double temp = 100;
        float[] t = RotaryEmbedding.catTable(dim, h, w, temp, null, 0, false);
        assertEquals(h * w * 2 * dim, t.length);
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                int row = (i * w + j) * 2 * dim;
                for (int a = 0; a < 2; a++) {
                    double coord = a == 0 ? i : j; // 'ij': the row coordinate first
                    for (int k = 0; k < 2; k++) {
                        double band = Math.pow(temp, -k / 2.0);
                        int col = 2 * (a * 2 + k);
                        for (int r = 0; r < 2; r++) {
                            assertEquals(Math.sin(coord * band), t[row + col + r], 1e-6);
                            assertEquals(Math.cos(coord * band), t[row + dim + col + r], 1e-6);
                        }
                    }
                }
            }
        }
    }

    @Test
    void catTableXyPutsTheColumnFirstAndOffsetsAndRescalesCoordinates() {
        int dim = 4; // one band per axis, frequency 1
        // 'xy', offset 1, reference grid 4 on a 2 x 2 grid: coordinates (x + 1) * 4 / 2
        float[] t = RotaryEmbedding.catTable(dim, 2, 2, 10000, new int[] {4, 4}, 1, true);
        int row = (1 * 2 + 0) * 2 * dim; // row 1, column 0
        assertEquals(Math.sin((0 + 1) * 2.0), t[row], 1e-6, "first: the column coordinate");
        assertEquals(Math.sin((1 + 1) * 2.0), t[row + 2], 1e-6, "second: the row coordinate");
        assertEquals(Math.cos((1 + 1) * 2.0), t[row + dim + 3], 1e-6);
    }

    @Test
    void dinov3TableUsesNormalizedCentredCoordinatesAndTheHalfLayout() {
        int dim = 8;
        int h = 2;
        int w = 4;
        double temp = 100;
        float[] t = RotaryEmbedding.dinov3Table(dim, h, w, temp, true);
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                double[] c = {2 * (i + 0.5) / h - 1, 2 * (j + 0.5) / w - 1};
                int row = (i * w + j) * 2 * dim;
                for (int d = 0; d < dim; d++) {
                    int q = d % (dim / 2); // tiled: [angles, angles]
                    double period = Math.pow(temp, 2.0 * (q % 2) / (dim / 2));
                    double angle = 2 * Math.PI * c[q / 2] / period;
                    assertEquals(Math.sin(angle), t[row + d], 1e-5);
                    assertEquals(Math.cos(angle), t[row + dim + d], 1e-5);
                }
            }
        }
        assertThrows(IllegalArgumentException.class, () -> RotaryEmbedding.dinov3Table(6, 2, 2, 100, true));
    }

    @Test
    void applyRotatesEachPairByItsAngle() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1, 2, 3, 4}, new Shape(1, 4));
            double a = 0.3;
            double b = -1.1;
            float[] emb = {
                (float) Math.sin(a), (float) Math.sin(a), (float) Math.sin(b), (float) Math.sin(b),
                (float) Math.cos(a), (float) Math.cos(a), (float) Math.cos(b), (float) Math.cos(b)
            };
            float[] y = RotaryEmbedding.apply(x, m.create(emb, new Shape(1, 8)), false)
                    .toFloatArray();
            // interleaved pairs (x0, x1), (x2, x3) turn as complex numbers by their angle
            float[] expected = {
                (float) (Math.cos(a) - 2 * Math.sin(a)), (float) (2 * Math.cos(a) + Math.sin(a)),
                (float) (3 * Math.cos(b) - 4 * Math.sin(b)), (float) (4 * Math.cos(b) + 3 * Math.sin(b))
            };
            assertArrayEquals(expected, y, 1e-6f);
            // the half layout pairs x_i with x_{i + D/2}
            float[] half = RotaryEmbedding.apply(
                            x,
                            m.create(
                                    new float[] {
                                        (float) Math.sin(a), (float) Math.sin(b), (float) Math.sin(a),
                                        (float) Math.sin(b), (float) Math.cos(a), (float) Math.cos(b),
                                        (float) Math.cos(a), (float) Math.cos(b)
                                    },
                                    new Shape(1, 8)),
                            true)
                    .toFloatArray();
            assertEquals(Math.cos(a) - 3 * Math.sin(a), half[0], 1e-6);
            assertEquals(3 * Math.cos(a) + Math.sin(a), half[2], 1e-6);
            assertEquals(2 * Math.cos(b) - 4 * Math.sin(b), half[1], 1e-6);
        }
    }

    @Test
    void mixedTableIsTheSumOfBothAxesAnglesPerBlockAndHead() {
        try (NDManager m = NDManager.newBaseManager()) {
            RotaryEmbeddingMixed r = new RotaryEmbeddingMixed(16, 2, 2, 10, true);
            assertEquals(new Shape(2, 2, 2, 4), r.stateDictShapes().get("freqs"));
            r.materialize(m);
            r.initialize(new SplittableRandom(3));
            float[] f = r.stateDict().get("freqs").toFloatArray();
            // init: |(fx_k, fy_k)| = 10^(-4k / 8) for the first quarter
            assertEquals(1.0, Math.hypot(f[0], f[16]), 1e-6);
            assertEquals(Math.pow(10, -0.5), Math.hypot(f[1], f[17]), 1e-6);
            NDArray t = r.table(2, 3);
            assertEquals(new Shape(2, 2, 6, 16), t.getShape());
            float[] v = t.toFloatArray();
            // block 1, head 0, position (row 1, col 2): 'xy' gives x = 2, y = 1
            int depth = 1;
            int base = ((depth * 2 + 0) * 6 + 5) * 16;
            int fBase = (depth * 2 + 0) * 4;
            for (int k = 0; k < 4; k++) {
                double angle = 2 * f[fBase + k] + 1 * f[16 + fBase + k];
                assertEquals(Math.sin(angle), v[base + 2 * k], 1e-5);
                assertEquals(Math.sin(angle), v[base + 2 * k + 1], 1e-5);
                assertEquals(Math.cos(angle), v[base + 8 + 2 * k], 1e-5);
            }
        }
    }

    @Test
    void swiGluAlignsItsHiddenWidthAndGatesWithSilu() {
        assertEquals(1536, SwiGlu.alignedHidden(1536, 8));
        assertEquals(1024, SwiGlu.alignedHidden(1020, 64));
        assertEquals(1020, SwiGlu.alignedHidden(1020, 0));
        SwiGlu s = new SwiGlu(4, 5, 3, Activation.Kind.SILU, null, true, 0f, 8);
        assertEquals(new Shape(8, 4), s.stateDictShapes().get("fc1_g.weight"));
        assertEquals(new Shape(3, 8), s.stateDictShapes().get("fc2.weight"));
        try (NDManager m = NDManager.newBaseManager()) {
            SwiGlu one = new SwiGlu(1, 1, 1, Activation.Kind.SILU, null, false, 0f, 0);
            one.materialize(m);
            Module.assign(one.stateDict().get("fc1_g.weight"), new float[] {2});
            Module.assign(one.stateDict().get("fc1_x.weight"), new float[] {3});
            Module.assign(one.stateDict().get("fc2.weight"), new float[] {0.5f});
            float y = one.forward(m.create(new float[] {1.5f}, new Shape(1, 1))).getFloat();
            double g = 3.0; // fc1_g(1.5)
            assertEquals(0.5 * (g / (1 + Math.exp(-g))) * 4.5, y, 1e-5);

            GluMlp glu = new GluMlp(1, 2, 1, Activation.Kind.SILU, false, null, false, 0f);
            glu.materialize(m);
            Module.assign(glu.stateDict().get("fc1.weight"), new float[] {2, 3});
            Module.assign(glu.stateDict().get("fc2.weight"), new float[] {0.5f});
            // gate first: silu(first half) * second half, the same value as the split SwiGLU above
            assertEquals(
                    y,
                    glu.forward(m.create(new float[] {1.5f}, new Shape(1, 1))).getFloat(),
                    1e-6);
        }
    }

    @Test
    void relativePositionIndexOfATwoByTwoWindowWithClassToken() {
        // (2*2-1)^2 + 3 = 12 rows: 9 offsets, then class->patch (9), patch->class (10), class->class (11)
        assertEquals(12, BeitRelativePositionBias.numRelativeDistance(2, 2));
        long[] idx = BeitRelativePositionBias.index(2, 2);
        long[] expected = {
            11, 9, 9, 9, 9,
            10, 4, 3, 1, 0,
            10, 5, 4, 2, 1,
            10, 7, 6, 4, 3,
            10, 8, 7, 5, 4
        };
        assertArrayEquals(expected, idx);
        try (NDManager m = NDManager.newBaseManager()) {
            BeitRelativePositionBias b = new BeitRelativePositionBias(2, 2, 1);
            b.materialize(m);
            b.initialize(new SplittableRandom(0));
            float[] table = new float[12];
            for (int i = 0; i < 12; i++) {
                table[i] = i * 10;
            }
            Module.assign(b.table().getArray(), table);
            float[] bias = b.bias().toFloatArray();
            for (int i = 0; i < 25; i++) {
                assertEquals(expected[i] * 10f, bias[i]);
            }
        }
    }
}
