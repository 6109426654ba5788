package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ResNetParityTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "timm__resnet10t", "timm__resnet18", "timm__resnet18d", "timm__resnet26", "timm__resnet34",
        "timm__resnet34d", "timm__resnet50", "timm__resnet50d", "timm__resnet101", "timm__resnet152",
        "timm__resnext50_32x4d", "timm__resnext101_32x8d", "timm__wide_resnet50_2", "timm__seresnet50",
        "timm__ecaresnet50d", "timm__resnetrs50", "timm__resnet50_gn",
        "tv__resnet18", "tv__resnet50", "tv__resnext50_32x4d", "tv__wide_resnet50_2"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
