package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The relative position biases against their definitions written out here: which table entry each query-key pair reads
 * (timm's index for RelPosBias, the TF one-hot einsum for RelPosBiasTf), the MLP bias depending on the offset only, the
 * table resampling of a small case worked by hand, and LayerScale2d's per-channel scale.
 */
class RelPosTest {
    private static final int H = 2, W = 3, HEADS = 2, N = H * W;

    private static <M extends Module> M built(M m, NDManager manager) {
        m.materialize(manager);
        m.initialize(new SplittableRandom(1));
        return m;
    }

    @Test
    void relPosBiasReadsTheSwinIndex() {
        try (NDManager m = NDManager.newBaseManager()) {
            RelPosBias rp = built(new RelPosBias(H, W, HEADS), m);
            float[] table = rp.stateDict().get("relative_position_bias_table").toFloatArray();
            assertEquals((2 * H - 1) * (2 * W - 1) * HEADS, table.length);
            float[] bias = rp.getBias().toFloatArray();
            for (int n = 0; n < HEADS; n++) {
                for (int q = 0; q < N; q++) {
                    for (int k = 0; k < N; k++) {
                        int row = (q / W - k / W + H - 1) * (2 * W - 1) + (q % W - k % W + W - 1);
                        assertEquals(table[row * HEADS + n], bias[(n * N + q) * N + k], 0f);
                    }
                }
            }
        }
    }

    @Test
    void relPosBiasTfReadsWhatTheOneHotEinsumPicks() {
        try (NDManager m = NDManager.newBaseManager()) {
            RelPosBiasTf rp = built(new RelPosBiasTf(H, W, HEADS), m);
            assertEquals(
                    new Shape(HEADS, 2 * H - 1, 2 * W - 1), rp.stateDictShapes().get("relative_position_bias_table"));
            float[] table = rp.stateDict().get("relative_position_bias_table").toFloatArray();
            float[] bias = rp.getBias().toFloatArray();
            // einsum('nhw,ixh->nixw') then ('nixw,jyw->nijxy'): lookup[i, x, v] = 1 where v = x - i + H - 1
            for (int n = 0; n < HEADS; n++) {
                for (int i = 0; i < H; i++) {
                    for (int j = 0; j < W; j++) {
                        for (int x = 0; x < H; x++) {
                            for (int y = 0; y < W; y++) {
                                float expected = table[(n * (2 * H - 1) + x - i + H - 1) * (2 * W - 1) + y - j + W - 1];
                                int q = i * W + j;
                                int k = x * W + y;
                                assertEquals(expected, bias[(n * N + q) * N + k], 0f);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void relPosMlpDependsOnTheOffsetOnly() {
        try (NDManager m = NDManager.newBaseManager()) {
            RelPosMlp rp = built(new RelPosMlp(H, W, HEADS, 16), m);
            assertEquals(
                    Set.of("mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"),
                    rp.stateDictShapes().keySet());
            NDArray b = rp.getBias();
            assertEquals(new Shape(1, HEADS, N, N), b.getShape());
            float[] bias = b.toFloatArray();
            for (int n = 0; n < HEADS; n++) {
                // (0,0)->(1,1) and (0,1)->(1,2) share the offset (-1, -1)
                assertEquals(bias[(n * N) * N + 4], bias[(n * N + 1) * N + 5], 0f);
                // the zero offset is the same on the diagonal
                assertEquals(bias[(n * N) * N], bias[(n * N + 5) * N + 5], 0f);
            }
            float[] coords = RelPosMlp.logCoords(H, W);
            // (dh, dw) = (-1, -2) at [0, 0]: sign * log(1 + |d|)
            assertEquals((float) -Math.log(2), coords[0], 1e-7f);
            assertEquals((float) -Math.log(3), coords[1], 1e-7f);
        }
    }

    @Test
    void resizeWorksASmallCaseByHand() {
        try (NDManager m = NDManager.newBaseManager()) {
            // a 2x2 window (3x3 offsets -1, 0, 1) to 3x3 (5x5 offsets -2..2): the source offsets stay -1, 0, 1
            // and the targets beyond them take the edge values
            float[] src = {1, 2, 3, 4, 5, 6, 7, 8, 9};
            NDArray t = m.create(src, new Shape(1, 3, 3));
            NDArray r = RelPosResize.resize(t, new Shape(1, 5, 5));
            int[] map = {0, 0, 1, 2, 2};
            float[] out = r.toFloatArray();
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    assertEquals(src[map[i] * 3 + map[j]], out[i * 5 + j], 1e-6f);
                }
            }
            // the flat [positions, heads] layout gives the same per head
            NDArray flat = m.create(src, new Shape(9, 1));
            assertArrayEquals(out, RelPosResize.resize(flat, new Shape(25, 1)).toFloatArray(), 1e-6f);
            assertSame(t, RelPosResize.resize(t, new Shape(1, 3, 3)));
        }
    }

    @Test
    void resizeKeepsAConstantTableAndTheCentre() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray t = m.full(new Shape(2, 13, 13), 0.25f);
            float[] out = RelPosResize.resize(t, new Shape(2, 23, 23)).toFloatArray();
            for (float v : out) {
                assertEquals(0.25f, v, 1e-6f);
            }
            NDArray ramp = m.arange(169f).reshape(169, 1);
            float[] r = RelPosResize.resize(ramp, new Shape(225, 1)).toFloatArray();
            // offset (0, 0) is a source point: the centre keeps its value
            assertEquals(84f, r[112], 1e-4f);
        }
    }

    @Test
    void layerScale2dScalesEachChannel() {
        try (NDManager m = NDManager.newBaseManager()) {
            LayerScale2d ls = built(new LayerScale2d(3, 0.5f), m);
            Module.assign(ls.gamma().getArray(), new float[] {1, 2, 3});
            NDArray x = m.ones(new Shape(1, 3, 2, 2));
            float[] y = ls.forward(x).toFloatArray();
            for (int c = 0; c < 3; c++) {
                for (int p = 0; p < 4; p++) {
                    assertEquals(c + 1, y[c * 4 + p], 0f);
                }
            }
        }
    }
}
