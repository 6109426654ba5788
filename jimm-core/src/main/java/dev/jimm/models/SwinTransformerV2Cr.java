package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.models.SwinTransformer.Flavor;
import dev.jimm.models.SwinTransformer.Windows;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Swin Transformer V2 as Christoph Reich re-implemented it, timm's {@code models/swin_transformer_v2_cr.py}: scaled
 * cosine window attention with a per-head {@code logit_scale}, a position bias from a small MLP ({@code meta_mlp}) over
 * log-spaced relative coordinates, res-post-norm blocks with an optional extra norm ({@code norm3}) at the end of each
 * stage ({@code _ns} variants) or every sixth block (huge, giant), v1's patch merging, no final norm. Stages and the
 * features are NCHW, as timm's; the window is the patch grid over 8 (7 at 224, 12 at 384) unless set, so it follows the
 * input size.
 */
public final class SwinTransformerV2Cr extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's meta network: Linear(2, 384), ReLU, Dropout(0.125), Linear(384, heads) (keys fc1, fc2). */
    static final class MetaMlp extends Module {
        private final Linear fc1;
        private final Module drop1;
        private final Linear fc2;

        MetaMlp(int hidden, int numHeads) {
            fc1 = register("fc1", new Linear(2, hidden));
            register("act", new Activation(Activation.Kind.RELU));
            drop1 = register("drop1", new Dropout(0.125f));
            register("norm", new Identity());
            fc2 = register("fc2", new Linear(hidden, numHeads));
            register("drop2", new Dropout(0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Activation.apply(Activation.Kind.RELU, fc1.forward(x));
            return fc2.forward(drop1.forward(x));
        }
    }

    /** timm's WindowMultiHeadAttention: cosine attention, learned temperature, MLP position bias. */
    static final class WindowMultiHeadAttention extends Module implements SwinTransformer.MaskedWindowAttention {
        private static final int META_HIDDEN = 384;
        private final int numHeads;
        private final int windowH;
        private final int windowW;
        private final Parameter logitScale;
        private final Linear qkv;
        private final Linear proj;
        private final Module metaMlp;
        private final Buffer coordsLog;

        WindowMultiHeadAttention(int dim, int numHeads, int windowH, int windowW) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.numHeads = numHeads;
            this.windowH = windowH;
            this.windowW = windowW;
            qkv = register("qkv", new Linear(dim, dim * 3, true));
            register("attn_drop", new Dropout(0f));
            proj = register("proj", new Linear(dim, dim, true));
            register("proj_drop", new Dropout(0f));
            metaMlp = register("meta_mlp", new MetaMlp(META_HIDDEN, numHeads));
            logitScale = parameter("logit_scale", numHeads);
            long n = (long) windowH * windowW;
            coordsLog = buffer("relative_coordinates_log", DataType.FLOAT32, false, n * n, 2);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(logitScale.getArray(), (float) Math.log(10));
            Module.assign(coordsLog.array(), relativeCoordinatesLog(windowH, windowW));
        }

        /**
         * The pairwise offsets (dy, dx) of a window's positions, row-major over (query, key), as sign(v) ln(1 + |v|):
         * [N * N, 2].
         */
        static float[] relativeCoordinatesLog(int wh, int ww) {
            int n = wh * ww;
            float[] out = new float[n * n * 2];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    out[(i * n + j) * 2] = logSpaced(i / ww - j / ww);
                    out[(i * n + j) * 2 + 1] = logSpaced(i % ww - j % ww);
                }
            }
            return out;
        }

        private static float logSpaced(int v) {
            return (float) (Math.signum(v) * Math.log1p(Math.abs(v)));
        }

        @Override
        public NDArray forward(NDArray x, NDArray mask) {
            NDList qkvs = Windows.splitHeads(qkv.forward(x), numHeads);
            NDArray attn =
                    l2normalize(qkvs.get(0)).matMul(l2normalize(qkvs.get(1)).transpose(0, 1, 3, 2));
            NDArray scale = Scalars.minimum(logitScale.getArray().reshape(1, numHeads, 1, 1), Math.log(100.0))
                    .exp();
            attn = attn.mul(scale);
            long n = (long) windowH * windowW;
            NDArray bias = metaMlp.forward(coordsLog.array()).transpose(1, 0).reshape(1, numHeads, n, n);
            attn = attn.add(bias);
            return proj.forward(Windows.attend(attn, qkvs.get(2), mask, 0f, isTraining()));
        }

        /** F.normalize(x, dim=-1): x / max(||x||, 1e-12). */
        private static NDArray l2normalize(NDArray x) {
            int last = x.getShape().dimension() - 1;
            NDArray norm = x.square().sum(new int[] {last}, true).sqrt();
            return x.div(norm.maximum(Scalars.of(norm, 1e-12)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, null);
        }
    }

    /**
     * timm's SwinTransformerV2CrBlock on NHWC maps: x + norm1(attn(x)), then x + norm2(mlp(x)), then the optional
     * {@code norm3}.
     */
    static final class Block extends SwinTransformer.WindowedBlock {
        /** timm's init_values default, the same for every registered variant. */
        private static final float INIT_VALUES = 0f;

        private final Module norm3;

        Block(int dim, int numHeads, int res, int window, int shift, double dropPath, boolean extraNorm) {
            super(Flavor.TIMM, res, res, window, shift);
            registerAttn(new WindowMultiHeadAttention(dim, numHeads, geometry.wh(), geometry.ww()));
            registerResPostNormTail(dim, dim * 4, dropPath);
            norm3 = register("norm3", extraNorm ? new LayerNorm(dim) : new Identity());
            declareMask();
        }

        /** timm's reset_parameters: the mask, and both res-post-norm weights at init_values (0: blocks start as x). */
        @Override
        protected void resetParameters(SplittableRandom random) {
            super.resetParameters(random);
            for (Module n : norms()) {
                Init.constant(n.directParameters().get("weight").getArray(), INIT_VALUES);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return norm3.forward(resPostNormForward(x));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A Swin V2 CR variant, as the keyword arguments of timm's SwinTransformerV2Cr (patch 4, MLP ratio 4).
     *
     * @param imgSize the input size (timm's img_size, from the pretrained config)
     * @param embedDim width of stage 0 (doubling per stage)
     * @param depths blocks per stage
     * @param numHeads attention heads per stage
     * @param extraNormPeriod an extra norm after every n-th block of a stage (0: none)
     * @param extraNormStage an extra norm after the last block of every stage (always after the last stage's)
     * @param windowSize the window side, or 0 for the patch grid over 8 (timm's window_ratio)
     */
    public record Config(
            int imgSize,
            int embedDim,
            List<Integer> depths,
            List<Integer> numHeads,
            int extraNormPeriod,
            boolean extraNormStage,
            int windowSize) {
        public Config {
            if (depths == null || numHeads == null || depths.size() != numHeads.size() || depths.isEmpty()) {
                throw new IllegalArgumentException(
                        "depths " + depths + " and numHeads " + numHeads + " need one entry per stage");
            }
            if (imgSize < PATCH || embedDim <= 0 || extraNormPeriod < 0 || windowSize < 0) {
                throw new IllegalArgumentException("imgSize " + imgSize + " (at least " + PATCH + "), embedDim "
                        + embedDim + ", extraNormPeriod " + extraNormPeriod + " and windowSize " + windowSize
                        + " are out of range");
            }
            depths = List.copyOf(depths);
            numHeads = List.copyOf(numHeads);
        }

        /** A variant at 224 with windows from the grid and a norm only at the end. */
        public static Config of(int embedDim, List<Integer> depths, List<Integer> heads) {
            return new Config(224, embedDim, depths, heads, 0, false, 0);
        }

        /** The same variant for another input size (its window follows, unless set). */
        public Config imgSize(int size) {
            return new Config(size, embedDim, depths, numHeads, extraNormPeriod, extraNormStage, windowSize);
        }

        /** The same variant with an extra norm ending each stage (the {@code _ns} names). */
        public Config normEachStage() {
            return new Config(imgSize, embedDim, depths, numHeads, extraNormPeriod, true, windowSize);
        }

        /** The same variant with an extra norm after every {@code period}-th block. */
        public Config extraNormPeriod(int period) {
            return new Config(imgSize, embedDim, depths, numHeads, period, extraNormStage, windowSize);
        }

        /** The window side: set, or the patch grid over 8. */
        public int window() {
            return windowSize > 0 ? windowSize : imgSize / PATCH / WINDOW_RATIO;
        }

        public int numFeatures() {
            return embedDim << (depths.size() - 1);
        }
    }

    private static final int PATCH = 4;
    private static final int WINDOW_RATIO = 8;

    private final Config cfg;

    /** A model of the given variant, at {@link ModelArgs#imgSize()} when set (timm's img_size). */
    public SwinTransformerV2Cr(Config cfg, ModelArgs args) {
        super(args);
        cfg = args.imgSize() == null ? cfg : cfg.imgSize(args.imgSize());
        this.cfg = cfg;
        int window = cfg.window();
        if (window < 1) {
            throw new IllegalArgumentException("imgSize " + cfg.imgSize() + " gives a patch grid of "
                    + cfg.imgSize() / PATCH + ", too small for a window of grid / " + WINDOW_RATIO);
        }
        addTrunkStep(register("patch_embed", new SwinBase.PatchEmbed(cfg.imgSize(), PATCH, inChans, cfg.embedDim())));
        Sequential stages = new Sequential();
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        int dim = cfg.embedDim();
        int res = cfg.imgSize() / PATCH;
        int reduction = PATCH;
        int n = cfg.depths().size();
        for (int s = 0; s < n; s++) {
            Module downsample = new Identity();
            if (s > 0) {
                downsample = new SwinTransformer.PatchMerging(dim, 2 * dim, false, false);
                dim *= 2;
                res /= 2;
                reduction *= 2;
            }
            int depth = cfg.depths().get(s);
            boolean normStage = cfg.extraNormStage() || s == n - 1;
            Sequential blocks = new Sequential();
            for (int b = 0; b < depth; b++) {
                int i = b + 1;
                boolean extraNorm =
                        (cfg.extraNormPeriod() > 0 && i % cfg.extraNormPeriod() == 0) || (normStage && i == depth);
                blocks.add(new Block(
                        dim, cfg.numHeads().get(s), res, window, b % 2 == 0 ? 0 : window / 2, dpr[s][b], extraNorm));
            }
            stages.add(addTrunkStep(new SwinBase.Stage(downsample, blocks)));
            addFeatureInfo(dim, reduction, "stages." + s);
        }
        register("stages", stages);
        registerNestedClassifierHead("head", cfg.numFeatures());
    }

    /** The variant this model was built from (at the input size it was built for). */
    public Config config() {
        return cfg;
    }

    /** The last stage's NCHW maps (timm's stages end NCHW; the blocks here run NHWC). */
    @Override
    public NDArray forwardFeatures(NDArray x) {
        return Windows.toNchw(forwardTrunk(x));
    }

    /** The stages' outputs as NCHW maps. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        return forwardLevels(x, indices, Windows::toNchw);
    }

    /**
     * timm's {@code checkpoint_filter_fn}: a checkpoint without {@code head.fc.weight} is of the old layout, whose
     * {@code tau} is the inverse temperature ({@code logit_scale = ln(1 / tau)}) and whose head is {@code head.*}.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("head.fc.weight")) {
            return checkpoint;
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            NDArray v = e.getValue();
            if (k.contains("tau")) {
                v = Scalars.of(v, 1).div(v).log();
                k = k.replace("tau", "logit_scale");
            }
            out.put(k.replace("head.", "head.fc."), v);
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's swin_transformer_v2_cr names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "swin_transformer_v2_cr";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            List<Integer> t = SwinBase.DEPTHS_T;
            List<Integer> s = SwinBase.DEPTHS_S;
            Config tiny = Config.of(96, t, SwinBase.HEADS_T);
            Config small = Config.of(96, s, SwinBase.HEADS_T);
            Config base = Config.of(128, s, SwinBase.HEADS_B);
            Config large = Config.of(192, s, SwinBase.HEADS_L);
            // timm is unsure of the huge heads and tries other ones at 384 and 224
            Config huge384 = Config.of(352, s, List.of(11, 22, 44, 88)).extraNormPeriod(6);
            Config huge224 = Config.of(352, s, List.of(8, 16, 32, 64)).extraNormPeriod(6);
            Config giant = Config.of(512, List.of(2, 2, 42, 2), List.of(16, 32, 64, 128))
                    .extraNormPeriod(6);
            add(m, "swinv2_cr_tiny_384", tiny.imgSize(384));
            add(m, "swinv2_cr_tiny_224", tiny);
            add(m, "swinv2_cr_tiny_ns_224", tiny.normEachStage());
            add(m, "swinv2_cr_small_384", small.imgSize(384));
            add(m, "swinv2_cr_small_224", small);
            add(m, "swinv2_cr_small_ns_224", small.normEachStage());
            add(m, "swinv2_cr_small_ns_256", small.normEachStage().imgSize(256));
            add(m, "swinv2_cr_base_384", base.imgSize(384));
            add(m, "swinv2_cr_base_224", base);
            add(m, "swinv2_cr_base_ns_224", base.normEachStage());
            add(m, "swinv2_cr_large_384", large.imgSize(384));
            add(m, "swinv2_cr_large_224", large);
            add(m, "swinv2_cr_huge_384", huge384.imgSize(384));
            add(m, "swinv2_cr_huge_224", huge224);
            add(m, "swinv2_cr_giant_384", giant.imgSize(384));
            add(m, "swinv2_cr_giant_224", giant);
            return m;
        }

        /** timm's default configs: crop 0.9 at 224, 1.0 above (its untrained 256 and 384 entries). */
        private static void add(List<ModelEntry> m, String name, Config c) {
            PretrainedCfg u = SwinTransformer.swinCfg(name, c.imgSize(), "patch_embed.proj", "head.fc");
            PretrainedCfg cfg = c.imgSize() == 224
                    ? u
                    : PretrainedCfgOverride.of(u, u.interpolation(), 1.0, u.mean(), u.std(), u.license());
            m.add(new ModelEntry(name, "swin_transformer_v2_cr", args -> new SwinTransformerV2Cr(c, args), cfg)
                    .takingImgSize());
        }
    }
}
