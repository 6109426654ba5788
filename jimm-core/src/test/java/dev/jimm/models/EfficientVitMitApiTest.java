package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's EfficientViTs (MIT): sizes, the B and L block layouts, and the head's MLP. */
class EfficientVitMitApiTest {
    /** timm's published parameter counts (results/benchmark-infer-*.csv), millions to two decimals. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "efficientvit_b0", 3.41,
            "efficientvit_b1", 9.10,
            "efficientvit_b2", 24.33,
            "efficientvit_b3", 48.65,
            "efficientvit_l1", 52.65,
            "efficientvit_l2", 63.71,
            "efficientvit_l3", 246.04);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("efficientvit_mit")) {
            double millions = Math.round(ModelTesting.paramCount(name) / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(
                TIMM_MILLIONS.size(),
                ModelTesting.registeredNames("efficientvit_mit").size());
    }

    @Test
    void largeSeriesFusesEarlyStagesAndDropsNormsLater() {
        Map<String, Shape> l1 = ModelTesting.unbuilt("efficientvit_l1").stateDictShapes();
        // stem: a ConvBlock (two 3x3s); stages 0-1: fused MBConvs (3x3 expanding 16x first, then 4x); stage 2: MBConvs
        // whose first two convs have biases instead of norms; stage 3: an expand-24 MBConv, then attention blocks
        assertEquals(new Shape(32, 32, 3, 3), l1.get("stem.res0.main.conv1.conv.weight"));
        assertEquals(new Shape(512, 32, 3, 3), l1.get("stages.0.blocks.0.main.spatial_conv.conv.weight"));
        assertEquals(new Shape(256, 64, 3, 3), l1.get("stages.0.blocks.1.main.spatial_conv.conv.weight"));
        assertEquals(new Shape(1024, 64, 3, 3), l1.get("stages.1.blocks.0.main.spatial_conv.conv.weight"));
        assertEquals(new Shape(1024), l1.get("stages.1.blocks.0.main.spatial_conv.norm.weight"));
        assertEquals(new Shape(2048, 128, 1, 1), l1.get("stages.2.blocks.0.main.inverted_conv.conv.weight"));
        assertEquals(new Shape(2048), l1.get("stages.2.blocks.0.main.inverted_conv.conv.bias"));
        assertFalse(l1.containsKey("stages.2.blocks.0.main.inverted_conv.norm.weight"));
        assertEquals(new Shape(256), l1.get("stages.2.blocks.6.main.point_conv.norm.weight"));
        assertEquals(new Shape(6144, 256, 1, 1), l1.get("stages.3.blocks.0.main.inverted_conv.conv.weight"));
        assertEquals(new Shape(1536, 512, 1, 1), l1.get("stages.3.blocks.6.context_module.main.qkv.conv.weight"));
        // 16 heads of 32: the grouped 1x1 aggregation has 3 x 16 groups of 32 channels
        assertEquals(new Shape(1536, 32, 1, 1), l1.get("stages.3.blocks.1.context_module.main.aggreg.0.1.weight"));
        assertEquals(
                new Shape(3072, 512, 1, 1), l1.get("stages.3.blocks.1.local_module.main.inverted_conv.conv.weight"));
        assertEquals(new Shape(3200), l1.get("head.classifier.1.weight"));
    }

    @Test
    void resetKeepsTheHeadMlpAndPreLogitsAreItsOutput() {
        try (ImageModel m = Models.createModel("efficientvit_b0");
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(128, m.numFeatures());
            assertEquals(1280, m.headHiddenSize());
            NDArray x = input(s, 32);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 128, 1, 1), feats.getShape());
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 1280), pre.getShape());
            ModelTesting.assertPreLogitsFeed(m, feats, "head.classifier.4");
            float[] mlp = m.stateDict().get("head.classifier.0.weight").toFloatArray();
            m.resetClassifier(10, "max");
            assertArrayEquals(mlp, m.stateDict().get("head.classifier.0.weight").toFloatArray(), "the MLP stays");
            assertEquals(
                    new Shape(10, 1280),
                    m.stateDict().get("head.classifier.4.weight").getShape());
            assertEquals(new Shape(2, 10), m.forward(x).getShape());
            // without pooling (the features-only wrapper's request) the head runs on every pixel: on a 1x1 map that
            // is what the pooled head gives
            m.resetClassifier(0, "");
            NDArray maps = m.forwardHead(feats, false);
            assertEquals(new Shape(2, 1280, 1, 1), maps.getShape());
            assertTrue(ModelTesting.maxAbsDiff(maps.reshape(2, 1280), pre) < 1e-5f);
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(5, ""));
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(5, "catavgmax"));
        }
    }
}
