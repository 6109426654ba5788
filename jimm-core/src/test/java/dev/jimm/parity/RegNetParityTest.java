package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** timm's and torchvision's RegNets against the reference fixtures. */
class RegNetParityTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "timm__regnetx_002", "timm__regnetx_004", "timm__regnety_002", "timm__regnety_016", "timm__regnety_032",
        "tv__regnet_x_400mf", "tv__regnet_y_400mf"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
    }
}
