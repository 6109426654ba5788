package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.parity.ParityFixture;
import java.util.List;
import org.junit.jupiter.api.Test;

/** timm's Inception-v4: its parameter count, its feature levels and the {@code last_linear} head. */
class InceptionV4ApiTest {
    private static final String FIXTURE = "parity-wave2/timm__inception_v4.safetensors";

    @Test
    void parameterCountAndHeadAreTimms() {
        ParityFixture fx = ParityFixture.read(TestFixtures.root().resolve(FIXTURE));
        assertEquals(fx.meta().get("param_count").getAsLong(), ModelTesting.paramCount("inception_v4"));
        ImageModel m = ModelTesting.unbuilt("inception_v4");
        assertEquals(new Shape(1000, 1536), m.stateDictShapes().get("last_linear.weight"));
        assertEquals(new Shape(224, 192, 1, 7), m.stateDictShapes().get("features.11.branch1.1.conv.weight"));
        assertEquals(new Shape(96, 64, 3, 3), m.stateDictShapes().get("features.3.conv.conv.weight"));
        List<String> keys = List.copyOf(m.stateDictShapes().keySet());
        assertEquals("last_linear.bias", keys.get(keys.size() - 1));
        assertEquals(
                "last_linear", ModelRegistry.builtIn().config("inception_v4").classifier());
    }

    @Test
    void featuresOnlyGivesTimmsLevels() {
        ParityFixture fx = ParityFixture.read(TestFixtures.root().resolve(FIXTURE));
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "inception_v4", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 107);
            NDList maps = fe.forwardFeatures(x);
            // 107 -> 53 -> 51 (features.2) -> 25 (Mixed3a) -> 23, 11 (Mixed4a, 5a) -> 5 -> 2
            int[] sides = {51, 25, 11, 5, 2};
            assertEquals(fx.featureInfo().size(), maps.size());
            for (int i = 0; i < sides.length; i++) {
                Object[] ref = fx.featureInfo().get(i);
                assertEquals(
                        new Shape(1, (Integer) ref[0], sides[i], sides[i]),
                        maps.get(i).getShape(),
                        "level " + i);
                assertEquals(ref[2], fe.featureInfo().get(i).module());
            }
            assertEquals(0, maxAbsDiff(maps.get(4), fe.model().forwardFeatures(x)));
            assertFalse(fe.stateDict().containsKey("last_linear.weight"));
            assertTrue(fe.stateDict().containsKey("features.21.branch3.1.conv.weight"));
        }
    }
}
