package dev.jimm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.convolutional.Conv2d;
import dev.jimm.layers.Identity;
import java.util.SplittableRandom;

/**
 * The child JVM of {@link OneDnnTest}: builds one jimm module (which settles oneDNN's level), then runs convolutions
 * that oneDNN gets wrong on a machine hiding its cache sizes unless held to SSE4.1, and prints whether jimm held it,
 * the level in force and the worst relative error against a float64 loop.
 */
final class OneDnnProbe {
    /**
     * {batch, in channels, out channels, kernel, stride, dilation, size}: the first four 8-23% off at AVX and up there;
     * the last too small for oneDNN, so libtorch considers NNPACK for it.
     */
    static final int[][] CASES = {
        {3, 26, 26, 3, 1, 2, 56},
        {3, 24, 96, 3, 1, 1, 5},
        {3, 26, 24, 3, 1, 1, 56},
        {2, 26, 8, 7, 1, 1, 14},
        {1, 8, 8, 3, 1, 1, 16}
    };

    private OneDnnProbe() {}

    public static void main(String[] args) {
        new Identity(); // any jimm module settles the level
        double worst = 0;
        SplittableRandom rnd = new SplittableRandom(7);
        try (NDManager m = NDManager.newBaseManager()) {
            for (int[] c : CASES) {
                worst = Math.max(worst, relativeError(m, rnd, c[0], c[1], c[2], c[3], c[4], c[5], c[6]));
            }
        }
        System.out.println("held " + OneDnn.holdWhereCachesHidden());
        System.out.println("cap " + OneDnn.isaCap().orElse("none"));
        System.out.println("worst " + worst);
    }

    static double relativeError(
            NDManager m, SplittableRandom rnd, int n, int ci, int co, int k, int stride, int dil, int h) {
        int pad = dil * (k - 1) / 2;
        float[] x = new float[n * ci * h * h];
        float[] w = new float[co * ci * k * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        NDArray y = Conv2d.conv2d(
                        m.create(x, new Shape(n, ci, h, h)),
                        m.create(w, new Shape(co, ci, k, k)),
                        null,
                        new Shape(stride, stride),
                        new Shape(pad, pad),
                        new Shape(dil, dil),
                        1)
                .singletonOrThrow();
        float[] got = y.toFloatArray();
        int ho = (int) y.getShape().get(2);
        double err = 0;
        double norm = 0;
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < co; o++) {
                for (int oy = 0; oy < ho; oy++) {
                    for (int ox = 0; ox < ho; ox++) {
                        double s = 0;
                        for (int c = 0; c < ci; c++) {
                            for (int ky = 0; ky < k; ky++) {
                                int iy = oy * stride - pad + ky * dil;
                                for (int kx = 0; kx < k && iy >= 0 && iy < h; kx++) {
                                    int ix = ox * stride - pad + kx * dil;
                                    if (ix >= 0 && ix < h) {
                                        s += (double) x[((b * ci + c) * h + iy) * h + ix]
                                                * w[((o * ci + c) * k + ky) * k + kx];
                                    }
                                }
                            }
                        }
                        double d = s - got[((b * co + o) * ho + oy) * ho + ox];
                        err += d * d;
                        norm += s * s;
                    }
                }
            }
        }
        return Math.sqrt(err / norm);
    }
}
