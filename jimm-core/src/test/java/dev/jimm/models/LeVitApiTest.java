package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.parity.ParityRunner;
import dev.jimm.parity.ReferenceInit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's LeViTs: sizes, the conv form against the linear form, the distillation head and the fixed input size. */
class LeVitApiTest {
    /** timm's published parameter counts (results/benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv), millions. */
    private static final Map<String, Double> TIMM_MILLIONS = new HashMap<>();

    static {
        Object[][] rows = {
            {"128s", 7.78},
            {"128", 9.21},
            {"192", 10.95},
            {"256", 18.89},
            {"256d", 26.21},
            {"384", 39.13},
            {"384_s8", 39.12},
            {"512", 95.17},
            {"512_s8", 74.05},
            {"512d", 92.5}
        };
        for (Object[] r : rows) {
            TIMM_MILLIONS.put("levit_" + r[0], (Double) r[1]);
            TIMM_MILLIONS.put("levit_conv_" + r[0], (Double) r[1]);
        }
    }

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        List<String> names = ModelTesting.registeredNames("levit");
        for (String name : names) {
            double millions = Math.round(ModelTesting.unbuilt(name).numParameters() / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(20, names.size());
    }

    @Test
    void convFormGivesTheLinearFormsOutputsFromItsWeights() {
        try (ImageModel lin = Models.createModel("levit_128s");
                ImageModel conv = Models.createModel("levit_conv_128s");
                NDManager s = lin.getManager().newSubManager()) {
            ReferenceInit.apply(lin, 0.5);
            Map<String, NDArray> sd = lin.stateDict();
            Map<String, Shape> convShapes = conv.stateDictShapes();
            assertEquals(convShapes.keySet(), sd.keySet());
            Map<String, NDArray> reshaped = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : sd.entrySet()) {
                reshaped.put(e.getKey(), e.getValue().reshape(convShapes.get(e.getKey())));
            }
            assertTrue(conv.loadStateDict(reshaped, true).isClean());
            NDArray x = input(s, 224);
            double err = ParityRunner.relativeError(
                    conv.forward(x).toFloatArray(), lin.forward(x).toFloatArray());
            assertTrue(err < 1e-4, "conv and linear LeViT differ by " + err);
            NDList a = lin.forwardIntermediates(x, lin.allFeatureIndices());
            NDList b = conv.forwardIntermediates(x, conv.allFeatureIndices());
            long[] widths = {128, 256, 384};
            long[] sides = {14, 7, 4};
            for (int i = 0; i < 3; i++) {
                assertEquals(
                        new Shape(2, widths[i], sides[i], sides[i]), a.get(i).getShape());
                assertEquals(a.get(i).getShape(), b.get(i).getShape());
                double levelErr = ParityRunner.relativeError(
                        a.get(i).toFloatArray(), b.get(i).toFloatArray());
                assertTrue(levelErr < 1e-4, "level " + i + " differs by " + levelErr);
            }
        }
    }

    @Test
    void logitsAreTheMeanOfBothHeadsAndUndistilledVariantsHaveOne() {
        try (LeVit m = (LeVit) Models.createModel("levit_128s");
                NDManager s = m.getManager().newSubManager()) {
            ReferenceInit.apply(m, 0.5);
            NDArray feats = m.forwardFeatures(input(s, 224));
            assertEquals(new Shape(2, 16, 384), feats.getShape());
            DistilledHeadsAssertions.assertAveraged(
                    m.forwardHeadDistilled(feats), m.forwardHead(feats, false), 1e-4f, 1e-3f);
            m.resetClassifier(10);
            assertEquals(
                    new Shape(10, 384),
                    m.stateDict().get("head_dist.linear.weight").getShape());
            m.resetClassifier(0, "");
            assertEquals(feats.getShape(), m.forwardHead(feats, false).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, "max"));
        }
        assertFalse(ModelTesting.unbuilt("levit_512").stateDictShapes().containsKey("head_dist.linear.weight"));
        assertTrue(ModelTesting.unbuilt("levit_384").stateDictShapes().containsKey("head_dist.linear.weight"));
    }

    @Test
    void stemStrideAndBiasesFollowTheTokenGrid() {
        Map<String, Shape> s8 = ModelTesting.unbuilt("levit_384_s8").stateDictShapes();
        assertFalse(s8.containsKey("stem.conv4.linear.weight"));
        // 224 / 8 = 28 tokens a side, 6 heads; the downsample attends from 28x28 keys
        assertEquals(new Shape(6, 784), s8.get("stages.0.blocks.0.attn.attention_biases"));
        assertEquals(new Shape(384 / 32, 784), s8.get("stages.1.downsample.attn_downsample.attention_biases"));
        assertEquals(new Shape(9, 196), s8.get("stages.1.blocks.0.attn.attention_biases"));
    }

    @Test
    void biasIndexIsTheAbsoluteOffsetPerAxis() {
        long[] idx = LeVit.biasIndex(3, 1);
        // query (0, 0) against key (2, 1): |dy| * 3 + |dx| = 7; query (1, 1) against (0, 2): 3 + 1
        assertEquals(7, idx[0 * 9 + 7]);
        assertEquals(4, idx[4 * 9 + 2]);
        long[] down = LeVit.biasIndex(3, 2);
        // queries at (0,0), (0,2), (2,0), (2,2); query (2, 2) against key (0, 0)
        assertEquals(4 * 9, down.length);
        assertEquals(8, down[3 * 9]);
    }

    @Test
    void refusesOtherInputSizesAndFiltersCheckpoints() {
        try (ImageModel m = Models.createModel("levit_128s");
                NDManager s = m.getManager().newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(input(s, 192)));
            assertTrue(e.getMessage().contains("224x224"), e.getMessage());
            Map<String, NDArray> ck = new LinkedHashMap<>();
            ck.put("model.stem.conv1.linear.weight", s.zeros(new Shape(16, 3, 3, 3)));
            ck.put("stages.0.blocks.0.attn.attention_bias_idxs", s.zeros(new Shape(196, 196)));
            Map<String, NDArray> out = m.prepareForPretrained(ck);
            assertEquals(List.of("stem.conv1.linear.weight"), new ArrayList<>(out.keySet()));
        }
    }
}
