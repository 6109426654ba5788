package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.layers.Identity;
import dev.jimm.parity.ParityFixture;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The timm API on Inception v3 (timm's and torchvision's): heads, pooling, levels, init and pretrained loading. Inputs
 * are small (107 px) where the sizes are not the point: the model is slow on a shared CPU.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InceptionV3ApiTest {
    /** Read-only in every test (nothing resets its head or loads into it). */
    private ImageModel timm;

    @BeforeAll
    void build() {
        timm = Models.createModel("inception_v3", ModelOptions.builder().seed(3).build());
    }

    @AfterAll
    void close() {
        timm.close();
    }

    @Test
    void defaultsAre299PixelsWithoutAuxHead() {
        assertEquals(List.of(3, 299, 299), timm.pretrainedCfg().inputSize());
        assertEquals("Conv2d_1a_3x3.conv", timm.pretrainedCfg().firstConv());
        assertEquals("fc", timm.pretrainedCfg().classifier());
        assertFalse(timm.stateDict().keySet().stream().anyMatch(k -> k.startsWith("AuxLogits")), "no aux head");
        assertEquals(new Shape(128, 128, 1, 7), timm.stateDictShapes().get("Mixed_6b.branch7x7_2.conv.weight"));
        assertEquals(new Shape(192, 128, 7, 1), timm.stateDictShapes().get("Mixed_6b.branch7x7_3.conv.weight"));
        assertEquals(2048, timm.numFeatures());
        assertEquals(
                "torchvision", ModelRegistry.builtIn().entry("tv/inception_v3").family());
        assertEquals(
                List.of(3, 299, 299),
                ModelRegistry.builtIn().config("tv/inception_v3").inputSize());
    }

    @Test
    void timmsTagsAreRegistered() {
        // the default pretrained config and timm's one name: RegistryTest (every timm fixture, every family)
        ModelRegistry registry = ModelRegistry.builtIn();
        List<String> tags = registry.pretrainedTags("inception_v3").stream()
                .map(PretrainedCfg::tag)
                .toList();
        assertTrue(tags.containsAll(List.of("tv_in1k", "tf_in1k", "tf_adv_in1k", "gluon_in1k")), tags.toString());
        assertEquals(
                0.485,
                registry.config("inception_v3.gluon_in1k").mean().get(0),
                1e-9,
                "gluon weights use ImageNet stats");
    }

    @Test
    void initFollowsTimm() {
        NDArray w = timm.stateDict().get("Mixed_7c.branch3x3dbl_2.conv.weight");
        assertEquals(0.1f, (float) Math.sqrt(w.square().mean().getFloat()), 0.002f, "trunc_normal_(std=0.1)");
        assertEquals(0f, w.mean().getFloat(), 0.001f);
        assertEquals(
                0.1f,
                (float) Math.sqrt(
                        timm.stateDict().get("fc.weight").square().mean().getFloat()),
                0.002f);
        NDArray g = timm.stateDict().get("Mixed_7c.branch_pool.bn.weight");
        assertEquals(1f, g.min().getFloat());
        assertEquals(1f, g.max().getFloat());
    }

    @Test
    void preLogitsAreTheAveragePooledFeatures() {
        try (NDManager s = timm.getManager().newSubManager()) {
            NDArray feats = timm.forwardFeatures(input(s, 2, 3, 107));
            // 107 -> 53 -> 51 -> 25 (pool) -> 23 -> 11 (pool) -> 5 (Mixed_6a) -> 2 (Mixed_7a)
            assertEquals(new Shape(2, 2048, 2, 2), feats.getShape());
            NDArray pre = timm.forwardHead(feats, true);
            assertTrue(maxAbsDiff(pre, feats.sum(new int[] {2, 3}).div(4f)) < 1e-5);
            assertEquals(new Shape(2, 1000), timm.forwardHead(feats, false).getShape());
        }
    }

    @Test
    void intermediatesSelectLevels() {
        try (NDManager s = timm.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 107);
            NDList two = timm.forwardIntermediates(x, new int[] {1, -1});
            assertEquals(2, two.size());
            assertEquals(new Shape(1, 192, 23, 23), two.get(0).getShape());
            assertEquals(0, maxAbsDiff(two.get(1), timm.forwardFeatures(x)), "the last level is forwardFeatures");
            assertThrows(IllegalArgumentException.class, () -> timm.forwardIntermediates(x, new int[] {5}));
        }
    }

    @Test
    void featuresOnlyLevelsMatchTimmFeatureInfo() {
        ParityFixture fx = ParityFixture.read(TestFixtures.parity("timm__inception_v3"));
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "tv/inception_v3", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 1, 3, 299));
            int[] sizes = {147, 71, 35, 17, 8};
            assertEquals(fx.featureInfo().size(), maps.size());
            for (int i = 0; i < maps.size(); i++) {
                Object[] ref = fx.featureInfo().get(i);
                assertEquals(
                        new Shape(1, (Integer) ref[0], sizes[i], sizes[i]),
                        maps.get(i).getShape(),
                        "level " + i);
                assertEquals(ref[1], fe.featureInfo().get(i).reduction());
                assertEquals(ref[2], fe.featureInfo().get(i).module());
            }
            assertFalse(fe.stateDict().containsKey("fc.weight"));
        }
    }

    @Test
    void numClassesZeroAndResetClassifierSwitchHeads() {
        try (ImageModel m = Models.createModel(
                        "tv/inception_v3", ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 75);
            assertEquals(new Shape(1, 2048), m.forward(x).getShape());
            assertFalse(m.stateDict().containsKey("fc.weight"));
            m.resetClassifier(0, "");
            assertEquals(new Shape(1, 2048, 1, 1), m.forward(x).getShape());
            assertInstanceOf(Identity.class, m.child("fc"));
            m.resetClassifier(10, "avg");
            assertEquals(new Shape(1, 10), m.forward(x).getShape());
            m.resetClassifier(3, "catavgmax");
            assertEquals(new Shape(3, 4096), m.stateDict().get("fc.weight").getShape());
            assertEquals(new Shape(1, 3), m.forward(x).getShape());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("fc.bias", keys.get(keys.size() - 1));
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(5, ""));
        }
    }

    @Test
    void pretrainedLoadingDropsAuxKeysAndTorchvisionTurnsOnTransformInput() {
        try (ImageModel tv = Models.createModel(
                        "tv/inception_v3", ModelOptions.builder().seed(9).build());
                NDManager s = timm.getManager().newSubManager()) {
            // a checkpoint as torchvision (and timm's tv_in1k) ship it: with the aux head's keys
            Map<String, NDArray> sd = new LinkedHashMap<>(timm.stateDict());
            sd.put("AuxLogits.conv0.conv.weight", s.zeros(new Shape(128, 768, 1, 1)));
            sd.put("AuxLogits.fc.weight", s.zeros(new Shape(1000, 768)));
            assertFalse(((InceptionV3) tv).transformInput(), "off without weights, as in torchvision");
            PretrainedLoader.load(tv, sd);
            assertTrue(((InceptionV3) tv).transformInput(), "torchvision switches it on with weights");
            assertFalse(((InceptionV3) timm).transformInput(), "timm has no transform_input");

            NDArray x = input(s, 1, 3, 75);
            // transform_input: channel c becomes x * std_c / 0.5 + (mean_c - 0.5) / 0.5
            NDArray mean = s.create(new float[] {0.485f, 0.456f, 0.406f}).reshape(1, 3, 1, 1);
            NDArray std = s.create(new float[] {0.229f, 0.224f, 0.225f}).reshape(1, 3, 1, 1);
            NDArray xt = x.mul(std).div(0.5f).add(mean.sub(0.5f).div(0.5f));
            NDArray expected = timm.forward(xt);
            assertTrue(maxAbsDiff(tv.forward(x), expected)
                    < 1e-4 * expected.abs().max().getFloat());
            ((InceptionV3) tv).setTransformInput(false);
            assertEquals(
                    0, maxAbsDiff(tv.forward(x), timm.forward(x)), "the same network and weights in both flavours");
        }
    }

    @Test
    void inChansAndTransformInputNeedThreeChannels() {
        try (ImageModel m = Models.createModel(
                        "inception_v3",
                        ModelOptions.builder().inChans(1).numClasses(4).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    new Shape(32, 1, 3, 3),
                    m.stateDict().get("Conv2d_1a_3x3.conv.weight").getShape());
            assertEquals(new Shape(2, 4), m.forward(input(s, 2, 1, 75)).getShape());
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> ((InceptionV3) m).setTransformInput(true));
            assertTrue(e.getMessage().contains("inChans 1"), e.getMessage());
        }
    }
}
