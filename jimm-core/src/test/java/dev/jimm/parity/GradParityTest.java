package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The train-mode fixtures: logits, loss, every gradient norm and running stats after one step. */
class GradParityTest {
    @ParameterizedTest
    @ValueSource(strings = {"timm__resnet18", "tv__resnet18"})
    void trainStepMatchesReference(String fixture) {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.grads(fixture));
        System.out.printf("%s %s %s %s%n", fixture, r.passed(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
        assertTrue(r.errors().containsKey("grad_norms"), "the train step ran");
    }
}
