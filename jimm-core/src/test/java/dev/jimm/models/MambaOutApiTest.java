package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import org.junit.jupiter.api.Test;

/**
 * MambaOut: every name's parameter count against timm's, the gated block's split, the {@code _rw} variants' norm-first
 * downsampling, layer scale and ClNorm head, NHWC features with NCHW intermediates, the head's reset and the original
 * checkpoints' keys.
 */
class MambaOutApiTest {
    /** timm's published counts (results csvs, millions to two decimals); femto's exact one is its fixture's. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "mambaout_kobe", 9.14,
            "mambaout_tiny", 26.55,
            "mambaout_small", 48.49,
            "mambaout_base", 84.81,
            "mambaout_small_rw", 48.50,
            "mambaout_base_short_rw", 88.83,
            "mambaout_base_tall_rw", 86.48,
            "mambaout_base_wide_rw", 94.45,
            "mambaout_base_plus_rw", 101.66,
            "test_mambaout", 0.45);

    @Test
    void everyNameHasTimmsParameterCount() {
        ParityFixture fx =
                ParityFixture.read(TestFixtures.root().resolve("parity-wave2/timm__mambaout_femto.safetensors"));
        assertEquals(fx.meta().get("param_count").getAsLong(), ModelTesting.paramCount("mambaout_femto"));
        for (Map.Entry<String, Double> e : TIMM_MILLIONS.entrySet()) {
            long n = ModelTesting.paramCount(e.getKey());
            assertEquals(e.getValue(), Math.round(n / 1e4) / 100.0, 1e-9, e.getKey() + ": " + n);
        }
        Set<String> all = new HashSet<>(TIMM_MILLIONS.keySet());
        all.add("mambaout_femto");
        assertEquals(all, Set.copyOf(ModelTesting.timmNames("mambaout")));
    }

    @Test
    void rwVariantsDiffer() {
        Map<String, Shape> femto = ModelTesting.unbuilt("mambaout_femto").stateDictShapes();
        assertEquals(new Shape(24), femto.get("stem.norm1.weight"));
        assertEquals(new Shape(96), femto.get("stages.1.downsample.norm.weight"), "norm after the conv");
        assertFalse(femto.containsKey("stages.0.blocks.0.ls.gamma"));
        assertEquals(new Shape(1152), femto.get("head.pre_logits.norm.weight"));

        Map<String, Shape> wide = ModelTesting.unbuilt("mambaout_base_wide_rw").stateDictShapes();
        assertFalse(wide.containsKey("stem.norm1.weight"));
        assertEquals(new Shape(128), wide.get("stages.1.downsample.norm.weight"), "norm before the conv");
        assertEquals(new Shape(768, 128), wide.get("stages.0.blocks.0.fc1.weight"), "2 x 3.0 x 128");
        assertEquals(new Shape(192, 1, 7, 7), wide.get("stages.0.blocks.0.conv.weight"), "1.5 x 128");
        assertEquals(new Shape(128), wide.get("stages.0.blocks.0.ls.gamma"));
        assertEquals(new Shape(3072, 768), wide.get("head.pre_logits.fc.weight"));
        assertFalse(wide.containsKey("head.pre_logits.norm.weight"), "ClNormMlpClassifierHead");
    }

    @Test
    void headFeaturesAndReset() {
        try (ImageModel m = Models.createModel(
                        "test_mambaout", ModelOptions.builder().build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray gamma = m.stateDict().get("stages.2.blocks.1.ls.gamma");
            assertEquals(1e-5f, gamma.min().getFloat(), 1e-12f, "timm's LayerScale default, not ls_init_value");
            assertEquals(1e-5f, gamma.max().getFloat(), 1e-12f);
            NDArray x = input(s, 2, 3, 64);
            NDArray features = m.forwardFeatures(x);
            assertEquals(new Shape(2, 2, 2, 64), features.getShape(), "NHWC");
            NDList levels = m.forwardIntermediates(x, new int[] {0, -1});
            assertEquals(new Shape(2, 16, 16, 16), levels.get(0).getShape());
            assertEquals(0, ModelTesting.maxAbsDiff(levels.get(1), features.transpose(0, 3, 1, 2)));
            assertEquals(256, m.headHiddenSize());
            assertEquals(new Shape(2, 256), m.forwardHead(features, true).getShape());

            float[] pre = m.stateDict().get("head.pre_logits.fc.weight").toFloatArray();
            m.resetClassifier(3, "max");
            assertArrayEquals(
                    pre, m.stateDict().get("head.pre_logits.fc.weight").toFloatArray(), "kept");
            assertEquals(new Shape(3, 256), m.stateDict().get("head.fc.weight").getShape());
            assertEquals(new Shape(2, 3), m.forward(x).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, ""));
            m.resetClassifier(0, "");
            assertEquals(0, ModelTesting.maxAbsDiff(m.forwardHead(features, false), features));
        }
        try (ImageModel m =
                Models.createModel("mambaout_femto", ModelOptions.builder().build())) {
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, "max"), "MlpHead pools only avg");
        }
    }

    @Test
    void featuresOnlyGivesNchwStages() {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "mambaout_femto", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 1, 3, 64));
            int[] chs = {48, 96, 192, 288};
            for (int i = 0; i < 4; i++) {
                assertEquals(new Shape(1, chs[i], 16 >> i, 16 >> i), maps.get(i).getShape(), "level " + i);
            }
            assertTrue(fe.stateDict().keySet().stream().noneMatch(k -> k.startsWith("head.")));
        }
    }

    @Test
    void originalCheckpointKeysAreRenamed() {
        try (ImageModel m = Models.createModel(
                        "test_mambaout", ModelOptions.builder().build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> original = new LinkedHashMap<>();
            for (String k : List.of(
                    "downsample_layers.0.conv1.weight",
                    "downsample_layers.2.conv.weight",
                    "stages.2.1.fc1.weight",
                    "norm.weight",
                    "head.fc1.weight",
                    "head.fc2.bias")) {
                original.put(k, s.zeros(new Shape(1)));
            }
            assertEquals(
                    List.of(
                            "stem.conv1.weight",
                            "stages.2.downsample.conv.weight",
                            "stages.2.blocks.1.fc1.weight",
                            "head.norm.weight",
                            "head.pre_logits.fc.weight",
                            "head.fc.bias"),
                    List.copyOf(m.prepareForPretrained(original).keySet()));
        }
    }
}
