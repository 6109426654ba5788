package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** timm's ConvNeXt / ConvNeXt-V2 and torchvision's ConvNeXt against the reference fixtures. */
class ConvNeXtParityTest {
    @ParameterizedTest
    @ValueSource(strings = {
        "timm__convnext_atto", "timm__convnext_femto", "timm__convnext_nano", "timm__convnext_tiny",
        "timm__convnext_small", "timm__convnextv2_atto", "timm__convnextv2_tiny", "tv__convnext_tiny"})
    void matchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.parity(fixture));
        System.out.printf("%s %s worst %.3g in %.1fs %s %s%n", fixture, r.passed(), r.worstRelativeError(), r.seconds(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
    }

    /** The train-mode step of convnext_atto: logits, loss and every parameter's gradient norm. */
    @Test
    void trainStepMatchesReference() {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.grads("timm__convnext_atto"));
        System.out.printf("grads timm__convnext_atto %s %s %s%n", r.passed(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
        assertTrue(r.errors().containsKey("grad_norms"), "the train step ran");
    }
}
