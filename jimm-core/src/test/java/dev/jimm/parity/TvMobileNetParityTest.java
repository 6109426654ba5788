package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TvMobileNetParityTest {
    // tv__efficientnet_v2_s is built with meta.init_gain 0.5: under gain 1 its activations reached
    // 1e6 and its logits were chaotic in float32 (a float64 run differed by 0.44 of the largest logit)
    @ParameterizedTest
    @ValueSource(strings = {
        "tv__mobilenet_v2", "tv__mobilenet_v3_small", "tv__mobilenet_v3_large", "tv__efficientnet_b0",
        "tv__efficientnet_v2_s"})
    void matchesReference(String fixture) {
        run(fixture);
    }

    private static void run(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
