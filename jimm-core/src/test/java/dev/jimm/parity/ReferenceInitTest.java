package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jimm.TestFixtures;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Module;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReferenceInitTest {
    @Test
    void matchesTheReadmeCheckValues() {
        long seed = ReferenceInit.fnv1a64("conv1.weight");
        assertEquals(0x69a29a2cee47d254L, seed);
        assertEquals(0.5450749789171447, ReferenceInit.uniform(seed, 0), 0);
        assertEquals(0.745161751328336, ReferenceInit.uniform(seed, 1), 0);
        assertEquals(0.022921737033572143, ReferenceInit.uniform(seed, 2), 0);
    }

    @Test
    void valueRulesFollowTheKeyAndShape() {
        float[] rv = ReferenceInit.values("bn1.running_var", new long[] {3});
        double u0 = ReferenceInit.uniform(ReferenceInit.fnv1a64("bn1.running_var"), 0);
        assertEquals((float) (0.75 + 0.5 * u0), rv[0], 0);
        float[] w = ReferenceInit.values("conv1.weight", new long[] {2, 3, 1, 1});
        double s0 = 2 * 0.5450749789171447 - 1;
        assertEquals((float) (s0 * Math.sqrt(6.0 / 3)), w[0], 0);
    }

    @Test
    void gainScalesExactlyTheTensorsOfTwoOrMoreDimensions() {
        // g * s_k * sqrt(6 / fan_in) from the README's check values of conv1.weight: shape [3, 1, 1, 1], fan_in 1
        double[] u = {0.5450749789171447, 0.745161751328336, 0.022921737033572143};
        float[] conv = ReferenceInit.values("conv1.weight", new long[] {3, 1, 1, 1}, 0.5);
        for (int k = 0; k < 3; k++) {
            assertEquals((float) (0.5 * (2 * u[k] - 1) * Math.sqrt(6.0)), conv[k], 0, "conv1.weight[" + k + "]");
        }
        // the same formula evaluated outside jimm (float32 of 0.5 * s_k * sqrt(6) in numpy)
        assertArrayEquals(new float[] {0.1104107f, 0.6005212f, -1.1685983f}, conv, 1e-7f);
        // g = 0.5 halves every 2+-dim entry (a conv and a linear weight) exactly: a power of two rounds the same
        for (String key : new String[] {"conv1.weight", "fc.weight"}) {
            long[] shape = key.startsWith("fc") ? new long[] {10, 64} : new long[] {8, 3, 3, 3};
            float[] one = ReferenceInit.values(key, shape);
            float[] half = ReferenceInit.values(key, shape, 0.5);
            for (int k = 0; k < one.length; k++) {
                assertEquals(one[k] / 2, half[k], 0, key + "[" + k + "]");
            }
        }
        // 1-dim entries and running statistics do not see the gain
        for (String key : new String[] {"bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "fc.bias"}) {
            assertArrayEquals(
                    ReferenceInit.values(key, new long[] {8}), ReferenceInit.values(key, new long[] {8}, 0.5), key);
        }
        double s0 = 2 * ReferenceInit.uniform(ReferenceInit.fnv1a64("bn1.weight"), 0) - 1;
        assertEquals((float) (1 + 0.1 * s0), ReferenceInit.values("bn1.weight", new long[] {8}, 0.5)[0], 0);
    }

    @Test
    void fixturesGiveTheirInitGain() {
        assertEquals(
                0.5,
                ParityFixture.read(TestFixtures.parity("timm__efficientnetv2_rw_t"))
                        .initGain(),
                0);
        assertEquals(
                0.5,
                ParityFixture.read(TestFixtures.parity("tv__efficientnet_v2_s")).initGain(),
                0);
        assertEquals(
                1.0,
                ParityFixture.read(TestFixtures.parity("timm__efficientnet_b0")).initGain(),
                0); // absent
    }

    /** A conv and its BatchNorm. */
    static final class ConvBn extends Module {
        final Conv2d conv =
                register("conv", new Conv2d(3, 4, 3, Conv2d.Options.defaults().padding(1)));
        final BatchNorm2d bn = register("bn", new BatchNorm2d(4));

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return bn.forward(conv.forward(x));
        }
    }

    @Test
    void applyWithGainHalvesTheConvWeightAndLeavesTheNormAsItWas() {
        try (NDManager manager = NDManager.newBaseManager()) {
            ConvBn one = new ConvBn();
            one.materialize(manager);
            ReferenceInit.apply(one);
            ConvBn half = new ConvBn();
            half.materialize(manager);
            ReferenceInit.apply(half, 0.5);
            Map<String, NDArray> a = one.stateDict();
            Map<String, NDArray> b = half.stateDict();
            float[] w1 = a.get("conv.weight").toFloatArray();
            float[] w2 = b.get("conv.weight").toFloatArray();
            for (int k = 0; k < w1.length; k++) {
                assertEquals(w1[k] / 2, w2[k], 0, "conv.weight[" + k + "]");
            }
            for (String key : new String[] {"conv.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}) {
                assertArrayEquals(a.get(key).toFloatArray(), b.get(key).toFloatArray(), 0, key);
            }
        }
    }
}
