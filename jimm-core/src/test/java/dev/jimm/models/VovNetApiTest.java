package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Module;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** timm's VoVNets (V1, V2 with ESE or ECA, separable, EvoNorm) through the timm API, and the names they register. */
class VovNetApiTest {
    /** timm's parameter counts in millions, from its benchmark tables ({@code param_count}). */
    static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "eca_vovnet39b", 22.6,
            "ese_vovnet19b_dw", 6.54,
            "ese_vovnet19b_slim", 3.17,
            "ese_vovnet19b_slim_dw", 1.9,
            "ese_vovnet39b", 24.57,
            "ese_vovnet39b_evos", 24.58,
            "ese_vovnet57b", 38.61,
            "ese_vovnet99b", 63.2,
            "vovnet39a", 22.6,
            "vovnet57a", 36.64);

    @Test
    void everyNameHasTimmsParameterCount() {
        CspNetApiTest.assertTimmParamCounts("vovnet", TIMM_MILLIONS);
        assertEquals(6_543_080L, unbuilt("ese_vovnet19b_dw").numParameters(), "the fixture's exact count");
    }

    @Test
    void effectiveSqueezeExciteGatesByHardSigmoidOfTheChannelMean() {
        VovNet.EffectiveSqueezeExcite ese = new VovNet.EffectiveSqueezeExcite(2);
        try (NDManager m = NDManager.newBaseManager()) {
            ese.materialize(m);
            ese.initialize(new SplittableRandom(0));
            // fc the identity with biases 0 and 1
            Module.assign(ese.stateDict().get("fc.weight"), new float[] {1, 0, 0, 1});
            Module.assign(ese.stateDict().get("fc.bias"), new float[] {0, 1});
            // channel means 1.5 and -1: gates relu6(1.5 + 3) / 6 = 0.75 and relu6(-1 + 1 + 3) / 6 = 0.5
            NDArray x = m.create(new float[] {1f, 2f, 1f, 2f, -2f, 0f, -1f, -1f}, new Shape(1, 2, 2, 2));
            assertArrayEquals(
                    new float[] {0.75f, 1.5f, 0.75f, 1.5f, -1f, 0f, -0.5f, -0.5f},
                    ese.forward(x).toFloatArray(),
                    1e-6f);
        }
    }

    @Test
    void blockKeysFollowTimm() {
        Map<String, Shape> dw = unbuilt("ese_vovnet19b_dw").stateDictShapes();
        // separable blocks reduce a wider input to their conv width first
        assertEquals(new Shape(128, 64, 1, 1), dw.get("stages.0.blocks.0.conv_reduction.conv.weight"));
        assertEquals(new Shape(128, 1, 3, 3), dw.get("stages.0.blocks.0.conv_mid.0.conv_dw.weight"));
        assertEquals(new Shape(128, 128, 1, 1), dw.get("stages.0.blocks.0.conv_mid.2.conv_pw.weight"));
        // the concatenation holds the block's input (before the reduction) and the three conv outputs
        assertEquals(new Shape(256, 64 + 3 * 128, 1, 1), dw.get("stages.0.blocks.0.conv_concat.conv.weight"));
        assertEquals(new Shape(256), dw.get("stages.0.blocks.0.attn.fc.bias"));
        assertEquals(new Shape(64, 1, 3, 3), dw.get("stem.1.conv_dw.weight"));

        Map<String, Shape> v2 = unbuilt("ese_vovnet39b").stateDictShapes();
        assertFalse(v2.containsKey("stages.2.blocks.0.attn.fc.weight"), "attention only on a stage's last block");
        assertEquals(new Shape(768, 768, 1, 1), v2.get("stages.2.blocks.1.attn.fc.weight"));
        assertEquals(new Shape(192, 768, 3, 3), v2.get("stages.2.blocks.1.conv_mid.0.conv.weight"));
        // log2(1024) = 10: ECA's kernel (10 + 1) / 2 = 5
        assertEquals(
                new Shape(1, 1, 5),
                unbuilt("eca_vovnet39b").stateDictShapes().get("stages.3.blocks.1.attn.conv.weight"));

        Map<String, Shape> evos = unbuilt("ese_vovnet39b_evos").stateDictShapes();
        assertEquals(new Shape(64), evos.get("stem.0.bn.v"));
        assertFalse(evos.keySet().stream().anyMatch(k -> k.contains("running")), "EvoNorm keeps no statistics");
    }

    @Test
    void levelsAreTheStemsMiddleConvAndTheStages() {
        assertEquals(
                List.of(
                        new FeatureInfo(64, 2, "stem.1"),
                        new FeatureInfo(112, 4, "stages.0"),
                        new FeatureInfo(256, 8, "stages.1"),
                        new FeatureInfo(384, 16, "stages.2"),
                        new FeatureInfo(512, 32, "stages.3")),
                unbuilt("ese_vovnet19b_slim").featureInfo());
        try (ImageModel m = Models.createModel(
                        "ese_vovnet19b_slim_dw",
                        ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList all = m.forwardIntermediates(x, m.allFeatureIndices());
            assertEquals(new Shape(2, 64, 32, 32), all.get(0).getShape());
            // ceil-mode pools: 16 -> 8 -> 4 -> 2
            assertEquals(new Shape(2, 512, 2, 2), all.get(4).getShape());
            assertArrayEquals(
                    all.get(0).toFloatArray(),
                    m.forwardIntermediates(x, new int[] {0}).get(0).toFloatArray());
            assertArrayEquals(m.forwardFeatures(x).toFloatArray(), all.get(4).toFloatArray());
            assertTrue(m.forward(x).getShape().equals(new Shape(2, 512)));
        }
    }
}
