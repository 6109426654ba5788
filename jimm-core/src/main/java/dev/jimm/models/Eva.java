package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.AttentionPoolLatent;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GluMlp;
import dev.jimm.layers.Identity;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.PatchEmbed;
import dev.jimm.layers.PosEmbedResample;
import dev.jimm.layers.RotaryEmbedding;
import dev.jimm.layers.RotaryEmbeddingMixed;
import dev.jimm.layers.SwiGlu;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;

/**
 * timm's {@code models/eva.py}: the EVA / EVA-02 vision transformers and the ViTs built on the same class — Perception
 * Encoder, RoPE-ViT (axial and mixed), DINOv3, LingBot-Vision and timm's SBB ViTs with RoPE. Patch tokens with class /
 * register tokens and optional learned positions, pre-norm (or EVA-CLIP-E's post-norm) blocks whose attention rotates
 * queries and keys by a 2-D rotary position embedding ({@link RotaryEmbedding}), plain, packed SwiGLU or split SwiGLU
 * MLPs, LayerScale ({@code gamma_1}, {@code gamma_2}), and an average / token / attention pooled head.
 */
public class Eva extends ImageModel {

    /** The attention module: EVA's (separate q and v biases, none on k) or timm's AttentionRope (a biased qkv). */
    public enum AttnType {
        EVA,
        ROPE
    }

    /** The rotary position embedding. */
    public enum RopeType {
        /** none */
        NONE,
        /** RotaryEmbeddingCat: fixed axial frequencies (EVA-02, PE, RoPE-ViT axial, SBB) */
        CAT,
        /** RotaryEmbeddingMixed: learned frequencies per block and head (RoPE-ViT mixed) */
        MIXED,
        /** RotaryEmbeddingDinoV3: normalized coordinates, half-rotation layout */
        DINOV3
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /**
     * timm's {@code EvaAttention} and {@code AttentionRope}: q, k, v from one fused {@code qkv} (EVA: with
     * {@code q_bias} and {@code v_bias} parameters and a zero k bias) or from {@code q_proj}, {@code k_proj},
     * {@code v_proj}; the rotary embedding turns the patch tokens' queries and keys (the prefix tokens pass); an
     * optional norm before {@code proj} (EVA-CLIP's {@code scale_attn_inner}).
     */
    static final class EvaAttention extends Module {
        private final int numHeads;
        private final int numPrefixTokens;
        private final boolean rotateHalf;
        private final Linear qkv;
        private final Parameter qBias;
        private final Parameter vBias;
        private final Linear qProj;
        private final Linear kProj;
        private final Linear vProj;
        private final Module norm;
        private final Linear proj;
        private final float attnDrop;
        private final float projDrop;

        EvaAttention(Config c, float attnDrop, float projDrop) {
            int dim = c.embedDim();
            if (dim % c.numHeads() != 0) {
                throw new IllegalArgumentException("embedDim " + dim + " is not divisible by numHeads " + c.numHeads());
            }
            this.numHeads = c.numHeads();
            this.numPrefixTokens = c.numPrefixTokens();
            this.rotateHalf = c.ropeRotateHalf();
            this.attnDrop = attnDrop;
            this.projDrop = projDrop;
            boolean eva = c.attnType() == AttnType.EVA;
            if (c.qkvFused()) {
                qkv = register("qkv", new Linear(dim, dim * 3, !eva && c.qkvBias()));
                qBias = eva && c.qkvBias() ? parameter("q_bias", dim) : null;
                vBias = eva && c.qkvBias() ? parameter("v_bias", dim) : null;
                qProj = null;
                kProj = null;
                vProj = null;
            } else {
                qkv = null;
                qBias = null;
                vBias = null;
                qProj = register("q_proj", new Linear(dim, dim, c.qkvBias()));
                // EVA's k projection never has a bias
                kProj = register("k_proj", new Linear(dim, dim, !eva && c.qkvBias()));
                vProj = register("v_proj", new Linear(dim, dim, c.qkvBias()));
            }
            register("q_norm", new Identity());
            register("k_norm", new Identity());
            register("attn_drop", new Dropout(attnDrop));
            norm = register("norm", c.scaleAttnInner() ? newNorm(c, dim) : new Identity());
            proj = register("proj", new Linear(dim, dim));
            register("proj_drop", new Dropout(projDrop));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Beit.zeroQvBias(qBias, vBias);
        }

        Linear proj() {
            return proj;
        }

        NDArray forward(NDArray x, NDArray rope) {
            long b = x.getShape().get(0);
            long n = x.getShape().get(1);
            long c = x.getShape().get(2);
            long d = c / numHeads;
            NDArray q;
            NDArray k;
            NDArray v;
            if (qkv != null) {
                NDList heads = Beit.qkvHeads(x, qkv, qBias, vBias, numHeads);
                q = heads.get(0);
                k = heads.get(1);
                v = heads.get(2);
            } else {
                q = qProj.forward(x).reshape(b, n, numHeads, d).transpose(0, 2, 1, 3);
                k = kProj.forward(x).reshape(b, n, numHeads, d).transpose(0, 2, 1, 3);
                v = vProj.forward(x).reshape(b, n, numHeads, d).transpose(0, 2, 1, 3);
            }
            if (rope != null) {
                q = rotate(q, rope);
                k = rotate(k, rope);
            }
            NDArray out = Attention.scaledDotProduct(q, k, v, attnDrop, isTraining())
                    .transpose(0, 2, 1, 3)
                    .reshape(b, n, c);
            out = proj.forward(norm.forward(out));
            return Dropout.apply(out, projDrop, isTraining());
        }

