package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.hub.Checkpoints;
import dev.jimm.hub.SafetensorsWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distilled DeiTs' two classifiers ({@code head} on the class token, {@code head_dist} on the distillation token):
 * timm lists both as the classifier, so weights of another class count leave both at init, and {@code reset_classifier}
 * replaces both.
 */
class DeitDistilledHeadsTest {
    private static final String NAME = "deit_tiny_distilled_patch16_224";
    private static final List<String> HEADS = List.of("head.weight", "head.bias", "head_dist.weight", "head_dist.bias");

    @TempDir
    Path tmp;

    @Test
    void bothHeadsAreTheClassifier() {
        assertEquals(
                List.of("head", "head_dist"),
                ModelRegistry.builtIn().config(NAME).classifiers());
        assertEquals(
                List.of("head", "head_dist"),
                ModelRegistry.builtIn().entry(NAME).fallbackCfg().classifiers());
        assertEquals(
                List.of("head"),
                ModelRegistry.builtIn().config("deit_tiny_patch16_224").classifiers());
    }

    @Test
    void a1000ClassCheckpointLeavesBothHeadsAtInitInA10ClassModel() {
        Path file = tmp.resolve("deit1000.safetensors");
        try (ImageModel m =
                Models.createModel(NAME, ModelOptions.builder().seed(1).build())) {
            SafetensorsWriter.write(file, m.stateDict(), Map.of());
        }
        ModelOptions ten = ModelOptions.builder().numClasses(10).seed(2).build();
        try (ImageModel init = Models.createModel(NAME, ten);
                ImageModel loaded = Models.createModel(
                        NAME,
                        ModelOptions.builder()
                                .numClasses(10)
                                .seed(2)
                                .pretrainedFile(file)
                                .build());
                NDManager s = loaded.getManager().newSubManager()) {
            Map<String, NDArray> ckpt = Checkpoints.load(file, s);
            for (String k : HEADS) {
                NDArray mine = loaded.stateDict().get(k);
                assertEquals(10, mine.getShape().get(0), k);
                assertEquals(0f, maxAbsDiff(init.stateDict().get(k), mine), k + " stays at its init");
            }
            for (String k :
                    List.of("dist_token", "cls_token", "pos_embed", "blocks.11.mlp.fc2.weight", "norm.weight")) {
                assertEquals(0f, maxAbsDiff(ckpt.get(k), loaded.stateDict().get(k)), k + " is the checkpoint's");
            }
            assertEquals(new Shape(2, 10), loaded.forward(input(s, 224)).getShape());
        }
    }

    @Test
    void resetClassifierReplacesBothHeads() {
        try (ImageModel m = Models.createModel(NAME);
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 224);
            NDArray features = m.forwardFeatures(x);
            m.resetClassifier(5);
            Map<String, NDArray> sd = m.stateDict();
            assertEquals(new Shape(5, 192), sd.get("head.weight").getShape());
            assertEquals(new Shape(5, 192), sd.get("head_dist.weight").getShape());
            // logits: the mean of the class token through head and the distillation token through head_dist
            NDArray cls = features.get(":, 0");
            NDArray dist = features.get(":, 1");
            NDArray expected = cls.matMul(sd.get("head.weight").transpose())
                    .add(sd.get("head.bias"))
                    .add(dist.matMul(sd.get("head_dist.weight").transpose()).add(sd.get("head_dist.bias")))
                    .div(2);
            assertTrue(maxAbsDiff(expected, m.forwardHead(features, false)) < 1e-5);
            m.resetClassifier(0);
            assertFalse(m.stateDict().containsKey("head.weight"));
            assertFalse(m.stateDict().containsKey("head_dist.weight"));
            assertEquals(new Shape(2, 192), m.forward(x).getShape());
            assertEquals(0f, maxAbsDiff(cls.add(dist).div(2), m.forwardHead(features, false)), 1e-6f);
        }
    }
}
