package dev.jimm.models;

import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Module;
import dev.jimm.parity.ReferenceInit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's eva module: parameter counts, RoPE kinds, dynamic sizes, attention pooling and the checkpoint filter. */
class EvaApiTest {
    /** Parameters with a head of {@code classes} outputs (timm's counts are for the default tag's classes). */
    private static long params(String name, int classes) {
        ModelEntry e = ModelRegistry.builtIn().entry(name);
        return ModelTesting.paramCount(e.factory().apply(new ModelArgs(classes, 3, e.defaultGlobalPool(), 0, 0)));
    }

    @Test
    void parameterCountsMatchTimms() {
        // exact: the fixture's param_count (timm 1.0.29, 1000 classes)
        assertEquals(5_695_144L, params("eva02_tiny_patch14_224", 1000));
        // timm's published counts (millions, one decimal) at each default tag's classes
        Map<String, Double> published = new LinkedHashMap<>();
        published.put("eva02_tiny_patch14_224", 5.5); // mim_in22k, no head
        published.put("eva02_tiny_patch14_336", 5.8);
        published.put("eva02_small_patch14_336", 22.1);
        published.put("eva02_base_patch14_448", 87.1);
        published.put("eva02_large_patch14_448", 305.1);
        published.put("eva_giant_patch14_224", 1012.6);
        published.put("vit_small_patch16_dinov3", 21.6);
        published.put("vit_base_patch16_dinov3", 85.6);
        published.put("vit_large_patch16_dinov3", 303.1);
        published.put("vit_7b_patch16_dinov3", 6716.0);
        for (Map.Entry<String, Double> p : published.entrySet()) {
            int classes = ModelRegistry.builtIn().config(p.getKey()).numClasses();
            double m = params(p.getKey(), classes) / 1e6;
            assertEquals(p.getValue(), m, 0.05, p.getKey() + " at " + classes + " classes: " + m + "M");
        }
    }

    @Test
    void everyNameBuildsWithTimmsStructure() {
        for (String n : ModelTesting.registeredNames("eva")) {
            Eva m = (Eva) unbuilt(n);
            Map<String, Shape> sd = m.stateDictShapes();
            Eva.Config c = m.config();
            assertEquals(c.depth(), m.featureInfo().size(), n);
            assertEquals(
                    new FeatureInfo(c.embedDim(), c.patchSize(), "blocks." + (c.depth() - 1)),
                    m.featureInfo().get(c.depth() - 1),
                    n);
            assertEquals(c.rope() == Eva.RopeType.MIXED, sd.containsKey("rope.freqs"), n);
            assertEquals(
                    n.contains("dinov3") || n.contains("lingbot") || n.contains("_reg"),
                    sd.containsKey("reg_token"),
                    n);
            assertEquals(n.startsWith("vit_pe_core"), sd.containsKey("attn_pool.latent"), n);
        }
        Map<String, Shape> mixed =
                unbuilt("vit_small_patch16_rope_mixed_ape_224").stateDictShapes();
        assertEquals(new Shape(2, 12, 6, 32), mixed.get("rope.freqs"), "2 axes, depth, heads, head_dim / 2");
        assertEquals(new Shape(1, 196, 384), mixed.get("pos_embed"), "APE without a class-token position");
        Map<String, Shape> base = unbuilt("eva02_base_patch14_224").stateDictShapes();
        assertFalse(base.containsKey("blocks.0.attn.k_proj.bias"), "EVA's k projection has no bias");
        assertEquals(new Shape(768), base.get("blocks.0.attn.q_proj.bias"));
        assertEquals(new Shape(2048), base.get("blocks.0.mlp.norm.weight"), "SwiGLU with a hidden norm");
        assertEquals(new Shape(2048, 768), base.get("blocks.0.mlp.fc1_g.weight"));
        Map<String, Shape> plus = unbuilt("vit_small_plus_patch16_dinov3").stateDictShapes();
        assertEquals(new Shape(1536, 384), plus.get("blocks.0.mlp.fc1_x.weight"), "aligned to 8");
        Map<String, Shape> pe = unbuilt("vit_pe_core_tiny_patch16_384").stateDictShapes();
        assertFalse(pe.containsKey("patch_embed.proj.bias"), "pre-norm: no patch bias");
        assertEquals(new Shape(576, 192), pe.get("blocks.0.attn.qkv.weight"));
        assertEquals(new Shape(576), pe.get("blocks.0.attn.qkv.bias"), "AttentionRope: a biased qkv");
    }

