package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Layers;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * timm's SelecSLS nets through the timm API. Their smallest name (30.4M parameters) is above ModelContractTest's size
 * limit, so the contract's checks on one of them are here.
 */
class SelecSlsApiTest {
    /** timm's parameter counts in millions, from its benchmark tables ({@code param_count}). */
    static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "selecsls42", 30.35,
            "selecsls42b", 32.46,
            "selecsls60", 30.67,
            "selecsls60b", 32.77,
            "selecsls84", 50.95);

    @Test
    void everyNameHasTimmsParameterCount() {
        CspNetApiTest.assertTimmParamCounts("selecsls", TIMM_MILLIONS);
        assertEquals(32_458_248L, unbuilt("selecsls42b").numParameters(), "the fixture's exact count");
    }

    @Test
    void blocksInAGroupTakeItsFirstOutputAsSkip() {
        Map<String, Shape> s = unbuilt("selecsls60").stateDictShapes();
        // a group's first block concatenates its two 64-wide and two 32-wide paths: 2 * 64
        assertEquals(new Shape(64, 128, 1, 1), s.get("features.0.conv6.0.weight"));
        // later blocks add the group's skip
        assertEquals(new Shape(128, 128 + 64, 1, 1), s.get("features.1.conv6.0.weight"));
        assertEquals(new Shape(288, 256 + 128, 1, 1), s.get("features.4.conv6.0.weight"));
        assertEquals(new Shape(1000, 1280), s.get("fc.weight"));
        assertEquals(1024, unbuilt("selecsls60b").numFeatures());
    }

    @Test
    void sixLevelsIntoTheHead() {
        assertEquals(
                List.of(
                        new FeatureInfo(32, 2, "stem.2"),
                        new FeatureInfo(144, 4, "features.1"),
                        new FeatureInfo(304, 8, "features.6"),
                        new FeatureInfo(512, 16, "features.12"),
                        new FeatureInfo(1024, 32, "head.1"),
                        new FeatureInfo(1280, 64, "head.3")),
                unbuilt("selecsls84").featureInfo());
    }

    @Test
    void keepsTheModelContract() {
        try (ImageModel m = Models.createModel(
                        "selecsls42", ModelOptions.builder().numClasses(5).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDArray features = m.forwardFeatures(x);
            assertEquals(new Shape(2, 5), m.forwardHead(features, false).getShape());
            assertArrayEquals(
                    m.forwardHead(features, false).toFloatArray(), m.forward(x).toFloatArray(), 1e-6f);

            List<FeatureInfo> info = m.featureInfo();
            NDList all = m.forwardIntermediates(x, m.allFeatureIndices());
            assertEquals(6, all.size());
            for (int i = 0; i < info.size(); i++) {
                long side = 64 / info.get(i).reduction();
                assertEquals(
                        new Shape(2, info.get(i).numChs(), side, side),
                        all.get(i).getShape(),
                        "level " + i);
            }
            assertArrayEquals(features.toFloatArray(), all.get(5).toFloatArray());
            // a level inside the block groups, alone, is what the full pass gives
            NDList some = m.forwardIntermediates(x, new int[] {2, -2});
            assertArrayEquals(all.get(2).toFloatArray(), some.get(0).toFloatArray());
            assertArrayEquals(all.get(4).toFloatArray(), some.get(1).toFloatArray());

            m.resetClassifier(0);
            NDArray pooled = m.forwardHead(features, false);
            assertEquals(new Shape(2, m.headHiddenSize()), pooled.getShape());
            assertEquals(1280, m.headHiddenSize());
            assertArrayEquals(Layers.spatialMean(features, false).toFloatArray(), pooled.toFloatArray(), 1e-6f);
        }
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "selecsls42", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 64));
            assertEquals(6, maps.size());
            assertEquals(new Shape(2, 480, 4, 4), maps.get(3).getShape());
        }
    }
}
