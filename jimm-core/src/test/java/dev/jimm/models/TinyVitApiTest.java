package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's TinyViTs: sizes, the attention-bias offsets, the bias resampling on load, feature levels. */
class TinyVitApiTest {
    /**
     * timm's published parameter counts (results/benchmark-infer-amp-nchw-pt240-cu124-rtx3090.csv), millions to two
     * decimals, at the classes of each name's default weights (ImageNet-22k's 21841 for the 224 models, as timm's
     * benchmark built them).
     */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "tiny_vit_5m_224", 12.08,
            "tiny_vit_11m_224", 20.35,
            "tiny_vit_21m_224", 33.22,
            "tiny_vit_21m_384", 21.23,
            "tiny_vit_21m_512", 21.27);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("tiny_vit")) {
            ModelEntry e = ModelRegistry.builtIn().entry(name);
            int classes = name.endsWith("_224") ? 21841 : 1000;
            long n = ModelTesting.paramCount(e.factory().apply(new ModelArgs(classes, 3, "avg", 0, 0)));
            double millions = Math.round(n / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(
                TIMM_MILLIONS.size(), ModelTesting.registeredNames("tiny_vit").size());
    }

    @Test
    void biasIndexNumbersAbsoluteOffsetsInFirstSeenOrder() {
        // a 2x2 window: offsets (0,0)=0, (0,1)=1, (1,0)=2, (1,1)=3 as met from position (0,0)
        assertArrayEquals(new long[] {0, 1, 2, 3, 1, 0, 3, 2, 2, 3, 0, 1, 3, 2, 1, 0}, TinyVit.Attention.biasIndex(2));
        Map<String, Shape> s = ModelTesting.unbuilt("tiny_vit_21m_384").stateDictShapes();
        // 24x24 windows in the third stage: one bias per head and offset
        assertEquals(new Shape(12, 576), s.get("stages.2.blocks.0.attn.attention_biases"));
        assertFalse(s.containsKey("stages.2.blocks.0.attn.attention_bias_idxs"), "non-persistent");
    }

    @Test
    void checkpointFilterResamplesBiasesAndDropsTheIndex() {
        try (TinyVit m = (TinyVit) Models.createModel("tiny_vit_5m_224");
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> ckpt = new LinkedHashMap<>();
            // a bias table made for 4x4 windows, constant per head (a constant field stays constant when resampled)
            float[] v = new float[4 * 16];
            for (int i = 16; i < 32; i++) {
                v[i] = 3f;
            }
            ckpt.put("stages.1.blocks.0.attn.attention_biases", s.create(v, new Shape(4, 16)));
            ckpt.put("stages.1.blocks.0.attn.attention_bias_idxs", s.zeros(new Shape(16, 16)));
            Map<String, NDArray> out = m.prepareForPretrained(ckpt);
            assertEquals(List.of("stages.1.blocks.0.attn.attention_biases"), List.copyOf(out.keySet()));
            NDArray r = out.get("stages.1.blocks.0.attn.attention_biases");
            assertEquals(new Shape(4, 49), r.getShape());
            assertEquals(0f, r.get(0).abs().max().getFloat(), 1e-6f);
            assertEquals(3f, r.get(1).min().getFloat(), 1e-5f);
            assertEquals(3f, r.get(1).max().getFloat(), 1e-5f);
        }
    }

    @Test
    void featureLevelsAndHead() {
        try (ImageModel m = Models.createModel("tiny_vit_5m_224");
                NDManager s = m.getManager().newSubManager()) {
            // 64 px: maps of 16, 8, 4, 2; the 14-token windows of stage 2 pad the 4x4 map
            NDArray x = ModelTesting.input(s, 64);
            var maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[] widths = {64, 128, 160, 320};
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(2, widths[i], 16 >> i, 16 >> i), maps.get(i).getShape());
            }
            ModelTesting.assertPreLogitsFeed(m, m.forwardFeatures(x), "head.fc");
            ModelTesting.assertResetTo(m, x, 10, "avg", "head.fc", 320);
        }
    }
}
