package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.BeitRelativePositionBias;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NoGrad;
import dev.jimm.layers.PatchEmbed;
import dev.jimm.layers.PosEmbedResample;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * timm's {@code models/beit.py}: BEiT and BEiT v2. A ViT whose attention adds a learned relative position bias per
 * block ({@link BeitRelativePositionBias}, with class-token rows) to the logits, q and v biases without a k bias,
 * LayerScale ({@code gamma_1}, {@code gamma_2}) and, by default, average pooling of the patch tokens into
 * {@code fc_norm}.
 */
public class Beit extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** BEiT's attention: qkv without bias plus {@code q_bias} / {@code v_bias}, and the relative position bias. */
    static final class BeitAttention extends Module {
        private final int numHeads;
        private final int windowH;
        private final int windowW;
        private final Parameter qBias;
        private final Parameter vBias;
        private final Parameter table;
        private final Buffer index;
        private final Linear qkv;
        private final Linear proj;
        private final float attnDrop;
        private final float projDrop;

        BeitAttention(int dim, int numHeads, boolean qkvBias, int window, float attnDrop, float projDrop) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("embedDim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.numHeads = numHeads;
            this.windowH = window;
            this.windowW = window;
            this.attnDrop = attnDrop;
            this.projDrop = projDrop;
            qkv = register("qkv", new Linear(dim, dim * 3, false));
            qBias = qkvBias ? parameter("q_bias", dim) : null;
            vBias = qkvBias ? parameter("v_bias", dim) : null;
            if (window > 0) {
                table = parameter(
                        "relative_position_bias_table",
                        BeitRelativePositionBias.numRelativeDistance(window, window),
                        numHeads);
                int n = window * window + 1;
                index = buffer("relative_position_index", DataType.INT64, false, n, n);
            } else {
                table = null;
                index = null;
            }
            register("attn_drop", new Dropout(attnDrop));
            proj = register("proj", new Linear(dim, dim));
            register("proj_drop", new Dropout(projDrop));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            zeroQvBias(qBias, vBias);
            if (table != null) {
                Init.constant(table.getArray(), 0f);
                BeitRelativePositionBias.fillIndex(index.array(), windowH, windowW);
            }
        }

        Linear proj() {
            return proj;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long b = x.getShape().get(0);
            long n = x.getShape().get(1);
            long c = x.getShape().get(2);
            NDList qkvHeads = qkvHeads(x, qkv, qBias, vBias, numHeads);
            NDArray q = qkvHeads.get(0);
            NDArray k = qkvHeads.get(1);
            NDArray v = qkvHeads.get(2);
            NDArray out;
            if (table == null) {
                out = Attention.scaledDotProduct(q, k, v, attnDrop, isTraining());
            } else {
                float scale = (float) (1.0 / Math.sqrt(c / numHeads));
                NDArray attn = Scalars.mul(q, scale).matMul(k.swapAxes(-1, -2));
                attn = attn.add(BeitRelativePositionBias.gather(table.getArray(), index.array())
                        .expandDims(0));
                attn = Dropout.apply(attn.softmax(-1), attnDrop, isTraining());
                out = attn.matMul(v);
            }
            out = proj.forward(out.transpose(0, 2, 1, 3).reshape(b, n, c));
            return Dropout.apply(out, projDrop, isTraining());
        }
    }

    /** timm's beit {@code Block}: x + gamma_1 · attn(norm1(x)), then x + gamma_2 · mlp(norm2(x)). */
    static final class Block extends GammaScaledBlock {
        private final Module norm1;
        private final BeitAttention attn;
        private final Module dropPath1;
        private final Module norm2;
        private final Mlp mlp;
        private final Module dropPath2;
        private final Parameter gamma1;
        private final Parameter gamma2;

        Block(Config c, float dropPath) {
            super(c.initValues());
            int dim = c.embedDim();
            norm1 = register("norm1", new LayerNorm(dim, 1e-6f));
            attn = register(
                    "attn",
                    new BeitAttention(dim, c.numHeads(), c.qkvBias(), c.relPosBias() ? c.gridSize() : 0, 0f, 0f));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            norm2 = register("norm2", new LayerNorm(dim, 1e-6f));
            mlp = register("mlp", new Mlp(dim, (int) (dim * c.mlpRatio()), Activation.Kind.GELU));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
            gamma1 = gammaIfScaled("gamma_1", dim);
            gamma2 = gammaIfScaled("gamma_2", dim);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = addScaled(x, attn.forward(norm1.forward(x)), gamma1, dropPath1);
            return addScaled(x, mlp.forward(norm2.forward(x)), gamma2, dropPath2);
        }
    }

    /**
     * The fused qkv projection of BEiT and EVA: with {@code q_bias} / {@code v_bias} (a zero k bias between them) when
     * the attention has them, else the {@code qkv} Linear as it is.
     */
    static NDArray packedQkv(NDArray x, Linear qkv, Parameter qBias, Parameter vBias) {
        if (qBias == null) {
            return qkv.forward(x);
        }
        NDArray qb = qBias.getArray();
        NDArray bias = NDArrays.concat(new NDList(qb, qb.zerosLike(), vBias.getArray()), 0);
        return x.getNDArrayInternal().linear(x, qkv.weight().getArray(), bias).singletonOrThrow();
    }

    /** {@link #packedQkv} split into q, k and v heads, each [B, H, N, D], as reshape(B, N, 3, H, D) splits it. */
    static NDList qkvHeads(NDArray x, Linear qkv, Parameter qBias, Parameter vBias, int numHeads) {
        long b = x.getShape().get(0);
        long n = x.getShape().get(1);
        long c = x.getShape().get(2);
        NDArray t = packedQkv(x, qkv, qBias, vBias)
                .reshape(b, n, 3, numHeads, c / numHeads)
                .transpose(2, 0, 3, 1, 4);
        return new NDList(t.get(0), t.get(1), t.get(2));
    }

    /** BEiT's and EVA's q / v biases start at zero (null ones, for attentions without them, skipped). */
    static void zeroQvBias(Parameter qBias, Parameter vBias) {
        if (qBias != null) {
            Init.constant(qBias.getArray(), 0f);
            Init.constant(vBias.getArray(), 0f);
        }
    }

    /**
     * One entry of timm's beit / eva {@code checkpoint_filter_fn}: a patch embedding of another patch size is refused
     * (resampling it is not supported), and a position embedding of another grid resampled to the model's, its
     * {@code prefix} leading tokens kept; other entries pass unchanged.
     */
    static NDArray adaptPatchAndPos(String k, NDArray v, PatchEmbed patchEmbed, Parameter posEmbed, int prefix) {
        int patch = patchEmbed.patchSize();
        if (k.contains("patch_embed.proj.weight")) {
            long[] s = v.getShape().getShape();
            if (s[s.length - 1] != patch || s[s.length - 2] != patch) {
                throw new IllegalArgumentException("checkpoint patch_embed.proj.weight " + v.getShape()
                        + " has another patch size than the model's " + patch
                        + "; resampling patch embeddings is not supported");
            }
        } else if (k.equals("pos_embed")
                && posEmbed != null
                && v.getShape().get(1) != posEmbed.getArray().getShape().get(1)) {
            int grid = patchEmbed.gridSize();
            return PosEmbedResample.resample(v, grid, grid, 0, 0, prefix);
        }
        return v;
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final PatchEmbed patchEmbed;
    private final Parameter clsToken;
    private final Parameter posEmbed;
    private final List<Block> blocks = new ArrayList<>();
    private final Module norm;
    private final Module fcNorm;

    public Beit(Config cfg, ModelArgs args) {
        super(new ModelArgs(args.numClasses(), args.inChans(), "", args.dropRate(), args.dropPathRate()));
        this.cfg = cfg;
        this.globalPool = validatePool(args.globalPool());
        int dim = cfg.embedDim();
        patchEmbed = register("patch_embed", new PatchEmbed(cfg.imgSize(), cfg.patchSize(), inChans, dim));
        clsToken = parameter("cls_token", 1, 1, dim);
        posEmbed = cfg.absPosEmb() ? parameter("pos_embed", 1, patchEmbed.numPatches() + 1, dim) : null;
        register("pos_drop", new Dropout(0f));
        register(
                "blocks",
                VitParts.stackBlocks(
                        this,
                        VitParts.linearRates(args.dropPathRate(), cfg.depth()),
                        dim,
                        cfg.patchSize(),
                        blocks,
                        (i, dpr) -> new Block(cfg, dpr)));
        // as timm, the norm's place is fixed by the pooling the model is built with
        boolean useFcNorm = globalPool.equals("avg");
        norm = register("norm", useFcNorm ? new Identity() : new LayerNorm(dim, 1e-6f));
        fcNorm = register("fc_norm", useFcNorm ? new LayerNorm(dim, 1e-6f) : new Identity());
        registerTokenClassifier(dim);
    }

    /** BEiT pools by averaging the patch tokens ("avg"), taking the class token (any other name) or not at all (""). */
    static String validatePool(String pool) {
        String p = pool == null ? "avg" : pool;
        if (!List.of("", "avg", "token").contains(p)) {
            throw new IllegalArgumentException(
                    "globalPool '" + pool + "' is not one of avg, token or '' (no pooling) for BEiT");
        }
        return p;
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        initBeitWeights(
                this,
                random,
                new Parameter[] {posEmbed, clsToken},
                blocks,
                b -> b.attn.proj(),
                b -> (Linear) b.mlp.child("fc2"),
                tokenHead());
    }

    /**
     * timm's Beit / Eva {@code init_weights}, shared by both: trunc_normal(.02) Linear weights (a plain normal at this
     * std), zero biases; then the tokens (null ones skipped) in the order given; fix_init_weight dividing block i's
     * attn.proj and mlp.fc2 weights (as {@code proj} and {@code fc2} find them) by sqrt(2 (i + 1)); and a head at std
     * .02 · 0.001 with a zero bias.
     */
    static <B> void initBeitWeights(
            Module model,
            SplittableRandom random,
            Parameter[] tokens,
            List<B> blocks,
            Function<B, Linear> proj,
            Function<B, Linear> fc2,
            Module head) {
        TimmInit.normalLinears(model, 0.02, random);
        for (Parameter p : tokens) {
            if (p != null) {
                Init.normal(p.getArray(), 0.02, random);
            }
        }
        for (int i = 0; i < blocks.size(); i++) {
            double scale = 1 / Math.sqrt(2.0 * (i + 1));
            scaleWeight(proj.apply(blocks.get(i)), scale);
            scaleWeight(fc2.apply(blocks.get(i)), scale);
        }
        if (head instanceof Linear l) {
            // head_init_scale 0.001
            Init.normal(l.weight().getArray(), 0.02 * 0.001, random);
            Init.constant(l.bias().getArray(), 0f);
        }
    }

    private static void scaleWeight(Linear l, double factor) {
        NDArray w = l.weight().getArray();
        // in float64, rounded once to float32: the values of (float) (w * factor) in Java, without a Java copy
        try (NoGrad g = NoGrad.enter();
                NDArray wide = w.toType(DataType.FLOAT64, true);
                NDArray f = w.getManager().create(factor);
                NDArray scaled = wide.mul(f)) {
            Module.copyInto(w, scaled);
        }
    }

    private NDArray embed(NDArray x) {
        x = patchEmbed.forward(x);
        return VitParts.addPositions(
                x, VitParts.prefixTokens(x, clsToken), posEmbed == null ? null : posEmbed.getArray(), false);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(forwardTrunk(embed(x)));
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        if (!globalPool.isEmpty()) {
            x = globalPool.equals("avg") ? x.get(":, 1:").mean(new int[] {1}) : x.get(":, 0");
        }
        return tokenClassifier(fcNorm.forward(x), preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        resetTokenClassifier(newNumClasses, validatePool(newGlobalPool));
    }

    /** Each chosen block's output as an NCHW map of the patch tokens (class token dropped), as timm. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        return forwardLevels(embed(x), indices, VisionTransformer.tokenMaps(x, cfg.patchSize(), 1));
    }

    /**
     * timm's beit {@code checkpoint_filter_fn}: the relative position indices dropped (rebuilt here), a position
     * embedding of another grid resampled; relative position tables of another window size are refused.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, Shape> own = stateDictShapes();
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            NDArray v = e.getValue();
            if (k.contains("relative_position_index")) {
                continue;
            }
            v = adaptPatchAndPos(k, v, patchEmbed, posEmbed, 1);
            if (k.endsWith("relative_position_bias_table")
                    && own.containsKey(k)
                    && !own.get(k).equals(v.getShape())) {
                throw new IllegalArgumentException(
                        "checkpoint " + k + " " + v.getShape() + " is for another window than" + " the model's "
                                + own.get(k) + "; resizing relative position tables is not supported");
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /**
     * A BEiT variant, as the keyword arguments of timm's Beit.
     *
     * @param imgSize the input size the relative position tables are built for
     * @param patchSize patch side
     * @param embedDim token width
     * @param depth number of blocks
     * @param numHeads attention heads
     * @param mlpRatio MLP hidden width over the token width
     * @param qkvBias q and v biases
     * @param initValues LayerScale init (0: none)
     * @param absPosEmb learned absolute position embeddings
     * @param relPosBias a relative position bias in every block's attention
     */
    public record Config(
            int imgSize,
            int patchSize,
            int embedDim,
            int depth,
            int numHeads,
            double mlpRatio,
            boolean qkvBias,
            double initValues,
            boolean absPosEmb,
            boolean relPosBias) {

        /** Patches per side. */
        public int gridSize() {
            return imgSize / patchSize;
        }

        /** BEiT with relative position bias and no absolute positions, as every registered name. */
        public static Config of(int imgSize, int embedDim, int depth, int numHeads, double initValues) {
            return new Config(imgSize, 16, embedDim, depth, numHeads, 4, true, initValues, false, true);
        }
    }

    /** Registers every name of timm's beit module. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "beit";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "beit_base_patch16_224", Config.of(224, 768, 12, 12, 0.1));
            add(m, "beit_base_patch16_384", Config.of(384, 768, 12, 12, 0.1));
            add(m, "beit_large_patch16_224", Config.of(224, 1024, 24, 16, 1e-5));
            add(m, "beit_large_patch16_384", Config.of(384, 1024, 24, 16, 1e-5));
            add(m, "beit_large_patch16_512", Config.of(512, 1024, 24, 16, 1e-5));
            add(m, "beitv2_base_patch16_224", Config.of(224, 768, 12, 12, 1e-5));
            add(m, "beitv2_large_patch16_224", Config.of(224, 1024, 24, 16, 1e-5));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(
                    name,
                    "beit",
                    args -> new Beit(c, args),
                    PretrainedCfg.untrained(name, c.imgSize(), "patch_embed.proj", "head")));
        }
    }
}
