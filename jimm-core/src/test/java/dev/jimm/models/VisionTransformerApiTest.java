package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertRandomOnlyInTraining;
import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.DiffAttention;
import dev.jimm.parity.ReferenceInit;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The timm API on ViTs (timm's and torchvision's): heads, pooling, intermediates, registrations. */
class VisionTransformerApiTest {
    @Test
    void tokenPoolingIsTheDefaultAndPreLogitsAreTheClassToken() {
        try (ImageModel m = Models.createModel("test_vit");
                NDManager s = m.getManager().newSubManager()) {
            assertEquals("token", m.globalPool());
            NDArray feats = m.forwardFeatures(input(s, 160));
            assertEquals(new Shape(2, 101, 64), feats.getShape(), "10x10 patches and the class token");
            NDArray pre = m.forwardHead(feats, true);
            assertTrue(maxAbsDiff(pre, feats.get(":, 0")) == 0f);
            assertEquals(new Shape(2, 1000), m.forwardHead(feats, false).getShape());
            assertTrue(m.stateDict().containsKey("norm.weight"));
            assertFalse(m.stateDict().containsKey("fc_norm.weight"), "token pooling keeps the norm before pooling");
        }
    }

    @Test
    void withoutPoolingTheHeadAppliesToEveryToken() {
        try (ImageModel m = Models.createModel(
                        "test_vit",
                        ModelOptions.builder().numClasses(10).globalPool("").build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    new Shape(2, 101, 10),
                    m.forward(input(s, 160)).getShape(),
                    "timm: the head applies to every token");
        }
    }

    @Test
    void explicitAvgPoolingMovesTheFinalNormAfterPooling() {
        try (ImageModel m = Models.createModel(
                        "test_vit", ModelOptions.builder().globalPool("avg").build());
                NDManager s = m.getManager().newSubManager()) {
            assertTrue(m.stateDict().containsKey("fc_norm.weight"), "timm: fc_norm for avg pooling");
            assertFalse(m.stateDict().containsKey("norm.weight"));
            NDArray feats = m.forwardFeatures(input(s, 160));
            NDArray pooled = feats.get(":, 1:").mean(new int[] {1});
            NDArray expected = pooled.sub(pooled.mean(new int[] {1}, true))
                    .div(pooled.sub(pooled.mean(new int[] {1}, true))
                            .square()
                            .mean(new int[] {1}, true)
                            .add(1e-6f)
                            .sqrt());
            // fc_norm starts as weight 1, bias 0: the pre-logits are the normalized mean of the patch tokens
            assertTrue(maxAbsDiff(m.forwardHead(feats, true), expected) < 1e-4f);
        }
    }

