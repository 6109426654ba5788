package dev.jimm.models;

import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.paramCount;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** MLP-Mixer, gMixer, ResMLP and gMLP: timm's names and parameter counts, the head and the feature levels. */
class MlpMixerApiTest {
    /** timm's published counts (results-imagenet.csv, millions to two decimals) of the pretrained names. */
    private static final Map<String, Double> PUBLISHED_M = Map.of(
            "gmixer_24_224", 24.72,
            "gmlp_s16_224", 19.42,
            "mixer_b16_224", 59.88,
            "mixer_l16_224", 208.20,
            "resmlp_12_224", 15.35,
            "resmlp_24_224", 30.02,
            "resmlp_36_224", 44.69,
            "resmlp_big_24_224", 129.14);

    @Test
    void registersExactlyTimmsNames() {
        assertEquals(ModelTesting.timmNames("mlp_mixer"), ModelTesting.registeredNames("mlp_mixer"));
    }

    @Test
    void parameterCountsMatchTimms() {
        PUBLISHED_M.forEach((name, millions) -> assertEquals(
                millions, paramCount(name) / 1e6, 0.005, name + " has " + paramCount(name) + " parameters"));
        // the fixtures' exact counts
        assertEquals(59_880_472L, paramCount("mixer_b16_224"));
        assertEquals(15_350_872L, paramCount("resmlp_12_224"));
    }

    /** The untrained names, counted from timm's layer definitions (stem, blocks, norm, 1000-class head). */
    @Test
    void untrainedNamesCountAsTheirLayers() {
        assertEquals(mixer(32, 8, 512), paramCount("mixer_s32_224"));
        assertEquals(mixer(16, 8, 512), paramCount("mixer_s16_224"));
        assertEquals(mixer(32, 12, 768), paramCount("mixer_b32_224"));
        assertEquals(mixer(32, 24, 1024), paramCount("mixer_l32_224"));
        assertEquals(gmixer(12, 384), paramCount("gmixer_12_224"));
        assertEquals(gmlp(128), paramCount("gmlp_ti16_224"));
        assertEquals(gmlp(512), paramCount("gmlp_b16_224"));
        // the formulas agree with the published counts where timm has weights
        assertEquals(59.88, mixer(16, 12, 768) / 1e6, 0.005);
        assertEquals(24.72, gmixer(24, 384) / 1e6, 0.005);
        assertEquals(19.42, gmlp(256) / 1e6, 0.005);
    }

    private static long linear(long in, long out) {
        return in * out + out;
    }

    private static long stemAndHead(int patch, long d) {
        return 3L * patch * patch * d + d + 2 * d + linear(d, 1000);
    }

    private static long mixer(int patch, int blocks, long d) {
        long n = (224L / patch) * (224L / patch);
        long t = d / 2;
        long block = 4 * d + linear(n, t) + linear(t, n) + linear(d, 4 * d) + linear(4 * d, d);
        return stemAndHead(patch, d) + blocks * block;
    }

    private static long gmixer(int blocks, long d) {
        long n = 196;
        long block = 4 * d + linear(n, d) + linear(d / 2, n) + linear(d, 4 * d) + linear(2 * d, d);
        return stemAndHead(16, d) + blocks * block;
    }

    private static long gmlp(long d) {
        long n = 196;
        long h = 6 * d;
        long block = 2 * d + linear(d, h) + h + linear(n, n) + linear(h / 2, d);
        return stemAndHead(16, d) + 30 * block;
    }

    @Test
    void headPoolsTheTokensAndLevelsAreTokenMaps() {
        try (ImageModel m = Models.createModel(
                        "gmlp_ti16_224", ModelOptions.builder().numClasses(7).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ModelTesting.input(s, 224);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 196, 128), feats.getShape());
            NDArray pooled = m.forwardHead(feats, true);
            assertTrue(maxAbsDiff(pooled, feats.mean(new int[] {1})) < 1e-6f);
            assertEquals(new Shape(2, 7), m.forward(x).getShape());
            assertEquals(30, m.featureInfo().size());
            assertEquals(new FeatureInfo(128, 16, "blocks.29"), m.featureInfo().get(29));
            NDList maps = m.forwardIntermediates(x, new int[] {-1});
            assertEquals(new Shape(2, 128, 14, 14), maps.get(0).getShape());
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 196, 128), m.forward(x).getShape(), "no pooling keeps every token");
            m.resetClassifier(3, "avg");
            assertEquals(new Shape(2, 3), m.forward(x).getShape());
        }
        assertThrows(
                JimmException.class,
                () -> Models.createModel(
                        "mixer_s32_224",
                        ModelOptions.builder().globalPool("max").build()));
    }

    @Test
    void resMlpUsesAffineNormsAndLayerScales() {
        List<String> keys = List.copyOf(
                ModelTesting.unbuilt("resmlp_12_224").stateDictShapes().keySet());
        assertEquals(
                List.of("stem.proj.weight", "stem.proj.bias", "blocks.0.ls1", "blocks.0.ls2", "blocks.0.norm1.alpha"),
                keys.subList(0, 5));
        assertTrue(keys.containsAll(List.of("norm.alpha", "norm.beta", "blocks.11.linear_tokens.weight")));
        try (ImageModel m =
                Models.createModel("resmlp_24_224", ModelOptions.builder().build())) {
            // resmlp_24 starts its layer scales at 1e-5
            assertEquals(1e-5f, m.stateDict().get("blocks.3.ls2").getFloat(0), 1e-12f);
            assertEquals(1f, m.stateDict().get("blocks.3.norm1.alpha").getFloat(0, 0, 5));
        }
    }
}
