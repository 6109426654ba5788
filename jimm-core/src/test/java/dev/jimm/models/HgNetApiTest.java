package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.input;
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
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's PP-HGNet and PP-HGNetV2: parameter counts, layouts, the V2 stem, the widening head, feature levels. */
class HgNetApiTest {
    /** timm's published parameter counts in millions (results/results-imagenet.csv). */
    private static final Map<String, Double> PARAMS_M = Map.of(
            "hgnet_tiny", 14.74,
            "hgnet_small", 24.36,
            "hgnet_base", 71.58,
            "hgnetv2_b0", 6.00,
            "hgnetv2_b1", 6.34,
            "hgnetv2_b2", 11.22,
            "hgnetv2_b3", 16.29,
            "hgnetv2_b4", 19.80,
            "hgnetv2_b5", 39.57,
            "hgnetv2_b6", 75.26);

    @Test
    void parameterCountsAreTimms() {
        ModelTesting.assertFamilyParamsMillions("hgnet", PARAMS_M);
    }

    @Test
    void layoutsFollowTimm() {
        Map<String, Shape> v1 = unbuilt("hgnet_tiny").stateDictShapes();
        assertEquals(new Shape(48, 3, 3, 3), v1.get("stem.stem.0.conv.weight"));
        // V1 aggregates with a conv and ESE (a 1x1 conv with bias); no learnable affine blocks
        assertEquals(new Shape(224, 96 + 5 * 96, 1, 1), v1.get("stages.0.blocks.0.aggregation.0.conv.weight"));
        assertEquals(new Shape(224), v1.get("stages.0.blocks.0.aggregation.1.conv.bias"));
        assertFalse(v1.keySet().stream().anyMatch(k -> k.contains("lab.")));
        assertFalse(v1.containsKey("stages.0.downsample.conv.weight"), "stage 0 does not downsample");
        assertEquals(new Shape(224, 1, 3, 3), v1.get("stages.1.downsample.conv.weight"));
        // B4 to B6 have no learnable affine blocks; B0 to B3 have one after every activation
        assertFalse(unbuilt("hgnetv2_b4").stateDictShapes().keySet().stream().anyMatch(k -> k.contains("lab.")));
        Map<String, Shape> b0 = unbuilt("hgnetv2_b0").stateDictShapes();
        assertEquals(new Shape(1), b0.get("stem.stem1.lab.scale"));
        assertFalse(b0.containsKey("stages.1.downsample.lab.scale"), "no activation, no affine block");
        assertFalse(b0.containsKey("stages.2.blocks.0.layers.0.conv1.lab.scale"), "the light block's 1x1 conv");
        assertEquals(new Shape(1), b0.get("stages.2.blocks.0.layers.0.conv2.lab.bias"));
        assertEquals(new Shape(1), b0.get("head.last_conv.2.scale"));
    }

    @Test
    void affineBlockScalesAndShifts() {
        HgNet.LearnableAffineBlock lab = new HgNet.LearnableAffineBlock();
        try (NDManager m = NDManager.newBaseManager()) {
            lab.materialize(m);
            Module.assign(lab.directParameters().get("scale").getArray(), new float[] {2f});
            Module.assign(lab.directParameters().get("bias").getArray(), new float[] {-1f});
            NDArray y = lab.forward(m.create(new float[] {0f, 1f, 3f}));
            assertEquals(new Shape(3), y.getShape());
            assertTrue(ModelTesting.maxAbsDiff(y, m.create(new float[] {-1f, 1f, 5f})) == 0f);
        }
    }

    @Test
    void stemFeatureLevelsAndTheWideningHead() {
        try (ImageModel m = Models.createModel(
                        "hgnetv2_b0", ModelOptions.builder().numClasses(5).build());
                NDManager s = m.getManager().newSubManager()) {
            // odd sides: the V2 stem pads one pixel at the right and bottom before its 2x2 branches
            NDArray x = input(s, 70);
            assertEquals(new Shape(2, 16, 18, 18), m.child("stem").forward(x).getShape());
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[][] expected = {{64, 18}, {256, 9}, {512, 5}, {1024, 3}};
            ModelTesting.assertSquareLevels(maps, 2, expected);
            assertEquals(1024, m.numFeatures());
            assertEquals(2048, m.headHiddenSize());
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 2048), m.forwardHead(feats, true).getShape());
            ModelTesting.assertPreLogitsFeed(m, feats, "head.fc");
            float[] lastConv = m.stateDict().get("head.last_conv.0.weight").toFloatArray();
            assertResetTo(m, x, 3, "max", "head.fc", 2048);
            assertTrue(
                    Arrays.equals(
                            lastConv,
                            m.stateDict().get("head.last_conv.0.weight").toFloatArray()),
                    "last_conv stays");
            // without pooling last_conv runs on the maps, and there is no classifier
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 2048, 3, 3), m.forward(x).getShape());
            assertTrue(m.forward(x).min().getFloat() >= 0f, "the head's ReLU ran");
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, "catavgmax"));
        }
        assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "hgnetv2_b0",
                        ModelOptions.builder().globalPool("catavgmax").build()));
    }

    @Test
    void v1StemAndEseBlocks() {
        try (ImageModel m = Models.createModel(
                        "hgnet_tiny", ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList maps = m.forwardIntermediates(x, new int[] {0, -1});
            assertEquals(new Shape(2, 224, 16, 16), maps.get(0).getShape());
            assertEquals(new Shape(2, 768, 2, 2), maps.get(1).getShape());
            assertEquals(new Shape(2, 2048), m.forward(x).getShape());
        }
    }

    @Test
    void foldsForInference() {
        RexNetApiTest.assertFoldsEveryNorm("hgnetv2_b0", 64);
    }
}
