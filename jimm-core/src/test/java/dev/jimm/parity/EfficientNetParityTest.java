package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** timm's efficientnet.py models against their reference fixtures. */
class EfficientNetParityTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "timm__mobilenetv2_050", "timm__mobilenetv2_100", "timm__mobilenetv2_140", "timm__mnasnet_100",
        "timm__semnasnet_100", "timm__efficientnet_b0", "timm__efficientnet_b1", "timm__efficientnet_b3",
        "timm__efficientnet_lite0", "timm__tf_efficientnet_b0",
        // the EfficientNetV2 fixtures are built with meta.init_gain 0.5: under gain 1 they were chaotic in float32
        "timm__efficientnetv2_rw_t", "timm__tf_efficientnetv2_s"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
