package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.layers.Init;
import dev.jimm.layers.Module;
import dev.jimm.parity.ParityFixture;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * timm's Inception-ResNet-v2: its parameter count, feature levels, and the residual blocks' scaled sums (0.17, 0.10,
 * 0.20, and the last {@code block8} without ReLU).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InceptionResNetV2ApiTest {
    private static final String FIXTURE = "parity-wave2/timm__inception_resnet_v2.safetensors";

    private ImageModel model;

    @BeforeAll
    void build() {
        model = Models.createModel(
                "inception_resnet_v2", ModelOptions.builder().seed(7).build());
    }

    @AfterAll
    void close() {
        model.close();
    }

    @Test
    void parameterCountAndHeadAreTimms() {
        ParityFixture fx = ParityFixture.read(TestFixtures.root().resolve(FIXTURE));
        assertEquals(fx.meta().get("param_count").getAsLong(), ModelTesting.paramCount("inception_resnet_v2"));
        Map<String, Shape> shapes = model.stateDictShapes();
        assertEquals(new Shape(1088), shapes.get("repeat_1.19.conv2d.bias"));
        assertEquals(new Shape(2080, 448, 1, 1), shapes.get("block8.conv2d.weight"));
        assertEquals(new Shape(1000, 1536), shapes.get("classif.weight"));
        assertEquals("classif", model.pretrainedCfg().classifier());
    }

    @Test
    void levelsAreTimms() {
        ParityFixture fx = ParityFixture.read(TestFixtures.root().resolve(FIXTURE));
        try (NDManager s = model.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 107);
            NDList maps = model.forwardIntermediates(x, model.allFeatureIndices());
            // 107 -> 53 -> 51 (conv2d_2b) -> 25 -> 23 (conv2d_4a) -> 11 (repeat) -> 5 (repeat_1) -> 2
            int[] sides = {51, 23, 11, 5, 2};
            for (int i = 0; i < sides.length; i++) {
                Object[] ref = fx.featureInfo().get(i);
                assertEquals(
                        new Shape(1, (Integer) ref[0], sides[i], sides[i]),
                        maps.get(i).getShape(),
                        "level " + i);
                assertEquals(ref[2], model.featureInfo().get(i).module());
            }
            assertEquals(0, maxAbsDiff(maps.get(4), model.forwardFeatures(x)));
        }
    }

    @Test
    void residualBlocksAddTheirScaledProjection() {
        Map<String, Module> mods = model.namedModules();
        try (NDManager s = model.getManager().newSubManager()) {
            // with conv2d's weight zeroed the branches drop out: out = act(x + scale * bias)
            check(mods.get("repeat.0"), s, 320, 0.17, true);
            check(mods.get("repeat_1.3"), s, 1088, 0.10, true);
            check(mods.get("repeat_2.8"), s, 2080, 0.20, true);
            check(mods.get("block8"), s, 2080, 1.0, false);
        }
    }

    private static void check(Module block, NDManager s, int channels, double scale, boolean relu) {
        Module conv2d = block.child("conv2d");
        NDArray w = conv2d.directParameters().get("weight").getArray();
        NDArray b = conv2d.directParameters().get("bias").getArray();
        NDArray savedW = w.duplicate();
        NDArray savedB = b.duplicate();
        try {
            Init.constant(w, 0f);
            Init.constant(b, 1f);
            NDArray x = s.randomNormal(new Shape(1, channels, 3, 3));
            NDArray expected = x.add((float) scale);
            if (relu) {
                expected = expected.maximum(0f);
            }
            assertTrue(maxAbsDiff(block.forward(x), expected) < 1e-6, block + " scale " + scale);
        } finally {
            Module.copyInto(w, savedW);
            Module.copyInto(b, savedB);
        }
    }
}
