package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * InceptionNeXt: every name's parameter count against timm's, the token mixer's channel split, layer-scale init, the
 * MLP head (3x-wide pre-logits, a reset that keeps {@code fc1} and {@code norm}, no classifier without pooling) and the
 * features-only levels.
 */
class InceptionNextApiTest {
    /** timm's published counts (results/*.csv, millions to two decimals); tiny's exact one is its fixture's. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "inception_next_atto", 4.16,
            "inception_next_small", 49.37,
            "inception_next_base", 86.67);

    @Test
    void everyNameHasTimmsParameterCount() {
        ParityFixture fx =
                ParityFixture.read(TestFixtures.root().resolve("parity-wave2/timm__inception_next_tiny.safetensors"));
        assertEquals(fx.meta().get("param_count").getAsLong(), ModelTesting.paramCount("inception_next_tiny"));
        for (Map.Entry<String, Double> e : TIMM_MILLIONS.entrySet()) {
            long n = ModelTesting.paramCount(e.getKey());
            assertEquals(e.getValue(), Math.round(n / 1e4) / 100.0, 1e-9, e.getKey() + ": " + n);
        }
        assertEquals(ModelTesting.timmNames("inception_next").size(), TIMM_MILLIONS.size() + 1);
    }

    @Test
    void tokenMixerSplitsTheChannels() {
        // atto: a quarter of the channels per branch and 9-long bands; tiny: an eighth and 11-long bands
        Map<String, Shape> atto = ModelTesting.unbuilt("inception_next_atto").stateDictShapes();
        assertEquals(new Shape(10, 1, 3, 3), atto.get("stages.0.blocks.0.token_mixer.dwconv_hw.weight"));
        assertEquals(new Shape(10, 1, 1, 9), atto.get("stages.0.blocks.0.token_mixer.dwconv_w.weight"));
        assertEquals(new Shape(40, 1, 9, 1), atto.get("stages.2.blocks.0.token_mixer.dwconv_h.weight"));
        Map<String, Shape> tiny = ModelTesting.unbuilt("inception_next_tiny").stateDictShapes();
        assertEquals(new Shape(96, 1, 1, 11), tiny.get("stages.3.blocks.2.token_mixer.dwconv_w.weight"));
        // the last stage's MLP is 3x wide, the others 4x; the head's fc1 3x
        assertEquals(new Shape(2304, 768, 1, 1), tiny.get("stages.3.blocks.0.mlp.fc1.weight"));
        assertEquals(new Shape(1536, 384, 1, 1), tiny.get("stages.2.blocks.0.mlp.fc1.weight"));
        assertEquals(new Shape(2304, 768), tiny.get("head.fc1.weight"));
        assertEquals(new Shape(1000, 2304), tiny.get("head.fc2.weight"));
        assertFalse(tiny.containsKey("stages.0.downsample.0.weight"), "the first stage keeps the stem's stride");
        assertEquals(new Shape(192, 96, 2, 2), tiny.get("stages.1.downsample.1.weight"));
    }

    @Test
    void headIsTimmsMlpHead() {
        try (ImageModel m = Models.createModel(
                        "inception_next_atto", ModelOptions.builder().seed(3).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray gamma = m.stateDict().get("stages.1.blocks.0.gamma");
            assertEquals(1e-6f, gamma.min().getFloat(), 1e-12f);
            assertEquals(1e-6f, gamma.max().getFloat(), 1e-12f);
            assertEquals(960, m.headHiddenSize());
            assertEquals(320, m.numFeatures());

            NDArray x = input(s, 2, 3, 64);
            NDArray features = m.forwardFeatures(x);
            assertEquals(new Shape(2, 320, 2, 2), features.getShape());
            NDArray pre = m.forwardHead(features, true);
            assertEquals(new Shape(2, 960), pre.getShape());
            // after the LayerNorm (weight 1, bias 0 at init) each row has mean 0 and variance 1
            float[] rowMeans = pre.mean(new int[] {1}).toFloatArray();
            assertArrayEquals(new float[] {0f, 0f}, rowMeans, 1e-4f);
            ModelTesting.assertPreLogitsFeed(m, features, "head.fc2");

            float[] fc1 = m.stateDict().get("head.fc1.weight").toFloatArray();
            m.resetClassifier(7, "max");
            assertArrayEquals(fc1, m.stateDict().get("head.fc1.weight").toFloatArray(), "timm keeps fc1");
            assertEquals(new Shape(7, 960), m.stateDict().get("head.fc2.weight").getShape());
            assertEquals(new Shape(2, 7), m.forwardHead(features, false).getShape());

            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(5, ""));
            m.resetClassifier(0, "");
            assertEquals(0, maxAbsDiff(m.forwardHead(features, false), features), "no head: the maps");
            assertFalse(m.stateDict().keySet().stream().anyMatch(k -> k.startsWith("head.")));

            m.resetClassifier(4, "catavgmax");
            assertEquals(
                    new Shape(960, 640), m.stateDict().get("head.fc1.weight").getShape());
            assertEquals(new Shape(2, 4), m.forward(x).getShape());
        }
    }

    @Test
    void featuresOnlyGivesTheStages() {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "inception_next_atto", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 1, 3, 64));
            assertEquals(
                    List.of("stages.0", "stages.1", "stages.2", "stages.3"),
                    fe.featureInfo().stream().map(FeatureInfo::module).toList());
            int[] chs = {40, 80, 160, 320};
            for (int i = 0; i < 4; i++) {
                int side = 16 >> i;
                assertEquals(new Shape(1, chs[i], side, side), maps.get(i).getShape(), "level " + i);
            }
            assertTrue(fe.stateDict().keySet().stream().noneMatch(k -> k.startsWith("head.")));
        }
    }
}
