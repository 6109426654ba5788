package dev.jimm.parity;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import org.junit.jupiter.api.Test;

/** The ViT train-mode fixture: logits, loss and every parameter's gradient norm after one backward. */
class VisionTransformerGradParityTest {
    @Test
    void vitTinyTrainStepMatchesReference() {
        ParityRunner.Result r = new ParityRunner().run(TestFixtures.grads("timm__vit_tiny_patch16_224"));
        System.out.printf("grads vit_tiny %s %s %s%n", r.passed(), r.errors(), r.message());
        assertTrue(r.passed(), r.message());
        assertTrue(r.errors().containsKey("grad_norms"), "the train step ran");
        assertTrue(r.errors().containsKey("train_loss"), "the loss was compared");
    }
}
