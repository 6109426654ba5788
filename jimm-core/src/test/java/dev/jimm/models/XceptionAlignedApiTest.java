package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertSquareLevels;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Module;
import dev.jimm.parity.ParityFixture;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Aligned Xceptions: every name's parameter count against timm's, the feature levels timm hooks inside the blocks
 * (the activation before a block's strided conv), the pre-activation variants' last level before their final ReLU, and
 * their norms' eps.
 */
class XceptionAlignedApiTest {
    /** timm's published counts (results/*.csv, millions to two decimals); xception41's exact one is its fixture's. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "xception41p", 26.91,
            "xception65", 39.92,
            "xception65p", 39.82,
            "xception71", 42.34);

    private static ParityFixture fixture() {
        return ParityFixture.read(TestFixtures.root().resolve("parity-wave2/timm__xception41.safetensors"));
    }

    @Test
    void everyNameHasTimmsParameterCount() {
        assertEquals(fixture().meta().get("param_count").getAsLong(), ModelTesting.paramCount("xception41"));
        for (Map.Entry<String, Double> e : TIMM_MILLIONS.entrySet()) {
            long n = ModelTesting.paramCount(e.getKey());
            assertEquals(e.getValue(), Math.round(n / 1e4) / 100.0, 1e-9, e.getKey() + ": " + n);
        }
        assertEquals(
                ModelTesting.timmNames("xception_aligned").size(),
                TIMM_MILLIONS.size() + 1,
                "every name of the family is counted");
    }

    @Test
    void blockStructureFollowsTimm() {
        ImageModel x41 = ModelTesting.unbuilt("xception41");
        Map<String, Shape> shapes = x41.stateDictShapes();
        // the exit flow's widening block has a projection, the last one (no_skip) has none
        assertEquals(new Shape(1024, 728, 1, 1), shapes.get("blocks.11.shortcut.conv.weight"));
        assertFalse(shapes.keySet().stream().anyMatch(k -> k.startsWith("blocks.12.shortcut")));
        assertFalse(shapes.keySet().stream().anyMatch(k -> k.startsWith("blocks.5.shortcut")), "middle flow");
        // the exit block widens at its second conv: (728, 1024, 1024)
        assertEquals(new Shape(1024, 728, 1, 1), shapes.get("blocks.11.stack.conv2.conv_pw.weight"));
        assertEquals(new Shape(1024, 1, 3, 3), shapes.get("blocks.11.stack.conv3.conv_dw.weight"));
        // ReLUs before the separable convs, but inside them in the last block
        assertTrue(x41.namedModules().get("blocks.11.stack.act1") instanceof Activation);
        assertTrue(x41.namedModules().get("blocks.12.stack.conv1.act_dw") instanceof Activation);
        assertFalse(x41.namedModules().containsKey("blocks.12.stack.act1"));

        ImageModel x41p = ModelTesting.unbuilt("xception41p");
        Map<String, Shape> pre = x41p.stateDictShapes();
        assertEquals(new Shape(64, 32, 3, 3), pre.get("stem.1.weight"), "the pre-activation stem ends in a plain conv");
        assertEquals(new Shape(1024, 728, 1, 1), pre.get("blocks.11.shortcut.weight"));
        assertEquals(new Shape(728), pre.get("blocks.11.norm.weight"));
        assertFalse(pre.containsKey("blocks.11.stack.conv1.norm.weight"), "the block's norm serves its first conv");
        assertEquals(new Shape(728), pre.get("blocks.11.stack.conv2.norm.weight"));

        assertEquals(1e-3f, ((BatchNorm2d) x41.namedModules().get("stem.0.bn")).eps());
        assertEquals(1e-5f, ((BatchNorm2d) x41p.namedModules().get("stem.0.bn")).eps(), "nn.BatchNorm2d's default");
        assertEquals(
                1e-3f,
                ((BatchNorm2d) ModelTesting.unbuilt("xception65p")
                                .namedModules()
                                .get("blocks.0.norm"))
                        .eps());
    }

    @Test
    void featureLevelsAreTimms() {
        List<String> modules = ModelTesting.unbuilt("xception71").featureInfo().stream()
                .map(FeatureInfo::module)
                .toList();
        // xception71's entry flow downsamples in blocks 0, 2 and 4 only
        assertEquals(
                List.of(
                        "blocks.0.stack.act3",
                        "blocks.2.stack.act3",
                        "blocks.4.stack.act3",
                        "blocks.21.stack.act3",
                        "blocks.22"),
                modules);
        List<FeatureInfo> p = ModelTesting.unbuilt("xception65p").featureInfo();
        assertEquals("blocks.1.stack.conv2", p.get(1).module());
        assertEquals(
                List.of(128, 256, 728, 1024, 2048),
                p.stream().map(FeatureInfo::numChs).toList());
        assertEquals(
                List.of(2, 4, 8, 16, 32), p.stream().map(FeatureInfo::reduction).toList());
    }

    @Test
    void levelsAreTheActivationsBeforeTheStridedConvs() {
        try (ImageModel m = Models.createModel(
                        "xception41", ModelOptions.builder().seed(4).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 64);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            assertSquareLevels(levels, 1, new int[] {128, 256, 728, 1024, 2048}, new int[] {32, 16, 8, 4, 2});
            // level 0 by hand: the stem, then block 0's stack up to act3 (ReLU of conv2's output)
            Map<String, Module> mods = m.namedModules();
            NDArray y = mods.get("stem").forward(x);
            for (String step : List.of("act1", "conv1", "act2", "conv2", "act3")) {
                y = mods.get("blocks.0.stack." + step).forward(y);
            }
            assertEquals(0, maxAbsDiff(y, levels.get(0)));
            assertEquals(0, maxAbsDiff(levels.get(4), m.forwardFeatures(x)), "the last level is the features");
            NDList two = m.forwardIntermediates(x, new int[] {-2, 1});
            assertEquals(0, maxAbsDiff(two.get(0), levels.get(3)));
            assertEquals(0, maxAbsDiff(two.get(1), levels.get(1)));
        }
    }

    @Test
    void preActivationFeaturesEndInAReluTheLastLevelDoesNotHave() {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "xception41p",
                        ModelOptions.builder().seed(5).featuresOnly(4).build());
                NDManager s = fe.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 64);
            NDArray last = fe.forwardFeatures(x).get(0);
            NDArray features = fe.model().forwardFeatures(x);
            assertTrue(last.min().getFloat() < 0, "the block output, before the model's final act");
            assertEquals(0, maxAbsDiff(last.maximum(0f), features));
            assertFalse(fe.stateDict().containsKey("head.fc.weight"));
        }
    }
}
