package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.parity.ParityFixture;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * FocalNet: every name's parameter count against timm's (the large ones with the class counts of their ImageNet-22k
 * heads, as timm's benchmark counted them), the focal levels' kernels, the large variants' post-norms, layer scale and
 * overlapping downsampling, the optional NormMlpClassifierHead, features-only levels and the original checkpoints'
 * keys.
 */
class FocalNetApiTest {
    /**
     * timm's published counts in millions (results-imagenet.csv; the in22k ones from its benchmark csv) and classes.
     */
    private static final Map<String, double[]> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("focalnet_small_srf", new double[] {49.89, 1000}),
            Map.entry("focalnet_base_srf", new double[] {88.15, 1000}),
            Map.entry("focalnet_tiny_lrf", new double[] {28.65, 1000}),
            Map.entry("focalnet_small_lrf", new double[] {50.34, 1000}),
            Map.entry("focalnet_base_lrf", new double[] {88.75, 1000}),
            Map.entry("focalnet_large_fl3", new double[] {239.13, 21842}),
            Map.entry("focalnet_large_fl4", new double[] {239.32, 21842}),
            Map.entry("focalnet_xlarge_fl3", new double[] {408.79, 21842}),
            Map.entry("focalnet_xlarge_fl4", new double[] {409.03, 21842}),
            Map.entry("focalnet_huge_fl3", new double[] {745.28, 21842}),
            Map.entry("focalnet_huge_fl4", new double[] {686.46, 0}));

    private static ImageModel unbuilt(String name, int classes) {
        ModelEntry e = ModelRegistry.builtIn().entry(name);
        return e.factory().apply(new ModelArgs(classes, 3, "avg", 0, 0));
    }

    @Test
    void everyNameHasTimmsParameterCount() {
        ParityFixture fx =
                ParityFixture.read(TestFixtures.root().resolve("parity-wave2/timm__focalnet_tiny_srf.safetensors"));
        assertEquals(fx.meta().get("param_count").getAsLong(), ModelTesting.paramCount("focalnet_tiny_srf"));
        for (Map.Entry<String, double[]> e : TIMM_MILLIONS.entrySet()) {
            long n = ModelTesting.paramCount(unbuilt(e.getKey(), (int) e.getValue()[1]));
            assertEquals(e.getValue()[0], Math.round(n / 1e4) / 100.0, 1e-9, e.getKey() + ": " + n);
        }
        Set<String> all = new HashSet<>(TIMM_MILLIONS.keySet());
        all.add("focalnet_tiny_srf");
        assertEquals(all, Set.copyOf(ModelTesting.timmNames("focalnet")));
    }

    @Test
    void largeVariantsHavePostNormsLayerScaleAndOverlap() {
        Map<String, Shape> lrf = ModelTesting.unbuilt("focalnet_tiny_lrf").stateDictShapes();
        assertEquals(new Shape(96, 1, 7, 7), lrf.get("layers.0.blocks.0.modulation.focal_layers.2.0.weight"));
        assertEquals(new Shape(196, 96, 1, 1), lrf.get("layers.0.blocks.0.modulation.f.weight"), "2C + 4 gates");
        assertEquals(new Shape(192, 96, 2, 2), lrf.get("layers.1.downsample.proj.weight"));
        assertFalse(lrf.containsKey("layers.0.blocks.0.ls1.gamma"));

        Map<String, Shape> large = ModelTesting.unbuilt("focalnet_large_fl3").stateDictShapes();
        assertEquals(new Shape(192, 3, 7, 7), large.get("stem.proj.weight"));
        assertEquals(new Shape(384, 192, 3, 3), large.get("layers.1.downsample.proj.weight"));
        assertEquals(new Shape(192, 1, 9, 9), large.get("layers.0.blocks.0.modulation.focal_layers.2.0.weight"));
        assertTrue(large.containsKey("layers.0.blocks.0.norm1_post.weight"));
        assertFalse(large.containsKey("layers.0.blocks.0.norm1.weight"));
        assertEquals(new Shape(192), large.get("layers.0.blocks.0.ls2.gamma"));
        assertFalse(large.containsKey("layers.0.blocks.0.modulation.norm.weight"));

        Map<String, Shape> huge = ModelTesting.unbuilt("focalnet_huge_fl4").stateDictShapes();
        assertEquals(new Shape(352), huge.get("layers.0.blocks.0.modulation.norm.weight"));
        assertEquals(new Shape(352, 1, 9, 9), huge.get("layers.0.blocks.0.modulation.focal_layers.3.0.weight"));
    }

    @Test
    void layerScaleStartsAtTimmsValue() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            FocalNet m = small(
                    mgr,
                    FocalNet.Config.builder().depths(1, 1, 2, 1).embedDim(16).large(false),
                    10);
            NDArray g = m.stateDict().get("layers.2.blocks.1.ls1.gamma");
            assertEquals(1e-4f, g.min().getFloat(), 1e-10f);
            assertEquals(1e-4f, g.max().getFloat(), 1e-10f);
        }
    }

    @Test
    void normMlpHeadVariant() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            FocalNet m = small(
                    mgr,
                    FocalNet.Config.builder().depths(1, 1, 1, 1).embedDim(16).headHiddenSize(64),
                    10);
            Map<String, Shape> sd = m.stateDictShapes();
            assertFalse(sd.containsKey("norm.weight"), "the head's norm replaces the final norm");
            assertEquals(new Shape(128), sd.get("head.norm.weight"));
            assertEquals(new Shape(64, 128), sd.get("head.pre_logits.fc.weight"));
            assertEquals(new Shape(10, 64), sd.get("head.fc.weight"));
            assertEquals(64, m.headHiddenSize());
            NDArray x = input(mgr, 2, 3, 64);
            assertEquals(new Shape(2, 10), m.forward(x).getShape());
            m.resetClassifier(0, "avg");
            assertEquals(new Shape(2, 64), m.forward(x).getShape());
        }
    }

    private static FocalNet small(NDManager mgr, FocalNet.Config.Builder c, int classes) {
        FocalNet m = new FocalNet(c.build(), new ModelArgs(classes, 3, "avg", 0, 0));
        m.materialize(mgr);
        m.initialize(new SplittableRandom(1));
        m.eval();
        return m;
    }

    @Test
    void featuresOnlyGivesTheLayers() {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "focalnet_tiny_srf", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 1, 3, 64));
            assertEquals(
                    List.of("layers.0", "layers.1", "layers.2", "layers.3"),
                    fe.featureInfo().stream().map(FeatureInfo::module).toList());
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(1, 96 << i, 16 >> i, 16 >> i), maps.get(i).getShape(), "level " + i);
            }
        }
    }

    @Test
    void originalCheckpointKeysAreRenamed() {
        try (NDManager s = NDManager.newBaseManager()) {
            FocalNet m = small(
                    s, FocalNet.Config.builder().depths(1, 1, 1, 1).embedDim(16).large(false), 5);
            Map<String, NDArray> original = new LinkedHashMap<>();
            original.put("patch_embed.proj.weight", s.zeros(new Shape(16, 3, 7, 7)));
            original.put("layers.0.downsample.proj.weight", s.zeros(new Shape(32, 16, 3, 3)));
            original.put("layers.0.blocks.0.gamma_1", s.zeros(new Shape(16)));
            original.put("layers.0.blocks.0.norm1.weight", s.zeros(new Shape(16)));
            original.put("head.weight", s.zeros(new Shape(5, 128)));
            List<String> keys = List.copyOf(m.prepareForPretrained(original).keySet());
            assertEquals(
                    List.of(
                            "stem.proj.weight",
                            "layers.1.downsample.proj.weight",
                            "layers.0.blocks.0.ls1.gamma",
                            "layers.0.blocks.0.norm1_post.weight",
                            "head.fc.weight"),
                    keys);
        }
    }
}