    @Test
    void resetClassifierSwitchesHeadAndPooling() {
        try (ImageModel m = Models.createModel("test_vit");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 160);
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 101, 64), m.forward(x).getShape());
            m.resetClassifier(10, "avg");
            NDArray feats = m.forwardFeatures(x);
            assertTrue(
                    maxAbsDiff(m.forwardHead(feats, true), feats.get(":, 1:").mean(new int[] {1})) < 1e-6f,
                    "avg pools the patch tokens only; fc_norm stays as built (identity), as timm");
            assertEquals(new Shape(2, 10), m.forward(x).getShape());
            assertEquals(new Shape(10, 64), m.stateDict().get("head.weight").getShape());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("head.bias", keys.get(keys.size() - 1));
            m.resetClassifier(3, "max");
            assertTrue(maxAbsDiff(m.forwardHead(feats, true), feats.get(":, 1:").max(new int[] {1})) == 0f);
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, "catavgmax"));
        }
        try (ImageModel gap = Models.createModel("test_vit2")) {
            assertEquals("avg", gap.globalPool(), "the gap variants default to avg");
            assertThrows(IllegalArgumentException.class, () -> gap.resetClassifier(0, "token"), "no class token");
        }
    }

    @Test
    void intermediatesAreNchwPatchMapsOfEachBlock() {
        try (ImageModel m = Models.createModel("test_vit2");
                NDManager s = m.getManager().newSubManager()) {
            List<FeatureInfo> fi = m.featureInfo();
            assertEquals(8, fi.size());
            assertEquals(new FeatureInfo(64, 16, "blocks.7"), fi.get(7));
            NDArray x = input(s, 160);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            assertEquals(8, maps.size());
            for (NDArray a : maps) {
                assertEquals(new Shape(2, 64, 10, 10), a.getShape(), "the register token is dropped");
            }
            // the last block's patch tokens, normalized by the final norm, are forwardFeatures' patch tokens
            NDArray feats = m.forwardFeatures(x);
            NDArray last = maps.get(7).reshape(2, 64, 100).transpose(0, 2, 1);
            NDArray normed = m.child("norm").forward(last);
            assertTrue(maxAbsDiff(normed, feats.get(":, 1:")) < 1e-5f);
            NDList two = m.forwardIntermediates(x, new int[] {1, -1});
            assertTrue(maxAbsDiff(two.get(1), maps.get(7)) == 0f);
            assertThrows(IllegalArgumentException.class, () -> m.forwardIntermediates(x, new int[] {8}));
        }
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "vit_tiny_patch16_224",
                        ModelOptions.builder().featuresOnly(3, -1).build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 224));
            assertEquals(2, maps.size());
            assertEquals(new Shape(2, 192, 14, 14), maps.get(0).getShape());
            assertEquals("blocks.11", fe.featureInfo().get(1).module());
            assertFalse(fe.stateDict().containsKey("head.weight"));
        }
    }

    @Test
    void wrongInputSizeIsRefusedWithBothSizes() {
        try (ImageModel m = Models.createModel("test_vit");
                NDManager s = m.getManager().newSubManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.forward(input(s, 224)));
            assertTrue(e.getMessage().contains("224x224") && e.getMessage().contains("160x160"), e.getMessage());
        }
    }

    @Test
    void dropPathRisesLinearlyAndActsOnlyInTraining() {
        try (ImageModel m = Models.createModel(
                        "test_vit",
                        ModelOptions.builder().dropPathRate(0.1).dropRate(0.2).build());
                NDManager s = m.getManager().newSubManager()) {
            List<Float> rates = dropPathRates(m, "drop_path1");
            assertEquals(5, rates.size(), "block 0 has rate 0 and no DropPath");
            assertEquals(0.02f, rates.get(0), 1e-6f);
            assertEquals(0.1f, rates.get(4), 1e-6f);
            assertRandomOnlyInTraining(m, input(s, 160));
        }
    }

    @Test
    void variantsDeclareTimmsKeysAndShapes() {
        Map<String, Shape> reg = unbuilt("vit_base_patch14_reg4_dinov2").stateDictShapes();
        List<String> keys = List.copyOf(reg.keySet());
        assertEquals(List.of("cls_token", "reg_token", "pos_embed", "patch_embed.proj.weight"), keys.subList(0, 4));
        assertEquals(new Shape(1, 37 * 37, 768), reg.get("pos_embed"), "no_embed_class: patches only, 518/14 = 37");
        assertEquals(new Shape(768), reg.get("blocks.0.ls1.gamma"));
        Map<String, Shape> clip = unbuilt("vit_base_patch16_clip_224").stateDictShapes();
        assertTrue(clip.containsKey("norm_pre.weight"));
        assertFalse(clip.containsKey("patch_embed.proj.bias"), "pre-norm models have no patch bias");
        Map<String, Shape> miil = unbuilt("vit_base_patch16_224_miil").stateDictShapes();
        assertFalse(miil.containsKey("blocks.0.attn.qkv.bias"));
        Map<String, Shape> so = unbuilt("vit_so400m_patch14_siglip_gap_384").stateDictShapes();
        assertEquals(new Shape(4304, 1152), so.get("blocks.0.mlp.fc1.weight"), "int(1152 * 3.7362)");
        assertEquals(new Shape(1, 27 * 27, 1152), so.get("pos_embed"));
        assertFalse(so.containsKey("fc_norm.weight") || so.containsKey("cls_token"));
        Map<String, Shape> giant = unbuilt("vit_giant_patch14_224").stateDictShapes();
        assertEquals(new Shape(6144, 1408), giant.get("blocks.39.mlp.fc1.weight"), "int(1408 * 48 / 11)");
    }

    @Test
    void everyRegisteredVitBuildsAtItsDefaultConfigSize() {
        // that these are timm's 157 vision_transformer names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        for (String n : ModelTesting.registeredNames("vision_transformer")) {
            VisionTransformer m = (VisionTransformer) unbuilt(n);
            // the position embeddings fix the input size: it must be the default pretrained config's
            assertEquals(
                    ModelRegistry.builtIn().config(n).inputSize().get(1),
                    m.config().imgSize(),
                    n);
            assertEquals(m.config().depth(), m.featureInfo().size(), n);
        }
    }

    @Test
    void attentionPoolingIsALatentQueryOverAllTokens() {
        try (ImageModel m = Models.createModel("test_vit3");
                NDManager s = m.getManager().newSubManager()) {
            assertEquals("map", m.globalPool());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            int norm = keys.indexOf("norm.weight");
            assertEquals(
                    List.of("attn_pool.latent", "attn_pool.q.weight", "attn_pool.q.bias", "attn_pool.kv.weight"),
                    keys.subList(norm + 2, norm + 6),
                    "attn_pool follows the final norm, latent first");
            assertEquals(
                    new Shape(192, 96),
                    m.stateDict().get("attn_pool.mlp.fc1.weight").getShape(),
                    "mlp_ratio 2");
            assertEquals("head.bias", keys.get(keys.size() - 1));
            NDArray feats = m.forwardFeatures(input(s, 160));
            assertEquals(new Shape(2, 101, 96), feats.getShape(), "a register token, no class token");
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 96), pre.getShape());
            // attention pooling without position terms does not care about the order of the tokens
            NDArray reversed = feats.flip(1);
            assertTrue(maxAbsDiff(m.forwardHead(reversed, true), pre) < 1e-5f);
            // pool_include_prefix: the register token takes part
            NDArray changed = NDArrays.concat(new NDList(feats.get(":, 0:1").mul(3f), feats.get(":, 1:")), 1);
            assertTrue(maxAbsDiff(m.forwardHead(changed, true), pre) > 1e-4f);
            m.resetClassifier(0, "avg");
            assertFalse(
                    m.stateDict().keySet().stream().anyMatch(k -> k.startsWith("attn_pool")),
                    "timm drops the attention pool");
            assertTrue(
                    maxAbsDiff(m.forwardHead(feats, true), feats.mean(new int[] {1})) < 1e-6f,
                    "avg includes the prefix here");
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(0, "map"));
        }
        Map<String, Shape> so = unbuilt("vit_so400m_patch14_siglip_384").stateDictShapes();
        assertEquals(new Shape(1, 1, 1152), so.get("attn_pool.latent"));
        assertEquals(new Shape(2304, 1152), so.get("attn_pool.kv.weight"));
        assertEquals(new Shape(4304, 1152), so.get("attn_pool.mlp.fc1.weight"));
        Map<String, Shape> so16 = unbuilt("vit_so400m_patch16_siglip_256").stateDictShapes();
        assertEquals(new Shape(1152, 3, 16, 16), so16.get("patch_embed.proj.weight"));
        assertEquals(new Shape(1, 256, 1152), so16.get("pos_embed"));
    }

    @Test
    void lessCommonBlocksDeclareTimmsKeys() {
        Map<String, Shape> aim = unbuilt("aimv2_large_patch14_224").stateDictShapes();
        assertEquals(new Shape(1024), aim.get("patch_embed.norm.weight"), "RmsNorm on the embeddings");
        assertTrue(aim.containsKey("patch_embed.proj.bias"));
        assertFalse(aim.containsKey("patch_embed.norm.bias")
                || aim.containsKey("blocks.0.attn.proj.bias")
                || aim.containsKey("blocks.0.attn.qkv.bias")
                || aim.containsKey("blocks.0.mlp.fc2.bias"));
        assertEquals(new Shape(2816, 1024), aim.get("blocks.0.mlp.fc1_g.weight"));
        assertEquals(new Shape(1024, 2816), aim.get("blocks.0.mlp.fc2.weight"));
        assertFalse(aim.containsKey("fc_norm.weight"));
        Map<String, Shape> rpn = unbuilt("vit_base_patch16_rpn_224").stateDictShapes();
        List<String> rpnKeys = List.copyOf(rpn.keySet());
        assertEquals(
                List.of(
                        "blocks.0.attn.qkv.weight",
                        "blocks.0.attn.proj.weight",
                        "blocks.0.attn.proj.bias",
                        "blocks.0.norm1.weight"),
                rpnKeys.subList(3, 7),
                "ResPostBlock: attn before norm1, no qkv bias");
        assertTrue(rpn.containsKey("fc_norm.weight") && !rpn.containsKey("norm.weight"));
        Map<String, Shape> par = unbuilt("vit_small_patch16_18x2_224").stateDictShapes();
        assertEquals(new Shape(1152, 384), par.get("blocks.17.attns.1.attn.qkv.weight"));
        assertEquals(new Shape(384), par.get("blocks.0.ffns.0.ls.gamma"));
        Map<String, Shape> glu = unbuilt("vit_giant_patch14_reg4_dinov2").stateDictShapes();
        assertEquals(new Shape(8192, 1536), glu.get("blocks.0.mlp.fc1.weight"), "int(1536 * 5.33334)");
        assertEquals(new Shape(1536, 4096), glu.get("blocks.0.mlp.fc2.weight"));
        Map<String, Shape> beit = unbuilt("beit3_base_patch16_224").stateDictShapes();
        assertEquals(new Shape(768), beit.get("blocks.0.attn.norm.weight"));
        assertEquals(new Shape(3072), beit.get("blocks.0.mlp.norm.weight"));
        assertTrue(beit.containsKey("cls_token") && beit.containsKey("fc_norm.weight"));
        assertFalse(unbuilt("test_vit4").stateDictShapes().containsKey("norm.bias"), "RmsNorm has no bias");
        Map<String, Shape> xp = unbuilt("vit_base_patch16_xp_224").stateDictShapes();
        List<String> xpKeys = List.copyOf(xp.keySet());
        assertEquals(
                List.of(
                        "blocks.0.mlp_bias",
                        "blocks.0.in_norm.weight",
                        "blocks.0.in_proj.weight",
                        "blocks.0.q_norm.weight"),
                xpKeys.subList(xpKeys.indexOf("blocks.0.mlp_bias"), xpKeys.indexOf("blocks.0.mlp_bias") + 4));
        assertEquals(new Shape(3072 + 3 * 768, 768), xp.get("blocks.0.in_proj.weight"));
        assertEquals(new Shape(64), xp.get("blocks.0.q_norm.weight"), "per-head RmsNorm");
        assertEquals(new Shape(1, 196, 768), xp.get("pos_embed"));
        assertTrue(xp.containsKey("norm_pre.weight") && !xp.containsKey("patch_embed.proj.bias"));
        Map<String, Shape> pwee = unbuilt("vit_pwee_patch16_reg1_gap_256").stateDictShapes();
        assertFalse(pwee.containsKey("blocks.0.mlp_bias"), "with qkv_bias the MLP bias is in in_proj");
        assertEquals(new Shape(256), pwee.get("blocks.15.ls.gamma"));
    }

    @Test
    void lessCommonBlocksRunAndInitAsTimm() {
        VisionTransformer.Config small =
                VisionTransformer.Config.of(32, 16, 32, 2, 2).initValues(1e-5).gap(null);
        VisionTransformer.Extras e = VisionTransformer.Extras.DEFAULT;
        List<VisionTransformer.Config> cfgs = List.of(
                small.extras(e.block(VisionTransformer.BlockKind.RES_POST)),
                small.extras(e.block(VisionTransformer.BlockKind.PARALLEL2)),
                small.act(VisionTransformer.Act.SILU).extras(e.mlp(VisionTransformer.MlpKind.SWIGLU_PACKED)),
                small.act(VisionTransformer.Act.SILU)
                        .extras(e.norm(VisionTransformer.Norm.RMS)
                                .mlp(VisionTransformer.MlpKind.SWIGLU)
                                .noProjBias()
                                .withEmbedNorm()),
                small.extras(e.withScaleNorms()),
                small.noQkvBias()
                        .extras(e.norm(VisionTransformer.Norm.RMS)
                                .block(VisionTransformer.BlockKind.PARALLEL_SCALING)
                                .withQkNorm()),
                small.extras(e.block(VisionTransformer.BlockKind.PARALLEL_SCALING)),
                small.extras(e.withDiffAttn()),
                small.extras(e.block(VisionTransformer.BlockKind.DIFF_PARALLEL_SCALING)));
        try (NDManager mm = NDManager.newBaseManager()) {
            NDArray x = ReferenceInit.input(mm, new Shape(2, 3, 32, 32), 0);
            for (VisionTransformer.Config c : cfgs) {
                VisionTransformer m = new VisionTransformer(c, new ModelArgs(5, 3, "avg", 0, 0));
                m.materialize(mm);
                m.initialize(new SplittableRandom(1));
                m.eval();
                NDArray y = m.forward(x);
                assertEquals(new Shape(2, 5), y.getShape(), c.extras().toString());
                assertTrue(
                        y.isInfinite().logicalOr(y.isNaN()).sum().getLong() == 0,
                        c.extras().toString());
                Map<String, NDArray> sd = m.stateDict();
                switch (c.extras().block()) {
                    case RES_POST ->
                        assertEquals(
                                1e-5f,
                                sd.get("blocks.1.norm2.weight").max().getFloat(),
                                1e-12f,
                                "ResPostBlock norms start at init_values");
                    default -> {}
                }
                if (c.extras().mlp() == VisionTransformer.MlpKind.SWIGLU_PACKED) {
                    NDArray b = sd.get("blocks.0.mlp.fc1.bias");
                    assertEquals(0f, b.get(":64").abs().sum().getFloat(), "the value half's bias starts at zero");
                    assertEquals(64f, b.get("64:").sum().getFloat(), 1e-5f, "the gate half's bias starts at one");
                    assertTrue(sd.get("blocks.0.mlp.fc1.weight")
                                    .get("64:")
                                    .abs()
                                    .max()
                                    .getFloat()
                            < 1e-4f);
                    assertTrue(sd.get("blocks.0.mlp.fc1.weight")
                                    .get(":64")
                                    .abs()
                                    .max()
                                    .getFloat()
                            > 1e-3f);
                }
                if (c.extras().mlp() == VisionTransformer.MlpKind.SWIGLU) {
                    assertTrue(sd.get("blocks.0.mlp.fc1_g.weight").abs().max().getFloat() < 1e-4f);
                }
            }
        }
    }

    @Test
    void differentialAttentionPairsHalfHeadsAgainstAPlainLoop() {
        int heads = 2;
        int n = 3;
        int d = 2;
        float lambda = 0.3f;
        try (NDManager mm = NDManager.newBaseManager()) {
            float[] qv = ReferenceInit.values("q", new long[] {1, 2 * heads, n, d});
            float[] kv = ReferenceInit.values("k", new long[] {1, 2 * heads, n, d});
            float[] vv = ReferenceInit.values("v", new long[] {1, heads, n, 2 * d});
            NDArray out = DiffAttention.differential(
                    mm.create(qv, new Shape(1, 2 * heads, n, d)),
                    mm.create(kv, new Shape(1, 2 * heads, n, d)),
                    mm.create(vv, new Shape(1, heads, n, 2 * d)),
                    mm.create(lambda),
                    d,
                    heads);
            assertEquals(new Shape(1, heads, n, 2 * d), out.getShape());
            float[] got = out.toFloatArray();
            double scale = 1 / Math.sqrt(d);
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < n; i++) {
                    double[][] p = new double[2][n];
                    for (int g = 0; g < 2; g++) {
                        int qh = 2 * h + g;
                        double sum = 0;
                        for (int j = 0; j < n; j++) {
                            double dot = 0;
                            for (int t = 0; t < d; t++) {
                                dot += qv[(qh * n + i) * d + t] * kv[(qh * n + j) * d + t];
                            }
                            p[g][j] = Math.exp(dot * scale);
                            sum += p[g][j];
                        }
                        for (int j = 0; j < n; j++) {
                            p[g][j] /= sum;
                        }
                    }
                    for (int c = 0; c < 2 * d; c++) {
                        double ref = 0;
                        for (int j = 0; j < n; j++) {
                            ref += (p[0][j] - lambda * p[1][j]) * vv[(h * n + j) * 2 * d + c];
                        }
                        assertEquals(ref, got[(h * n + i) * 2 * d + c], 1e-5, "head " + h + " token " + i);
                    }
                }
            }
        }
        Map<String, Shape> dwee = unbuilt("vit_dwee_patch16_reg1_gap_256").stateDictShapes();
        List<String> keys = List.copyOf(dwee.keySet());
        int at = keys.indexOf("blocks.3.attn.lambda_q1");
        assertEquals(
                List.of(
                        "blocks.3.attn.lambda_q1",
                        "blocks.3.attn.lambda_k1",
                        "blocks.3.attn.lambda_q2",
                        "blocks.3.attn.lambda_k2",
                        "blocks.3.attn.qkv.weight"),
                keys.subList(at, at + 5));
        assertEquals(new Shape(32), dwee.get("blocks.3.attn.lambda_q1"), "head_dim = 256 / 4 / 2");
        assertEquals(new Shape(64), dwee.get("blocks.3.attn.sub_norm.weight"));
        Map<String, Shape> dpwee = unbuilt("vit_dpwee_patch16_reg1_gap_256").stateDictShapes();
        List<String> pk = List.copyOf(dpwee.keySet());
        int first = pk.indexOf("blocks.0.lambda_q1");
        assertEquals(
                List.of(
                        "blocks.0.lambda_q1",
                        "blocks.0.lambda_k1",
                        "blocks.0.lambda_q2",
                        "blocks.0.lambda_k2",
                        "blocks.0.in_norm.weight"),
                pk.subList(first, first + 5),
                "no mlp_bias with qkv_bias");
        assertEquals(new Shape(256, 256 + 1280), dpwee.get("blocks.0.out_proj.weight"), "one fused output projection");
    }

    @Test
    void torchvisionVitHasTorchvisionKeysAndTheTimmApi() {
        Map<String, Shape> tv = unbuilt("tv/vit_b_32").stateDictShapes();
        List<String> keys = List.copyOf(tv.keySet());
        assertEquals(
                List.of("class_token", "conv_proj.weight", "conv_proj.bias", "encoder.pos_embedding"),
                keys.subList(0, 4));
        assertEquals(new Shape(1, 50, 768), tv.get("encoder.pos_embedding"));
        assertEquals(new Shape(2304, 768), tv.get("encoder.layers.encoder_layer_11.self_attention.in_proj_weight"));
        assertEquals(new Shape(768, 3072), tv.get("encoder.layers.encoder_layer_0.mlp.3.weight"));
        assertEquals("heads.head.bias", keys.get(keys.size() - 1));
        // the API on a small torchvision-layout ViT (64 px, patch 16, 2 layers), built by hand
        try (NDManager mm = NDManager.newBaseManager()) {
            TvVisionTransformer m = new TvVisionTransformer(64, 16, 2, 2, 32, 64, new ModelArgs(0, 3, "token", 0, 0));
            m.materialize(mm);
            m.initialize(new SplittableRandom(0));
            m.eval();
            assertFalse(m.stateDict().containsKey("heads.head.weight"));
            NDArray x = input(mm, 64);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 17, 32), feats.getShape());
            assertTrue(maxAbsDiff(m.forward(x), feats.get(":, 0")) == 0f);
            NDList maps = m.forwardIntermediates(x, new int[] {0, -1});
            assertEquals(new Shape(2, 32, 4, 4), maps.get(1).getShape());
            assertEquals(
                    "encoder.layers.encoder_layer_1", m.featureInfo().get(1).module());
            m.resetClassifier(4, "token");
            assertEquals(
                    new Shape(4, 32), m.stateDict().get("heads.head.weight").getShape());
            assertEquals(new Shape(2, 4), m.forward(x).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.forward(input(mm, 224)));
            TvVisionTransformer withHead =
                    new TvVisionTransformer(64, 16, 1, 2, 32, 64, new ModelArgs(5, 3, "token", 0, 0));
            withHead.materialize(mm);
            withHead.initialize(new SplittableRandom(0));
            assertEquals(
                    0f,
                    withHead.stateDict().get("heads.head.weight").abs().sum().getFloat(),
                    "torchvision zero-inits its head");
            assertEquals(0f, withHead.stateDict().get("class_token").abs().sum().getFloat());
            assertTrue(withHead.stateDict()
                            .get("encoder.pos_embedding")
                            .abs()
                            .sum()
                            .getFloat()
                    > 0);
        }
    }
}
