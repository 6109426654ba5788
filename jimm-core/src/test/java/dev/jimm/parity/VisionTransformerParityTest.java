package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VisionTransformerParityTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "timm__vit_tiny_patch16_224", "timm__vit_small_patch16_224", "timm__vit_base_patch16_224",
        "timm__vit_base_patch32_224", "tv__vit_b_16"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(),
                r.errors(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
