package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** timm's mobilenetv3.py models against their reference fixtures. */
class MobileNetV3ParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"timm__mobilenetv3_small_050", "timm__mobilenetv3_small_100", "timm__mobilenetv3_large_100"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
