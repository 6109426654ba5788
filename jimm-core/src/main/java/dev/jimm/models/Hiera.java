package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.AttentionPool2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.LayerScale;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.OwnedArrays;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Hiera, as timm's {@code models/hiera.py} builds it (2-D images): a 7x7 stride-4 patch embedding with an absolute
 * position embedding (or, in the {@code abswin} variants, a global embedding resampled to the token grid plus one tiled
 * per 8x8 mask unit), tokens "unrolled" so that each 2x2 pooling step and each mask unit is contiguous, then plain
 * transformer blocks whose first block per stage widens the tokens and max-pools them (and the attention's queries);
 * the first stages attend within mask units, the last ones globally. Feature levels are "rerolled" back to maps.
 */
public final class Hiera extends ImageModel {

    /**
     * A Hiera variant, as timm's keyword arguments (2-D, 2x2 query stride, 8x8 mask units, 4x4 patches).
     *
     * @param imgSize the fixed input side
     * @param embedDim the first stage's width (doubled per stage)
     * @param numHeads the first stage's heads (doubled per stage)
     * @param stages blocks per stage
     * @param qPool stages that pool at their start (after the first)
     * @param maskUnitAttn per stage: attention within mask units, else global
     * @param useExpandProj widen with a Linear before pooling; else concatenate max- and average-pooled tokens
     * @param mlpRatio MLP expansion
     * @param initValues layer-scale init (0: no layer scale)
     * @param absWinPosEmbed the global-plus-window position embedding of the abswin variants
     * @param globalPosSize side of the abswin global position embedding
     */
    public record Config(
            int imgSize,
            int embedDim,
            int numHeads,
            List<Integer> stages,
            int qPool,
            List<Boolean> maskUnitAttn,
            boolean useExpandProj,
            double mlpRatio,
            double initValues,
            boolean absWinPosEmbed,
            int globalPosSize) {
        public Config {
            stages = List.copyOf(stages);
            maskUnitAttn = List.copyOf(maskUnitAttn);
            if (maskUnitAttn.size() != stages.size() || qPool >= stages.size()) {
                throw new IllegalArgumentException("Hiera: maskUnitAttn " + maskUnitAttn + " needs one entry per stage "
                        + stages + ", and qPool " + qPool + " must be below the stage count");
            }
            int tokens = imgSize / PATCH_STRIDE;
            if (imgSize % PATCH_STRIDE != 0 || tokens % MASK_UNIT != 0) {
                throw new IllegalArgumentException("Hiera: imgSize " + imgSize + " must give a token grid (imgSize / "
                        + PATCH_STRIDE + ") that is a multiple of the " + MASK_UNIT + "x" + MASK_UNIT + " mask unit");
            }
        }

        /** timm's defaults with this width, heads and stage depths at 224. */
        public static Config of(int embedDim, int numHeads, List<Integer> stages) {
            return new Config(
                    224, embedDim, numHeads, stages, 3, List.of(true, true, false, false), true, 4, 0, false, 14);
        }

        /** The abswin form at 256: global plus window position embeddings, layer scale 1e-5. */
        public Config absWin(int globalSize, boolean expandProj) {
            return new Config(
                    256, embedDim, numHeads, stages, qPool, maskUnitAttn, expandProj, mlpRatio, 1e-5, true, globalSize);
        }

        /** The last block of each stage (timm's {@code stage_ends}). */
        public List<Integer> stageEnds() {
            List<Integer> ends = new ArrayList<>();
            int sum = 0;
            for (int s : stages) {
                sum += s;
                ends.add(sum - 1);
            }
            return ends;
        }
    }

    private static final int PATCH_STRIDE = 4;
    private static final int MASK_UNIT = 8;
    private static final int Q_STRIDE = 2;
    private static final int FLAT_Q_STRIDE = Q_STRIDE * Q_STRIDE;
    private static final float EPS = 1e-6f;

    // ---- token order ----------------------------------------------------------------------------

    /**
     * timm's Unroll: [B, H·W, C] tokens in raster order reordered so that, for each of {@code steps} 2x2 strides, the
     * stride's positions are outermost: [B, (Sy, Sx, H/Sy, W/Sx), C], applied {@code steps} times.
     */
    static NDArray unroll(NDArray x, int h, int w, int steps) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(2);
        long n = s.get(1);
        long curH = h;
        long curW = w;
        x = x.reshape(b, curH, curW, c);
        for (int i = 0; i < steps; i++) {
            curH /= Q_STRIDE;
            curW /= Q_STRIDE;
            x = x.reshape(b, curH, Q_STRIDE, curW, Q_STRIDE, c)
                    .transpose(0, 2, 4, 1, 3, 5)
                    .reshape(b * FLAT_Q_STRIDE, curH, curW, c);
            b *= FLAT_Q_STRIDE;
        }
        return x.reshape(-1, n, c);
    }

    /**
     * timm's Reroll: tokens [B, N, C] as they leave a block that still has {@code steps} unroll strides to consume, on
     * a grid of {@code h} x {@code w}, back to an NHWC map.
     */
    static NDArray reroll(NDArray x, int h, int w, int steps) {
        Shape s = x.getShape();
        long b = s.get(0);
        long n = s.get(1);
        long c = s.get(2);
        long muH = 1;
        long muW = 1;
        for (int i = 0; i < steps; i++) {
            // [B, Sy, Sx, N/4, muH, muW, C] -> [B, N/4, Sy, muH, Sx, muW, C]
            x = x.reshape(b, Q_STRIDE, Q_STRIDE, n / FLAT_Q_STRIDE, muH, muW, c).transpose(0, 3, 1, 4, 2, 5, 6);
            muH *= Q_STRIDE;
            muW *= Q_STRIDE;
            n /= FLAT_Q_STRIDE;
            x = x.reshape(b, n, muH, muW, c);
        }
        // undo_windowing: [B, #MUy, #MUx, muH, muW, C] -> [B, H, W, C]
        return x.reshape(b, h / muH, w / muW, muH, muW, c)
                .transpose(0, 1, 3, 2, 4, 5)
                .reshape(b, h, w, c);
    }

    /** The max over the outermost query stride of unrolled tokens: [B, stride·M, C] to [B, M, C]. */
    static NDArray maxPool(NDArray x, int stride) {
        Shape s = x.getShape();
        return x.reshape(s.get(0), stride, -1, s.get(2)).max(new int[] {1});
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /**
     * timm's MaskUnitAttention: attention within each mask unit of {@code windowSize} tokens (after pooling), or over
     * all tokens; with a query stride, the queries are max-pooled over it.
     */
    static final class MaskUnitAttention extends Module {
        private final int dimOut;
        private final int heads;
        private final int qStride;
        private final int windowSize;
        private final boolean useMaskUnitAttn;
        private final Module qkv;
        private final Module proj;

        MaskUnitAttention(int dim, int dimOut, int heads, int qStride, int windowSize, boolean useMaskUnitAttn) {
            this.dimOut = dimOut;
            this.heads = heads;
            this.qStride = qStride;
            this.windowSize = windowSize;
            this.useMaskUnitAttn = useMaskUnitAttn;
            this.qkv = register("qkv", new Linear(dim, 3 * dimOut));
            this.proj = register("proj", new Linear(dimOut, dimOut));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long n = s.get(1);
            long headDim = dimOut / heads;
            NDArray out;
            if (useMaskUnitAttn) {
                long windows = n / ((long) qStride * windowSize);
                // [3, B, heads, windows, tokens per window, headDim]
                NDArray t = qkv.forward(x)
                        .reshape(b, -1, windows, 3, heads, headDim)
                        .transpose(3, 0, 4, 2, 1, 5);
                NDArray q = t.get(0);
                if (qStride > 1) {
                    q = q.reshape(b, heads, windows, qStride, -1, headDim).max(new int[] {3});
                }
                out = Attention.scaledDotProduct(q, t.get(1), t.get(2), 0f, isTraining())
                        .transpose(0, 3, 2, 1, 4)
                        .reshape(b, -1, dimOut);
            } else {
                NDArray t = qkv.forward(x).reshape(b, n, 3, heads, headDim).transpose(2, 0, 3, 1, 4);
                NDArray q = t.get(0);
                if (qStride > 1) {
                    q = q.reshape(b, heads, qStride, -1, headDim).max(new int[] {2});
                }
                out = Attention.scaledDotProduct(q, t.get(1), t.get(2), 0f, isTraining())
                        .transpose(0, 2, 1, 3)
                        .reshape(b, -1, dimOut);
            }
            return proj.forward(out);
        }
    }

    /**
     * timm's HieraBlock: pre-norm attention and MLP with optional layer scale; a block that widens the tokens projects
     * the normed tokens ({@code proj}) and max-pools them for the residual (or, without the projection, concatenates
     * the max- and average-pooled raw tokens).
     */
    static final class Block extends Module {
        private final boolean doExpand;
        private final int qStride;
        private final Module norm1;
        private final Module proj;
        private final Module attn;
        private final Module ls1;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module ls2;
        private final Module dropPath2;

        Block(
                int dim,
                int dimOut,
                int heads,
                Config cfg,
                double dpr,
                int qStride,
                int windowSize,
                boolean useMaskUnitAttn) {
            this.doExpand = dim != dimOut;
            this.qStride = qStride;
            if (doExpand && !cfg.useExpandProj() && dimOut != 2 * dim) {
                throw new IllegalArgumentException(
                        "Hiera without the expand projection needs dimOut " + dimOut + " = 2 x dim " + dim);
            }
            this.norm1 = register("norm1", new LayerNorm(dim, EPS));
            this.proj = doExpand && cfg.useExpandProj() ? register("proj", new Linear(dim, dimOut)) : null;
            this.attn =
                    register("attn", new MaskUnitAttention(dim, dimOut, heads, qStride, windowSize, useMaskUnitAttn));
            float init = (float) cfg.initValues();
            this.ls1 = register("ls1", init > 0 ? new LayerScale(dimOut, init) : new Identity());
            this.dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            this.norm2 = register("norm2", new LayerNorm(dimOut, EPS));
            this.mlp = register("mlp", new Mlp(dimOut, (int) (dimOut * cfg.mlpRatio()), Activation.Kind.GELU));
            this.ls2 = register("ls2", init > 0 ? new LayerScale(dimOut, init) : new Identity());
            this.dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray xNorm = norm1.forward(x);
            if (doExpand) {
                if (proj != null) {
                    x = maxPool(proj.forward(xNorm), qStride);
                } else {
                    Shape s = x.getShape();
                    NDArray grouped = x.reshape(s.get(0), qStride, -1, s.get(2));
                    x = NDArrays.concat(new NDList(grouped.max(new int[] {1}), grouped.mean(new int[] {1})), -1);
                }
            }
            x = x.add(dropPath1.forward(ls1.forward(attn.forward(xNorm))));
            return x.add(dropPath2.forward(ls2.forward(mlp.forward(norm2.forward(x)))));
        }
    }

    /** timm's ClNormMlpClassifierHead on tokens (NLC): pooling over the tokens, LayerNorm, dropout, fc. */
    static final class Head extends Module {
        private final int inFeatures;
        private final float dropRate;
        private String poolType;
        private Module norm;
        private Module fc;

        Head(int inFeatures, int numClasses, String poolType, double dropRate) {
            this.inFeatures = inFeatures;
            this.dropRate = (float) dropRate;
            this.poolType = checkPool(poolType);
            this.norm = register("norm", new LayerNorm(inFeatures, EPS));
            register("pre_logits", new Identity());
            register("drop", new Dropout(this.dropRate));
            this.fc = register("fc", classifier(numClasses));
        }

        static String checkPool(String poolType) {
            if (!List.of("", "avg", "max", "avgmax").contains(poolType)) {
                throw new IllegalArgumentException(
                        "Hiera's head pools with 'avg', 'max', 'avgmax' or '' (none); not '" + poolType + "'");
            }
            return poolType;
        }

        private Module classifier(int numClasses) {
            return Linear.classifier(inFeatures, numClasses);
        }

        /** timm's {@code reset}: a new classifier and pooling; with {@code resetOther} the norm goes too. */
        void reset(int numClasses, String newPoolType, boolean resetOther) {
            Module newFc = classifier(numClasses);
            poolType = checkPool(newPoolType);
            if (resetOther) {
                norm = register("norm", new Identity());
            }
            fc = register("fc", newFc);
        }

        NDArray forward(NDArray x, boolean preLogits) {
            switch (poolType) {
                case "avg" -> x = x.mean(new int[] {1});
                case "max" -> x = x.max(new int[] {1});
                case "avgmax" -> x = Scalars.mul(x.max(new int[] {1}).add(x.mean(new int[] {1})), 0.5);
                default -> {}
            }
            x = Dropout.apply(norm.forward(x), dropRate, isTraining());
            return preLogits ? x : fc.forward(x);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, false);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final int tokensSide;
    private final Parameter posEmbed;
    private final Parameter posEmbedWin;
    private final Module patchEmbed;
    private final List<Block> blockList = new ArrayList<>();
    private final List<Integer> stageEnds;
    /** Per feature level: the unroll strides its block's tokens still hold, and its grid side. */
    private final List<int[]> levelGeometry = new ArrayList<>();

    private final Head head;

    public Hiera(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        this.tokensSide = cfg.imgSize() / PATCH_STRIDE;
        int embedDim = cfg.embedDim();
        if (cfg.absWinPosEmbed()) {
            posEmbed = parameter("pos_embed", 1, embedDim, cfg.globalPosSize(), cfg.globalPosSize());
            posEmbedWin = parameter("pos_embed_win", 1, embedDim, MASK_UNIT, MASK_UNIT);
        } else {
            posEmbed = parameter("pos_embed", 1, (long) tokensSide * tokensSide, embedDim);
            posEmbedWin = null;
        }
        patchEmbed = register(
                "patch_embed",
                // timm's Hiera PatchEmbed: the conv proj (the model flattens its output to tokens)
                new NamedSequential()
                        .add(
                                "proj",
                                new Conv2d(
                                        inChans,
                                        embedDim,
                                        7,
                                        Conv2d.Options.defaults()
                                                .stride(PATCH_STRIDE)
                                                .padding(3))));
        stageEnds = cfg.stageEnds();
        List<Integer> qPoolBlocks = new ArrayList<>();
        for (int i = 0; i < cfg.qPool(); i++) {
            qPoolBlocks.add(stageEnds.get(i) + 1);
        }
        int depth = stageEnds.get(stageEnds.size() - 1) + 1;
        double[] dpr = DropPath.schedule(args.dropPathRate(), List.of(depth))[0];
        Sequential blocks = register("blocks", new Sequential());
        int flatMuSize = MASK_UNIT * MASK_UNIT;
        int curStage = 0;
        int numHeads = cfg.numHeads();
        int unrollsLeft = stageEnds.size() - 1;
        int side = tokensSide;
        for (int i = 0; i < depth; i++) {
            int dimOut = embedDim;
            // timm reads the stage's attention kind before moving to the next stage
            boolean useMaskUnitAttn = cfg.maskUnitAttn().get(curStage);
            boolean pools = qPoolBlocks.contains(i);
            if (stageEnds.contains(i - 1)) {
                dimOut = embedDim * 2;
                numHeads *= 2;
                curStage++;
                if (pools) {
                    flatMuSize /= FLAT_Q_STRIDE;
                    unrollsLeft--;
                    side /= Q_STRIDE;
                }
            }
            Block block = new Block(
                    embedDim, dimOut, numHeads, cfg, dpr[i], pools ? FLAT_Q_STRIDE : 1, flatMuSize, useMaskUnitAttn);
            blocks.add(block);
            blockList.add(block);
            embedDim = dimOut;
            if (stageEnds.contains(i)) {
                addFeatureInfo(dimOut, 4 << curStage, "blocks." + i, i);
                levelGeometry.add(new int[] {Math.max(unrollsLeft, 0), side});
            }
        }
        setNumFeatures(embedDim);
        head = register("head", new Head(embedDim, numClasses, Head.checkPool(globalPool), dropRate));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's init_weight_vit: trunc_normal(.02) linears with zero bias, the position embeddings trunc_normal(.02);
        // fix_init divides each block's attn.proj and mlp.fc2 weights by sqrt(2 * (index + 1)); the classifier is
        // scaled by head_init_scale 0.001 (the abswin variants' jax init is not reproduced)
        TimmInit.normalLinears(this, 0.02, random);
        Init.normal(posEmbed.getArray(), 0.02, random);
        if (posEmbedWin != null) {
            Init.normal(posEmbedWin.getArray(), 0.02, random);
        }
        Map<String, NDArray> sd = stateDict();
        for (int i = 0; i < blockList.size(); i++) {
            double scale = 1.0 / Math.sqrt(2.0 * (i + 1));
            for (String k : List.of("blocks." + i + ".attn.proj.weight", "blocks." + i + ".mlp.fc2.weight")) {
                NDArray w = sd.get(k);
                Module.copyInto(w, Scalars.mul(w, scale));
            }
        }
        for (String k : List.of("head.fc.weight", "head.fc.bias")) {
            NDArray w = sd.get(k);
            if (w != null) {
                Module.copyInto(w, Scalars.mul(w, 0.001));
            }
        }
    }

    /** The position embedding as [1, tokens, C] in raster order. */
    private NDArray positionEmbedding() {
        if (posEmbedWin == null) {
            return posEmbed.getArray();
        }
        // timm: the window embedding tiled over the mask units plus the global one resampled (bicubic, antialiased)
        NDArray global = posEmbed.getArray();
        long c = global.getShape().get(1);
        int g = cfg.globalPosSize();
        int side = tokensSide;
        NDArray weights = OwnedArrays.of(
                global.getManager(), AttentionPool2d.bicubicAntialiasWeights(g, side), new Shape(side, g));
        NDArray resized = weights.matMul(global.reshape(c, g, g)).matMul(weights.transpose());
        int units = side / MASK_UNIT;
        NDArray tiled = posEmbedWin.getArray().reshape(c, MASK_UNIT, MASK_UNIT).tile(new long[] {1, units, units});
        return resized.add(tiled).reshape(1, c, (long) side * side).transpose(0, 2, 1);
    }

    /** Patch embedding, position embedding and unroll: [B, tokens, C] in the blocks' order. */
    private NDArray embed(NDArray x) {
        Shape s = x.getShape();
        if (s.get(2) != cfg.imgSize() || s.get(3) != cfg.imgSize()) {
            throw new IllegalArgumentException(name() + " takes a fixed input of " + cfg.imgSize() + "x" + cfg.imgSize()
                    + " (timm builds its position embedding and mask units for one size); the input is " + s);
        }
        x = patchEmbed.forward(x);
        long b = x.getShape().get(0);
        long c = x.getShape().get(1);
        x = x.reshape(b, c, -1).transpose(0, 2, 1).add(positionEmbedding());
        return unroll(x, tokensSide, tokensSide, stageEnds.size() - 1);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        x = embed(x);
        for (Block b : blockList) {
            x = b.forward(x);
        }
        return x;
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return head.forward(x, preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        head.reset(newNumClasses, newGlobalPool, false);
        numClasses = newNumClasses;
        globalPool = newGlobalPool;
    }

    /** The stages' outputs rerolled to NCHW maps. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        int[] take = resolveIndices(indices);
        int last = stageEnds.get(deepest(take));
        List<NDArray> all = new ArrayList<>();
        x = embed(x);
        for (int i = 0; i <= last; i++) {
            x = blockList.get(i).forward(x);
            int level = stageEnds.indexOf(i);
            if (level >= 0) {
                int[] geom = levelGeometry.get(level);
                all.add(reroll(x, geom[1], geom[1], geom[0]).transpose(0, 3, 1, 2));
            }
        }
        return select(all, take);
    }

    /**
     * timm's {@code checkpoint_filter_fn}: the original Hiera checkpoints (under {@code model_state}, unwrapped by the
     * loader) name the head {@code head.projection} and the final norm {@code encoder_norm} or {@code norm}, and the
     * abswin global embedding {@code pos_embed_abs}; they are renamed to timm's.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey().replace("head.projection.", "head.fc.");
            if (k.startsWith("encoder_norm.")) {
                k = "head.norm." + k.substring("encoder_norm.".length());
            } else if (k.startsWith("norm.")) {
                k = "head.norm." + k.substring("norm.".length());
            }
            if (k.equals("pos_embed_abs")) {
                k = "pos_embed";
            }
            out.put(k, e.getValue());
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's hiera_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "hiera";
        }

        @Override
        public List<ModelEntry> models() {
            List<Integer> small = List.of(1, 2, 11, 2);
            List<Integer> base = List.of(2, 3, 16, 3);
            List<ModelEntry> m = new ArrayList<>();
            add(m, "hiera_tiny_224", Config.of(96, 1, List.of(1, 2, 7, 2)));
            add(m, "hiera_small_224", Config.of(96, 1, small));
            add(m, "hiera_base_224", Config.of(96, 1, base));
            add(m, "hiera_base_plus_224", Config.of(112, 2, base));
            add(m, "hiera_large_224", Config.of(144, 2, List.of(2, 6, 36, 4)));
            add(m, "hiera_huge_224", Config.of(256, 4, List.of(2, 6, 36, 4)));
            add(m, "hiera_small_abswin_256", Config.of(96, 1, small).absWin(16, false));
            add(m, "hiera_base_abswin_256", Config.of(96, 1, base).absWin(14, true));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "hiera", args -> new Hiera(c, args), c.imgSize(), "patch_embed.proj", "head.fc"));
        }
    }
}
