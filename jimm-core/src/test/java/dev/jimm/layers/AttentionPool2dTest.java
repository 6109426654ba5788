package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.parity.ReferenceInit;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** CLIP's attention pooling (timm's AttentionPool2d) against a scalar multi-head attention, and its resampling. */
class AttentionPool2dTest {
    private static final int IN = 8;
    private static final int HEAD_DIM = 4;
    private static final int OUT = 3;

    private static AttentionPool2d ready(AttentionPool2d a, NDManager mgr) {
        a.materialize(mgr);
        a.initialize(new SplittableRandom(0));
        ReferenceInit.apply(a);
        a.eval();
        return a;
    }

    @Test
    void keysFollowTimm() {
        AttentionPool2d a = new AttentionPool2d(2048, 7, 1024, 0, 64, true, "token", 0f);
        assertEquals(
                List.of(
                        "pos_embed",
                        "q.weight",
                        "q.bias",
                        "k.weight",
                        "k.bias",
                        "v.weight",
                        "v.bias",
                        "proj.weight",
                        "proj.bias"),
                List.copyOf(a.stateDictShapes().keySet()));
        assertEquals(new Shape(50, 2048), a.stateDictShapes().get("pos_embed"));
        assertEquals(32, a.numHeads());
        assertEquals(2048, a.embedDim());
    }

    @Test
    void poolsTheMeanTokensAttentionOutput() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            AttentionPool2d a = ready(new AttentionPool2d(IN, 2, OUT, 0, HEAD_DIM, true, "token", 0f), mgr);
            NDArray x = ReferenceInit.input(mgr, new Shape(1, IN, 2, 2), 7);
            double[][] tokens = reference(a, x.toFloatArray(), 2, 2);
            float[] w = a.stateDict().get("proj.weight").toFloatArray();
            float[] b = a.stateDict().get("proj.bias").toFloatArray();
            float[] expected = new float[OUT];
            float[] preLogits = new float[IN];
            for (int o = 0; o < OUT; o++) {
                double s = b[o];
                for (int i = 0; i < IN; i++) {
                    s += w[o * IN + i] * tokens[0][i];
                }
                expected[o] = (float) s;
            }
            for (int i = 0; i < IN; i++) {
                preLogits[i] = (float) tokens[0][i];
            }
            assertArrayEquals(expected, a.forward(x, false).toFloatArray(), 1e-4f);
            assertArrayEquals(preLogits, a.forward(x, true).toFloatArray(), 1e-4f);

