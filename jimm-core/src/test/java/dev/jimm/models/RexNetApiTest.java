package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's ReXNets: widths, parameter counts, the partial shortcut, feature levels, drop path and head. */
class RexNetApiTest {
    /** timm's published parameter counts in millions (results/results-imagenet.csv); rexnetr_1xx have no weights. */
    private static final Map<String, Double> PARAMS_M = Map.of(
            "rexnet_100", 4.80,
            "rexnet_130", 7.56,
            "rexnet_150", 9.73,
            "rexnet_200", 16.37,
            "rexnet_300", 34.71,
            "rexnetr_200", 16.52,
            "rexnetr_300", 34.81);

    @Test
    void parameterCountsAreTimms() {
        ModelTesting.assertParamsMillions(PARAMS_M, 0.005);
        for (String name : ModelTesting.registeredNames("rexnet")) {
            assertTrue(unbuilt(name).numParameters() > 4_000_000, name);
        }
    }

    @Test
    void widthsGrowBy180Over16RoundedHalfToEven() {
        // 16 + 11.25 i, rounded as Python's round: 38.5 -> 38, 83.5 -> 84, 128.5 -> 128, 173.5 -> 174
        List<Integer> expected = List.of(16, 27, 38, 50, 61, 72, 84, 95, 106, 117, 128, 140, 151, 162, 174, 185);
        List<Integer> widths = RexNet.blockArgs(RexNet.Config.of(1.0)).stream()
                .map(RexNet.BlockArgs::outChs)
                .toList();
        assertEquals(expected, widths);
        // ReXNet-R rounds each to a multiple of 8 (never below 90%): 27 -> 24 < 24.3 -> 32
        List<Integer> rounded = RexNet.blockArgs(RexNet.Config.of(1.0).rounded(8)).stream()
                .map(RexNet.BlockArgs::outChs)
                .toList();
        assertEquals(List.of(16, 32, 40, 48, 64, 72, 88, 96, 104, 120, 128, 144, 152, 160, 176, 184), rounded);
    }

    @Test
    void keysFollowTimm() {
        Map<String, Shape> s = unbuilt("rexnet_100").stateDictShapes();
        assertFalse(s.containsKey("features.0.conv_exp.conv.weight"), "the first block does not expand");
        assertFalse(s.containsKey("features.2.se.fc1.weight"), "no SE in the first two stages");
        // SE from the third stage: rd = int(228 / 12) = 19, with a BatchNorm
        assertEquals(new Shape(19, 228, 1, 1), s.get("features.3.se.fc1.weight"));
        assertEquals(new Shape(19), s.get("features.3.se.bn.running_var"));
        assertEquals(new Shape(1280, 185, 1, 1), s.get("features.16.conv.weight"));
        assertEquals(new Shape(1000, 1280), s.get("head.fc.weight"));
        // rexnet_150: stem round(32 * 1.5) = 48, head 1280 * 1.5 = 1920
        Map<String, Shape> w = unbuilt("rexnet_150").stateDictShapes();
        assertEquals(new Shape(48, 3, 3, 3), w.get("stem.conv.weight"));
        assertEquals(new Shape(1000, 1920), w.get("head.fc.weight"));
    }

    @Test
    void shortcutAddsTheInputToItsFirstChannels() {
        // features.1 (16 -> 27, stride 2) has no shortcut; features.2 (27 -> 38) adds its input to channels 0..26
        try (ImageModel m = Models.createModel(
                        "rexnet_100", ModelOptions.builder().seed(3).build());
                NDManager s = m.getManager().newSubManager()) {
            RexNet.LinearBottleneck block =
                    (RexNet.LinearBottleneck) m.child("features").child("2");
            NDArray x = s.randomNormal(new Shape(1, 27, 8, 8));
            NDArray y = block.forward(x);
            // no SE before the third stage
            assertNull(block.child("se"));
            NDArray branch = block.child("conv_pwl")
                    .forward(block.child("act_dw")
                            .forward(block.child("conv_dw")
                                    .forward(block.child("conv_exp").forward(x))));
            assertEquals(new Shape(1, 38, 8, 8), y.getShape());
            assertTrue(ModelTesting.maxAbsDiff(
                            y.get(":, :27"), branch.get(":, :27").add(x))
                    < 1e-5f);
            assertTrue(ModelTesting.maxAbsDiff(y.get(":, 27:"), branch.get(":, 27:")) < 1e-6f);
        }
    }

    @Test
    void featureLevelsAndHead() {
        try (ImageModel m = Models.createModel(
                        "rexnet_100", ModelOptions.builder().numClasses(7).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[][] expected = {{16, 32}, {38, 16}, {61, 8}, {128, 4}, {185, 2}};
            ModelTesting.assertSquareLevels(maps, 2, expected);
            // the deepest level is the last bottleneck; forwardFeatures adds the 1x1 conv to 1280
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 1280, 2, 2), feats.getShape());
            assertTrue(ModelTesting.maxAbsDiff(m.child("features").child("16").forward(maps.get(4)), feats) < 1e-5f);
            ModelTesting.assertPreLogitsFeed(m, feats, "head.fc");
            assertResetTo(m, x, 3, "max", "head.fc", 1280);
        }
    }

    @Test
    void dropPathRisesLinearlyOverTheBlocks() {
        ImageModel m =
                ModelRegistry.builtIn().entry("rexnet_100").factory().apply(new ModelArgs(1000, 3, "avg", 0, 0.3));
        // timm: rate * i / 15 for block i, none for block 0
        List<Float> rates = dropPathRates(m);
        assertEquals(15, rates.size());
        for (int i = 1; i <= 15; i++) {
            assertEquals(0.3 * i / 15, rates.get(i - 1), 1e-6, "block " + i);
        }
    }

    /**
     * Checks that every BatchNorm of {@code name} follows a convolution it folds into (InferenceModel), and that the
     * folded model computes what the original does, with non-trivial norms.
     */
    static void assertFoldsEveryNorm(String name, int size) {
        try (ImageModel m = Models.createModel(
                        name, ModelOptions.builder().numClasses(10).build());
                NDManager s = NDManager.newBaseManager()) {
            InferenceModelTest.randomizeNorms(m, name.hashCode());
            long norms = m.stateDict().keySet().stream()
                    .filter(k -> k.endsWith("running_mean"))
                    .count();
            NDArray x = s.randomNormal(new Shape(2, 3, size, size));
            NDArray reference = m.forward(x);
            try (InferenceModel fast = InferenceModel.of(m, x.getShape())) {
                float maxAbs = reference.abs().max().getFloat();
                assertTrue(maxAbs > 1e-3f, name + " outputs are not all zero");
                float diff = ModelTesting.maxAbsDiff(fast.forward(x), reference);
                assertTrue(diff <= 1e-4f * maxAbs, name + ": folded differs by " + diff + " of " + maxAbs);
                assertEquals(norms, fast.foldedPairs().size(), name + " folds every norm");
            }
        }
    }

    @Test
    void foldsForInference() {
        assertFoldsEveryNorm("rexnet_100", 64);
    }
}
