package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Numbers in recorded forward passes survive a garbage collection before the backward pass. */
class ScalarsTest {
    /** Collects garbage and hands the freed small blocks out again, filled with 1e30f. */
    private static void collectAndReuseFreedMemory() throws InterruptedException {
        for (int round = 0; round < 3; round++) {
            System.gc();
            Thread.sleep(50);
            List<ByteBuffer> reuse = new ArrayList<>();
            for (int i = 0; i < 20_000; i++) {
                reuse.add(ByteBuffer.allocateDirect(4).putFloat(0, 1e30f));
            }
        }
    }

    @Test
    void hardSwishGeluAndScaledLossesBackpropagateTheirNumbersAfterAGarbageCollection() throws Exception {
        float[] xs = {-4f, -2.5f, -1f, 0.5f, 2f, 2.9f, 5f};
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(xs).duplicate();
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = Scalars.div(Scalars.mul(Activation.apply(Activation.Kind.HARD_SWISH, x), 3), 2);
                NDArray z = Scalars.mul(Activation.apply(Activation.Kind.GELU_TANH, x), 0.5);
                NDArray loss = y.add(z).sum();
                collectAndReuseFreedMemory();
                gc.backward(loss);
            }
            float[] expected = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                double v = xs[i];
                // d/dx hard_swish = 0 below -3, 1 above 3, (2x + 3) / 6 between
                double hardSwish = v <= -3 ? 0 : v >= 3 ? 1 : (2 * v + 3) / 6;
                double u = Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v);
                double du = Math.sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * v * v);
                double t = Math.tanh(u);
                double gelu = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du;
                expected[i] = (float) (1.5 * hardSwish + 0.5 * gelu);
            }
            assertArrayEquals(expected, x.getGradient().toFloatArray(), 1e-5f);
        }
    }
}
