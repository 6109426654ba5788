package dev.jimm.models;

import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.paramCount;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** CaiT: timm's names and parameter counts, the class-token head and its pooling choices, the feature levels. */
class CaitApiTest {
    /** timm's published counts (results-imagenet.csv, millions to two decimals). */
    private static final Map<String, Double> PUBLISHED_M = Map.of(
            "cait_m36_384", 271.22,
            "cait_m48_448", 356.46,
            "cait_s24_224", 46.92,
            "cait_s24_384", 47.06,
            "cait_s36_384", 68.37,
            "cait_xs24_384", 26.67,
            "cait_xxs24_224", 11.96,
            "cait_xxs24_384", 12.03,
            "cait_xxs36_224", 17.30,
            "cait_xxs36_384", 17.37);

    @Test
    void registersExactlyTimmsNamesWithTheirParameterCounts() {
        assertEquals(ModelTesting.timmNames("cait"), ModelTesting.registeredNames("cait"));
        PUBLISHED_M.forEach((name, millions) -> assertEquals(
                millions, paramCount(name) / 1e6, 0.005, name + " has " + paramCount(name) + " parameters"));
        assertEquals(11_956_264L, paramCount("cait_xxs24_224"), "the fixture's exact count");
    }

    @Test
    void headPoolsTheClassTokenOrThePatchMean() {
        try (ImageModel m = Models.createModel(
                        "cait_xxs24_224", ModelOptions.builder().numClasses(4).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ModelTesting.input(s, 224);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 197, 192), feats.getShape(), "the class token, then 196 patches");
            assertTrue(maxAbsDiff(m.forwardHead(feats, true), feats.get(":, 0")) == 0f);
            m.resetClassifier(0, "avg");
            assertTrue(
                    maxAbsDiff(m.forwardHead(feats, false), feats.get(":, 1:").mean(new int[] {1})) < 1e-6f);
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 197, 192), m.forwardHead(feats, false).getShape());

            assertEquals(24, m.featureInfo().size());
            NDList maps = m.forwardIntermediates(x, new int[] {0, 23});
            assertEquals(new Shape(2, 192, 14, 14), maps.get(1).getShape());
            // the blocks start near the identity (layer scale 1e-5): levels differ, by little
            float d = maxAbsDiff(maps.get(0), maps.get(1));
            assertTrue(d > 0f && d < 1e-2f, "levels 0 and 23 differ by " + d);
        }
    }

    @Test
    void layerScalesStartAtInitValues() {
        try (ImageModel m =
                Models.createModel("cait_xxs24_224", ModelOptions.builder().build())) {
            assertEquals(1e-5f, m.stateDict().get("blocks.5.gamma_1").getFloat(0), 1e-12f);
            assertEquals(1e-5f, m.stateDict().get("blocks_token_only.1.gamma_2").getFloat(3), 1e-12f);
        }
    }
}
