package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class VggParityTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "timm__vgg11", "timm__vgg11_bn", "timm__vgg13", "timm__vgg16", "timm__vgg16_bn", "timm__vgg19",
        "timm__vgg19_bn", "tv__vgg16", "tv__vgg16_bn"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3e in %.1fs %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
