package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The CNN init's statistics, what it leaves alone, and its draw order. */
class ConvNetInitTest {
    private static Sequential convThenLinear(NDManager mgr) {
        Sequential s = new Sequential(new Conv2d(8, 64, 3, Conv2d.Options.defaults()), new Linear(256, 512));
        s.materialize(mgr);
        s.initialize(new SplittableRandom(1));
        return s;
    }

    private static double std(float[] v) {
        double sum = 0;
        double sq = 0;
        for (float x : v) {
            sum += x;
            sq += (double) x * x;
        }
        double mean = sum / v.length;
        return Math.sqrt(sq / v.length - mean * mean);
    }

    @Test
    void fanOutConvsDrawsOnlyConvWeights() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            Sequential s = convThenLinear(mgr);
            Conv2d conv = (Conv2d) s.get(0);
            Linear fc = (Linear) s.get(1);
            float[] convBias = conv.bias().getArray().toFloatArray();
            float[] fcWeight = fc.weight().getArray().toFloatArray();
            float[] fcBias = fc.bias().getArray().toFloatArray();
            ConvNetInit.fanOutConvs().apply(s, new SplittableRandom(7));
            // kaiming normal, fan out = 64 filters * 3 * 3 taps: std sqrt(2 / 576) = 0.0589, over 4,608 draws
            assertEquals(Math.sqrt(2.0 / 576), std(conv.weight().getArray().toFloatArray()), 0.003);
            assertArrayEquals(convBias, conv.bias().getArray().toFloatArray());
            assertArrayEquals(fcWeight, fc.weight().getArray().toFloatArray());
            assertArrayEquals(fcBias, fc.bias().getArray().toFloatArray());
        }
    }

    @Test
    void theChosenExtrasZeroBiasesAndDrawLinearWeights() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            Sequential s = convThenLinear(mgr);
            Conv2d conv = (Conv2d) s.get(0);
            Linear fc = (Linear) s.get(1);
            assertTrue(std(conv.bias().getArray().toFloatArray()) > 0, "PyTorch's default bias is not zero");
            ConvNetInit.fanOutConvs()
                    .withZeroConvBiases()
                    .withLinearStd(0.01)
                    .withZeroLinearBiases()
                    .apply(s, new SplittableRandom(7));
            assertArrayEquals(new float[64], conv.bias().getArray().toFloatArray());
            assertArrayEquals(new float[512], fc.bias().getArray().toFloatArray());
            assertEquals(0.01, std(fc.weight().getArray().toFloatArray()), 0.0003);
        }
    }

    @Test
    void convWeightsComeFirstSoTheyMatchTheConvOnlyInitForTheSameSeed() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            Sequential a = convThenLinear(mgr);
            Sequential b = convThenLinear(mgr);
            ConvNetInit.fanOutConvs().apply(a, new SplittableRandom(7));
            ConvNetInit.fanOutConvs().withLinearStd(0.01).apply(b, new SplittableRandom(7));
            assertArrayEquals(
                    ((Conv2d) a.get(0)).weight().getArray().toFloatArray(),
                    ((Conv2d) b.get(0)).weight().getArray().toFloatArray());
        }
    }

    @Test
    void aLinearStdMustBePositive() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> ConvNetInit.fanOutConvs().withLinearStd(0));
        assertTrue(e.getMessage().contains("linear std 0.0"), e.getMessage());
    }
}
