package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertSquareLevels;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * timm's {@code legacy_xception}: its parameter count, block structure, the feature levels timm hooks on the first ReLU
 * of blocks 2, 3 and 12, timm's conv init, and its head's dropout that timm computes and throws away.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class XceptionApiTest {
    private ImageModel model;

    @BeforeAll
    void build() {
        model = Models.createModel(
                "legacy_xception", ModelOptions.builder().seed(2).build());
    }

    @AfterAll
    void close() {
        model.close();
    }

    @Test
    void parameterCountAndStructureAreTimms() {
        ParityFixture fx =
                ParityFixture.read(TestFixtures.root().resolve("parity-wave2/timm__legacy_xception.safetensors"));
        assertEquals(fx.meta().get("param_count").getAsLong(), ModelTesting.paramCount("legacy_xception"));
        Map<String, Shape> shapes = model.stateDictShapes();
        // block1 has no leading ReLU, so its rep starts with the separable conv
        assertEquals(new Shape(64, 1, 3, 3), shapes.get("block1.rep.0.conv1.weight"));
        assertEquals(new Shape(128, 64, 1, 1), shapes.get("block1.rep.0.pointwise.weight"));
        assertEquals(new Shape(128, 64, 1, 1), shapes.get("block1.skip.weight"));
        // block12 keeps the width first (grow_first=False)
        assertEquals(new Shape(728, 728, 1, 1), shapes.get("block12.rep.1.pointwise.weight"));
        assertEquals(new Shape(1024, 728, 1, 1), shapes.get("block12.rep.4.pointwise.weight"));
        assertFalse(shapes.containsKey("block5.skip.weight"), "the middle flow adds its input unchanged");
        assertEquals("fc", model.pretrainedCfg().classifier());
        assertEquals(List.of(3, 299, 299), model.pretrainedCfg().inputSize());
    }

    @Test
    void levelsAreTheReluOfTheBlockBefore() {
        try (NDManager s = model.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 107);
            NDList levels = model.forwardIntermediates(x, model.allFeatureIndices());
            // 107 -> 53 -> 51 (act2), then each strided block halves with ceil: 26, 13, 7, 4
            assertSquareLevels(levels, 1, new int[] {64, 128, 256, 728, 2048}, new int[] {51, 26, 13, 7, 4});
            NDArray y = x;
            for (String step : List.of("conv1", "bn1", "act1", "conv2", "bn2", "act2", "block1")) {
                y = model.child(step).forward(y);
            }
            assertTrue(y.min().getFloat() < 0, "block1's output is a residual sum");
            assertEquals(0, maxAbsDiff(y.maximum(0f), levels.get(1)), "block2.rep.0 is ReLU(block1's output)");
            assertEquals(0, maxAbsDiff(levels.get(4), model.forwardFeatures(x)));
        }
    }

    @Test
    void convsAreKaimingNormalFanOut() {
        NDArray w = model.stateDict().get("conv2.weight");
        double std = Math.sqrt(2.0 / (64 * 9));
        assertEquals(std, Math.sqrt(w.square().mean().getFloat()), 0.03 * std);
        NDArray pw = model.stateDict().get("block4.rep.1.pointwise.weight");
        double pwStd = Math.sqrt(2.0 / 728);
        assertEquals(pwStd, Math.sqrt(pw.square().mean().getFloat()), 0.03 * pwStd);
    }

    @Test
    void dropRateChangesNothingAsInTimm() {
        try (ImageModel m = Models.createModel(
                        "legacy_xception",
                        ModelOptions.builder().dropRate(0.5).numClasses(3).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray features = m.forwardFeatures(input(s, 2, 3, 75));
            m.train(true);
            float[] a = m.forwardHead(features, false).toFloatArray();
            assertArrayEquals(a, m.forwardHead(features, false).toFloatArray());
            m.eval();
            assertArrayEquals(a, m.forwardHead(features, false).toFloatArray());
        }
    }
}
