package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** oneDNN's pre-packed convolutions against libtorch's convolution, and when they are used. */
class PrepackedConvolutionsTest {
    // a strided stem with bias, a 1x1 without, a depthwise 3x3, a dilated 5x5 with bias
    private static Sequential convs(NDManager mgr) {
        Sequential s = new Sequential(
                new Conv2d(
                        3, 16, 3, Conv2d.Options.defaults().stride(2).padding(1).bias(true)),
                new Conv2d(16, 24, 1, Conv2d.Options.defaults().bias(false)),
                new Conv2d(
                        24,
                        24,
                        3,
                        Conv2d.Options.defaults().padding(1).groups(24).bias(false)),
                new Conv2d(
                        24,
                        8,
                        5,
                        Conv2d.Options.defaults().padding(4).dilation(2).bias(true)));
        s.materialize(mgr);
        s.initialize(new SplittableRandom(3));
        s.eval();
        s.setRequiresGrad(false);
        for (Module m : s.namedModules().values()) {
            if (m instanceof Conv2d c) {
                c.storeWeightChannelsLast();
            }
        }
        return s;
    }

    private static float[] run(Module m, NDArray x, int threads) {
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(threads);
        try (NoGrad g = NoGrad.enter()) {
            return m.forward(x).toFloatArray();
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    @Test
    void packedConvolutionsComputeLibtorchsAtAnyBatchAndThreadCountAndUseTheirOwnCopy() {
        Engine.getEngine("PyTorch");
        try (NDManager mgr = NDManager.newBaseManager()) {
            Sequential s = convs(mgr);
            List<NDArray> inputs =
                    List.of(mgr.randomNormal(new Shape(1, 3, 96, 96)), mgr.randomNormal(new Shape(3, 3, 96, 96)));
            List<float[]> reference = new ArrayList<>();
            for (NDArray x : inputs) {
                for (int threads = 1; threads <= 2; threads++) {
                    reference.add(run(s, x, threads));
                }
            }
            try (PrepackedConvolutions p =
                    PrepackedConvolutions.pack(s, new Shape(1, 3, 96, 96)).orElseThrow()) {
                assertEquals(4, p.size());
                // a packed weight is a copy: zeroing the stored weights reaches only libtorch's path
                for (Module m : s.namedModules().values()) {
                    if (m instanceof Conv2d c) {
                        Module.assign(
                                c.weight().getArray(),
                                new float[(int) c.weight().getArray().size()]);
                    }
                }
                int k = 0;
                for (NDArray x : inputs) {
                    for (int threads = 1; threads <= 2; threads++) {
                        float[] expected = reference.get(k++);
                        float[] got = run(s, x, threads);
                        float scale = 0;
                        for (float v : expected) {
                            scale = Math.max(scale, Math.abs(v));
                        }
                        assertTrue(scale > 0.1f);
                        // fewer than 16 images on one thread: the 1x1 runs libtorch's own kernel, on the zeroed
                        // weight
                        if (threads == 1) {
                            assertFalse(equalWithin(expected, got, 1e-5f * scale), "1 thread");
                        } else {
                            assertArrayEquals(
                                    expected,
                                    got,
                                    1e-5f * scale,
                                    "batch " + x.getShape().get(0) + ", " + threads + " threads");
                        }
                    }
                }
            }
            // closed: every convolution reads its stored (now zero) weight again, so only the biases remain
            float[] after = run(s, inputs.get(1), 2);
            int pixels = 48 * 48;
            for (int i = 0; i < 8 * pixels; i += pixels) {
                for (int j = 0; j < pixels; j++) {
                    assertEquals(after[i], after[i + j], 0f);
                }
            }
        }
    }

    private static boolean equalWithin(float[] a, float[] b, float tolerance) {
        for (int i = 0; i < a.length; i++) {
            if (Math.abs(a[i] - b[i]) > tolerance) {
                return false;
            }
        }
        return true;
    }

    @Test
    void theyReplaceExactlyTheCallsLibtorchWouldRunOnOneDnn() {
        Engine.getEngine("PyTorch");
        int before = JniUtils.getNumThreads();
        try (NDManager mgr = NDManager.newBaseManager()) {
            Sequential s = convs(mgr);
            Conv2d stem = (Conv2d) s.namedModules().get("0");
            Conv2d pointwise = (Conv2d) s.namedModules().get("1");
            Conv2d depthwise = (Conv2d) s.namedModules().get("2");
            JniUtils.setNumThreads(1);
            // libtorch runs unstrided 1x1 kernels on fewer than 16 images with one thread on its own kernel
            assertFalse(pointwise.libtorchPicksOneDnn(new Shape(1, 16, 56, 56)));
            assertFalse(pointwise.libtorchPicksOneDnn(new Shape(15, 16, 56, 56)));
            assertTrue(pointwise.libtorchPicksOneDnn(new Shape(16, 16, 56, 56)));
            JniUtils.setNumThreads(2);
            assertTrue(pointwise.libtorchPicksOneDnn(new Shape(1, 16, 56, 56)));
            // a small single image with a kernel up to 3x3 and no groups: libtorch's own kernel too
            assertFalse(pointwise.libtorchPicksOneDnn(new Shape(1, 16, 8, 8)));
            assertFalse(stem.libtorchPicksOneDnn(new Shape(1, 3, 64, 64)));
            assertTrue(stem.libtorchPicksOneDnn(new Shape(1, 3, 96, 96)));
            assertTrue(stem.libtorchPicksOneDnn(new Shape(2, 3, 8, 8)));
            assertTrue(depthwise.libtorchPicksOneDnn(new Shape(1, 24, 4, 4)), "groups");
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    @Test
    void offWithTheSystemProperty() {
        Engine.getEngine("PyTorch");
        String before = System.getProperty("jimm.prepackedConv");
        System.setProperty("jimm.prepackedConv", "false");
        try (NDManager mgr = NDManager.newBaseManager()) {
            assertTrue(PrepackedConvolutions.pack(convs(mgr), new Shape(1, 3, 16, 16))
                    .isEmpty());
        } finally {
            if (before == null) {
                System.clearProperty("jimm.prepackedConv");
            } else {
                System.setProperty("jimm.prepackedConv", before);
            }
        }
    }
}
