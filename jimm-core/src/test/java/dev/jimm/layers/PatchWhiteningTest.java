package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link PatchWhitening}: the eigen-decomposition satisfies {@code A v = lambda v} with orthonormal vectors, and the
 * filters map strongly correlated image patches to responses whose second moment is the identity.
 */
class PatchWhiteningTest {
    /** Images of smoothed noise plus a per-image offset: neighbouring pixels are strongly correlated. */
    static float[] correlatedImages(int n, int c, int h, int w, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] out = new float[n * c * h * w];
        for (int i = 0; i < n; i++) {
            double offset = r.nextGaussian();
            for (int ch = 0; ch < c; ch++) {
                double[] noise = new double[(h + 2) * (w + 2)];
                for (int k = 0; k < noise.length; k++) {
                    noise[k] = r.nextGaussian();
                }
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double s = 0;
                        for (int dy = 0; dy < 3; dy++) {
                            for (int dx = 0; dx < 3; dx++) {
                                s += noise[(y + dy) * (w + 2) + x + dx];
                            }
                        }
                        out[((i * c + ch) * h + y) * w + x] = (float) (offset + s / 3 + 0.1 * ch);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void jacobiGivesOrthonormalEigenvectors() {
        SplittableRandom r = new SplittableRandom(5);
        int d = 12;
        double[][] a = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                a[i][j] = a[j][i] = r.nextGaussian();
            }
        }
        double[] values = new double[d];
        double[][] v = PatchWhitening.jacobiEigen(a, values);
        for (int e = 0; e < d; e++) {
            for (int i = 0; i < d; i++) {
                double av = 0;
                for (int k = 0; k < d; k++) {
                    av += a[i][k] * v[k][e];
                }
                assertEquals(values[e] * v[i][e], av, 1e-9, "A v = lambda v, vector " + e + " row " + i);
            }
            for (int f = 0; f < d; f++) {
                double dot = 0;
                for (int k = 0; k < d; k++) {
                    dot += v[k][e] * v[k][f];
                }
                assertEquals(e == f ? 1 : 0, dot, 1e-9);
            }
        }
    }

    @Test
    void theFiltersDecorrelateThePatchesToUnitVariance() {
        int n = 40, c = 2, h = 12, w = 12, k = 3, d = c * k * k;
        float[] images = correlatedImages(n, c, h, w, 7);
        float[] f = PatchWhitening.filters(images, n, c, h, w, k, d, 1e-9);
        assertEquals(2 * d * d, f.length);
        double[][] m = new double[d][d];
        long count = 0;
        for (int i = 0; i < n; i++) {
            for (int y = 0; y + k <= h; y++) {
                for (int x = 0; x + k <= w; x++) {
                    double[] resp = new double[d];
                    for (int j = 0; j < d; j++) {
                        double s = 0;
                        for (int ch = 0; ch < c; ch++) {
                            for (int dy = 0; dy < k; dy++) {
                                for (int dx = 0; dx < k; dx++) {
                                    s += f[((j * c + ch) * k + dy) * k + dx]
                                            * images[((i * c + ch) * h + y + dy) * w + x + dx];
                                }
                            }
                        }
                        resp[j] = s;
                    }
                    for (int a = 0; a < d; a++) {
                        for (int b = 0; b < d; b++) {
                            m[a][b] += resp[a] * resp[b];
                        }
                    }
                    count++;
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = 0; b < d; b++) {
                assertEquals(a == b ? 1 : 0, m[a][b] / count, 1e-4, "response moment " + a + "," + b);
            }
        }
        for (int i = 0; i < d * d; i++) {
            assertEquals(-f[i], f[d * d + i], 0f, "the second half is the negated first");
        }
        // the raw patches are far from white: neighbouring pixels are correlated
        assertTrue(PatchWhitening.secondMoment(images, n, c, h, w, k)[0][1] > 0.5);
        assertThrows(IllegalArgumentException.class, () -> PatchWhitening.filters(images, n, c, h, w, k, d + 1, 0));
    }
}
