package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
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
import org.junit.jupiter.api.Test;

/**
 * CoAtNet / MaxViT / MaxxViT: every name with a published count against timm's, the two fixtures' exact counts, the
 * windows and relative position tables that follow the input size, the two heads (norm + classifier, or timm's
 * NormMlpClassifierHead), the feature levels, and the checkpoint filter resampling tables to another window.
 */
class MaxxVitApiTest {
    /** timm's published counts (results/results-imagenet.csv, millions to two decimals, 1000 classes). */
    private static final Map<String, Double> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("coatnet_1_rw_224", 41.72),
            Map.entry("coatnet_2_rw_224", 73.87),
            Map.entry("coatnet_bn_0_rw_224", 27.44),
            Map.entry("coatnet_nano_rw_224", 15.14),
            Map.entry("coatnet_rmlp_1_rw2_224", 41.72),
            Map.entry("coatnet_rmlp_1_rw_224", 41.69),
            Map.entry("coatnet_rmlp_2_rw_224", 73.88),
            Map.entry("coatnet_rmlp_2_rw_384", 73.88),
            Map.entry("coatnet_rmlp_nano_rw_224", 15.15),
            Map.entry("coatnext_nano_rw_224", 14.70),
            Map.entry("maxvit_base_tf_224", 119.47),
            Map.entry("maxvit_base_tf_384", 119.65),
            Map.entry("maxvit_base_tf_512", 119.88),
            Map.entry("maxvit_large_tf_224", 211.79),
            Map.entry("maxvit_large_tf_384", 212.03),
            Map.entry("maxvit_large_tf_512", 212.33),
            Map.entry("maxvit_nano_rw_256", 15.45),
            Map.entry("maxvit_rmlp_base_rw_224", 116.14),
            Map.entry("maxvit_rmlp_base_rw_384", 116.14),
            Map.entry("maxvit_rmlp_nano_rw_256", 15.50),
            Map.entry("maxvit_rmlp_pico_rw_256", 7.52),
            Map.entry("maxvit_rmlp_small_rw_224", 64.90),
            Map.entry("maxvit_rmlp_tiny_rw_256", 29.15),
            Map.entry("maxvit_small_tf_224", 68.93),
            Map.entry("maxvit_small_tf_384", 69.02),
            Map.entry("maxvit_small_tf_512", 69.13),
            Map.entry("maxvit_tiny_rw_224", 29.06),
            Map.entry("maxvit_tiny_tf_384", 30.98),
            Map.entry("maxvit_tiny_tf_512", 31.05),
            Map.entry("maxvit_xlarge_tf_384", 475.32),
            Map.entry("maxvit_xlarge_tf_512", 475.77),
            Map.entry("maxxvit_rmlp_nano_rw_256", 16.78),
            Map.entry("maxxvit_rmlp_small_rw_256", 66.01),
            Map.entry("maxxvitv2_nano_rw_256", 23.70),
            Map.entry("maxxvitv2_rmlp_base_rw_224", 116.09),
            Map.entry("maxxvitv2_rmlp_base_rw_384", 116.09));

    @Test
    void everyPublishedNameHasTimmsParameterCount() {
        for (String f : List.of("timm__maxvit_tiny_tf_224", "timm__coatnet_0_rw_224")) {
            ParityFixture fx = ParityFixture.read(TestFixtures.root().resolve("parity-wave2/" + f + ".safetensors"));
            String name = f.substring("timm__".length());
            assertEquals(fx.meta().get("param_count").getAsLong(), ModelTesting.paramCount(name), name);
        }
        for (Map.Entry<String, Double> e : TIMM_MILLIONS.entrySet()) {
            long n = ModelTesting.paramCount(e.getKey());
            assertEquals(e.getValue(), Math.round(n / 1e4) / 100.0, 1e-9, e.getKey() + ": " + n);
        }
        // the rest (untrained in timm) at least construct
        for (String name : ModelTesting.timmNames("maxxvit")) {
            assertTrue(ModelTesting.paramCount(name) > 1_000_000, name);
        }
    }

    @Test
    void windowsAndTablesFollowTheInputSize() {
        // TF tables are [heads, 2w-1, 2w-1], w = input / 32
        Map<String, Shape> t224 = ModelTesting.unbuilt("maxvit_tiny_tf_224").stateDictShapes();
        assertEquals(
                new Shape(2, 13, 13),
                t224.get("stages.0.blocks.0.attn_grid.attn.rel_pos.relative_position_bias_table"));
        Map<String, Shape> t512 = ModelTesting.unbuilt("maxvit_tiny_tf_512").stateDictShapes();
        assertEquals(
                new Shape(16, 31, 31),
                t512.get("stages.3.blocks.1.attn_block.attn.rel_pos.relative_position_bias_table"));
        // CoAtNet's transformer stages attend over the whole map: 14x14 and 7x7 at 224; heads from the input width
        Map<String, Shape> coat = ModelTesting.unbuilt("coatnet_0_rw_224").stateDictShapes();
        assertEquals(new Shape(27 * 27, 6), coat.get("stages.2.blocks.0.attn.rel_pos.relative_position_bias_table"));
        assertEquals(new Shape(13 * 13, 12), coat.get("stages.3.blocks.0.attn.rel_pos.relative_position_bias_table"));
        assertEquals(new Shape(13 * 13, 24), coat.get("stages.3.blocks.1.attn.rel_pos.relative_position_bias_table"));
        // MaxxViT-V2 has grid attention only; MLP relative positions have no table
        Map<String, Shape> v2 = ModelTesting.unbuilt("maxxvitv2_nano_rw_256").stateDictShapes();
        assertFalse(v2.keySet().stream().anyMatch(k -> k.contains("attn_block")));
        assertEquals(new Shape(192, 96, 1, 1), v2.get("stages.1.blocks.0.conv.shortcut.expand.weight"));
        Map<String, Shape> rmlp =
                ModelTesting.unbuilt("coatnet_rmlp_nano_rw_224").stateDictShapes();
        assertEquals(new Shape(384, 2), rmlp.get("stages.2.blocks.0.attn.rel_pos.mlp.fc1.weight"));
        // the parallel block: two conv blocks and half-width attention outputs
        Map<String, Shape> pm = ModelTesting.unbuilt("maxvit_tiny_pm_256").stateDictShapes();
        assertEquals(new Shape(32, 64), pm.get("stages.0.blocks.0.attn.attn_grid.proj.weight"));
        assertTrue(pm.containsKey("stages.0.blocks.0.conv.1.conv3_1x1.weight"));
        // coatnet_nano_cc: a conv block, then transformer blocks in the last two stages
        Map<String, Shape> cc = ModelTesting.unbuilt("coatnet_nano_cc_224").stateDictShapes();
        assertTrue(cc.containsKey("stages.2.blocks.0.conv1_1x1.weight"));
        assertTrue(cc.containsKey("stages.2.blocks.5.attn.qkv.weight"));
    }

    @Test
    void featureLevelsAndPlainHead() {
        try (ImageModel m = Models.createModel(
                        "maxvit_pico_rw_256", ModelOptions.builder().seed(3).build());
                NDManager s = m.getManager().newSubManager()) {
            List<FeatureInfo> info = m.featureInfo();
            assertEquals(
                    List.of(32, 32, 64, 128, 256),
                    info.stream().map(FeatureInfo::numChs).toList());
            assertEquals(
                    List.of(2, 4, 8, 16, 32),
                    info.stream().map(FeatureInfo::reduction).toList());
            NDArray x = input(s, 1, 3, 256);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            for (int i = 0; i < levels.size(); i++) {
                int side = 256 / info.get(i).reduction();
                assertEquals(
                        new Shape(1, info.get(i).numChs(), side, side),
                        levels.get(i).getShape());
            }
            assertEquals(256, m.headHiddenSize());
            m.resetClassifier(0);
            assertEquals(new Shape(1, 256), m.forward(x).getShape());
            assertTrue(m.stateDictShapes().containsKey("norm.weight"));
        }
    }

    @Test
    void mlpHeadOfThePaperConfigs() {
        ImageModel m = ModelTesting.unbuilt("coatnet_0_224");
        Map<String, Shape> sd = m.stateDictShapes();
        assertFalse(sd.containsKey("norm.weight"), "the norm moves into the head");
        assertEquals(new Shape(768), sd.get("head.norm.weight"));
        assertEquals(new Shape(768, 768), sd.get("head.pre_logits.fc.weight"));
        assertEquals(768, m.headHiddenSize());
        ImageModel large = ModelTesting.unbuilt("maxxvitv2_rmlp_large_rw_224");
        assertEquals(1280, large.headHiddenSize());
        assertEquals(new Shape(1000, 1280), large.stateDictShapes().get("head.fc.weight"));
    }

    @Test
    void checkpointFilterResamplesTablesToTheWindow() {
        try (NDManager s = NDManager.newBaseManager()) {
            // a 224 checkpoint (7x7 windows) of the biased maxvit_tiny_rw into the 256 model (8x8 windows)
            MaxxVit from = (MaxxVit) ModelTesting.unbuilt("maxvit_tiny_rw_224");
            MaxxVit to = (MaxxVit) ModelTesting.unbuilt("maxvit_tiny_rw_256");
            String key = "stages.1.blocks.0.attn_grid.attn.rel_pos.relative_position_bias_table";
            assertEquals(new Shape(169, 4), from.stateDictShapes().get(key));
            NDArray table = s.full(new Shape(169, 4), 0.5f);
            // the conv / linear reshape too: a linear-shaped weight for a 1x1 conv
            String conv = "stages.0.blocks.0.conv.conv1_1x1.weight";
            Shape convShape = to.stateDictShapes().get(conv);
            NDArray linear = s.ones(new Shape(convShape.get(0), convShape.get(1)));
            Map<String, NDArray> out = to.prepareForPretrained(Map.of(key, table, conv, linear));
            assertEquals(new Shape(225, 4), out.get(key).getShape());
            assertEquals(0.5f, out.get(key).max().getFloat(), 1e-6f);
            assertEquals(convShape, out.get(conv).getShape());
        }
    }
}
