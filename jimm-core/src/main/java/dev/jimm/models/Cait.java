package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.PatchEmbed;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * CaiT (Class-Attention in Image Transformers) as timm's {@code models/cait.py} builds it: patch tokens with position
 * embeddings pass through layer-scaled blocks with talking-heads attention; then a class token, added only there,
 * attends to them in a few class-attention blocks ({@code blocks_token_only}). The class-attention layer
 * ({@link ClassAttn}) is XCiT's too.
 */
public final class Cait extends ClassTokenModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /**
     * What CaiT's and XCiT's attentions share: a head count that divides the token width, and the split of [B, N, C]
     * tokens into heads [B, heads, N, C / heads] and back.
     */
    abstract static class HeadAttention extends Module {
        final int numHeads;

        HeadAttention(int dim, int numHeads) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.numHeads = numHeads;
        }

        /** Tokens [B, N, C] as heads [B, heads, N, C / heads]. */
        final NDArray heads(NDArray t) {
            long[] s = t.getShape().getShape();
            return t.reshape(s[0], s[1], numHeads, s[2] / numHeads).transpose(0, 2, 1, 3);
        }

        /** Heads [B, heads, N, d] back to tokens [B, N, heads · d]. */
        static NDArray merge(NDArray t) {
            long[] s = t.getShape().getShape();
            return t.transpose(0, 2, 1, 3).reshape(s[0], s[2], s[1] * s[3]);
        }
    }

    /**
     * timm's {@code ClassAttn}: the class token (token 0) queries every token through separate {@code q}, {@code k},
     * {@code v} projections; the output is the class token's update [B, 1, C].
     */
    static final class ClassAttn extends HeadAttention {
        private final Linear q;
        private final Linear k;
        private final Linear v;
        private final Linear proj;

        ClassAttn(int dim, int numHeads, boolean qkvBias) {
            super(dim, numHeads);
            q = register("q", new Linear(dim, dim, qkvBias));
            k = register("k", new Linear(dim, dim, qkvBias));
            v = register("v", new Linear(dim, dim, qkvBias));
            register("attn_drop", new Dropout(0f));
            proj = register("proj", new Linear(dim, dim));
            register("proj_drop", new Dropout(0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray qh = heads(q.forward(x.get(":, 0:1")));
            NDArray cls = Attention.scaledDotProduct(qh, heads(k.forward(x)), heads(v.forward(x)), 0f, false);
            return proj.forward(merge(cls));
        }
    }

    /**
     * timm's {@code TalkingHeadAttn}: attention logits mixed across heads by {@code proj_l} before the softmax and by
     * {@code proj_w} after it.
     */
    static final class TalkingHeadAttn extends HeadAttention {
        private final Linear qkv;
        private final Linear proj;
        private final Linear projL;
        private final Linear projW;

        TalkingHeadAttn(int dim, int numHeads, boolean qkvBias) {
            super(dim, numHeads);
            qkv = register("qkv", new Linear(dim, dim * 3, qkvBias));
            register("attn_drop", new Dropout(0f));
            proj = register("proj", new Linear(dim, dim));
            projL = register("proj_l", new Linear(numHeads, numHeads));
            projW = register("proj_w", new Linear(numHeads, numHeads));
            register("proj_drop", new Dropout(0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long[] s = x.getShape().getShape();
            long d = s[2] / numHeads;
            NDArray packed = qkv.forward(x).reshape(s[0], s[1], 3, numHeads, d).transpose(2, 0, 3, 1, 4);
            NDArray qh = Scalars.mul(packed.get(0), 1.0 / Math.sqrt(d));
            NDArray attn = qh.matMul(packed.get(1).swapAxes(-1, -2));
            // heads last for the head-mixing linears, then back
            attn = projL.forward(attn.transpose(0, 2, 3, 1))
                    .transpose(0, 3, 1, 2)
                    .softmax(-1);
            attn = projW.forward(attn.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2);
            return proj.forward(merge(attn.matMul(packed.get(2))));
        }
    }

    /**
     * What timm's {@code LayerScaleBlock} and {@code LayerScaleBlockClassAttn} share (one {@code __init__} there, the
     * attention block an argument): gamma_1, gamma_2, norm1, attn, drop_path, norm2 and a GELU MLP of ratio 4.
     */
    abstract static class LayerScaleBlockBase extends GammaScaledBlock {
        private final Parameter gamma1;
        private final Parameter gamma2;
        private final Module norm1;
        private final Module attn;
        private final Module dropPath;
        private final Module norm2;
        private final Module mlp;

        LayerScaleBlockBase(Config c, Module attnBlock, Module dropPathBlock) {
            super(c.initValues());
            int dim = c.embedDim();
            gamma1 = gamma("gamma_1", dim);
            gamma2 = gamma("gamma_2", dim);
            norm1 = register("norm1", new LayerNorm(dim, 1e-6f));
            attn = register("attn", attnBlock);
            dropPath = register("drop_path", dropPathBlock);
            norm2 = register("norm2", new LayerNorm(dim, 1e-6f));
            mlp = register("mlp", new Mlp(dim, dim * 4, Activation.Kind.GELU));
        }

        /** x + drop_path(gamma_1 · attn(norm1(context))), then + drop_path(gamma_2 · mlp(norm2(·))). */
        final NDArray residuals(NDArray x, NDArray context) {
            x = addScaled(x, attn.forward(norm1.forward(context)), gamma1, dropPath);
            return addScaled(x, mlp.forward(norm2.forward(x)), gamma2, dropPath);
        }
    }

    /** timm's {@code LayerScaleBlock}: x + gamma_1 · attn(norm1(x)), then x + gamma_2 · mlp(norm2(x)). */
    static final class LayerScaleBlock extends LayerScaleBlockBase {
        LayerScaleBlock(Config c, float dpr) {
            super(c, new TalkingHeadAttn(c.embedDim(), c.numHeads(), true), DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return residuals(x, x);
        }
    }

    /**
     * timm's {@code LayerScaleBlockClassAttn}: the class token attends to itself and the patch tokens, then its MLP;
     * only the class token changes.
     */
    static final class LayerScaleBlockClassAttn extends LayerScaleBlockBase {
        LayerScaleBlockClassAttn(Config c) {
            // timm builds these blocks without drop-path
            super(c, new ClassAttn(c.embedDim(), c.numHeads(), true), new Identity());
        }

        /** The class token [B, 1, C] after attending to itself and the patch tokens {@code x}. */
        NDArray forward(NDArray x, NDArray cls) {
            return residuals(cls, NDArrays.concat(new NDList(cls, x), 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            throw new UnsupportedOperationException(
                    "a class-attention block takes the patch tokens and the class token");
        }
    }

    // ---- model ----------------------------------------------------------------------------------

    /**
     * One CaiT variant (MLP ratio 4, two class-attention blocks, as every registered name).
     *
     * @param imgSize input side (fixed by the position embeddings)
     * @param embedDim token width
     * @param depth self-attention blocks
     * @param numHeads attention heads
     * @param initValues initial layer scale
     */
    public record Config(int imgSize, int embedDim, int depth, int numHeads, double initValues) {
        /** Patch side of every registered variant. */
        public static final int PATCH = 16;

        /** Class-attention blocks of every registered variant. */
        public static final int DEPTH_TOKEN_ONLY = 2;

        public Config {
            if (imgSize % PATCH != 0) {
                throw new IllegalArgumentException("imgSize " + imgSize + " is not divisible by the patch size 16");
            }
            if (embedDim % numHeads != 0) {
                throw new IllegalArgumentException(
                        "embedDim " + embedDim + " is not divisible by numHeads " + numHeads);
            }
        }
    }

    private final Config cfg;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final PatchEmbed patchEmbed;
    private final List<LayerScaleBlockClassAttn> tokenBlocks = new ArrayList<>();
    private final Module norm;

    public Cait(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int dim = cfg.embedDim();
        patchEmbed = register("patch_embed", new PatchEmbed(cfg.imgSize(), Config.PATCH, inChans, dim));
        clsToken = parameter("cls_token", 1, 1, dim);
        posEmbed = parameter("pos_embed", 1, patchEmbed.numPatches(), dim);
        register("pos_drop", new Dropout(0f));
        Sequential blocks = new Sequential();
        // timm gives every block the same drop-path rate
        float dpr = (float) args.dropPathRate();
        for (int i = 0; i < cfg.depth(); i++) {
            blocks.add(addTrunkStep(new LayerScaleBlock(cfg, dpr)));
            addFeatureInfo(dim, Config.PATCH, "blocks." + i);
        }
        register("blocks", blocks);
        Sequential tokenOnly = new Sequential();
        for (int i = 0; i < Config.DEPTH_TOKEN_ONLY; i++) {
            LayerScaleBlockClassAttn b = new LayerScaleBlockClassAttn(cfg);
            tokenOnly.add(b);
            tokenBlocks.add(b);
        }
        register("blocks_token_only", tokenOnly);
        norm = registerNormAndHead(dim);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: trunc_normal(.02) position embedding, class token and linear weights, zero linear biases
        Init.truncNormal(posEmbed.getArray(), 0.02, random);
        initClassTokenAndLinears(clsToken, random);
    }

    private NDArray embed(NDArray x) {
        return patchEmbed.forward(x).add(posEmbed.getArray());
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        x = forwardTrunk(embed(x));
        NDArray cls = VitParts.expandToBatch(clsToken, x);
        for (LayerScaleBlockClassAttn b : tokenBlocks) {
            cls = b.forward(x, cls);
        }
        return norm.forward(NDArrays.concat(new NDList(cls, x), 1));
    }

    /** Each chosen block's patch tokens as an NCHW map (the class token joins later), as timm's intermediates. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        return forwardLevels(embed(x), indices, VisionTransformer.tokenMaps(x, Config.PATCH, 0));
    }

    /** timm's checkpoint_filter_fn: DataParallel's {@code module.} prefixes dropped. */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        checkpoint.forEach((k, v) -> out.put(k.replace("module.", ""), v));
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's cait_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "cait";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "cait_xxs24_224", new Config(224, 192, 24, 4, 1e-5));
            add(m, "cait_xxs24_384", new Config(384, 192, 24, 4, 1e-5));
            add(m, "cait_xxs36_224", new Config(224, 192, 36, 4, 1e-5));
            add(m, "cait_xxs36_384", new Config(384, 192, 36, 4, 1e-5));
            add(m, "cait_xs24_384", new Config(384, 288, 24, 6, 1e-5));
            add(m, "cait_s24_224", new Config(224, 384, 24, 8, 1e-5));
            add(m, "cait_s24_384", new Config(384, 384, 24, 8, 1e-5));
            add(m, "cait_s36_384", new Config(384, 384, 36, 8, 1e-6));
            add(m, "cait_m36_384", new Config(384, 768, 36, 16, 1e-6));
            add(m, "cait_m48_448", new Config(448, 768, 48, 16, 1e-6));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(
                    name,
                    "cait",
                    args -> new Cait(c, args),
                    PretrainedCfg.untrained(name, c.imgSize(), "patch_embed.proj", "head"),
                    "token"));
        }
    }
}
