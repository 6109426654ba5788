package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.PosEmbed.Mode;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The position-embedding resampling against libtorch's own interpolation (DJL's binding, which runs it with
 * {@code antialias=True}, the kernel timm's ViT loader uses) and against small cases worked out by hand (the plain
 * kernels, Swin's bias tables on their geometric grid).
 */
class PosEmbedTest {
    // DJL's interpolation modes: 1 is bilinear, 3 bicubic (align_corners False, antialias on)
    private static final int DJL_BILINEAR = 1;
    private static final int DJL_BICUBIC = 3;

    private static float[] wave(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) Math.sin(0.37 * i) + 0.01f * i;
        }
        return v;
    }

    @Test
    void antialiasedBicubicAndBilinearAreLibtorchsInterpolate() {
        int[][] cases = {{14, 14, 24, 24}, {24, 24, 14, 14}, {5, 7, 9, 4}, {3, 3, 3, 3}, {16, 16, 37, 37}};
        try (NDManager m = NDManager.newBaseManager()) {
            for (int[] c : cases) {
                float[] src = wave(4 * c[0] * c[1]);
                NDArray x = m.create(src, new Shape(1, 4, c[0], c[1]));
                for (Mode mode : Mode.values()) {
                    int djl = mode == Mode.BICUBIC ? DJL_BICUBIC : DJL_BILINEAR;
                    float[] ref = x.getNDArrayInternal()
                            .interpolation(new long[] {c[2], c[3]}, djl, false)
                            .toFloatArray();
                    float[] ours = PosEmbed.interpolate(src, 4, c[0], c[1], c[2], c[3], mode, true);
                    assertArrayEquals(ref, ours, 1e-5f, mode + " " + Arrays.toString(c));
                }
            }
        }
    }

    @Test
    void antialiasedBicubicIsKeysCubicWithHalfSlopeNormalizedAtTheBorders() {
        // [0, 1] widened to 3: the outer samples see taps at 1/6 and 7/6 of the a = -0.5 cubic,
        // f(1/6) = 15/16 and f(7/6) = -25/432, renormalized to sum 1; the middle one sits halfway
        float[] up = PosEmbed.interpolate(new float[] {0, 1}, 1, 1, 2, 1, 3, Mode.BICUBIC, true);
        assertArrayEquals(new float[] {-25f / 380, 0.5f, 405f / 380}, up, 1e-6f);
    }

    @Test
    void antialiasedBilinearShrinkingWidensTheTriangle() {
        // 4 -> 2: the triangle stretched to half-width 2; output 0 centred at 1 weighs inputs 0, 1, 2 by
        // 0.75, 0.75, 0.25 (sum 1.75), output 1 centred at 3 weighs inputs 1, 2, 3 by 0.25, 0.75, 0.75
        float[] down = PosEmbed.interpolate(new float[] {0, 1, 2, 3}, 1, 1, 4, 1, 2, Mode.BILINEAR, true);
        assertArrayEquals(new float[] {5f / 7, 16f / 7}, down, 1e-6f);
    }

    @Test
    void plainKernelsSampleAtHalfPixelCentresWithClampedTaps() {
        // bicubic a = -0.75, [0, 1] widened to 3: output 0 reads source -1/6, so three taps clamp to
        // input 0 and the fourth, at distance 7/6, weighs input 1 by ((a x - 5a) x + 8a) x - 4a
        float[] up = PosEmbed.interpolate(new float[] {0, 1}, 1, 1, 2, 1, 3, Mode.BICUBIC, false);
        assertEquals(-0.0868056f, up[0], 1e-6f);
        assertEquals(0.5f, up[1], 1e-6f);
        // bilinear 4 -> 2 reads sources 0.5 and 2.5, halfway between neighbours
        float[] down = PosEmbed.interpolate(new float[] {0, 1, 2, 3}, 1, 1, 4, 1, 2, Mode.BILINEAR, false);
        assertArrayEquals(new float[] {0.5f, 2.5f}, down, 1e-6f);
        // bilinear 2 -> 4 clamps below 0: sources -0.25, 0.25, 0.75, 1.25
        float[] up2 = PosEmbed.interpolate(new float[] {0, 1}, 1, 1, 2, 1, 4, Mode.BILINEAR, false);
        assertArrayEquals(new float[] {0f, 0.25f, 0.75f, 1f}, up2, 1e-6f);
    }

    @Test
    void resampledEmbeddingsKeepThePrefixTokens() {
        try (NDManager m = NDManager.newBaseManager()) {
            // 2 prefix tokens, a 2x2 grid of 3 channels
            float[] v = wave(6 * 3);
            NDArray pos = m.create(v, new Shape(1, 6, 3));
            NDArray out = PosEmbed.resampleAbsPosEmbed(pos, 3, 3, 2, "bicubic", true);
            assertEquals(new Shape(1, 11, 3), out.getShape());
            float[] o = out.toFloatArray();
            for (int i = 0; i < 6; i++) {
                assertEquals(v[i], o[i], "prefix value " + i);
            }
            // the grid, channel by channel, as interpolate resizes [C, H, W] maps
            float[] grid = new float[3 * 4];
            for (int t = 0; t < 4; t++) {
                for (int c = 0; c < 3; c++) {
                    grid[c * 4 + t] = v[(2 + t) * 3 + c];
                }
            }
            float[] resized = PosEmbed.interpolate(grid, 3, 2, 2, 3, 3, Mode.BICUBIC, true);
            for (int t = 0; t < 9; t++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(resized[c * 9 + t], o[(2 + t) * 3 + c], 1e-7f);
                }
            }
            assertSame(pos, PosEmbed.resampleAbsPosEmbed(pos, 2, 2, 2, "bicubic", true), "a fitting grid stays");
            assertThrows(
                    IllegalArgumentException.class, () -> PosEmbed.resampleAbsPosEmbed(pos, 3, 3, 1, "bicubic", true));
        }
    }

    @Test
    void aBiasTableOfASmallerWindowIsEdgePadded() {
        // window 2 -> 3: source positions -1, 0, 1; targets -2..2 read the nearest end beyond them
        try (NDManager m = NDManager.newBaseManager()) {
            float[] v = wave(9 * 2);
            NDArray table = m.create(v, new Shape(9, 2));
            float[] o = PosEmbed.resizeRelPosBiasTable(table, 3, 3, 25).toFloatArray();
            int[] from = {0, 0, 1, 2, 2};
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    for (int h = 0; h < 2; h++) {
                        assertEquals(v[(from[i] * 3 + from[j]) * 2 + h], o[(i * 5 + j) * 2 + h], 1e-7f);
                    }
                }
            }
        }
    }

    @Test
    void aBiasTableOfALargerWindowIsReadOnTheGeometricGrid() {
        // window 7 -> 5 (13 -> 9 per side): timm's bisection ends at q = 1.01, so the source positions
        // are 0, 1, 2.01, 3.0301, 4.060401, ... from the middle (index 6), and a target between two
        // of them takes both, linearly
        Map<Integer, Map<Integer, Double>> taps = new TreeMap<>();
        taps.put(0, Map.of(6, 1.0));
        taps.put(1, Map.of(7, 1.0));
        taps.put(2, Map.of(7, 0.01 / 1.01, 8, 1 / 1.01));
        taps.put(3, Map.of(8, 0.0301 / 1.0201, 9, 0.99 / 1.0201));
        taps.put(4, Map.of(9, 0.060401 / 1.030301, 10, 0.9699 / 1.030301));
        for (int k = 1; k <= 4; k++) {
            Map<Integer, Double> mirrored = new TreeMap<>();
            taps.get(k).forEach((idx, w) -> mirrored.put(12 - idx, w));
            taps.put(-k, mirrored);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            int heads = 3;
            float[] v = wave(169 * heads);
            NDArray table = m.create(v, new Shape(169, heads)).toType(DataType.FLOAT32, false);
            NDArray out = PosEmbed.resizeRelPosBiasTable(table, 5, 5, 81);
            assertEquals(new Shape(81, heads), out.getShape());
            float[] o = out.toFloatArray();
            for (int i = 0; i < 9; i++) {
                for (int j = 0; j < 9; j++) {
                    for (int h = 0; h < heads; h++) {
                        double expected = 0;
                        for (Map.Entry<Integer, Double> y : taps.get(i - 4).entrySet()) {
                            for (Map.Entry<Integer, Double> x : taps.get(j - 4).entrySet()) {
                                expected += y.getValue() * x.getValue() * v[(y.getKey() * 13 + x.getKey()) * heads + h];
                            }
                        }
                        assertEquals(expected, o[(i * 9 + j) * heads + h], 1e-4, "row " + i + " col " + j);
                    }
                }
            }
            assertSame(table, PosEmbed.resizeRelPosBiasTable(table, 7, 7, 169), "a fitting table stays");
        }
    }
}
