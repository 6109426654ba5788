package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Identity;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The timm API on RegNets (timm and torchvision layouts), and the names they register. */
class RegNetApiTest {
    /** A model built outside the registry, owning its arrays like a created one. */
    static <M extends ImageModel> M make(M m) {
        NDManager mgr = NDManager.newBaseManager();
        m.setOwnedManager(mgr);
        m.materialize(mgr);
        m.initialize(new SplittableRandom(0));
        m.eval();
        return m;
    }

    /** A small RegNet-V: pre-activation blocks, SiLU, average-pool shortcuts. */
    private static RegNet smallPreact() {
        RegNet.Config c = RegNet.Config.y(24, 36.44, 2.49, 8, 13)
                .withAct(Activation.Kind.SILU)
                .withPreact()
                .withDownsample(RegNet.Downsample.AVG);
        return make(new RegNet(c, ModelArgs.defaults()));
    }

    @Test
    void everyRegNetBuildsWithFiveLevels() {
        // that these are timm's 36 regnet names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        for (String n : ModelTesting.registeredNames("regnet")) {
            // building the module tree checks the width rules (4 stages, widths divisible by groups)
            assertEquals(5, ((RegNet) unbuilt(n)).featureInfo().size(), n);
        }
    }

    @Test
    void variantKeysFollowTimm() {
        Map<String, Shape> v = unbuilt("regnetv_064").stateDictShapes();
        assertEquals(new Shape(32, 3, 3, 3), v.get("stem.weight"), "pre-activation stem is a bare conv");
        assertTrue(v.containsKey("s1.b1.norm1.running_var"));
        assertTrue(v.containsKey("s1.b1.downsample.1.weight"), "avg downsample: pool then conv");
        assertFalse(v.containsKey("s1.b1.downsample.1.conv.weight"));
        Map<String, Shape> z = unbuilt("regnetz_005").stateDictShapes();
        // last stage: 16 * 2.51^3 = 253 -> 256 (quantized to 8), bottleneck 4 * 256 divisible by 4
        assertEquals(new Shape(1024, 256, 1, 1), z.get("final_conv.conv.weight"));
        assertEquals(new Shape(256, 1024, 1, 1), z.get("s4.b1.conv3.conv.weight"));
        assertFalse(
                z.keySet().stream().anyMatch(k -> k.contains("downsample")), "RegNet-Z has no projection shortcuts");
        Map<String, Shape> g = unbuilt("regnety_040_sgn").stateDictShapes();
        assertFalse(g.containsKey("stem.bn.running_mean"), "GroupNorm has no running stats");
        assertTrue(g.containsKey("stem.bn.weight"));
    }

    @Test
    void headsPoolingAndReset() {
        for (String name : new String[] {"regnetx_002", "tv/regnet_x_400mf"}) {
            int width = name.startsWith("tv/") ? 400 : 368;
            String fc = name.startsWith("tv/") ? "fc.weight" : "head.fc.weight";
            try (ImageModel m = Models.createModel(
                            name, ModelOptions.builder().numClasses(0).build());
                    NDManager s = m.getManager().newSubManager()) {
                NDArray x = input(s, 64);
                assertEquals(new Shape(2, width), m.forward(x).getShape(), name);
                assertEquals(width, m.numFeatures());
                assertFalse(m.stateDict().containsKey(fc), name);
                m.resetClassifier(0, "");
                assertEquals(new Shape(2, width, 2, 2), m.forward(x).getShape(), name);
                assertResetTo(m, x, 7, "avg", fc.replace(".weight", ""), width);
                m.resetClassifier(3, "catavgmax");
                assertEquals(new Shape(3, 2 * width), m.stateDict().get(fc).getShape());
                NDArray feats = m.forwardFeatures(x);
                assertEquals(new Shape(2, 2 * width), m.forwardHead(feats, true).getShape());
                assertEquals(new Shape(2, 3), m.forwardHead(feats, false).getShape());
                List<String> keys = List.copyOf(m.stateDict().keySet());
                assertEquals(fc.replace("weight", "bias"), keys.get(keys.size() - 1));
            }
        }
    }

    @Test
    void preLogitsAreTheAveragedFeatures() {
        try (ImageModel m = Models.createModel("regnety_002");
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 64));
            assertEquals(new Shape(2, 368, 2, 2), feats.getShape());
            NDArray mean = feats.sum(new int[] {2, 3}).div(4f);
            assertTrue(m.forwardHead(feats, true).sub(mean).abs().max().getFloat() < 1e-5f);
        }
    }

    @Test
    void intermediatesMatchFeatureInfo() {
        for (String name : new String[] {"regnety_002", "tv/regnet_y_400mf", "preact"}) {
            try (FeatureExtractor fe = name.equals("preact")
                    ? new FeatureExtractor(smallPreact(), null)
                    : Models.createFeatureExtractor(name, ModelOptions.builder().build())) {
                ModelTesting.assertIntermediatesMatchFeatureInfo(fe, name, 64, List.of(2, 4, 8, 16, 32));
            }
        }
        try (ImageModel m = Models.createModel("tv/regnet_x_400mf");
                NDManager s = m.getManager().newSubManager()) {
            assertEquals("trunk_output.block4", m.featureInfo().get(4).module());
            NDList two = m.forwardIntermediates(input(s, 64), new int[] {1, -1});
            assertEquals(new Shape(2, 32, 16, 16), two.get(0).getShape());
            assertEquals(new Shape(2, 400, 2, 2), two.get(1).getShape());
        }
    }

    @Test
    void preactivationBlocksRunAndEndWithTheActivation() {
        try (RegNet m = smallPreact();
                NDManager s = m.getManager().newSubManager()) {
            assertTrue(m.stateDict().containsKey("s2.b1.downsample.1.weight"));
            NDArray f = m.forwardFeatures(input(s, 32));
            assertEquals(new Shape(2, 368, 1, 1), f.getShape());
            // final_conv is SiLU: x * sigmoid(x) >= -0.2785
            assertTrue(f.min().getFloat() >= -0.28f);
        }
    }

    @Test
    void timmInitZeroesEachBlocksLastNormAndDropPathRisesOverBlocks() {
        try (ImageModel m = Models.createModel(
                        "regnetx_002", ModelOptions.builder().dropPathRate(0.1).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    0f, m.stateDict().get("s1.b1.conv3.bn.weight").abs().sum().getFloat());
            assertEquals(1f, m.stateDict().get("s1.b1.conv2.bn.weight").min().getFloat());
            float std = (float) Math.sqrt(
                    m.stateDict().get("head.fc.weight").square().mean().getFloat());
            assertEquals(0.01f, std, 0.001f, "timm inits the classifier with N(0, 0.01)");
            List<Float> rates = dropPathRates(m);
            assertEquals(12, rates.size(), "13 blocks, the first at rate 0");
            assertEquals(0.1f, rates.get(rates.size() - 1), 1e-6f);
            assertInstanceOf(Identity.class, m.child("s1").child("b1").child("drop_path"));
            NDArray x = input(s, 32);
            m.train(true);
            assertEquals(new Shape(2, 1000), m.forward(x).getShape());
        }
    }
}
