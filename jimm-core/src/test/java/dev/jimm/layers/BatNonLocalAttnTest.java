package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.parity.ReferenceInit;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * BatNonLocalAttn (timm's 'bat' attention) against a scalar implementation of timm's forward: reduce, pool to the block
 * size, the per-group row and column matrices, {@code kron(P, I) x kron(Q, I)}, expand, residual.
 */
class BatNonLocalAttnTest {
    private static final int C = 16;
    private static final int RD = 8; // make_divisible(16 / 4, 8)
    private static final int G = 2;
    private static final int BS = 2;
    private static final int H = 4;
    private static final int W = 6;

    @Test
    void keysFollowTimm() {
        Map<String, Shape> s = new BatNonLocalAttn(C, BS).stateDictShapes();
        assertEquals(new Shape(RD, C, 1, 1), s.get("conv1.conv.weight"));
        assertEquals(new Shape(G, RD, 1, 1), s.get("ba.conv1.conv.weight"));
        assertEquals(new Shape(BS * BS * G, G, BS, 1), s.get("ba.conv_p.weight"));
        assertEquals(new Shape(BS * BS * G, G, 1, BS), s.get("ba.conv_q.weight"));
        assertEquals(new Shape(RD, RD, 1, 1), s.get("ba.conv2.conv.weight"));
        assertEquals(new Shape(C, RD, 1, 1), s.get("conv2.conv.weight"));
        assertTrue(s.containsKey("conv2.bn.running_var"));
    }

    @Test
    void kronIdentityRepeatsEachEntryOnADiagonalBlock() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            NDArray m = mgr.create(new float[] {1, 2, 3, 4}, new Shape(1, 1, 2, 2));
            float[] expected = {
                1, 0, 2, 0,
                0, 1, 0, 2,
                3, 0, 4, 0,
                0, 3, 0, 4
            };
            assertArrayEquals(expected, BatNonLocalAttn.kronIdentity(m, 2).toFloatArray());
        }
    }

    @Test
    void sidesMustBeMultiplesOfTheBlockSize() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            BatNonLocalAttn bat = new BatNonLocalAttn(C, 4);
            bat.materialize(mgr);
            bat.initialize(new SplittableRandom(0));
            NDArray x = mgr.ones(new Shape(1, C, 7, 8));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bat.forward(x));
            assertTrue(e.getMessage().contains("multiples"), e.getMessage());
        }
    }

    @Test
    void matchesAScalarImplementationOfTimmsForward() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            BatNonLocalAttn bat = new BatNonLocalAttn(C, BS);
            bat.materialize(mgr);
            bat.initialize(new SplittableRandom(0));
            ReferenceInit.apply(bat);
            bat.eval();
            NDArray input = ReferenceInit.input(mgr, new Shape(1, C, H, W), 5);
            Map<String, NDArray> sd = bat.stateDict();
            double[][][] x = maps(input.toFloatArray(), C);

            double[][][] xl = convBnRelu(sd, "conv1", x, RD);
            double[][][] out = convBnRelu(sd, "ba.conv1", xl, G);
            // adaptive max pools to (BS, 1) and (1, BS)
            double[][] rows = new double[G][BS];
            double[][] cols = new double[G][BS];
            for (int g = 0; g < G; g++) {
                for (int i = 0; i < BS; i++) {
                    rows[g][i] = Double.NEGATIVE_INFINITY;
                    cols[g][i] = Double.NEGATIVE_INFINITY;
                }
                for (int y = 0; y < H; y++) {
                    for (int z = 0; z < W; z++) {
                        rows[g][y / (H / BS)] = Math.max(rows[g][y / (H / BS)], out[g][y][z]);
                        cols[g][z / (W / BS)] = Math.max(cols[g][z / (W / BS)], out[g][y][z]);
                    }
                }
            }
            double[][][] p = mixing(sd, "ba.conv_p", rows, true);
            double[][][] q = mixing(sd, "ba.conv_q", cols, false);
            double[][][] y = new double[RD][H][W];
            int perGroup = RD / G;
            for (int ch = 0; ch < RD; ch++) {
                double[][] pb = kron(p[ch / perGroup], H / BS);
                double[][] qb = kron(q[ch / perGroup], W / BS);
                y[ch] = matMul(matMul(pb, xl[ch]), qb);
            }
            double[][][] ba = convBnRelu(sd, "ba.conv2", y, RD);
            double[][][] expanded = convBnRelu(sd, "conv2", ba, C);
            float[] expected = new float[C * H * W];
            for (int ch = 0; ch < C; ch++) {
                for (int i = 0; i < H; i++) {
                    for (int j = 0; j < W; j++) {
                        expected[(ch * H + i) * W + j] = (float) (expanded[ch][i][j] + x[ch][i][j]);
                    }
                }
            }
            float[] ours = bat.forward(input).toFloatArray();
            double scale = 0;
            for (float e : expected) {
                scale = Math.max(scale, Math.abs(e));
            }
            assertArrayEquals(expected, ours, (float) (1e-5 * scale));
        }
    }

    private static double[][][] maps(float[] v, int channels) {
        double[][][] m = new double[channels][H][W];
        for (int ch = 0; ch < channels; ch++) {
            for (int i = 0; i < H; i++) {
                for (int j = 0; j < W; j++) {
                    m[ch][i][j] = v[(ch * H + i) * W + j];
                }
            }
        }
        return m;
    }

    /** A 1x1 conv without bias, eval-mode BatchNorm (eps 1e-5), ReLU. */
    private static double[][][] convBnRelu(Map<String, NDArray> sd, String prefix, double[][][] x, int out) {
        float[] w = sd.get(prefix + ".conv.weight").toFloatArray();
        float[] gamma = sd.get(prefix + ".bn.weight").toFloatArray();
        float[] beta = sd.get(prefix + ".bn.bias").toFloatArray();
        float[] mean = sd.get(prefix + ".bn.running_mean").toFloatArray();
        float[] var = sd.get(prefix + ".bn.running_var").toFloatArray();
        int in = x.length;
        double[][][] y = new double[out][H][W];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < H; i++) {
                for (int j = 0; j < W; j++) {
                    double s = 0;
                    for (int c = 0; c < in; c++) {
                        s += w[o * in + c] * x[c][i][j];
                    }
                    s = (s - mean[o]) / Math.sqrt(var[o] + 1e-5) * gamma[o] + beta[o];
                    y[o][i][j] = Math.max(0, s);
                }
            }
        }
        return y;
    }

    /**
     * conv_p (kernel BS x 1 over the pooled rows) or conv_q (1 x BS over the pooled columns), sigmoid, viewed as [G,
     * BS, BS], normalized over the last axis (P) or the one before (Q).
     */
    private static double[][][] mixing(Map<String, NDArray> sd, String prefix, double[][] pooled, boolean rowsNorm) {
        float[] w = sd.get(prefix + ".weight").toFloatArray();
        float[] b = sd.get(prefix + ".bias").toFloatArray();
        double[][][] m = new double[G][BS][BS];
        for (int o = 0; o < G * BS * BS; o++) {
            double s = b[o];
            for (int g = 0; g < G; g++) {
                for (int i = 0; i < BS; i++) {
                    s += w[(o * G + g) * BS + i] * pooled[g][i];
                }
            }
            m[o / (BS * BS)][(o / BS) % BS][o % BS] = 1 / (1 + Math.exp(-s));
        }
        for (int g = 0; g < G; g++) {
            for (int a = 0; a < BS; a++) {
                double sum = 0;
                for (int c = 0; c < BS; c++) {
                    sum += rowsNorm ? m[g][a][c] : m[g][c][a];
                }
                for (int c = 0; c < BS; c++) {
                    if (rowsNorm) {
                        m[g][a][c] /= sum;
                    } else {
                        m[g][c][a] /= sum;
                    }
                }
            }
        }
        return m;
    }

    private static double[][] kron(double[][] m, int t) {
        int n = m.length;
        double[][] out = new double[n * t][n * t];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                for (int u = 0; u < t; u++) {
                    out[a * t + u][b * t + u] = m[a][b];
                }
            }
        }
        return out;
    }

    private static double[][] matMul(double[][] a, double[][] b) {
        double[][] out = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < b[0].length; j++) {
                for (int k = 0; k < b.length; k++) {
                    out[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return out;
    }
}