    @Test
    void dinov3TakesAnySizeAndItsLevelsFollowTheGrid() {
        try (ImageModel m = Models.createModel(
                        "vit_tiny_patch16_dinov3_qkvb",
                        ModelOptions.builder().numClasses(3).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(List.of(3, 256, 256), m.pretrainedCfg().inputSize());
            for (int size : new int[] {256, 160}) {
                NDArray x = ModelTesting.input(s, size);
                assertEquals(
                        new Shape(2, 5 + (size / 16) * (size / 16), 192),
                        m.forwardFeatures(x).getShape());
                assertEquals(new Shape(2, 3), m.forward(x).getShape());
                NDList maps = m.forwardIntermediates(x, new int[] {0, -1});
                assertEquals(
                        new Shape(2, 192, size / 16, size / 16), maps.get(1).getShape());
            }
            m.resetClassifier(0);
            assertEquals(new Shape(2, 192), m.forward(ModelTesting.input(s, 64)).getShape());
        }
    }

    @Test
    void ropeMakesTheOutputDependOnWhereAPatchIs() {
        // a mixed-RoPE ViT without absolute positions: swapping two patch rows changes the class token's output
        try (ImageModel m = Models.createModel(
                        "vit_small_patch16_rope_mixed_224",
                        ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            // the reference init: LayerScale near one, so that the blocks' outputs count
            ReferenceInit.apply(m);
            NDArray x = ModelTesting.input(s, 224);
            NDArray swapped = x.duplicate();
            swapped.set(new NDIndex(":, :, 0:16"), x.get(":, :, 16:32"));
            swapped.set(new NDIndex(":, :, 16:32"), x.get(":, :, 0:16"));
            assertTrue(maxAbsDiff(m.forward(x), m.forward(swapped)) > 1e-4f);
        }
    }

    @Test
    void peCorePoolsByAttentionAndKeepsItAfterResetClassifier() {
        try (ImageModel m = Models.createModel(
                        "vit_pe_core_tiny_patch16_384",
                        ModelOptions.builder().numClasses(4).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals("map", m.globalPool());
            NDArray x = ModelTesting.input(s, 384);
            NDArray feats = m.forwardFeatures(x);
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 192), pre.getShape());
            NDArray pooled = ((Module) m.child("attn_pool")).forward(feats);
            assertTrue(maxAbsDiff(pre, pooled) < 1e-6f, "pre-logits are the attention pooling of every token");
            m.resetClassifier(0, "avg");
            assertTrue(maxAbsDiff(m.forwardHead(feats, false), pooled) < 1e-6f, "as timm, attn_pool stays");
        }
    }

    @Test
    void checkpointFilterResamplesPositionsAndConvertsDinov3AndEvaNames() {
        try (ImageModel small = Models.createModel(
                        "eva02_tiny_patch14_224",
                        ModelOptions.builder().numClasses(0).build());
                ImageModel big = Models.createModel(
                        "eva02_tiny_patch14_336",
                        ModelOptions.builder().numClasses(0).build());
                NDManager s = small.getManager().newSubManager()) {
            Map<String, NDArray> sd = new LinkedHashMap<>(small.stateDict());
            // a grid of one value resamples to the same value (bicubic weights sum to one); the class token stays
            NDArray pos = s.ones(new Shape(1, 257, 192)).mul(0.25f);
            pos.set(new NDIndex(":, 0"), 7f);
            sd.put("pos_embed", pos);
            sd.put("blocks.0.mlp.w3.weight", sd.remove("blocks.0.mlp.fc2.weight"));
            Map<String, NDArray> out = big.prepareForPretrained(sd);
            NDArray p = out.get("pos_embed");
            assertEquals(new Shape(1, 577, 192), p.getShape());
            assertEquals(7f, p.get("0, 0, 0").getFloat());
            assertTrue(p.get(":, 1:").sub(0.25f).abs().max().getFloat() < 1e-6f);
            assertTrue(out.containsKey("blocks.0.mlp.fc2.weight"), "EVA's w3 is fc2");
            PretrainedLoader.loadExactly(big, sd);
        }
        try (ImageModel d = Models.createModel(
                        "vit_small_patch16_dinov3", ModelOptions.builder().build());
                ImageModel db = Models.createModel(
                        "vit_small_patch16_dinov3_qkvb", ModelOptions.builder().build());
                NDManager s = d.getManager().newSubManager()) {
            Map<String, NDArray> ck = new LinkedHashMap<>();
            for (Map.Entry<String, NDArray> e : d.stateDict().entrySet()) {
                String k = e.getKey()
                        .replace("gamma_1", "ls1.gamma")
                        .replace("gamma_2", "ls2.gamma")
                        .replace("reg_token", "storage_tokens");
                ck.put(k, e.getValue());
            }
            ck.put("rope_embed.periods", s.ones(new Shape(16)));
            ck.put("mask_token", s.zeros(new Shape(1, 384)));
            NDArray qkvBias = s.arange(3 * 384f).reshape(1152);
            ck.put("blocks.0.attn.qkv.bias", qkvBias);
            Map<String, NDArray> out = db.prepareForPretrained(ck);
            assertEquals(384f, out.get("blocks.0.attn.q_bias").getShape().get(0));
            assertEquals(768f, out.get("blocks.0.attn.v_bias").getFloat(0));
            assertTrue(out.containsKey("reg_token") && out.containsKey("blocks.3.gamma_2"));
            assertFalse(out.containsKey("mask_token") || out.containsKey("rope_embed.periods"));
            // the model without q / v biases drops the (zero) packed bias
            assertFalse(d.prepareForPretrained(ck).keySet().stream()
                    .anyMatch(k -> k.contains("bias") && k.contains("attn.q")));
            assertNotEquals(0, out.size());
        }
    }

    @Test
    void everyEvaIsAnEva() {
        for (String n : ModelTesting.registeredNames("eva")) {
            assertInstanceOf(Eva.class, unbuilt(n), n);
        }
    }
}
