package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Linear;
import dev.jimm.parity.ParityRunner;
import dev.jimm.parity.ReferenceInit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's RepViTs: sizes, the distillation head, and fusing for inference. */
class RepVitApiTest {
    /** timm's published parameter counts (results/benchmark-infer-*-pt240-*.csv), millions to two decimals. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "repvit_m0_9", 5.49,
            "repvit_m1", 5.49,
            "repvit_m1_0", 7.30,
            "repvit_m1_1", 8.80,
            "repvit_m1_5", 14.64,
            "repvit_m2", 8.80,
            "repvit_m2_3", 23.69,
            "repvit_m3", 10.68);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("repvit")) {
            double millions = Math.round(ModelTesting.paramCount(name) / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(
                TIMM_MILLIONS.size(), ModelTesting.registeredNames("repvit").size());
    }

    @Test
    void legacyVariantsNormTheOneByOneBranchInsteadOfTheSum() {
        Map<String, Shape> legacy = ModelTesting.unbuilt("repvit_m1").stateDictShapes();
        Map<String, Shape> plain = ModelTesting.unbuilt("repvit_m0_9").stateDictShapes();
        String mixer = "stages.0.blocks.0.token_mixer.";
        assertEquals(new Shape(48, 1, 1, 1), legacy.get(mixer + "conv1.c.weight"));
        assertTrue(legacy.containsKey(mixer + "conv1.bn.running_var"));
        assertFalse(legacy.containsKey(mixer + "bn.weight"));
        assertEquals(new Shape(48, 1, 1, 1), plain.get(mixer + "conv1.weight"));
        assertEquals(new Shape(48), plain.get(mixer + "conv1.bias"));
        assertEquals(new Shape(48), plain.get(mixer + "bn.running_var"));
        // SE on every other block, starting with the first
        assertTrue(plain.containsKey("stages.2.blocks.0.se.fc1.weight"));
        assertFalse(plain.containsKey("stages.2.blocks.1.se.fc1.weight"));
        assertEquals(new Shape(48, 192, 1, 1), plain.get("stages.2.blocks.0.se.fc1.weight"));
    }

    @Test
    void logitsAreTheMeanOfBothHeadsAndResetDropsTheDistillationHead() {
        try (RepVit m = (RepVit) Models.createModel("repvit_m0_9");
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 64));
            assertEquals(new Shape(2, 384, 2, 2), feats.getShape());
            DistilledHeadsAssertions.assertAveraged(
                    m.forwardHeadDistilled(feats), m.forwardHead(feats, false), 1e-5f, 1e-3f);

            m.resetClassifier(10);
            assertFalse(m.stateDict().containsKey("head.head_dist.l.weight"), "timm resets without head_dist");
            assertEquals(
                    new Shape(10, 384), m.stateDict().get("head.head.l.weight").getShape());
            assertThrows(IllegalStateException.class, () -> m.forwardHeadDistilled(feats));
            m.resetClassifier(7, "avg", true);
            assertEquals(
                    new Shape(7, 384),
                    m.stateDict().get("head.head_dist.l.weight").getShape());
            assertEquals(new Shape(2, 7), m.forwardHead(feats, false).getShape());
            m.resetClassifier(0, "");
            assertEquals(feats.getShape(), m.forwardHead(feats, false).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, "max"));
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, ""));
        }
    }

    @Test
    void fusingKeepsTheEvalOutputs() {
        for (String name : List.of("repvit_m1", "repvit_m0_9")) {
            try (RepVit m = (RepVit) Models.createModel(name);
                    NDManager s = m.getManager().newSubManager()) {
                // the reference init gives the norms statistics far from 0 and 1, and 1e14 logits
                ReferenceInit.apply(m);
                NDArray x = input(s, 96);
                float[] before = m.forward(x).toFloatArray();
                float[] pre = m.forwardHead(m.forwardFeatures(x), true).toFloatArray();
                m.fuse();
                Map<String, NDArray> sd = m.stateDict();
                assertTrue(sd.keySet().stream().noneMatch(k -> k.contains("bn.") || k.contains("head_dist")), name);
                assertEquals(new Shape(24, 3, 3, 3), sd.get("stem.conv1.weight").getShape());
                assertEquals(
                        new Shape(48, 1, 3, 3),
                        sd.get("stages.0.blocks.0.token_mixer.weight").getShape());
                assertEquals(new Shape(1000, 384), sd.get("head.weight").getShape());
                assertInstanceOf(Conv2d.class, m.child("stem").child("conv1"));
                assertInstanceOf(Linear.class, m.child("head"));
                double err = ParityRunner.relativeError(m.forward(x).toFloatArray(), before);
                assertTrue(err < 1e-5, name + " fused logits differ by " + err);
                double preErr = ParityRunner.relativeError(
                        m.forwardHead(m.forwardFeatures(x), true).toFloatArray(), pre);
                assertTrue(preErr < 1e-5, name + " fused pre-logits differ by " + preErr);
                assertThrows(IllegalStateException.class, () -> m.forwardHeadDistilled(m.forwardFeatures(x)));
            }
        }
    }

    @Test
    void fusedCountMatchesTimmsReparameterizedBenchmark() {
        // timm's newer benchmark tables (pt291) count the models after fusing: repvit_m1 5.07M
        try (RepVit m = (RepVit) Models.createModel("repvit_m1")) {
            m.fuse();
            assertEquals(5.07, Math.round(m.numParameters() / 1e4) / 100.0, 1e-9);
        }
    }

    @Test
    void featureLevels() {
        try (ImageModel m = Models.createModel("repvit_m1");
                NDManager s = m.getManager().newSubManager()) {
            NDList maps = m.forwardIntermediates(input(s, 64), m.allFeatureIndices());
            long[] widths = {48, 96, 192, 384};
            long[] sides = {16, 8, 4, 2};
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(2, widths[i], sides[i], sides[i]), maps.get(i).getShape());
            }
        }
    }
}
