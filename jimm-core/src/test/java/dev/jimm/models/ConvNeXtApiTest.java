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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The timm API on ConvNeXts (timm and torchvision layouts), and the names they register. */
class ConvNeXtApiTest {
    /** torchvision's layout at a small size (the registered ones are 28M+ parameters). */
    private static TvConvNeXt smallTv() {
        ConvNeXt.Config c = ConvNeXt.Config.of(List.of(1, 1, 2, 1), List.of(16, 24, 32, 40));
        return RegNetApiTest.make(new TvConvNeXt(c, ModelArgs.defaults()));
    }

    @Test
    void everyConvNeXtBuildsWithFourStages() {
        // that these are timm's 31 convnext names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        for (String n : ModelTesting.registeredNames("convnext")) {
            assertEquals(4, ((ConvNeXt) unbuilt(n)).featureInfo().size(), n);
        }
        assertEquals(
                160,
                ModelRegistry.builtIn()
                        .entry("test_convnext")
                        .fallbackCfg()
                        .inputSize()
                        .get(1));
    }

    @Test
    void variantKeysFollowTimm() {
        Map<String, Shape> ols = unbuilt("convnext_atto_ols").stateDictShapes();
        assertEquals(new Shape(24, 3, 3, 3), ols.get("stem.0.weight"), "tiered stem: make_divisible(40 / 2) = 24");
        assertEquals(new Shape(40, 24, 3, 3), ols.get("stem.1.weight"));
        assertEquals(new Shape(40), ols.get("stem.2.weight"));
        Map<String, Shape> act = unbuilt("convnext_zepto_rms_ols").stateDictShapes();
        assertEquals(new Shape(32, 32, 3, 3), act.get("stem.2.weight"), "the activation takes index 1");
        assertFalse(act.containsKey("stem.3.bias"), "SimpleNorm2d has no bias");
        Map<String, Shape> hnf = unbuilt("convnext_tiny_hnf").stateDictShapes();
        assertTrue(hnf.containsKey("norm_pre.weight"));
        assertFalse(hnf.containsKey("head.norm.weight"));
        assertEquals(new Shape(384, 96, 1, 1), hnf.get("stages.0.blocks.0.mlp.fc1.weight"));
        Map<String, Shape> mlp = unbuilt("convnext_large_mlp").stateDictShapes();
        assertEquals(new Shape(1536, 1536), mlp.get("head.pre_logits.fc.weight"));
        Map<String, Shape> tiny = unbuilt("convnextv2_tiny").stateDictShapes();
        assertEquals(new Shape(384, 96), tiny.get("stages.0.blocks.0.mlp.fc1.weight"));
        assertEquals(new Shape(384), tiny.get("stages.0.blocks.0.mlp.grn.weight"));
        assertFalse(tiny.containsKey("stages.0.blocks.0.gamma"));
    }

    @Test
    void headsPoolingAndReset() {
        try (ImageModel m = Models.createModel(
                        "convnext_atto", ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            assertEquals(new Shape(2, 320), m.forward(x).getShape());
            assertEquals(320, m.numFeatures());
            assertFalse(m.stateDict().containsKey("head.fc.weight"));
            assertTrue(m.stateDict().containsKey("head.norm.weight"), "the head norm stays without a classifier");
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 320, 2, 2), m.forward(x).getShape());
            m.resetClassifier(5, "");
            assertEquals(
                    new Shape(5, 320, 1, 1),
                    m.stateDict().get("head.fc.weight").getShape(),
                    "timm's 1x1 conv classifier on maps");
            assertEquals(new Shape(2, 5, 2, 2), m.forward(x).getShape());
            m.resetClassifier(10, "avg");
            assertEquals(new Shape(10, 320), m.stateDict().get("head.fc.weight").getShape());
            assertEquals(new Shape(2, 10), m.forward(x).getShape());
            m.resetClassifier(10, "max");
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 320), m.forwardHead(feats, true).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(10, "catavgmax"));
        }
        try (ImageModel m = smallTv();
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            assertEquals(new Shape(2, 1000), m.forward(x).getShape());
            m.resetClassifier(0, "avg");
            assertEquals(new Shape(2, 40), m.forward(x).getShape());
            assertFalse(m.stateDict().containsKey("classifier.2.weight"));
            assertTrue(m.stateDict().containsKey("classifier.0.weight"));
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 40, 2, 2), m.forward(x).getShape());
            assertResetTo(m, x, 4, "avg", "classifier.2", 40);
        }
    }

    @Test
    void preLogitsAreTheNormalizedAverage() {
        try (ImageModel m = Models.createModel("convnext_atto");
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 64));
            NDArray pre = m.forwardHead(feats, true);
            // the head LayerNorm starts as weight 1, bias 0: per sample the pooled features have mean 0, variance 1
            NDArray mean = pre.mean(new int[] {1});
            NDArray var = pre.sub(mean.reshape(2, 1)).square().mean(new int[] {1});
            assertTrue(mean.abs().max().getFloat() < 1e-4f);
            assertEquals(1f, var.getFloat(0), 1e-3f);
        }
    }

    @Test
    void aHiddenSizeHeadKeepsItsWeightsWhenPoolingIsSwitchedOff() {
        ConvNeXt.Config cfg =
                ConvNeXt.Config.of(List.of(1, 1, 1, 1), List.of(8, 16, 24, 32)).headHidden(12);
        try (NDManager mgr = NDManager.newBaseManager()) {
            ConvNeXt m = new ConvNeXt(cfg, new ModelArgs(3, 3, "avg", 0, 0));
            m.materialize(mgr);
            m.initialize(new SplittableRandom(1));
            m.eval();
            NDArray x = input(mgr, 64);
            float[] before = m.stateDict().get("head.pre_logits.fc.weight").toFloatArray();
            NDArray pooledOut = m.forward(x);
            m.resetClassifier(3, "");
            assertEquals(
                    new Shape(12, 32, 1, 1),
                    m.stateDict().get("head.pre_logits.fc.weight").getShape());
            assertTrue(Arrays.equals(
                    before, m.stateDict().get("head.pre_logits.fc.weight").toFloatArray()));
            assertEquals(new Shape(2, 3, 2, 2), m.forward(x).getShape());
            assertEquals(new Shape(2, 3), pooledOut.getShape());
        }
    }

    @Test
    void intermediatesMatchFeatureInfo() {
        for (String name : new String[] {"convnext_atto", "convnextv2_atto", "tv"}) {
            try (FeatureExtractor fe = name.equals("tv")
                    ? new FeatureExtractor(smallTv(), null)
                    : Models.createFeatureExtractor(name, ModelOptions.builder().build())) {
                ModelTesting.assertIntermediatesMatchFeatureInfo(fe, name, 64, List.of(4, 8, 16, 32));
            }
        }
        try (ImageModel m = smallTv();
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    List.of("features.1", "features.3", "features.5", "features.7"),
                    m.featureInfo().stream().map(FeatureInfo::module).toList());
            NDArray x = input(s, 64);
            NDList last = m.forwardIntermediates(x, new int[] {-1});
            NDArray feats = m.forwardFeatures(x);
            assertEquals(0f, last.get(0).sub(feats).abs().max().getFloat(), "the last level is forwardFeatures");
        }
    }

    @Test
    void layerScaleAndTimmInit() {
        try (ImageModel m = Models.createModel(
                "convnext_atto", ModelOptions.builder().dropPathRate(0.2).build())) {
            assertEquals(
                    1e-6f, m.stateDict().get("stages.0.blocks.0.gamma").max().getFloat(), 1e-12f);
            assertEquals(
                    0f,
                    m.stateDict()
                            .get("stages.0.blocks.0.conv_dw.bias")
                            .abs()
                            .sum()
                            .getFloat());
            float std = (float) Math.sqrt(
                    m.stateDict().get("head.fc.weight").square().mean().getFloat());
            assertEquals(0.02f, std, 0.002f);
            NDArray x = input(m.getManager(), 32);
            m.train(true);
            assertEquals(new Shape(2, 1000), m.forward(x).getShape());
        }
        try (ImageModel m = Models.createModel("convnextv2_atto")) {
            assertEquals(
                    0f,
                    m.stateDict()
                            .get("stages.0.blocks.0.mlp.grn.weight")
                            .abs()
                            .sum()
                            .getFloat(),
                    "GRN starts as identity");
        }
    }
}
