package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InceptionV3ParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"timm__inception_v3", "tv__inception_v3"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
