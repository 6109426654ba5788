package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DeitParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"timm__deit_tiny_patch16_224", "timm__deit_small_distilled_patch16_224"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(),
                r.errors(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
