package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Global pooling in both memory layouts: the pooled values and the input gradient must be the per-channel mean
 * (gradient upstream / (H*W) everywhere) and max (gradient upstream at the one largest pixel, zero elsewhere), computed
 * here from the raw floats.
 */
class GlobalPoolTest {
    private static final int N = 2, C = 5, H = 3, W = 4;

    @ParameterizedTest(name = "{0}, channels-last {1}")
    @CsvSource({
        "avg, false",
        "avg, true",
        "max, false",
        "max, true",
        "catavgmax, false",
        "catavgmax, true",
        "avgmax, true"
    })
    void poolsAndBackpropagatesPerChannel(String type, boolean channelsLast) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray leaf = m.randomNormal(new Shape(N, C, H, W));
            float[] x = leaf.toFloatArray();
            leaf.setRequiresGradient(true);
            boolean cat = type.equals("catavgmax");
            NDArray upstream = m.randomNormal(new Shape(N, cat ? 2 * C : C));
            float[] u = upstream.toFloatArray();
            float[] pooled;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray in = channelsLast ? MemoryFormat.channelsLast(leaf) : leaf;
                assertEquals(!channelsLast, MemoryFormat.isContiguous(in), "layout of the pooled input");
                NDArray y = new GlobalPool(type, true).forward(in);
                assertEquals(upstream.getShape(), y.getShape());
                pooled = y.toFloatArray();
                gc.backward(y.mul(upstream).sum());
            }
            float[] dx = leaf.getGradient().toFloatArray();
            int hw = H * W;
            for (int n = 0; n < N; n++) {
                for (int c = 0; c < C; c++) {
                    int base = (n * C + c) * hw;
                    double sum = 0;
                    int argMax = 0;
                    for (int p = 0; p < hw; p++) {
                        sum += x[base + p];
                        if (x[base + p] > x[base + argMax]) {
                            argMax = p;
                        }
                    }
                    float mean = (float) (sum / hw), max = x[base + argMax];
                    int cols = cat ? 2 * C : C;
                    float uAvg = 0, uMax = 0, expected;
                    switch (type) {
                        case "avg" -> {
                            expected = mean;
                            uAvg = u[n * cols + c];
                        }
                        case "max" -> {
                            expected = max;
                            uMax = u[n * cols + c];
                        }
                        case "avgmax" -> {
                            expected = 0.5f * (mean + max);
                            uAvg = 0.5f * u[n * cols + c];
                            uMax = uAvg;
                        }
                        default -> {
                            expected = mean;
                            assertEquals(max, pooled[n * cols + C + c], 1e-6, "max half at " + n + "," + c);
                            uAvg = u[n * cols + c];
                            uMax = u[n * cols + C + c];
                        }
                    }
                    assertEquals(expected, pooled[n * cols + c], 1e-5, type + " at " + n + "," + c);
                    for (int p = 0; p < hw; p++) {
                        float want = uAvg / hw + (p == argMax ? uMax : 0f);
                        assertEquals(want, dx[base + p], 1e-6, "gradient at " + n + "," + c + ", pixel " + p);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "channels-last {0}")
    @CsvSource({"false", "true"})
    void adaptiveAveragePoolToOnePixelIsTheSpatialMean(boolean channelsLast) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray leaf = m.randomNormal(new Shape(N, C, H, W));
            NDArray in = channelsLast ? MemoryFormat.channelsLast(leaf) : leaf;
            float[] x = leaf.toFloatArray();
            NDArray y = AdaptiveAvgPool2d.apply(in, 1, 1);
            assertEquals(new Shape(N, C, 1, 1), y.getShape());
            float[] got = y.toFloatArray();
            for (int i = 0; i < N * C; i++) {
                double s = 0;
                for (int p = 0; p < H * W; p++) {
                    s += x[i * H * W + p];
                }
                assertEquals(s / (H * W), got[i], 1e-6);
            }
            assertTrue(MemoryFormat.isContiguous(leaf));
            assertFalse(MemoryFormat.isContiguous(MemoryFormat.channelsLast(leaf)));
        }
    }
}
