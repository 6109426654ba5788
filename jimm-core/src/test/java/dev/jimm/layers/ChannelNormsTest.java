package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** RmsNorm2d, SimpleNorm2d and GlobalResponseNorm on values worked out by hand. */
class ChannelNormsTest {
    private static <M extends Module> M ready(M m, NDManager mgr) {
        m.materialize(mgr);
        m.initialize(new SplittableRandom(0));
        return m;
    }

    @Test
    void rmsNormDividesByTheRootMeanSquareOfTheChannels() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            RmsNorm2d n = ready(new RmsNorm2d(3, 1e-6f), mgr);
            Module.copyInto(n.directParameters().get("weight").getArray(), mgr.create(new float[] {1f, 2f, 1f}));
            NDArray x = mgr.create(new float[] {1f, 2f, 6f}, new Shape(1, 3, 1, 1));
            double rms = Math.sqrt((1 + 4 + 36) / 3.0);
            assertArrayEquals(
                    new float[] {(float) (1 / rms), (float) (4 / rms), (float) (6 / rms)},
                    n.forward(x).toFloatArray(),
                    1e-5f);
        }
    }

    @Test
    void simpleNormDividesByTheUnbiasedStdWithoutCentering() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            SimpleNorm2d n = ready(new SimpleNorm2d(3, 1e-6f), mgr);
            NDArray x = mgr.create(new float[] {1f, 2f, 6f}, new Shape(1, 3, 1, 1));
            double std = Math.sqrt((4 + 1 + 9) / 2.0); // mean 3, unbiased variance 7
            assertArrayEquals(
                    new float[] {(float) (1 / std), (float) (2 / std), (float) (6 / std)},
                    n.forward(x).toFloatArray(),
                    1e-5f);
        }
    }

    @Test
    void globalResponseNormOnBothLayouts() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            // channel 0 = (3, 4): L2 5; channel 1 = (0, 1): L2 1; mean 3, so x_n = (5/3, 1/3)
            float[] expected = {3 + 5 + 0.5f, 4 + 4 * 5f / 3 + 0.5f, 0.5f, 1 + 1f / 3 + 0.5f};
            GlobalResponseNorm cf = ready(new GlobalResponseNorm(2, false), mgr);
            Module.copyInto(cf.directParameters().get("weight").getArray(), mgr.create(new float[] {1f, 1f}));
            Module.copyInto(cf.directParameters().get("bias").getArray(), mgr.create(new float[] {0.5f, 0.5f}));
            NDArray nchw = mgr.create(new float[] {3f, 4f, 0f, 1f}, new Shape(1, 2, 1, 2));
            assertArrayEquals(expected, cf.forward(nchw).toFloatArray(), 1e-5f);

            GlobalResponseNorm cl = ready(new GlobalResponseNorm(2, true), mgr);
            Module.copyInto(cl.directParameters().get("weight").getArray(), mgr.create(new float[] {1f, 1f}));
            Module.copyInto(cl.directParameters().get("bias").getArray(), mgr.create(new float[] {0.5f, 0.5f}));
            NDArray nhwc = nchw.transpose(0, 2, 3, 1);
            assertArrayEquals(expected, cl.forward(nhwc).transpose(0, 3, 1, 2).toFloatArray(), 1e-5f);
        }
    }
}
