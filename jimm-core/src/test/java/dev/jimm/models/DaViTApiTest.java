package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's DaViTs: sizes, the Florence-2 towers' layout, inputs of any size, and the checkpoint remaps. */
class DaViTApiTest {
    /**
     * timm's published parameter counts (results/benchmark-infer-*.csv), millions to two decimals; timm counts the
     * Florence-2 towers without a classifier (their weights have none), so these are compared at 0 classes.
     */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "davit_tiny", 28.36,
            "davit_small", 49.75,
            "davit_base", 87.95,
            "davit_large", 196.81,
            "davit_huge", 348.92,
            "davit_giant", 1406.47,
            "davit_base_fl", 90.37,
            "davit_huge_fl", 360.64);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("davit")) {
            ModelEntry e = ModelRegistry.builtIn().entry(name);
            int classes = name.endsWith("_fl") ? 0 : 1000;
            long n = ModelTesting.paramCount(e.factory().apply(new ModelArgs(classes, 3, "avg", 0, 0)));
            double millions = Math.round(n / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(TIMM_MILLIONS.size(), ModelTesting.registeredNames("davit").size());
    }

    @Test
    void florenceTowersNameTheirBlocksAndDownsampleWith3x3() {
        Map<String, Shape> fl = ModelTesting.unbuilt("davit_base_fl").stateDictShapes();
        assertEquals(new Shape(256, 128, 3, 3), fl.get("stages.1.downsample.conv.weight"));
        assertEquals(new Shape(384, 128), fl.get("stages.0.blocks.0.spatial_block.attn.qkv.weight"));
        assertEquals(new Shape(128, 1, 3, 3), fl.get("stages.0.blocks.0.channel_block.cpe2.proj.weight"));
        Map<String, Shape> base = ModelTesting.unbuilt("davit_base").stateDictShapes();
        assertEquals(new Shape(256, 128, 2, 2), base.get("stages.1.downsample.conv.weight"));
        assertFalse(base.containsKey("stages.0.blocks.0.spatial_block.attn.qkv.weight"));
        assertEquals(new Shape(384, 128), base.get("stages.0.blocks.0.0.attn.qkv.weight"));
    }

    @Test
    void anyInputSizeRunsThroughPaddedStemAndWindows() {
        try (ImageModel m = Models.createModel("davit_tiny");
                NDManager s = m.getManager().newSubManager()) {
            // 90 pads to 92 in the stem (23 tokens), then 12, 6, 3 after the padded 2x2 downsamplings; windows of 7 pad
            NDArray x = ModelTesting.input(s, 90);
            var maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[] widths = {96, 192, 384, 768};
            long[] sides = {23, 12, 6, 3};
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(2, widths[i], sides[i], sides[i]), maps.get(i).getShape());
            }
            NDArray feats = m.forwardFeatures(x);
            ModelTesting.assertPreLogitsFeed(m, feats, "head.fc");
            ModelTesting.assertResetTo(m, x, 10, "max", "head.fc", 768);
        }
    }

    @Test
    void microsoftCheckpointsAreRenamed() {
        try (DaViT m = (DaViT) Models.createModel("davit_tiny");
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> orig = new LinkedHashMap<>();
            for (String k : List.of(
                    "patch_embeds.0.proj.weight",
                    "patch_embeds.2.norm.weight",
                    "main_blocks.1.0.0.cpe.0.proj.weight",
                    "norms.weight",
                    "head.weight")) {
                orig.put(k, s.zeros(new Shape(1)));
            }
            assertEquals(
                    List.of(
                            "stem.conv.weight",
                            "stages.2.downsample.norm.weight",
                            "stages.1.blocks.0.0.cpe1.proj.weight",
                            "head.norm.weight",
                            "head.fc.weight"),
                    List.copyOf(m.prepareForPretrained(orig).keySet()));
        }
    }
}
