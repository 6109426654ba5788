package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A convolution whose one output pixel sees its whole input runs as a matrix product; its output and the gradients of
 * input, weight and bias must equal libtorch's convolution of the same arrays.
 */
class Conv2dWholeInputTest {

    @ParameterizedTest(name = "{0}->{1} k{2} s{3} p{4} on {5}x{6}, bias {7}, channels-last {8}")
    @CsvSource({
        // ResNet's last stage at 28-32 px: 3x3 stride 2 on 2x2, 3x3 on 1x1
        "6, 5, 3, 2, 1, 2, 2, false, true",
        "6, 5, 3, 2, 1, 2, 2, true, false",
        "7, 4, 3, 1, 1, 1, 1, true, true",
        // a patch embedding that covers its input exactly, and a non-square input
        "3, 8, 2, 2, 0, 2, 2, true, true",
        "5, 6, 3, 2, 1, 1, 2, false, true",
        "5, 6, 3, 2, 1, 1, 2, true, false",
    })
    void matchesLibtorchConvolutionAndItsGradients(
            int in, int out, int k, int s, int p, int h, int w, boolean bias, boolean channelsLast) {
        try (NDManager mgr = NDManager.newBaseManager()) {
            Conv2d conv = new Conv2d(
                    in, out, k, Conv2d.Options.defaults().stride(s).padding(p).bias(bias));
            conv.materialize(mgr);
            conv.initialize(new SplittableRandom(7));
            conv.useChannelsLast(channelsLast);
            conv.setRequiresGrad(true);
            NDArray x = mgr.randomNormal(new Shape(3, in, h, w));
            assertTrue(conv.seesWholeInput(x.getShape()), "expected the matrix-product path");

            x.setRequiresGradient(true);
            NDArray upstream = mgr.randomNormal(new Shape(3, out, 1, 1));
            float[] y;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray fast = conv.forward(x);
                assertEquals(new Shape(3, out, 1, 1), fast.getShape());
                y = fast.toFloatArray();
                gc.backward(fast.mul(upstream).sum());
            }
            float[] dx = x.getGradient().toFloatArray();
            float[] dw = conv.weight().getArray().getGradient().toFloatArray();
            float[] db = bias ? conv.bias().getArray().getGradient().toFloatArray() : null;

            NDArray x2 = x.duplicate();
            x2.setRequiresGradient(true);
            NDArray w2 = conv.weight().getArray().duplicate();
            w2.setRequiresGradient(true);
            NDArray b2 = bias ? conv.bias().getArray().duplicate() : null;
            if (b2 != null) {
                b2.setRequiresGradient(true);
            }
            float[] yRef;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ref = x2.getNDArrayInternal()
                        .convolution(x2, w2, b2, new Shape(s, s), new Shape(p, p), new Shape(1, 1), 1)
                        .singletonOrThrow();
                yRef = ref.toFloatArray();
                gc.backward(ref.mul(upstream).sum());
            }
            assertArrayEquals(yRef, y, 1e-5f, "output");
            assertArrayEquals(x2.getGradient().toFloatArray(), dx, 1e-5f, "input gradient");
            assertArrayEquals(w2.getGradient().toFloatArray(), dw, 1e-5f, "weight gradient");
            if (bias) {
                assertArrayEquals(b2.getGradient().toFloatArray(), db, 1e-5f, "bias gradient");
            }
        }
    }

    @ParameterizedTest(name = "k{0} s{1} p{2} on {3}x{3} keeps the convolution")
    @CsvSource({
        "3, 1, 1, 2", // four output pixels
        "3, 2, 1, 4", // 2x2 output
        "3, 2, 0, 4", // one output pixel, but the window misses the last row and column
        "1, 1, 0, 2",
        "1, 1, 0, 1", // a 1x1 kernel on a 1x1 map is a matrix product in oneDNN already
    })
    void otherShapesKeepTheConvolution(int k, int s, int p, int size) {
        Conv2d conv = new Conv2d(4, 4, k, Conv2d.Options.defaults().stride(s).padding(p));
        assertFalse(conv.seesWholeInput(new Shape(2, 4, size, size)));
    }
}
