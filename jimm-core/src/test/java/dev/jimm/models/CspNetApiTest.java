package dev.jimm.models;

import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Layers;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** timm's CSPNets (CSPResNe(X)t, CSPDarkNet, DarkNet, CS3) through the timm API, and the names they register. */
class CspNetApiTest {
    /**
     * timm's parameter counts in millions, as its benchmark tables ({@code results/benchmark-infer-*.csv},
     * {@code param_count}) publish them.
     */
    static final Map<String, Double> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("cs3darknet_focus_l", 21.15),
            Map.entry("cs3darknet_focus_m", 9.3),
            Map.entry("cs3darknet_focus_s", 3.27),
            Map.entry("cs3darknet_focus_x", 35.02),
            Map.entry("cs3darknet_l", 21.16),
            Map.entry("cs3darknet_m", 9.31),
            Map.entry("cs3darknet_s", 3.28),
            Map.entry("cs3darknet_x", 35.05),
            Map.entry("cs3edgenet_x", 47.82),
            Map.entry("cs3se_edgenet_x", 50.72),
            Map.entry("cs3sedarknet_l", 21.91),
            Map.entry("cs3sedarknet_x", 35.4),
            Map.entry("cs3sedarknet_xdw", 21.6),
            Map.entry("cspdarknet53", 27.64),
            Map.entry("cspresnet50", 21.62),
            Map.entry("cspresnet50d", 21.64),
            Map.entry("cspresnet50w", 28.12),
            Map.entry("cspresnext50", 20.57),
            Map.entry("darknet17", 14.3),
            Map.entry("darknet21", 20.86),
            Map.entry("darknet53", 41.61),
            Map.entry("darknetaa53", 36.02),
            Map.entry("sedarknet21", 20.95));

    /** Every registered name has timm's parameter count (to its published two decimals, in millions). */
    static void assertTimmParamCounts(String family, Map<String, Double> millions) {
        List<String> names = ModelTesting.registeredNames(family);
        assertEquals(millions.keySet(), Set.copyOf(names), "the names with a published count");
        for (String n : names) {
            double ours = unbuilt(n).numParameters() / 1e6;
            assertEquals(millions.get(n), ours, 0.005 + 1e-9, n + " parameters in millions");
        }
    }

    @Test
    void everyNameHasTimmsParameterCount() {
        assertTimmParamCounts("cspnet", TIMM_MILLIONS);
        // the fixtures' exact counts
        assertEquals(27_642_184L, unbuilt("cspdarknet53").numParameters());
        assertEquals(21_616_168L, unbuilt("cspresnet50").numParameters());
    }

    @Test
    void leakyReluIsTorchsDefaultSlope() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {-2f, -0.5f, 0f, 3f});
            assertArrayEquals(
                    new float[] {-0.02f, -0.005f, 0f, 3f},
                    Activation.apply(Activation.Kind.LEAKY_RELU, x).toFloatArray(),
                    1e-7f);
        }
        assertEquals(Activation.Kind.LEAKY_RELU, Activation.Kind.parse("leaky_relu"));
        assertEquals(
                Activation.Kind.LEAKY_RELU,
                CspNet.Config.builder().depths(1).outChs(8).build().act());
    }

    @Test
    void featureLevelsFollowTheStemAndStageStrides() {
        // DarkNets keep a stride-1 level (the stem conv) before five strided stages
        assertEquals(
                List.of(
                        new FeatureInfo(32, 1, "stem.conv1"),
                        new FeatureInfo(64, 2, "stages.0"),
                        new FeatureInfo(128, 4, "stages.1"),
                        new FeatureInfo(256, 8, "stages.2"),
                        new FeatureInfo(512, 16, "stages.3"),
                        new FeatureInfo(1024, 32, "stages.4")),
                unbuilt("darknet53").featureInfo());
        // a pooled stem of three convs: the level before the pool; the stride-1 first stage drops the pool's
        assertEquals(
                List.of(new FeatureInfo(64, 2, "stem.conv3"), new FeatureInfo(256, 4, "stages.0")),
                unbuilt("cspresnet50w").featureInfo().subList(0, 2));
        // CS3: a two-conv stem of stride 2, or the one focus conv
        assertEquals(
                new FeatureInfo(32, 2, "stem.conv2"),
                unbuilt("cs3darknet_s").featureInfo().get(0));
        assertEquals(
                new FeatureInfo(80, 2, "stem.conv1"),
                unbuilt("cs3darknet_focus_x").featureInfo().get(0));
        for (String n : ModelTesting.registeredNames("cspnet")) {
            int expected = n.startsWith("darknet") || n.startsWith("sedarknet") || n.startsWith("cspdarknet") ? 6 : 5;
            assertEquals(expected, unbuilt(n).featureInfo().size(), n);
        }
    }

    @Test
    void stageKeysFollowTimm() {
        Map<String, Shape> r = unbuilt("cspresnext50").stateDictShapes();
        assertFalse(r.keySet().stream().anyMatch(k -> k.startsWith("stages.0.conv_down")), "stride-1 stage");
        assertEquals(new Shape(256, 64, 1, 1), r.get("stages.0.conv_exp.conv.weight"));
        // blocks of half the stage width on half the expansion, grouped 3x3 of 32 groups
        assertEquals(new Shape(128, 4, 3, 3), r.get("stages.0.blocks.0.conv2.conv.weight"));
        assertEquals(new Shape(128, 128, 1, 1), r.get("stages.0.conv_transition_b.conv.weight"));
        // the downsampling conv keeps its input width (no down_growth) and the stage's groups
        assertEquals(new Shape(256, 8, 3, 3), r.get("stages.1.conv_down.conv.weight"));

        Map<String, Shape> cs3 = unbuilt("cs3darknet_l").stateDictShapes();
        assertFalse(cs3.keySet().stream().anyMatch(k -> k.contains("conv_transition_b")), "CS3 joins once");
        // the strided conv keeps the stem's 64 channels, the expansion widens to the stage's 128
        assertEquals(new Shape(64, 64, 3, 3), cs3.get("stages.0.conv_down.conv.weight"));
        assertEquals(new Shape(128, 64, 1, 1), cs3.get("stages.0.conv_exp.conv.weight"));
        assertEquals(new Shape(64, 64, 1, 1), cs3.get("stages.0.blocks.0.conv1.conv.weight"));
        assertEquals(new Shape(64, 64, 3, 3), cs3.get("stages.0.blocks.2.conv2.conv.weight"));
        assertEquals(
                new Shape(64, 3, 6, 6),
                unbuilt("cs3darknet_focus_l").stateDictShapes().get("stem.conv1.conv.weight"));

        // average-pool downsampling: the pool then a 1x1 conv
        Map<String, Shape> aa = unbuilt("darknetaa53").stateDictShapes();
        assertEquals(new Shape(64, 32, 1, 1), aa.get("stages.0.conv_down.1.conv.weight"));
        // EdgeNet: 3x3 then 1x1, widened 1.5x
        Map<String, Shape> edge = unbuilt("cs3edgenet_x").stateDictShapes();
        assertEquals(new Shape(120, 80, 3, 3), edge.get("stages.0.blocks.0.conv1.conv.weight"));
        assertEquals(new Shape(80, 120, 1, 1), edge.get("stages.0.blocks.0.conv2.conv.weight"));
    }

    @Test
    void seReductionFollowsTheRatioAndRoundsToEight() {
        // cs3sedarknet_l: rd_ratio 1/4 of the 64-wide block; cs3sedarknet_x: 1/16 of 80 = 5, rounded up to 8
        assertEquals(
                new Shape(16, 64, 1, 1),
                unbuilt("cs3sedarknet_l").stateDictShapes().get("stages.0.blocks.0.attn.fc1.weight"));
        assertEquals(
                new Shape(8, 80, 1, 1),
                unbuilt("cs3sedarknet_x").stateDictShapes().get("stages.0.blocks.0.attn.fc1.weight"));
        // bottleneck blocks put it after the 3x3 conv: 1/16 of the 512-wide bottleneck of the last stage
        assertEquals(
                new Shape(512, 32, 1, 1),
                unbuilt("cs3sedarknet_xdw").stateDictShapes().get("stages.3.blocks.0.attn2.fc2.weight"));
    }

    @Test
    void zeroInitLastAndDropPath() {
        try (ImageModel on = Models.createModel(
                        "cs3darknet_s", ModelOptions.builder().numClasses(0).build());
                ImageModel off = Models.createModel(
                        "cs3darknet_s",
                        ModelOptions.builder()
                                .numClasses(0)
                                .zeroInitLast(false)
                                .dropPathRate(0.1)
                                .build())) {
            String last = "stages.1.blocks.2.conv2.bn.weight";
            for (float v : on.stateDict().get(last).toFloatArray()) {
                assertEquals(0f, v, last);
            }
            for (float v : off.stateDict().get(last).toFloatArray()) {
                assertEquals(1f, v, last);
            }
            for (float v :
                    on.stateDict().get("stages.1.blocks.2.conv1.bn.weight").toFloatArray()) {
                assertEquals(1f, v, "not a last norm");
            }
            // depths 1, 3, 4, 1: 9 blocks from 0 to 0.1, the first without drop path
            List<Float> rates = dropPathRates(off);
            assertEquals(8, rates.size());
            assertEquals(0.1f / 8, rates.get(0), 1e-6f);
            assertEquals(0.1f, rates.get(7), 1e-6f);
        }
    }

    @Test
    void intermediatesStopAtTheDeepestLevelAndMatchTheTrunk() {
        try (ImageModel m = Models.createModel(
                        "cs3darknet_focus_s",
                        ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList all = m.forwardIntermediates(x, m.allFeatureIndices());
            NDList two = m.forwardIntermediates(x, new int[] {1, -1});
            assertEquals(new Shape(2, 64, 16, 16), all.get(1).getShape());
            assertEquals(new Shape(2, 512, 2, 2), all.get(4).getShape());
            assertArrayEquals(all.get(1).toFloatArray(), two.get(0).toFloatArray());
            assertArrayEquals(m.forwardFeatures(x).toFloatArray(), two.get(1).toFloatArray());
            NDArray pooled = m.forward(x);
            assertEquals(new Shape(2, 512), pooled.getShape());
            assertTrue(ModelTesting.maxAbsDiff(pooled, Layers.spatialMean(all.get(4), false)) < 1e-5f);
        }
    }
}
