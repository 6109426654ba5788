package dev.jimm.models;

import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import dev.jimm.layers.Module;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's beit module: parameter counts, the relative position tables, the head's pooling and norm, features. */
class BeitApiTest {
    @Test
    void parameterCountsMatchTimms() {
        // exact: the fixture's param_count
        assertEquals(86_530_984L, ModelTesting.paramCount("beit_base_patch16_224"));
        // timm's published counts, millions
        Map<String, Double> published = Map.of(
                "beit_base_patch16_384", 86.7,
                "beit_large_patch16_224", 304.4,
                "beit_large_patch16_384", 305.0,
                "beit_large_patch16_512", 305.7,
                "beitv2_base_patch16_224", 86.5,
                "beitv2_large_patch16_224", 304.4);
        for (Map.Entry<String, Double> p : published.entrySet()) {
            double m = ModelTesting.paramCount(p.getKey()) / 1e6;
            assertEquals(p.getValue(), m, 0.05, p.getKey() + ": " + m + "M");
        }
    }

    @Test
    void everyBlockHasItsOwnRelativePositionTableAndLayerScale() {
        for (String n : ModelTesting.registeredNames("beit")) {
            Beit m = (Beit) unbuilt(n);
            int grid = m.config().gridSize();
            Map<String, Shape> sd = m.stateDictShapes();
            assertEquals(
                    new Shape((2L * grid - 1) * (2L * grid - 1) + 3, m.config().numHeads()),
                    sd.get("blocks." + (m.config().depth() - 1) + ".attn.relative_position_bias_table"),
                    n);
            assertFalse(sd.containsKey("pos_embed"), n);
            assertFalse(sd.containsKey("blocks.0.attn.relative_position_index"), "rebuilt, not stored");
            assertEquals(new Shape(m.config().embedDim()), sd.get("blocks.0.gamma_1"), n);
            assertTrue(sd.containsKey("fc_norm.weight") && !sd.containsKey("norm.weight"), n);
            assertEquals(m.config().depth(), m.featureInfo().size(), n);
        }
    }

    @Test
    void headAveragesPatchTokensIntoFcNormOrTakesTheClassToken() {
        try (ImageModel m = Models.createModel(
                        "beit_base_patch16_224",
                        ModelOptions.builder().numClasses(3).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ModelTesting.input(s, 224);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 197, 768), feats.getShape());
            NDArray pre = m.forwardHead(feats, true);
            NDArray expected =
                    ((Module) m.child("fc_norm")).forward(feats.get(":, 1:").mean(new int[] {1}));
            assertTrue(maxAbsDiff(pre, expected) < 1e-5f);
            m.resetClassifier(0, "token");
            NDArray token = ((Module) m.child("fc_norm")).forward(feats.get(":, 0"));
            assertTrue(maxAbsDiff(m.forwardHead(feats, false), token) < 1e-5f);
            NDList maps = m.forwardIntermediates(x, new int[] {-1});
            assertEquals(new Shape(2, 768, 14, 14), maps.get(0).getShape());
        }
        assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "beit_base_patch16_224",
                        ModelOptions.builder().globalPool("max").build()));
    }

    @Test
    void checkpointFilterDropsIndicesAndRefusesAnotherWindow() {
        try (ImageModel m = Models.createModel(
                        "beitv2_base_patch16_224", ModelOptions.builder().build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ck = new LinkedHashMap<>(m.stateDict());
            ck.put("blocks.0.attn.relative_position_index", s.zeros(new Shape(197, 197)));
            assertFalse(m.prepareForPretrained(ck).containsKey("blocks.0.attn.relative_position_index"));
            ck.put("blocks.0.attn.relative_position_bias_table", s.zeros(new Shape(2212, 12)));
            assertThrows(IllegalArgumentException.class, () -> m.prepareForPretrained(ck));
        }
    }
}
