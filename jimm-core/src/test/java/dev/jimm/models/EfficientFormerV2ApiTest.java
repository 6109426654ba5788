package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's EfficientFormer-V2s: sizes, where the attentions sit, bilinear upsampling, levels and heads. */
class EfficientFormerV2ApiTest {
    /** timm's published parameter counts (results/benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv), millions. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "efficientformerv2_s0", 3.6,
            "efficientformerv2_s1", 6.19,
            "efficientformerv2_s2", 12.71,
            "efficientformerv2_l", 26.32);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("efficientformer_v2")) {
            double millions = Math.round(ModelTesting.unbuilt(name).numParameters() / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(4, ModelTesting.registeredNames("efficientformer_v2").size());
    }

    @Test
    void attentionsSitInTheLastBlocksOfStagesThreeAndFour() {
        Map<String, Shape> s0 = ModelTesting.unbuilt("efficientformerv2_s0").stateDictShapes();
        // stage 3 (index 2): 6 blocks, the last 2 attend on a stride-2 copy of the 14x14 map
        assertFalse(s0.containsKey("stages.2.blocks.3.token_mixer.attention_biases"));
        assertEquals(new Shape(8, 49), s0.get("stages.2.blocks.4.token_mixer.attention_biases"));
        assertEquals(new Shape(96, 1, 3, 3), s0.get("stages.2.blocks.5.token_mixer.stride_conv.conv.weight"));
        // stage 4 downsamples with an attention from the 14x14 grid and attends at 7x7
        assertEquals(new Shape(8, 196), s0.get("stages.3.downsample.attn.attention_biases"));
        assertFalse(s0.containsKey("stages.3.blocks.3.token_mixer.stride_conv.conv.weight"));
        assertEquals(new Shape(8, 49), s0.get("stages.3.blocks.3.token_mixer.attention_biases"));
        assertFalse(s0.containsKey("stages.1.blocks.1.token_mixer.attention_biases"));
    }

    @Test
    void upsamplingIsBilinearWithoutAlignedCorners() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0, 4, 8}).reshape(1, 1, 1, 3);
            // PyTorch: F.interpolate([0, 4, 8], scale_factor=2, mode='bilinear') = [0, 1, 3, 5, 7, 8]
            float[] up = EfficientFormerV2.upsample2(x, 3).toFloatArray();
            assertArrayEquals(new float[] {0, 1, 3, 5, 7, 8}, up, 1e-6f);
        }
    }

    @Test
    void featureLevelsAndDistilledHeads() {
        try (EfficientFormerV2 m = (EfficientFormerV2) Models.createModel("efficientformerv2_s0");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 224);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[] widths = {32, 48, 96, 176};
            long[] sides = {56, 28, 14, 7};
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(2, widths[i], sides[i], sides[i]), maps.get(i).getShape());
            }
            NDArray feats = m.forwardFeatures(x);
            DistilledHeadsAssertions.assertAveraged(
                    m.forwardHeadDistilled(feats), m.forwardHead(feats, false), 1e-5f, 0f);
            m.resetClassifier(0, "");
            assertEquals(feats.getShape(), m.forwardHead(feats, false).getShape());
        }
    }
}
