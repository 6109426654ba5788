package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TvMobileNetParityTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "tv__mobilenet_v2", "tv__mobilenet_v3_small", "tv__mobilenet_v3_large", "tv__efficientnet_b0",
        "tv__efficientnet_v2_s"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
