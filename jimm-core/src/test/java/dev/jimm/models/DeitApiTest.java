package dev.jimm.models;

import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The timm API on DeiTs, distilled ones in particular (two tokens, two heads). */
class DeitApiTest {
    private static NDArray input(NDManager m) {
        return ModelTesting.input(m, 224);
    }

    @Test
    void distilledLogitsAverageTheTwoHeadsAndPreLogitsTheTwoTokens() {
        try (ImageModel m = Models.createModel(
                        "deit_tiny_distilled_patch16_224",
                        ModelOptions.builder().numClasses(7).build());
                NDManager s = m.getManager().newSubManager()) {
            assertInstanceOf(Deit.class, m);
            NDArray feats = m.forwardFeatures(input(s));
            assertEquals(new Shape(2, 198, 192), feats.getShape(), "196 patches, class and distillation tokens");
            NDArray cls = feats.get(":, 0");
            NDArray dist = feats.get(":, 1");
            assertTrue(maxAbsDiff(m.forwardHead(feats, true), cls.add(dist).div(2f)) < 1e-6f);
            NDArray head = ((Module) m.child("head")).forward(cls);
            NDArray headDist = ((Module) m.child("head_dist")).forward(dist);
            assertTrue(maxAbsDiff(head, headDist) > 1e-3f, "the two heads differ, so the average is a real check");
            assertTrue(
                    maxAbsDiff(m.forwardHead(feats, false), head.add(headDist).div(2f)) < 1e-6f);
            assertEquals(new Shape(2, 7), m.forward(input(s)).getShape());
        }
    }

    @Test
    void numClassesZeroAndResetClassifierCoverBothHeads() {
        try (ImageModel m = Models.createModel(
                        "deit_tiny_distilled_patch16_224",
                        ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            assertFalse(
                    m.stateDict().containsKey("head.weight") || m.stateDict().containsKey("head_dist.weight"));
            NDArray x = input(s);
            assertEquals(new Shape(2, 192), m.forward(x).getShape());
            m.resetClassifier(5);
            Map<String, NDArray> sd = m.stateDict();
            assertEquals(new Shape(5, 192), sd.get("head.weight").getShape());
            assertEquals(new Shape(5, 192), sd.get("head_dist.weight").getShape());
            List<String> keys = new ArrayList<>(sd.keySet());
            assertEquals(
                    List.of("head.weight", "head.bias", "head_dist.weight", "head_dist.bias"),
                    keys.subList(keys.size() - 4, keys.size()));
            assertEquals(List.of("cls_token", "pos_embed", "dist_token"), keys.subList(0, 3));
            assertEquals(new Shape(2, 5), m.forward(x).getShape());
        }
        assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "deit_tiny_distilled_patch16_224",
                        ModelOptions.builder().globalPool("avg").build()));
    }

    @Test
    void intermediatesDropBothPrefixTokens() {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "deit_tiny_distilled_patch16_224",
                        ModelOptions.builder().featuresOnly(0, -1).build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s));
            assertEquals(2, maps.size());
            assertEquals(new Shape(2, 192, 14, 14), maps.get(1).getShape());
            assertEquals(new FeatureInfo(192, 16, "blocks.11"), fe.featureInfo().get(1));
            assertEquals(12, fe.model().featureInfo().size());
        }
    }

    @Test
    void deit3HasPatchOnlyPositionsAndLayerScale() {
        Map<String, Shape> sd = unbuilt("deit3_small_patch16_384").stateDictShapes();
        assertEquals(new Shape(1, 576, 384), sd.get("pos_embed"), "24x24 patches, no class-token position");
        assertEquals(new Shape(384), sd.get("blocks.11.ls2.gamma"));
        Map<String, Shape> dist = unbuilt("deit_base_distilled_patch16_384").stateDictShapes();
        assertEquals(new Shape(1, 578, 768), dist.get("pos_embed"));
    }

    @Test
    void everyDeitIsBuiltAtItsDefaultSizeAndDistilledOnesWithTwoTokens() {
        // that these are timm's 16 deit names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        for (String n : ModelTesting.registeredNames("deit")) {
            VisionTransformer m = (VisionTransformer) unbuilt(n);
            assertEquals(
                    ModelRegistry.builtIn().config(n).inputSize().get(1),
                    m.config().imgSize(),
                    n);
            assertEquals(n.contains("distilled"), m instanceof Deit, n);
            assertEquals(n.contains("distilled") ? 2 : 1, m.numPrefixTokens(), n);
        }
    }
}
