package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's EdgeNeXts: sizes, the SDTA block's split and position encoding, the head, and the checkpoint remap. */
class EdgeNeXtApiTest {
    /** timm's published parameter counts (results/benchmark-infer-*.csv), millions to two decimals. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "edgenext_xx_small", 1.33,
            "edgenext_x_small", 2.34,
            "edgenext_small", 5.59,
            "edgenext_base", 18.51,
            "edgenext_small_rw", 7.83);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("edgenext")) {
            double millions = Math.round(ModelTesting.paramCount(name) / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(
                TIMM_MILLIONS.size(), ModelTesting.registeredNames("edgenext").size());
    }

    @Test
    void smallRwDownsamplesInItsFirstConvBlock() {
        Map<String, Shape> s = ModelTesting.unbuilt("edgenext_small_rw").stateDictShapes();
        assertEquals(new Shape(48, 3, 9, 9), s.get("stem.0.weight"));
        assertFalse(s.containsKey("stem.0.bias"), "no conv bias");
        assertFalse(s.containsKey("stages.1.downsample.1.weight"));
        // a strided depthwise conv that doubles the width: 96 outputs, one input each
        assertEquals(new Shape(96, 1, 5, 5), s.get("stages.1.blocks.0.conv_dw.weight"));
        // the SDTA block of stage 2 splits 192 channels in 3 groups of 64: two depthwise convs, no bias
        assertEquals(new Shape(64, 1, 3, 3), s.get("stages.2.blocks.8.convs.1.weight"));
        assertFalse(s.containsKey("stages.2.blocks.8.convs.1.bias"));
    }

    @Test
    void chunkSplitsAsTorchChunk() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList parts = EdgeNeXt.SplitTransposeBlock.chunk(m.zeros(new Shape(1, 88, 2, 2)), 3);
            assertEquals(
                    List.of(30L, 30L, 28L),
                    parts.stream().map(p -> p.getShape().get(1)).toList());
            // torch.chunk(5 channels, 4) gives 3 pieces of ceil(5 / 4) = 2
            NDList fewer = EdgeNeXt.SplitTransposeBlock.chunk(m.zeros(new Shape(1, 5, 1, 1)), 4);
            assertEquals(
                    List.of(2L, 2L, 1L),
                    fewer.stream().map(p -> p.getShape().get(1)).toList());
        }
    }

    @Test
    void positionEncodingIsRowsThenColumnsOfSinesAndCosines() {
        int h = 3;
        int w = 4;
        float[] enc = EdgeNeXt.PositionalEncodingFourier.encoding(h, w);
        assertEquals(64 * h * w, enc.length);
        for (int ch = 0; ch < 64; ch++) {
            int i = ch % 32;
            double dimT = Math.pow(10000, 2.0 * (i / 2) / 32);
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    // channels 0-31 follow the row, 32-63 the column, normalized to (0, 2 pi]
                    double pos = ch < 32 ? (r + 1) * 2 * Math.PI / h : (c + 1) * 2 * Math.PI / w;
                    double expected = i % 2 == 0 ? Math.sin(pos / dimT) : Math.cos(pos / dimT);
                    assertEquals(expected, enc[(ch * h + r) * w + c], 2e-6, "channel " + ch + " at " + r + "," + c);
                }
            }
        }
    }

    @Test
    void headResetAndFeatureLevels() {
        try (ImageModel m = Models.createModel("edgenext_xx_small");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[] widths = {24, 48, 88, 168};
            for (int i = 0; i < 4; i++) {
                long side = 16 >> i;
                assertEquals(new Shape(2, widths[i], side, side), maps.get(i).getShape());
            }
            NDArray feats = m.forwardFeatures(x);
            ModelTesting.assertPreLogitsFeed(m, feats, "head.fc");
            ModelTesting.assertResetTo(m, x, 10, "max", "head.fc", 168);
            m.resetClassifier(0, "");
            NDArray normed = m.forwardHead(feats, false);
            assertEquals(feats.getShape(), normed.getShape());
            // LayerNorm2d over the channels of each pixel: mean 0 at init (weight 1, bias 0)
            assertTrue(normed.mean(new int[] {1}).abs().max().getFloat() < 1e-4f);
        }
    }

    @Test
    void originalCheckpointsAreRenamed() {
        try (EdgeNeXt m = (EdgeNeXt) Models.createModel("edgenext_xx_small");
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> orig = new LinkedHashMap<>();
            String[] keys = {
                "downsample_layers.0.0.weight",
                "downsample_layers.2.1.bias",
                "stages.1.2.dwconv.weight",
                "stages.0.0.pwconv1.weight",
                "stages.3.1.xca.temperature",
                "norm.weight",
                "head.weight",
            };
            String[] timm = {
                "stem.0.weight",
                "stages.2.downsample.1.bias",
                "stages.1.blocks.2.conv_dw.weight",
                "stages.0.blocks.0.mlp.fc1.weight",
                "stages.3.blocks.1.xca.temperature",
                "head.norm.weight",
                "head.fc.weight",
            };
            for (String k : keys) {
                orig.put(k, s.zeros(new Shape(1)));
            }
            // a 2-D weight outside the head takes the model's shape
            orig.put("stages.0.0.pwconv1.weight", s.zeros(new Shape(96 * 24, 1)));
            Map<String, NDArray> out = m.prepareForPretrained(orig);
            assertEquals(List.of(timm), List.copyOf(out.keySet()));
            assertEquals(
                    new Shape(96, 24),
                    out.get("stages.0.blocks.0.mlp.fc1.weight").getShape());
            Map<String, NDArray> timmCkpt = Map.of("head.norm.weight", s.zeros(new Shape(1)));
            assertEquals(timmCkpt, m.prepareForPretrained(timmCkpt));
        }
    }
}