        /** The rotary embedding on the patch tokens of [B, H, N, D], the prefix tokens unchanged. */
        private NDArray rotate(NDArray t, NDArray rope) {
            if (numPrefixTokens == 0) {
                return RotaryEmbedding.apply(t, rope, rotateHalf);
            }
            NDArray prefix = t.get(":, :, :" + numPrefixTokens);
            NDArray patches = RotaryEmbedding.apply(t.get(":, :, " + numPrefixTokens + ":"), rope, rotateHalf);
            return NDArrays.concat(new NDList(prefix, patches), 2);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, null);
        }
    }

    /** A block that takes the rotary table with its input. */
    abstract static class RopeBlock extends GammaScaledBlock {
        RopeBlock(double initValues) {
            super(initValues);
        }

        abstract NDArray forward(NDArray x, NDArray rope);

        abstract EvaAttention attn();

        abstract Module mlp();

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, null);
        }
    }

    /** timm's {@code EvaBlock}: x + gamma_1 · attn(norm1(x)), then x + gamma_2 · mlp(norm2(x)). */
    static final class EvaBlock extends RopeBlock {
        private final Parameter gamma1;
        private final Parameter gamma2;
        private final Module norm1;
        private final EvaAttention attn;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module dropPath2;

        EvaBlock(Config c, float dropPath) {
            super(c.initValues());
            int dim = c.embedDim();
            norm1 = register("norm1", newNorm(c, dim));
            attn = register("attn", new EvaAttention(c, 0f, 0f));
            gamma1 = gammaIfScaled("gamma_1", dim);
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            norm2 = register("norm2", newNorm(c, dim));
            mlp = register("mlp", newMlp(c, false));
            gamma2 = gammaIfScaled("gamma_2", dim);
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        NDArray forward(NDArray x, NDArray rope) {
            x = addScaled(x, attn.forward(norm1.forward(x), rope), gamma1, dropPath1);
            return addScaled(x, mlp.forward(norm2.forward(x)), gamma2, dropPath2);
        }

        @Override
        EvaAttention attn() {
            return attn;
        }

        @Override
        Module mlp() {
            return mlp;
        }
    }

    /** timm's {@code EvaBlockPostNorm} (EVA-CLIP-E): x + norm1(attn(x)), then x + norm2(mlp(x)). */
    static final class EvaBlockPostNorm extends RopeBlock {
        private final EvaAttention attn;
        private final Module norm1;
        private final Module dropPath1;
        private final Module mlp;
        private final Module norm2;
        private final Module dropPath2;

        EvaBlockPostNorm(Config c, float dropPath) {
            super(0);
            int dim = c.embedDim();
            attn = register("attn", new EvaAttention(c, 0f, 0f));
            norm1 = register("norm1", newNorm(c, dim));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            mlp = register("mlp", newMlp(c, true));
            norm2 = register("norm2", newNorm(c, dim));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        NDArray forward(NDArray x, NDArray rope) {
            x = x.add(dropPath1.forward(norm1.forward(attn.forward(x, rope))));
            return x.add(dropPath2.forward(norm2.forward(mlp.forward(x))));
        }

        @Override
        EvaAttention attn() {
            return attn;
        }

        @Override
        Module mlp() {
            return mlp;
        }
    }

    static Module newNorm(Config c, int width) {
        return new LayerNorm(width, c.normEps());
    }

    /**
     * The block MLP as timm chooses it: split SwiGLU when a hidden norm (or, in pre-norm blocks, an alignment) is
     * asked, packed SwiGLU (GluMlp, gate first, fc1 twice the hidden width) otherwise, else a GELU Mlp.
     */
    static Module newMlp(Config c, boolean postNormBlock) {
        int dim = c.embedDim();
        int hidden = (int) (dim * c.mlpRatio());
        if (c.swigluMlp()) {
            boolean split = c.scaleMlp() || (!postNormBlock && c.swigluAlignTo() > 0);
            if (split) {
                int aligned = SwiGlu.alignedHidden(hidden, c.swigluAlignTo());
                return new SwiGlu(
                        dim,
                        hidden,
                        dim,
                        Activation.Kind.SILU,
                        c.scaleMlp() ? newNorm(c, aligned) : null,
                        true,
                        0f,
                        c.swigluAlignTo());
            }
            return new GluMlp(dim, hidden * 2, dim, Activation.Kind.SILU, false, null, true, 0f);
        }
        return new Mlp(dim, hidden, dim, Activation.Kind.GELU, 0f, c.scaleMlp() ? newNorm(c, hidden) : null, true);
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final PatchEmbed patchEmbed;
    private final Parameter clsToken;
    private final Parameter regToken;
    private final Parameter posEmbed;
    private final RotaryEmbeddingMixed ropeMixed;
    private final Module normPre;
    private final List<RopeBlock> blocks = new ArrayList<>();
    private final Module norm;
    private final Module attnPool;
    private final Module fcNorm;
    private final Map<Long, float[]> ropeTables = new ConcurrentHashMap<>();

    public Eva(Config cfg, ModelArgs args) {
        // the shared ImageModel knows only CNN poolings; the token poolings are checked here
        super(new ModelArgs(args.numClasses(), args.inChans(), "", args.dropRate(), args.dropPathRate()));
        this.cfg = cfg;
        this.globalPool = validatePool(args.globalPool());
        int dim = cfg.embedDim();
        boolean useFcNorm = cfg.fcNorm() != null ? cfg.fcNorm() : globalPool.equals("avg");
        boolean usePostNorm = cfg.postTransformerNorm() != null ? cfg.postTransformerNorm() : !useFcNorm;

        patchEmbed = register(
                "patch_embed",
                new PatchEmbed(
                        cfg.imgSize(),
                        cfg.patchSize(),
                        inChans,
                        dim,
                        !cfg.preNorm(),
                        null,
                        true,
                        !cfg.dynamicImgSize()));
        clsToken = cfg.classToken() ? parameter("cls_token", 1, 1, dim) : null;
        regToken = cfg.regTokens() > 0 ? parameter("reg_token", 1, cfg.regTokens(), dim) : null;
        int posTokens = patchEmbed.numPatches() + (cfg.noEmbedClass() ? 0 : cfg.numPrefixTokens());
        posEmbed = cfg.absPosEmb() ? parameter("pos_embed", 1, posTokens, dim) : null;
        register("pos_drop", new Dropout(0f));
        ropeMixed = cfg.rope() == RopeType.MIXED
                ? register(
                        "rope",
                        new RotaryEmbeddingMixed(dim, cfg.depth(), cfg.numHeads(), cfg.ropeTemperature(), cfg.ropeXy()))
                : null;
        normPre = register("norm_pre", cfg.preNorm() ? newNorm(cfg, dim) : new Identity());

        register(
                "blocks",
                VitParts.stackBlocks(
                        this,
                        VitParts.linearRates(args.dropPathRate(), cfg.depth()),
                        dim,
                        cfg.patchSize(),
                        blocks,
                        (i, dpr) -> cfg.postNormBlocks() ? new EvaBlockPostNorm(cfg, dpr) : new EvaBlock(cfg, dpr)));
        norm = register("norm", usePostNorm ? newNorm(cfg, dim) : new Identity());
        attnPool = globalPool.equals("map")
                ? register(
                        "attn_pool",
                        new AttentionPoolLatent(
                                dim,
                                cfg.attnPoolHeads() > 0 ? cfg.attnPoolHeads() : cfg.numHeads(),
                                cfg.attnPoolMlpRatio() > 0 ? cfg.attnPoolMlpRatio() : cfg.mlpRatio(),
                                newNorm(cfg, dim),
                                Activation.Kind.GELU))
                : null;
        fcNorm = register("fc_norm", useFcNorm ? newNorm(cfg, dim) : new Identity());
        registerTokenClassifier(dim);
    }

    static String validatePool(String pool) {
        String p = pool == null ? "avg" : pool;
        if (!List.of("", "avg", "avgmax", "max", "token", "map").contains(p)) {
            throw new IllegalArgumentException(
                    "globalPool '" + pool + "' is not one of avg, avgmax, max, token, map or '' (no pooling) for EVA");
        }
        return p;
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** Tokens ahead of the patch tokens (class and register tokens). */
    public int numPrefixTokens() {
        return cfg.numPrefixTokens();
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's Eva.init_weights is Beit's, with the register token after the class token
        Beit.initBeitWeights(
                this,
                random,
                new Parameter[] {posEmbed, clsToken, regToken},
                blocks,
                b -> b.attn().proj(),
                b -> fc2(b.mlp()),
                tokenHead());
    }

    private static Linear fc2(Module mlp) {
        if (mlp instanceof SwiGlu s) {
            return s.fc2();
        }
        if (mlp instanceof GluMlp g) {
            return g.fc2();
        }
        return (Linear) mlp.child("fc2");
    }

    /** Patch tokens with the class / register tokens and positions (timm's _pos_embed). */
    private NDArray embed(NDArray x) {
        long h = x.getShape().get(2) / cfg.patchSize();
        long w = x.getShape().get(3) / cfg.patchSize();
        x = patchEmbed.forward(x);
        NDArray pos = null;
        if (posEmbed != null) {
            pos = posEmbed.getArray();
            int grid = patchEmbed.gridSize();
            if (h != grid || w != grid) {
                // only dynamic-size models get here (the patch embedding refuses other sizes otherwise)
                pos = PosEmbedResample.resample(
                        pos, (int) h, (int) w, grid, grid, cfg.noEmbedClass() ? 0 : cfg.numPrefixTokens());
            }
        }
        return normPre.forward(
                VitParts.addPositions(x, VitParts.prefixTokens(x, clsToken, regToken), pos, cfg.noEmbedClass()));
    }

    /**
     * The rotary table for an {@code h x w} patch grid: [h·w, 2·headDim] (fixed kinds) or [depth, heads, h·w,
     * 2·headDim] (mixed), or null without rotary embedding.
     */
    NDArray ropeTable(NDArray like, int h, int w) {
        int headDim = cfg.embedDim() / cfg.numHeads();
        return switch (cfg.rope()) {
            case NONE -> null;
            case MIXED -> ropeMixed.table(h, w);
            case CAT, DINOV3 -> {
                float[] t = ropeTables.computeIfAbsent(
                        ((long) h << 32) | w,
                        k -> cfg.rope() == RopeType.CAT
                                ? RotaryEmbedding.catTable(
                                        headDim,
                                        h,
                                        w,
                                        cfg.ropeTemperature(),
                                        cfg.refFeatShape() > 0
                                                ? new int[] {cfg.refFeatShape(), cfg.refFeatShape()}
                                                : null,
                                        cfg.ropeGridOffset(),
                                        cfg.ropeXy())
                                : RotaryEmbedding.dinov3Table(
                                        headDim, h, w, cfg.ropeTemperature(), cfg.ropeRotateHalf()));
                yield RotaryEmbedding.toArray(like.getManager(), t, headDim);
            }
        };
    }

    /** Runs blocks 0..last on embedded tokens, giving each its rotary table; {@code each} sees every output. */
    private NDArray runBlocks(NDArray x, NDArray image, int last, UnaryOperator<NDArray> each) {
        int h = (int) (image.getShape().get(2) / cfg.patchSize());
        int w = (int) (image.getShape().get(3) / cfg.patchSize());
        NDArray rope = ropeTable(image, h, w);
        for (int i = 0; i <= last; i++) {
            NDArray r = rope == null ? null : cfg.rope() == RopeType.MIXED ? rope.get(i) : rope;
            x = blocks.get(i).forward(x, r);
            each.apply(x);
        }
        return x;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(runBlocks(embed(x), x, blocks.size() - 1, UnaryOperator.identity()));
    }

    /** timm's Eva.pool: attention pooling when built with it, else global_pool_nlc. */
    private NDArray pool(NDArray x) {
        if (attnPool != null) {
            return attnPool.forward(x);
        }
        return VisionTransformer.poolTokens(x, globalPool, cfg.numPrefixTokens());
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return tokenClassifier(fcNorm.forward(pool(x)), preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        // as timm, the attention pooling (when built) stays whatever the pooling is set to
        String pool = validatePool(newGlobalPool);
        VitParts.checkMapPool(pool, attnPool != null);
        resetTokenClassifier(newNumClasses, pool);
    }

    /** Each chosen block's output as an NCHW map of the patch tokens (prefix tokens dropped), as timm. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        int[] take = resolveIndices(indices);
        UnaryOperator<NDArray> toMap = VisionTransformer.tokenMaps(x, cfg.patchSize(), cfg.numPrefixTokens());
        List<NDArray> all = new ArrayList<>();
        runBlocks(embed(x), x, deepest(take), y -> {
            all.add(toMap.apply(y));
            return y;
        });
        return select(all, take);
    }

    /**
     * timm's eva {@code checkpoint_filter_fn}: Perception Encoder and OpenCLIP layouts mapped to timm's keys, the fixed
     * rotary buffers dropped, DINOv3's names and packed qkv bias converted, a MIM checkpoint's final norm moved to
     * {@code fc_norm}, the original EVA MLP / norm names renamed, and the position embedding resampled when the
     * checkpoint was trained on another grid.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("visual.conv1.weight")) {
            return convertPe(checkpoint, "visual.");
        }
        if (checkpoint.containsKey("conv1.weight")) {
            return convertPe(checkpoint, "");
        }
        String prefix = checkpoint.containsKey("visual.trunk.pos_embed")
                ? "visual.trunk."
                : checkpoint.containsKey("visual.pos_embed") ? "visual." : "";
        boolean dinov3 = checkpoint.containsKey("storage_tokens");
        boolean mim = !dinov3 && checkpoint.containsKey(prefix + "mask_token");
        boolean noQkv = checkpoint.containsKey(prefix + "blocks.0.attn.q_proj.weight");
        Map<String, Shape> own = stateDictShapes();
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = stripPrefix(e.getKey(), prefix);
            NDArray v = e.getValue();
            if (k == null) {
                continue;
            }
            if (k.contains("rope") && !k.equals("rope.freqs")) {
                continue;
            }
            if (dinov3) {
                if (k.endsWith(".periods")
                        || k.endsWith(".bias_mask")
                        || k.endsWith("mask_token")
                        || k.startsWith("projectors.")
                        || k.startsWith("local_cls_norm")) {
                    continue;
                }
                if (k.endsWith("qkv.bias")) {
                    String qb = k.replace("qkv.bias", "q_bias");
                    if (!own.containsKey(qb)) {
                        // the model has no qkv bias (the checkpoint's is zero)
                        continue;
                    }
                    NDList parts = v.split(3, v.getShape().dimension() - 1);
                    out.put(qb, parts.get(0));
                    out.put(k.replace("qkv.bias", "v_bias"), parts.get(2));
                    continue;
                }
                k = k.replace("ls1.gamma", "gamma_1").replace("ls2.gamma", "gamma_2");
                k = k.replace("storage_tokens", "reg_token");
            } else if (mim
                    && List.of("mask_token", "lm_head.weight", "lm_head.bias", "norm.weight", "norm.bias")
                            .contains(k)) {
                if (!k.startsWith("norm")) {
                    continue;
                }
                // a fine-tune starts better from the pretraining's final norm than from a new one
                k = "fc_" + k;
            }
            v = Beit.adaptPatchAndPos(k, v, patchEmbed, posEmbed, cfg.noEmbedClass() ? 0 : cfg.numPrefixTokens());
            k = k.replace("mlp.ffn_ln", "mlp.norm")
                    .replace("attn.inner_attn_ln", "attn.norm")
                    .replace("mlp.w12", "mlp.fc1")
                    .replace("mlp.w1", "mlp.fc1_g")
                    .replace("mlp.w2", "mlp.fc1_x")
                    .replace("mlp.w3", "mlp.fc2");
            if (noQkv) {
                k = k.replace("q_bias", "q_proj.bias").replace("v_bias", "v_proj.bias");
            }
            out.put(k, v);
        }
        return out;
    }

    /** {@code k} without {@code prefix} (none: {@code k} as it is), or null when {@code k} lies outside it. */
    private static String stripPrefix(String k, String prefix) {
        if (prefix.isEmpty()) {
            return k;
        }
        return k.startsWith(prefix) ? k.substring(prefix.length()) : null;
    }

    /** timm's {@code _convert_pe}: Meta's Perception Encoder keys to timm's. */
    private Map<String, NDArray> convertPe(Map<String, NDArray> checkpoint, String prefix) {
        String[][] swaps = {
            {"conv1", "patch_embed.proj"},
            {"positional_embedding", "pos_embed"},
            {"transformer.resblocks.", "blocks."},
            {"ln_pre", "norm_pre"},
            {"ln_post", "norm"},
            {"ln_", "norm"},
            {"ls_1.gamma", "gamma_1"},
            {"ls_2.gamma", "gamma_2"},
            {"in_proj_", "qkv."},
            {"out_proj", "proj"},
            {"mlp.c_fc", "mlp.fc1"},
            {"mlp.c_proj", "mlp.fc2"}
        };
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = stripPrefix(e.getKey().replace("module.", ""), prefix);
            NDArray v = e.getValue();
            if (k == null) {
                continue;
            }
            for (String[] s : swaps) {
                k = k.replace(s[0], s[1]);
            }
            if (k.startsWith("attn_pool")) {
                k = k.replace("attn_pool.attn", "attn_pool")
                        .replace("attn_pool.layernorm", "attn_pool.norm")
                        .replace("attn_pool.probe", "attn_pool.latent");
                if (k.startsWith("attn_pool.qkv")) {
                    long dim = v.getShape().get(0) / 3;
                    String kind = k.endsWith("weight") ? "weight" : "bias";
                    out.put("attn_pool.q." + kind, v.get(":" + dim));
                    out.put("attn_pool.kv." + kind, v.get(dim + ":"));
                    continue;
                }
            } else if (k.equals("proj")) {
                v = v.transpose(1, 0);
                out.put("head.weight", v);
                out.put("head.bias", v.getManager().zeros(new Shape(v.getShape().get(0))));
                continue;
            } else if (k.equals("class_embedding")) {
                k = "cls_token";
                v = v.reshape(1, 1, -1);
            } else if (k.equals("pos_embed")) {
                v = v.expandDims(0);
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /**
     * An EVA variant, as the keyword arguments of timm's Eva.
     *
     * @param imgSize the input size the position embeddings (and fixed rotary tables) are built for
     * @param patchSize patch side
     * @param embedDim token width
     * @param depth number of blocks
     * @param numHeads attention heads
     * @param mlpRatio MLP hidden width over the token width
     * @param qkvBias biases on q and v (and k, for AttentionRope)
     * @param qkvFused one qkv projection rather than q_proj, k_proj, v_proj
     * @param swigluMlp SwiGLU MLPs
     * @param swigluAlignTo round the SwiGLU hidden width up to this multiple (0: none)
     * @param scaleMlp a norm on the MLP's hidden features
     * @param scaleAttnInner a norm on the attention output before proj
     * @param attnType EVA's attention or AttentionRope
     * @param normEps LayerNorm epsilon (1e-6; PE and DINOv3 1e-5)
     * @param initValues LayerScale init (0: no gamma_1 / gamma_2)
     * @param classToken a class token
     * @param regTokens register tokens
     * @param noEmbedClass position embeddings for the patches only
     * @param absPosEmb learned absolute position embeddings
     * @param rope the rotary embedding kind
     * @param ropeTemperature the frequency base of the rotary embedding
     * @param ropeGridOffset added to the grid coordinates (PE: 1)
     * @param ropeXy grid indexing 'xy' (column first) rather than 'ij'
     * @param ropeRotateHalf the half-rotation layout (DINOv3) rather than interleaved pairs
     * @param refFeatShape the pretraining grid side the rotary coordinates are scaled to (0: none)
     * @param postNormBlocks post-norm blocks (EVA-CLIP-E)
     * @param preNorm a norm before the blocks (then the patch projection has no bias)
     * @param postTransformerNorm the final norm before pooling; null for timm's default (when fc_norm is off)
     * @param fcNorm the norm after pooling; null for timm's default (with average pooling)
     * @param globalPool the default pooling: avg, token, map, ...
     * @param attnPoolHeads heads of the attention pooling (0: numHeads)
     * @param attnPoolMlpRatio MLP ratio of the attention pooling (0: mlpRatio)
     * @param dynamicImgSize any input size divisible by the patch (timm's dynamic_img_size)
     */
    public record Config(
            int imgSize,
            int patchSize,
            int embedDim,
            int depth,
            int numHeads,
            double mlpRatio,
            boolean qkvBias,
            boolean qkvFused,
            boolean swigluMlp,
            int swigluAlignTo,
            boolean scaleMlp,
            boolean scaleAttnInner,
            AttnType attnType,
            float normEps,
            double initValues,
            boolean classToken,
            int regTokens,
            boolean noEmbedClass,
            boolean absPosEmb,
            RopeType rope,
            double ropeTemperature,
            double ropeGridOffset,
            boolean ropeXy,
            boolean ropeRotateHalf,
            int refFeatShape,
            boolean postNormBlocks,
            boolean preNorm,
            Boolean postTransformerNorm,
            Boolean fcNorm,
            String globalPool,
            int attnPoolHeads,
            double attnPoolMlpRatio,
            boolean dynamicImgSize) {

        /** Tokens ahead of the patches: the class token and the registers. */
        public int numPrefixTokens() {
            return (classToken ? 1 : 0) + regTokens;
        }

        public static Builder builder() {
            return new Builder();
        }

        /** A builder starting from this variant. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** The same variant at another input size. */
        public Config imgSize(int v) {
            return toBuilder().imgSize(v).build();
        }

        /** Builds a {@link Config}; defaults are timm's Eva defaults. */
        public static final class Builder {
            private int imgSize = 224;
            private int patchSize = 16;
            private int embedDim = 768;
            private int depth = 12;
            private int numHeads = 12;
            private double mlpRatio = 4;
            private boolean qkvBias = true;
            private boolean qkvFused = true;
            private boolean swigluMlp;
            private int swigluAlignTo;
            private boolean scaleMlp;
            private boolean scaleAttnInner;
            private AttnType attnType = AttnType.EVA;
            private float normEps = 1e-6f;
            private double initValues;
            private boolean classToken = true;
            private int regTokens;
            private boolean noEmbedClass;
            private boolean absPosEmb = true;
            private RopeType rope = RopeType.NONE;
            private double ropeTemperature = 10000;
            private double ropeGridOffset;
            private boolean ropeXy;
            private boolean ropeRotateHalf;
            private int refFeatShape;
            private boolean postNormBlocks;
            private boolean preNorm;
            private Boolean postTransformerNorm;
            private Boolean fcNorm;
            private String globalPool = "avg";
            private int attnPoolHeads;
            private double attnPoolMlpRatio;
            private boolean dynamicImgSize;

            Builder() {}

            Builder(Config c) {
                imgSize = c.imgSize;
                patchSize = c.patchSize;
                embedDim = c.embedDim;
                depth = c.depth;
                numHeads = c.numHeads;
                mlpRatio = c.mlpRatio;
                qkvBias = c.qkvBias;
                qkvFused = c.qkvFused;
                swigluMlp = c.swigluMlp;
                swigluAlignTo = c.swigluAlignTo;
                scaleMlp = c.scaleMlp;
                scaleAttnInner = c.scaleAttnInner;
                attnType = c.attnType;
                normEps = c.normEps;
                initValues = c.initValues;
                classToken = c.classToken;
                regTokens = c.regTokens;
                noEmbedClass = c.noEmbedClass;
                absPosEmb = c.absPosEmb;
                rope = c.rope;
                ropeTemperature = c.ropeTemperature;
                ropeGridOffset = c.ropeGridOffset;
                ropeXy = c.ropeXy;
                ropeRotateHalf = c.ropeRotateHalf;
                refFeatShape = c.refFeatShape;
                postNormBlocks = c.postNormBlocks;
                preNorm = c.preNorm;
                postTransformerNorm = c.postTransformerNorm;
                fcNorm = c.fcNorm;
                globalPool = c.globalPool;
                attnPoolHeads = c.attnPoolHeads;
                attnPoolMlpRatio = c.attnPoolMlpRatio;
                dynamicImgSize = c.dynamicImgSize;
            }

            /** Input size, patch, width, depth and heads at once. */
            public Builder shape(int img, int patch, int dim, int blocks, int heads) {
                imgSize = img;
                patchSize = patch;
                embedDim = dim;
                depth = blocks;
                numHeads = heads;
                return this;
            }

            public Builder imgSize(int v) {
                imgSize = v;
                return this;
            }

            public Builder mlpRatio(double v) {
                mlpRatio = v;
                return this;
            }

            public Builder qkvBias(boolean v) {
                qkvBias = v;
                return this;
            }

            public Builder qkvFused(boolean v) {
                qkvFused = v;
                return this;
            }

            /** SwiGLU MLPs, their hidden width rounded up to {@code alignTo} (0: none). */
            public Builder swiglu(int alignTo) {
                swigluMlp = true;
                swigluAlignTo = alignTo;
                return this;
            }

            public Builder scaleMlp(boolean v) {
                scaleMlp = v;
                return this;
            }

            public Builder scaleAttnInner(boolean v) {
                scaleAttnInner = v;
                return this;
            }

            public Builder attnType(AttnType v) {
                attnType = v;
                return this;
            }

            public Builder normEps(float v) {
                normEps = v;
                return this;
            }

            public Builder initValues(double v) {
                initValues = v;
                return this;
            }

            public Builder classToken(boolean v) {
                classToken = v;
                return this;
            }

            public Builder regTokens(int v) {
                regTokens = v;
                return this;
            }

            public Builder noEmbedClass(boolean v) {
                noEmbedClass = v;
                return this;
            }

            public Builder absPosEmb(boolean v) {
                absPosEmb = v;
                return this;
            }

            /** The rotary embedding kind and its frequency base. */
            public Builder rope(RopeType v, double temperature) {
                rope = v;
                ropeTemperature = temperature;
                return this;
            }

            public Builder ropeGridOffset(double v) {
                ropeGridOffset = v;
                return this;
            }

            public Builder ropeXy(boolean v) {
                ropeXy = v;
                return this;
            }

            public Builder ropeRotateHalf(boolean v) {
                ropeRotateHalf = v;
                return this;
            }

            public Builder refFeatShape(int v) {
                refFeatShape = v;
                return this;
            }

            public Builder postNormBlocks(boolean v) {
                postNormBlocks = v;
                return this;
            }

            public Builder preNorm(boolean v) {
                preNorm = v;
                return this;
            }

            public Builder postTransformerNorm(Boolean v) {
                postTransformerNorm = v;
                return this;
            }

            public Builder fcNorm(Boolean v) {
                fcNorm = v;
                return this;
            }

            public Builder globalPool(String v) {
                globalPool = v;
                return this;
            }

            /** Attention pooling ("map") with its heads and MLP ratio. */
            public Builder attnPool(int heads, double mlpRatio) {
                globalPool = "map";
                attnPoolHeads = heads;
                attnPoolMlpRatio = mlpRatio;
                return this;
            }

            public Builder dynamicImgSize(boolean v) {
                dynamicImgSize = v;
                return this;
            }

            public Config build() {
                return new Config(
                        imgSize,
                        patchSize,
                        embedDim,
                        depth,
                        numHeads,
                        mlpRatio,
                        qkvBias,
                        qkvFused,
                        swigluMlp,
                        swigluAlignTo,
                        scaleMlp,
                        scaleAttnInner,
                        attnType,
                        normEps,
                        initValues,
                        classToken,
                        regTokens,
                        noEmbedClass,
                        absPosEmb,
                        rope,
                        ropeTemperature,
                        ropeGridOffset,
                        ropeXy,
                        ropeRotateHalf,
                        refFeatShape,
                        postNormBlocks,
                        preNorm,
                        postTransformerNorm,
                        fcNorm,
                        globalPool,
                        attnPoolHeads,
                        attnPoolMlpRatio,
                        dynamicImgSize);
            }
        }
    }

    /** Registers every name of timm's eva module. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "eva";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();

            // EVA-01 giant: abs positions, GELU MLP, average pooling (the CLIP one pools the class token)
            Config.Builder giant = Config.builder().shape(224, 14, 1408, 40, 16).mlpRatio(6144 / 1408.0);
            add(m, "eva_giant_patch14_224", giant.build());
            add(m, "eva_giant_patch14_336", giant.build().imgSize(336));
            add(m, "eva_giant_patch14_560", giant.build().imgSize(560));
            add(
                    m,
                    "eva_giant_patch14_clip_224",
                    giant.build().toBuilder().globalPool("token").build());

            // EVA-02: RoPE (16x16 reference grid), SwiGLU; base and large with separate q/k/v and a norm in the MLP
            Config ti = eva02(192, 12, 3).build();
            Config s = eva02(384, 12, 6).build();
            Config b = eva02(768, 12, 12).qkvFused(false).scaleMlp(true).build();
            Config l = eva02(1024, 24, 16).qkvFused(false).scaleMlp(true).build();
            add(m, "eva02_tiny_patch14_224", ti);
            add(m, "eva02_small_patch14_224", s);
            add(m, "eva02_base_patch14_224", b);
            add(m, "eva02_large_patch14_224", l);
            add(m, "eva02_tiny_patch14_336", ti.imgSize(336));
            add(m, "eva02_small_patch14_336", s.imgSize(336));
            add(m, "eva02_base_patch14_448", b.imgSize(448));
            add(m, "eva02_large_patch14_448", l.imgSize(448));
            // EVA-CLIP: a norm inside attention, class-token pooling
            add(
                    m,
                    "eva02_base_patch16_clip_224",
                    b.toBuilder()
                            .shape(224, 16, 768, 12, 12)
                            .scaleAttnInner(true)
                            .globalPool("token")
                            .build());
            Config lClip =
                    l.toBuilder().scaleAttnInner(true).globalPool("token").build();
            add(m, "eva02_large_patch14_clip_224", lClip);
            add(m, "eva02_large_patch14_clip_336", lClip.imgSize(336));
            add(
                    m,
                    "eva02_enormous_patch14_clip_224",
                    Config.builder()
                            .shape(224, 14, 1792, 64, 16)
                            .mlpRatio(15360 / 1792.0)
                            .postNormBlocks(true)
                            .globalPool("token")
                            .build());

            // timm's SBB ViTs with RoPE: register tokens, no class token or absolute positions, LayerScale
            Config.Builder sbb = Config.builder()
                    .initValues(1e-5)
                    .classToken(false)
                    .absPosEmb(false)
                    .rope(RopeType.CAT, 10000)
                    .refFeatShape(16);
            add(
                    m,
                    "vit_medium_patch16_rope_reg1_gap_256",
                    sbb.shape(256, 16, 512, 12, 8).regTokens(1).build());
            add(
                    m,
                    "vit_mediumd_patch16_rope_reg1_gap_256",
                    sbb.shape(256, 16, 512, 20, 8).regTokens(1).qkvBias(false).build());
            sbb.qkvBias(true);
            add(
                    m,
                    "vit_betwixt_patch16_rope_reg4_gap_256",
                    sbb.shape(256, 16, 640, 12, 10).regTokens(4).build());
            add(
                    m,
                    "vit_base_patch16_rope_reg1_gap_256",
                    sbb.shape(256, 16, 768, 12, 12).regTokens(1).build());

            // Perception Encoder: AttentionRope, pre-norm, offset 'xy' RoPE; core pools by attention, lang and
            // spatial have no final norm
            add(
                    m,
                    "vit_pe_core_tiny_patch16_384",
                    peCore(384, 16, 192, 12, 3, 24).build());
            add(
                    m,
                    "vit_pe_core_small_patch16_384",
                    peCore(384, 16, 384, 12, 6, 24).build());
            add(
                    m,
                    "vit_pe_core_base_patch16_224",
                    peCore(224, 16, 768, 12, 12, 14).build());
            add(
                    m,
                    "vit_pe_core_large_patch14_336",
                    peCore(336, 14, 1024, 24, 16, 24).build());
            add(
                    m,
                    "vit_pe_core_gigantic_patch14_448",
                    peCore(448, 14, 1536, 50, 16, 32)
                            .mlpRatio(8960 / 1536.0)
                            .classToken(false)
                            .ropeGridOffset(0)
                            .build());
            add(
                    m,
                    "vit_pe_lang_large_patch14_448",
                    peDense(448, 14, 1024, 23, 16).initValues(0.1).build());
            add(
                    m,
                    "vit_pe_lang_gigantic_patch14_448",
                    peDense(448, 14, 1536, 47, 16)
                            .mlpRatio(8960 / 1536.0)
                            .classToken(false)
                            .ropeGridOffset(0)
                            .initValues(0.1)
                            .build());
            add(
                    m,
                    "vit_pe_spatial_tiny_patch16_512",
                    peDense(512, 16, 192, 12, 3).build());
            add(
                    m,
                    "vit_pe_spatial_small_patch16_512",
                    peDense(512, 16, 384, 12, 6).build());
            add(
                    m,
                    "vit_pe_spatial_base_patch16_512",
                    peDense(512, 16, 768, 12, 12).build());
            add(
                    m,
                    "vit_pe_spatial_large_patch14_448",
                    peDense(448, 14, 1024, 24, 16).build());
            add(
                    m,
                    "vit_pe_spatial_gigantic_patch14_448",
                    peDense(448, 14, 1536, 50, 16)
                            .mlpRatio(8960 / 1536.0)
                            .classToken(false)
                            .ropeGridOffset(0)
                            .initValues(0.1)
                            .build());

            // RoPE-ViT (Naver): axial (temperature 100) or mixed (learned, temperature 10), optionally with APE
            int[][] ropeVit = {{384, 12, 6}, {768, 12, 12}, {1024, 24, 16}};
            String[] sizes = {"small", "base", "large"};
            for (int i = 0; i < 3; i++) {
                Config.Builder r = Config.builder()
                        .shape(224, 16, ropeVit[i][0], ropeVit[i][1], ropeVit[i][2])
                        .attnType(AttnType.ROPE)
                        .initValues(1e-5)
                        .globalPool("token")
                        .absPosEmb(false)
                        .ropeXy(true);
                String n = "vit_" + sizes[i] + "_patch16_rope_";
                add(m, n + "224", r.rope(RopeType.CAT, 100).build());
                add(m, n + "mixed_224", r.rope(RopeType.MIXED, 10).build());
                r.noEmbedClass(true).absPosEmb(true);
                add(m, n + "ape_224", r.rope(RopeType.CAT, 100).build());
                add(m, n + "mixed_ape_224", r.rope(RopeType.MIXED, 10).build());
            }

            // DINOv3 and LingBot-Vision: any input size, 4 registers, half-layout RoPE, LayerScale, no fc_norm
            add(m, "vit_tiny_patch16_dinov3_qkvb", dinov3(192, 12, 3, true).build());
            add(m, "vit_small_patch16_dinov3", dinov3(384, 12, 6, false).build());
            add(m, "vit_small_patch16_dinov3_qkvb", dinov3(384, 12, 6, true).build());
            add(
                    m,
                    "vit_small_plus_patch16_dinov3",
                    dinov3(384, 12, 6, false).swiglu(8).build());
            add(
                    m,
                    "vit_small_plus_patch16_dinov3_qkvb",
                    dinov3(384, 12, 6, true).swiglu(8).build());
            add(m, "vit_base_patch16_dinov3", dinov3(768, 12, 12, false).build());
            add(m, "vit_base_patch16_dinov3_qkvb", dinov3(768, 12, 12, true).build());
            add(m, "vit_large_patch16_dinov3", dinov3(1024, 24, 16, false).build());
            add(m, "vit_large_patch16_dinov3_qkvb", dinov3(1024, 24, 16, true).build());
            add(
                    m,
                    "vit_huge_plus_patch16_dinov3",
                    dinov3(1280, 32, 20, false).swiglu(8).build());
            add(
                    m,
                    "vit_huge_plus_patch16_dinov3_qkvb",
                    dinov3(1280, 32, 20, true).swiglu(8).build());
            add(
                    m,
                    "vit_7b_patch16_dinov3",
                    dinov3(4096, 40, 32, false).mlpRatio(2).swiglu(64).build());
            add(m, "vit_small_patch16_lingbot", dinov3(384, 12, 6, true).build());
            add(m, "vit_base_patch16_lingbot", dinov3(768, 12, 12, true).build());
            add(m, "vit_large_patch16_lingbot", dinov3(1024, 24, 16, true).build());
            add(
                    m,
                    "vit_giant_patch16_lingbot",
                    dinov3(1536, 40, 24, false).mlpRatio(4 * 2 / 3.0).swiglu(8).build());
            return m;
        }

        private static Config.Builder eva02(int dim, int depth, int heads) {
            return Config.builder()
                    .shape(224, 14, dim, depth, heads)
                    .mlpRatio(4 * 2 / 3.0)
                    .swiglu(0)
                    .rope(RopeType.CAT, 10000)
                    .refFeatShape(16);
        }

        private static Config.Builder pe(int img, int patch, int dim, int depth, int heads) {
            return Config.builder()
                    .shape(img, patch, dim, depth, heads)
                    .attnType(AttnType.ROPE)
                    .preNorm(true)
                    .rope(RopeType.CAT, 10000)
                    .ropeGridOffset(1)
                    .ropeXy(true)
                    .normEps(1e-5f);
        }

        private static Config.Builder peCore(int img, int patch, int dim, int depth, int heads, int refGrid) {
            return pe(img, patch, dim, depth, heads).refFeatShape(refGrid).attnPool(8, 4);
        }

        private static Config.Builder peDense(int img, int patch, int dim, int depth, int heads) {
            return pe(img, patch, dim, depth, heads)
                    .refFeatShape(32)
                    .postTransformerNorm(false)
                    .fcNorm(false);
        }

        private static Config.Builder dinov3(int dim, int depth, int heads, boolean qkvBias) {
            return Config.builder()
                    .shape(224, 16, dim, depth, heads)
                    .dynamicImgSize(true)
                    .qkvBias(qkvBias)
                    .initValues(1e-5)
                    .rope(RopeType.DINOV3, 100)
                    .ropeRotateHalf(true)
                    .absPosEmb(false)
                    .regTokens(4)
                    .fcNorm(false)
                    .normEps(1e-5f);
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(
                    name,
                    "eva",
                    args -> new Eva(c, args),
                    PretrainedCfg.untrained(name, c.imgSize(), "patch_embed.proj", "head"),
                    c.globalPool()));
        }
    }
}
