package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's PVT-v2s: sizes, the linear-attention variant, pooling choices and the original-checkpoint remap. */
class PvtV2ApiTest {
    /** timm's published parameter counts (results/benchmark-infer-*.csv), millions to two decimals. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "pvt_v2_b0", 3.67,
            "pvt_v2_b1", 14.01,
            "pvt_v2_b2", 25.36,
            "pvt_v2_b2_li", 22.55,
            "pvt_v2_b3", 45.24,
            "pvt_v2_b4", 62.56,
            "pvt_v2_b5", 81.96);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("pvt_v2")) {
            double millions = Math.round(ModelTesting.paramCount(name) / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(
                TIMM_MILLIONS.size(), ModelTesting.registeredNames("pvt_v2").size());
    }

    @Test
    void linearVariantPoolsKeysAndValuesWithAPointwiseConv() {
        Map<String, Shape> li = ModelTesting.unbuilt("pvt_v2_b2_li").stateDictShapes();
        Map<String, Shape> b2 = ModelTesting.unbuilt("pvt_v2_b2").stateDictShapes();
        // spatial reduction 8 in stage 0: an 8x8 strided conv, or a 1x1 conv after the 7x7 pool
        assertEquals(new Shape(64, 64, 8, 8), b2.get("stages.0.blocks.0.attn.sr.weight"));
        assertEquals(new Shape(64, 64, 1, 1), li.get("stages.0.blocks.0.attn.sr.weight"));
        // the last stage of b2 has no reduction; the linear form still pools
        assertFalse(b2.containsKey("stages.3.blocks.0.attn.sr.weight"));
        assertTrue(li.containsKey("stages.3.blocks.0.attn.norm.weight"));
    }

    @Test
    void featureLevelsAndOnlyAveragePooling() {
        try (ImageModel m = Models.createModel("pvt_v2_b0");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ModelTesting.input(s, 64);
            var maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[] widths = {32, 64, 160, 256};
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(2, widths[i], 16 >> i, 16 >> i), maps.get(i).getShape());
            }
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(10, "max"));
            ModelTesting.assertResetTo(m, x, 10, "avg", "head", 256);
        }
    }

    @Test
    void originalCheckpointsAreRenamed() {
        try (PvtV2 m = (PvtV2) Models.createModel("pvt_v2_b0");
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> orig = new LinkedHashMap<>();
            for (String k : List.of(
                    "patch_embed1.proj.weight",
                    "patch_embed3.norm.bias",
                    "block2.1.mlp.dwconv.dwconv.weight",
                    "block4.0.attn.kv.weight",
                    "norm1.weight",
                    "head.weight")) {
                orig.put(k, s.zeros(new Shape(1)));
            }
            assertEquals(
                    List.of(
                            "patch_embed.proj.weight",
                            "stages.2.downsample.norm.bias",
                            "stages.1.blocks.1.mlp.dwconv.weight",
                            "stages.3.blocks.0.attn.kv.weight",
                            "stages.0.norm.weight",
                            "head.weight"),
                    List.copyOf(m.prepareForPretrained(orig).keySet()));
            Map<String, NDArray> timm = Map.of("patch_embed.proj.weight", s.zeros(new Shape(1)));
            assertEquals(timm, m.prepareForPretrained(timm));
        }
    }
}
