package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's EfficientFormers (v1): sizes, block layout, feature levels, distillation head, the Snap-key filter. */
class EfficientFormerApiTest {
    /** timm's published parameter counts (results/benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv), millions. */
    private static final Map<String, Double> TIMM_MILLIONS =
            Map.of("efficientformer_l1", 12.29, "efficientformer_l3", 31.41, "efficientformer_l7", 82.23);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("efficientformer")) {
            double millions = Math.round(ModelTesting.unbuilt(name).numParameters() / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(3, ModelTesting.registeredNames("efficientformer").size());
    }

    @Test
    void lastStageFlattensBeforeItsAttentionBlocks() {
        Map<String, Shape> l3 = ModelTesting.unbuilt("efficientformer_l3").stateDictShapes();
        // 6 blocks, the last 4 attention: 2d blocks 0-1, Flat at 2, attention blocks 3-6
        assertTrue(l3.containsKey("stages.3.blocks.1.mlp.norm2.weight"));
        assertEquals(new Shape(8, 49), l3.get("stages.3.blocks.3.token_mixer.attention_biases"));
        assertEquals(new Shape(49, 49), l3.get("stages.3.blocks.6.token_mixer.attention_bias_idxs"));
        assertTrue(l3.keySet().stream().noneMatch(k -> k.startsWith("stages.3.blocks.2.")));
    }

    @Test
    void biasIndexIsTheAbsoluteOffsetPerAxis() {
        try (ImageModel m = Models.createModel("efficientformer_l1")) {
            long[] idx = m.stateDict()
                    .get("stages.3.blocks.4.token_mixer.attention_bias_idxs")
                    .toLongArray();
            // token 0 is (0, 0); token 48 is (6, 6): 6 * 7 + 6; token 9 (1, 2) against token 15 (2, 1): 7 + 1
            assertEquals(48, idx[48]);
            assertEquals(8, idx[9 * 49 + 15]);
            assertEquals(0, idx[20 * 49 + 20]);
        }
    }

    @Test
    void featureLevelsAndDistilledHeads() {
        try (EfficientFormer m = (EfficientFormer) Models.createModel("efficientformer_l1");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 224);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[] widths = {48, 96, 224, 448};
            long[] sides = {56, 28, 14, 7};
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(2, widths[i], sides[i], sides[i]), maps.get(i).getShape());
            }
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 49, 448), feats.getShape());
            DistilledHeadsAssertions.assertAveraged(
                    m.forwardHeadDistilled(feats), m.forwardHead(feats, false), 1e-5f, 1e-4f);
            m.resetClassifier(5);
            assertEquals(
                    new Shape(5, 448), m.stateDict().get("head_dist.weight").getShape());
        }
    }

    @Test
    void originalCheckpointKeysAreRenamed() {
        try (ImageModel m = Models.createModel("efficientformer_l1");
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ck = new LinkedHashMap<>();
            for (String k : List.of(
                    "patch_embed.0.weight",
                    "patch_embed.4.running_var",
                    "network.0.1.layer_scale_1",
                    "network.1.proj.weight",
                    "network.1.norm.bias",
                    "network.2.0.mlp.fc1.weight",
                    "dist_head.weight")) {
                ck.put(k, s.zeros(new Shape(1)));
            }
            List<String> renamed = new ArrayList<>(m.prepareForPretrained(ck).keySet());
            assertArrayEquals(
                    new String[] {
                        "stem.conv1.weight",
                        "stem.norm2.running_var",
                        "stages.0.blocks.1.ls1.gamma",
                        "stages.1.downsample.conv.weight",
                        "stages.1.downsample.norm.bias",
                        "stages.1.blocks.0.mlp.fc1.weight",
                        "head_dist.weight"
                    },
                    renamed.toArray());
        }
    }
}
