package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.hub.SafetensorsWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HRNet: every name against timm's published parameter count, the classification head's width, and the feature levels
 * of timm's features-only model in both of its {@code feature_location}s.
 */
class HrNetApiTest {
    /** timm's results tables (results-imagenet.csv), millions to two decimals. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("hrnet_w18_small", 13.19),
            Map.entry("hrnet_w18_small_v2", 15.60),
            Map.entry("hrnet_w18", 21.30),
            Map.entry("hrnet_w18_ssld", 21.30),
            Map.entry("hrnet_w30", 37.71),
            Map.entry("hrnet_w32", 41.23),
            Map.entry("hrnet_w40", 57.56),
            Map.entry("hrnet_w44", 67.06),
            Map.entry("hrnet_w48", 77.47),
            Map.entry("hrnet_w48_ssld", 77.47),
            Map.entry("hrnet_w64", 128.06));

    private static final String SMALL = "hrnet_w18_small";

    @Test
    void everyNameHasTimmsParameterCount() {
        assertEquals(ModelTesting.timmNames("hrnet").size(), TIMM_MILLIONS.size());
        TIMM_MILLIONS.forEach((name, millions) ->
                assertEquals(millions, paramCount(name) / 1e6, 0.005, name + ": " + paramCount(name) + " parameters"));
        // the PaddlePaddle weights' head convs have no bias: 3 downsampling convs and the final one
        assertEquals(256 + 512 + 1024 + 2048, paramCount("hrnet_w18") - paramCount("hrnet_w18_ssld"));
        assertFalse(unbuilt("hrnet_w48_ssld").stateDictShapes().containsKey("final_layer.0.bias"));
    }

    @Test
    void theBranchesFuseAcrossResolutions() {
        Map<String, Shape> sd = unbuilt(SMALL).stateDictShapes();
        // stage 4 of w18_small: branches of 16, 32, 64, 128; branch 3 reaches branch 0 by a 1x1 conv (then
        // upsampling), branch 0 reaches branch 3 by three strided 3x3 convs, the last one widening
        assertEquals(new Shape(16, 128, 1, 1), sd.get("stage4.0.fuse_layers.0.3.0.weight"));
        assertEquals(new Shape(16, 16, 3, 3), sd.get("stage4.0.fuse_layers.3.0.0.0.weight"));
        assertEquals(new Shape(16, 16, 3, 3), sd.get("stage4.0.fuse_layers.3.0.1.0.weight"));
        assertEquals(new Shape(128, 16, 3, 3), sd.get("stage4.0.fuse_layers.3.0.2.0.weight"));
        assertFalse(sd.containsKey("stage4.0.fuse_layers.3.3.0.weight"), "a branch reaches itself unchanged");
        // the new coarsest branch of each stage comes from the previous coarsest
        assertEquals(new Shape(128, 64, 3, 3), sd.get("transition3.3.0.0.weight"));
        assertEquals(new Shape(2048, 1024, 1, 1), sd.get("final_layer.0.weight"));
        assertEquals(new Shape(1000, 2048), sd.get("classifier.weight"));
    }

    @Test
    void classificationLevelsAreTheWidenedBranches() {
        try (ImageModel m = Models.createModel(SMALL);
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    List.of(
                            new FeatureInfo(64, 2, "stem"),
                            new FeatureInfo(128, 4, "stage1"),
                            new FeatureInfo(256, 8, "stage2"),
                            new FeatureInfo(512, 16, "stage3"),
                            new FeatureInfo(1024, 32, "stage4")),
                    m.featureInfo());
            assertEquals(2048, m.numFeatures());
            assertEquals(2048, m.headHiddenSize());
            NDArray x = input(s, 1, 3, 64);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            int[] channels = {64, 128, 256, 512, 1024};
            for (int i = 0; i < 5; i++) {
                int side = 64 / m.featureInfo().get(i).reduction();
                assertEquals(new Shape(1, channels[i], side, side), maps.get(i).getShape(), "level " + i);
            }
            assertTrue(
                    maxAbsDiff(
                                    maps.get(2),
                                    m.forwardIntermediates(x, new int[] {2}).singletonOrThrow())
                            == 0,
                    "one level alone is the same map");
            NDArray features = m.forwardFeatures(x);
            assertEquals(new Shape(1, 2048, 2, 2), features.getShape());
            assertEquals(new Shape(1, 2048), m.forwardHead(features, true).getShape());
            ModelTesting.assertPreLogitsFeed(m, features, "classifier");
        }
    }

    @Test
    void featuresOnlyModelsHaveTimmsStateDictAndLevels() {
        HrNet.Config cfg = HrNet.Family.config(SMALL);
        HrNet incre = new HrNet(cfg, ModelArgs.defaults(), HrNet.Head.INCRE);
        HrNet branches = new HrNet(cfg, ModelArgs.defaults(), HrNet.Head.BRANCHES);
        Map<String, Shape> full = unbuilt(SMALL).stateDictShapes();
        for (String k : full.keySet()) {
            boolean head =
                    k.startsWith("downsamp_modules.") || k.startsWith("final_layer.") || k.startsWith("classifier.");
            assertEquals(!head, incre.stateDictShapes().containsKey(k), "incre: " + k);
            assertEquals(
                    !head && !k.startsWith("incre_modules."),
                    branches.stateDictShapes().containsKey(k),
                    "'': " + k);
        }
        assertEquals(incre.featureInfo(), unbuilt(SMALL).featureInfo(), "timm's default feature_location 'incre'");
        // feature_location '': the stage-4 branch widths
        assertEquals(
                List.of(
                        new FeatureInfo(64, 2, "stem"),
                        new FeatureInfo(16, 4, "stage1"),
                        new FeatureInfo(32, 8, "stage2"),
                        new FeatureInfo(64, 16, "stage3"),
                        new FeatureInfo(128, 32, "stage4")),
                branches.featureInfo());
        assertEquals(
                List.of(18, 36, 72, 144),
                new HrNet(HrNet.Family.config("hrnet_w18"), ModelArgs.defaults(), HrNet.Head.BRANCHES)
                        .featureInfo().subList(1, 5).stream()
                                .map(FeatureInfo::numChs)
                                .toList());
        assertThrows(UnsupportedOperationException.class, () -> incre.forwardFeatures(null));
        assertThrows(IllegalArgumentException.class, () -> incre.resetClassifier(10));
    }

    @Test
    void featureExtractorsGiveTheClassificationModelsLevels(@TempDir Path dir) {
        try (ImageModel m = Models.createModel(SMALL);
                NDManager s = m.getManager().newSubManager()) {
            Path file = dir.resolve("hrnet.safetensors");
            SafetensorsWriter.write(file, m.stateDict(), Map.of());
            NDArray x = input(s, 1, 3, 64);
            NDList reference = m.forwardIntermediates(x, m.allFeatureIndices());
            ModelOptions fromFile = ModelOptions.builder().pretrainedFile(file).build();
            try (FeatureExtractor fe = HrNet.createFeatureExtractor(SMALL, HrNet.Head.INCRE, fromFile)) {
                assertFalse(fe.model().stateDict().containsKey("final_layer.0.weight"));
                NDList maps = fe.forwardFeatures(x);
                assertEquals(5, maps.size());
                for (int i = 0; i < 5; i++) {
                    assertEquals(0f, maxAbsDiff(reference.get(i), maps.get(i)), "incre level " + i);
                }
            }
            ModelOptions levels = ModelOptions.builder()
                    .pretrainedFile(file)
                    .featuresOnly(1, 4)
                    .build();
            try (FeatureExtractor fe = HrNet.createFeatureExtractor(SMALL, HrNet.Head.BRANCHES, levels)) {
                assertFalse(fe.model().stateDict().containsKey("incre_modules.0.0.conv1.weight"));
                assertEquals(
                        List.of(new FeatureInfo(16, 4, "stage1"), new FeatureInfo(128, 32, "stage4")),
                        fe.featureInfo());
                NDList maps = fe.forwardFeatures(x);
                assertEquals(new Shape(1, 16, 16, 16), maps.get(0).getShape());
                assertEquals(new Shape(1, 128, 2, 2), maps.get(1).getShape());
                // a raw branch through the classification model's incre bottleneck is its incre level
                NDArray widened = m.child("incre_modules").child("3").forward(maps.get(1));
                float scale = reference.get(4).abs().max().getFloat();
                assertTrue(maxAbsDiff(widened, reference.get(4)) <= 1e-5 * scale, "branch 3 widened");
            }
        }
        assertThrows(
                IllegalArgumentException.class,
                () -> HrNet.createFeatureExtractor(SMALL, HrNet.Head.CLASSIFICATION, ModelOptions.defaults()));
        assertThrows(
                IllegalArgumentException.class,
                () -> HrNet.createFeatureExtractor("dla34", HrNet.Head.INCRE, ModelOptions.defaults()));
    }
}