            // without pooling: the spatial tokens as a map, NCHW
            a.reset(0, "");
            NDArray map = a.forward(x, false);
            assertEquals(new Shape(1, IN, 2, 2), map.getShape());
            float[] m = map.toFloatArray();
            for (int c = 0; c < IN; c++) {
                for (int p = 0; p < 4; p++) {
                    assertEquals(tokens[1 + p][c], m[c * 4 + p], 1e-4, "channel " + c + " position " + p);
                }
            }
        }
    }

    /** Tokens (mean first) plus position embedding, multi-head attention with separate q, k, v; before proj. */
    private static double[][] reference(AttentionPool2d a, float[] x, int h, int w) {
        Map<String, NDArray> sd = a.stateDict();
        float[] pos = sd.get("pos_embed").toFloatArray();
        int n = h * w + 1;
        double[][] t = new double[n][IN];
        for (int c = 0; c < IN; c++) {
            for (int p = 0; p < h * w; p++) {
                t[1 + p][c] = x[c * h * w + p];
                t[0][c] += x[c * h * w + p] / (h * w);
            }
        }
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < IN; c++) {
                t[i][c] += pos[i * IN + c];
            }
        }
        double[][] q = linear(sd, "q", t);
        double[][] k = linear(sd, "k", t);
        double[][] v = linear(sd, "v", t);
        double[][] out = new double[n][IN];
        for (int head = 0; head < IN / HEAD_DIM; head++) {
            int o = head * HEAD_DIM;
            for (int i = 0; i < n; i++) {
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    for (int d = 0; d < HEAD_DIM; d++) {
                        s[j] += q[i][o + d] * k[j][o + d];
                    }
                    s[j] /= Math.sqrt(HEAD_DIM);
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                for (int j = 0; j < n; j++) {
                    for (int d = 0; d < HEAD_DIM; d++) {
                        out[i][o + d] += s[j] / sum * v[j][o + d];
                    }
                }
            }
        }
        return out;
    }

    private static double[][] linear(Map<String, NDArray> sd, String name, double[][] t) {
        float[] w = sd.get(name + ".weight").toFloatArray();
        float[] b = sd.get(name + ".bias").toFloatArray();
        double[][] out = new double[t.length][IN];
        for (int i = 0; i < t.length; i++) {
            for (int o = 0; o < IN; o++) {
                out[i][o] = b[o];
                for (int c = 0; c < IN; c++) {
                    out[i][o] += w[o * IN + c] * t[i][c];
                }
            }
        }
        return out;
    }

    @Test
    void bicubicAntialiasWeightsAreKeysCubicNormalized() {
        // upsampling 2 -> 4, output 0: centre 0.25 in input pixels, taps at distances 0.25 and 1.25 with a = -0.5:
        // 1 - 2.5 * 0.25^2 + 1.5 * 0.25^3 = 0.8671875 and -0.5 * (1.25^3 - 5 * 1.25^2 + 8 * 1.25 - 4) = -0.0703125
        float[] w = AttentionPool2d.bicubicAntialiasWeights(2, 4);
        double total = 0.8671875 - 0.0703125;
        assertEquals(0.8671875 / total, w[0], 1e-6);
        assertEquals(-0.0703125 / total, w[1], 1e-6);
        // the last output mirrors the first
        assertEquals(w[0], w[7], 1e-7);
        assertEquals(w[1], w[6], 1e-7);
        // shrinking 4 -> 2 stretches the filter to cover all four inputs, each row summing to 1
        float[] down = AttentionPool2d.bicubicAntialiasWeights(4, 2);
        for (int r = 0; r < 2; r++) {
            double s = 0;
            for (int j = 0; j < 4; j++) {
                s += down[r * 4 + j];
            }
            assertEquals(1.0, s, 1e-6);
        }
    }

    @Test
    void theEmbeddingIsResampledForAnotherMapSize() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            AttentionPool2d a = ready(new AttentionPool2d(IN, 2, OUT, 0, HEAD_DIM, true, "token", 0f), mgr);
            assertSame(a.stateDict().get("pos_embed"), a.resampledPosEmbed(2, 2), "the made-for size is kept");
            // a constant grid stays constant; the prefix (mean-token) row is kept as it is
            float[] pe = new float[5 * IN];
            for (int i = 0; i < pe.length; i++) {
                pe[i] = i < IN ? i : 0.25f * (i % IN);
            }
            Module.assign(a.stateDict().get("pos_embed"), pe);
            NDArray r = a.resampledPosEmbed(3, 5);
            assertEquals(new Shape(16, IN), r.getShape());
            float[] v = r.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals(i < IN ? i : 0.25f * (i % IN), v[i], 1e-5, "entry " + i);
            }
            NDArray x = ReferenceInit.input(mgr, new Shape(2, IN, 3, 5), 1);
            assertEquals(new Shape(2, OUT), a.forward(x, false).getShape());
        }
    }

    @Test
    void poolingIsTokenOrNone() {
        assertThrows(
                IllegalArgumentException.class, () -> new AttentionPool2d(IN, 2, OUT, 0, HEAD_DIM, true, "avg", 0f));
        assertThrows(IllegalArgumentException.class, () -> new AttentionPool2d(IN, 2, OUT, 0, 3, true, "token", 0f));
    }
}
