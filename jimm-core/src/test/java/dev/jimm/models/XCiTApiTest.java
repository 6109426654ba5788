package dev.jimm.models;

import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.paramCount;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** XCiT: timm's names and parameter counts, the class-attention head, any input size, the checkpoint filter. */
class XCiTApiTest {
    /** timm's published counts (results-imagenet.csv, millions to two decimals), one per architecture. */
    private static final Map<String, Double> PUBLISHED_M = Map.ofEntries(
            Map.entry("xcit_large_24_p16_224", 189.10),
            Map.entry("xcit_large_24_p8_224", 188.93),
            Map.entry("xcit_medium_24_p16_224", 84.40),
            Map.entry("xcit_medium_24_p8_224", 84.32),
            Map.entry("xcit_nano_12_p16_224", 3.05),
            Map.entry("xcit_nano_12_p8_224", 3.05),
            Map.entry("xcit_small_12_p16_224", 26.25),
            Map.entry("xcit_small_12_p8_224", 26.21),
            Map.entry("xcit_small_24_p16_224", 47.67),
            Map.entry("xcit_small_24_p8_224", 47.63),
            Map.entry("xcit_tiny_12_p16_224", 6.72),
            Map.entry("xcit_tiny_12_p8_224", 6.71),
            Map.entry("xcit_tiny_24_p16_224", 12.12),
            Map.entry("xcit_tiny_24_p8_224", 12.11));

    @Test
    void registersExactlyTimmsNamesWithTheirParameterCounts() {
        assertEquals(ModelTesting.timmNames("xcit"), ModelTesting.registeredNames("xcit"));
        PUBLISHED_M.forEach((name, millions) -> {
            assertEquals(millions, paramCount(name) / 1e6, 0.005, name + " has " + paramCount(name));
            // the 384 weights are the same architecture
            String at384 = name.replace("_224", "_384");
            assertEquals(paramCount(name), paramCount(at384), at384);
        });
        assertEquals(3_053_224L, paramCount("xcit_nano_12_p16_224"), "the fixture's exact count");
    }

    @Test
    void runsAtAnySizeDivisibleByThePatch() {
        try (ImageModel m = Models.createModel(
                        "xcit_nano_12_p8_224",
                        ModelOptions.builder().numClasses(3).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ModelTesting.input(s, 96);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 1 + 12 * 12, 128), feats.getShape());
            assertTrue(maxAbsDiff(m.forwardHead(feats, true), feats.get(":, 0")) == 0f);
            assertEquals(new Shape(2, 3), m.forward(x).getShape());
            assertEquals(new FeatureInfo(128, 8, "blocks.11"), m.featureInfo().get(11));
            NDList maps = m.forwardIntermediates(x, new int[] {11, 2});
            assertEquals(new Shape(2, 128, 12, 12), maps.get(0).getShape());
            assertTrue(maxAbsDiff(maps.get(0), maps.get(1)) > 1e-4f, "levels in the order asked for");
            NDList again = m.forwardIntermediates(x, new int[] {2});
            assertTrue(maxAbsDiff(again.get(0), maps.get(1)) == 0f);
            m.resetClassifier(0, "avg");
            assertTrue(maxAbsDiff(m.forward(x), feats.get(":, 1:").mean(new int[] {1})) < 1e-6f);
        }
    }

    @Test
    void checkpointFilterSplitsPackedClassAttentionAndRenamesThePositionEncoder() {
        try (ImageModel m = Models.createModel(
                        "xcit_nano_12_p16_224", ModelOptions.builder().build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ckpt = new LinkedHashMap<>();
            ckpt.put("pos_embeder.token_projection.bias", s.arange(128f));
            NDArray qkv = s.arange(3f * 128 * 128).reshape(384, 128);
            ckpt.put("cls_attn_blocks.1.attn.qkv.weight", qkv);
            Map<String, NDArray> out = m.prepareForPretrained(ckpt);
            assertTrue(out.containsKey("pos_embed.token_projection.bias"));
            assertEquals(
                    new Shape(128, 128),
                    out.get("cls_attn_blocks.1.attn.k.weight").getShape());
            assertEquals(128f * 128, out.get("cls_attn_blocks.1.attn.k.weight").getFloat(0, 0));
            assertEquals(
                    2f * 128 * 128, out.get("cls_attn_blocks.1.attn.v.weight").getFloat(0, 0));
        }
    }
}
