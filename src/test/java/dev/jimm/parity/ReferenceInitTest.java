package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
