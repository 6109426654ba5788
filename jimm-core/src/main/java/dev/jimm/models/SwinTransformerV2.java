package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.models.SwinTransformer.Flavor;
import dev.jimm.models.SwinTransformer.Windows;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Swin Transformer V2, as timm's {@code models/swin_transformer_v2.py} builds it: scaled cosine attention
 * ({@code logit_scale}), a continuous relative position bias from a small MLP ({@code cpb_mlp}) over log-spaced
 * coordinates, separate {@code q_bias}/{@code v_bias}, res-post-norm blocks and patch merging with the norm after the
 * reduction. torchvision's {@code swin_v2_t/s/b} are registered as {@code tv/…} (built by {@link TvSwinTransformer}
 * with these blocks).
 */
public final class SwinTransformerV2 extends SwinBase {

    // ---- blocks ---------------------------------------------------------------------------------

    /** Window attention with cosine similarity, a learned temperature and a CPB-MLP position bias. */
    static final class WindowAttentionV2 extends Module implements SwinTransformer.MaskedWindowAttention {
        private final int dim;
        private final int numHeads;
        private final int window;
        private final int pretrainedWindow;
        private final Parameter logitScale;
        private final Parameter qBias;
        private final Buffer kBias;
        private final Parameter vBias;
        private final Buffer coordsTable;
        private final Buffer index;
        private final Module cpbMlp;
        private final Linear qkv;
        private final Linear proj;

        WindowAttentionV2(Flavor flavor, int dim, int numHeads, int window, boolean qkvBias, int pretrainedWindow) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.dim = dim;
            this.numHeads = numHeads;
            this.window = window;
            this.pretrainedWindow = pretrainedWindow;
            long t = 2L * window - 1;
            long n = (long) window * window;
            logitScale = parameter("logit_scale", numHeads, 1, 1);
            Sequential mlp = new Sequential(
                    new Linear(2, 512, true), new Activation(Activation.Kind.RELU), new Linear(512, numHeads, false));
            if (flavor == Flavor.TIMM) {
                cpbMlp = register("cpb_mlp", mlp);
                qkv = register("qkv", new Linear(dim, dim * 3, false));
                qBias = qkvBias ? parameter("q_bias", dim) : null;
                kBias = qkvBias ? buffer("k_bias", DataType.FLOAT32, false, dim) : null;
                vBias = qkvBias ? parameter("v_bias", dim) : null;
                register("attn_drop", new Dropout(0f));
                proj = register("proj", new Linear(dim, dim));
                register("proj_drop", new Dropout(0f));
                coordsTable = buffer("relative_coords_table", DataType.FLOAT32, false, 1, t, t, 2);
                index = buffer("relative_position_index", DataType.INT64, false, n, n);
            } else {
                // torchvision: the k third of qkv.bias is zeroed in forward; both tables are persistent
                qkv = register("qkv", new Linear(dim, dim * 3, qkvBias));
                proj = register("proj", new Linear(dim, dim));
                coordsTable = buffer("relative_coords_table", DataType.FLOAT32, true, 1, t, t, 2);
                index = buffer("relative_position_index", DataType.INT64, true, n * n);
                cpbMlp = register("cpb_mlp", mlp);
                qBias = null;
                kBias = null;
                vBias = null;
            }
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(logitScale.getArray(), (float) Math.log(10));
            if (qBias != null) {
                Init.constant(qBias.getArray(), 0f);
                Init.constant(vBias.getArray(), 0f);
                Init.constant(kBias.array(), 0f);
            }
            Module.assign(coordsTable.array(), coordsTable(window, pretrainedWindow));
            Windows.fillLong(index.array(), Windows.relativePositionIndex(window, window));
        }

        /** torchvision zeroes the key part of qkv.bias at init. */
        void zeroKeyBias() {
            if (qkv.bias() != null) {
                qkv.bias().getArray().set(new NDIndex(dim + ":" + 2 * dim), 0f);
            }
        }

        /**
         * The log-spaced relative coordinates [1, 2w-1, 2w-1, 2]: each of dy, dx divided by (pretrained or own window -
         * 1), times 8, then sign(v) log2(|v| + 1) / 3.
         */
        static float[] coordsTable(int window, int pretrainedWindow) {
            int t = 2 * window - 1;
            float div = (pretrainedWindow > 0 ? pretrainedWindow : window) - 1;
            float[] out = new float[t * t * 2];
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    out[(i * t + j) * 2] = logSpaced((i - (window - 1)) / div);
                    out[(i * t + j) * 2 + 1] = logSpaced((j - (window - 1)) / div);
                }
            }
            return out;
        }

        private static float logSpaced(float v) {
            float s = v * 8f;
            float mag = (float) (Math.log(Math.abs(s) + 1.0) / Math.log(2.0)) / 3f;
            return Math.signum(s) * mag;
        }

        @Override
        public NDArray forward(NDArray x, NDArray mask) {
            NDArray bias;
            if (qBias != null) {
                bias = qBias.getArray().concat(kBias.array()).concat(vBias.getArray());
            } else if (qkv.bias() != null) {
                NDArray b = qkv.bias().getArray();
                bias = b.get(":" + dim)
                        .concat(x.getManager().zeros(new Shape(dim)))
                        .concat(b.get(2 * dim + ":"));
            } else {
                bias = null;
            }
            NDArray w = qkv.weight().getArray();
            NDArray qkvOut = x.getNDArrayInternal().linear(x, w, bias).singletonOrThrow();
            NDList qkvs = Windows.splitHeads(qkvOut, numHeads);
            NDArray attn =
                    l2normalize(qkvs.get(0)).matMul(l2normalize(qkvs.get(1)).transpose(0, 1, 3, 2));
            attn = attn.mul(
                    Scalars.minimum(logitScale.getArray(), Math.log(100.0)).exp());
            NDArray table = cpbMlp.forward(coordsTable.array()).reshape(-1, numHeads);
            NDArray rel = Windows.gatherBias(table, index.array(), window * window);
            attn = attn.add(Scalars.mul(rel.getNDArrayInternal().sigmoid(), 16f));
            return proj.forward(Windows.attend(attn, qkvs.get(2), mask, 0f, isTraining()));
        }

        /** F.normalize(x, dim=-1): x / max(||x||, 1e-12). */
        private static NDArray l2normalize(NDArray x) {
            int last = x.getShape().dimension() - 1;
            return x.div(x.square().sum(new int[] {last}, true).sqrt().maximum(1e-12f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, null);
        }
    }

    /** The res-post-norm block: x + norm1(attn(x)), then x + norm2(mlp(x)). */
    static final class Block extends SwinTransformer.WindowedBlock {
        Block(SwinTransformer.BlockArgs a, int pretrainedWindow) {
            super(a);
            int dim = a.dim();
            if (a.flavor() == Flavor.TIMM) {
                registerAttn(new WindowAttentionV2(
                        a.flavor(), dim, a.numHeads(), geometry.wh(), a.qkvBias(), pretrainedWindow));
                registerResPostNormTail(dim, a.hidden(), a.dropPath());
            } else {
                registerNorm1(new LayerNorm(dim));
                registerAttn(new WindowAttentionV2(
                        a.flavor(), dim, a.numHeads(), geometry.wh(), a.qkvBias(), pretrainedWindow));
                registerTorchvisionTail(dim, a.hidden(), a.dropPath());
            }
            declareMask();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return resPostNormForward(x);
        }

        /** timm's _init_respostnorm: both norms start at zero, so each block starts as the identity. */
        void zeroPostNorms() {
            for (Module n : norms()) {
                Init.constant(n.directParameters().get("weight").getArray(), 0f);
                Init.constant(n.directParameters().get("bias").getArray(), 0f);
            }
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A Swin V2 variant, as the keyword arguments of timm's SwinTransformerV2.
     *
     * @param imgSize the fixed input size (timm's img_size, from the default pretrained config)
     * @param window window size of every stage (clipped to smaller maps)
     * @param embedDim width of stage 0 (doubling per stage)
     * @param depths blocks per stage
     * @param numHeads attention heads per stage
     * @param pretrainedWindowSizes per stage, the window the CPB coordinates are normalized by (0: own)
     */
    public record Config(
            int imgSize,
            int window,
            int embedDim,
            List<Integer> depths,
            List<Integer> numHeads,
            List<Integer> pretrainedWindowSizes) {
        public Config {
            SwinTransformer.checkConfig(
                    "Swin V2",
                    imgSize,
                    "window",
                    window,
                    embedDim,
                    depths,
                    numHeads,
                    "pretrainedWindowSizes",
                    pretrainedWindowSizes);
            depths = List.copyOf(depths);
            numHeads = List.copyOf(numHeads);
            pretrainedWindowSizes = List.copyOf(pretrainedWindowSizes);
        }

        /** Four stages with windows normalized by their own size. */
        public static Config of(int imgSize, int window, int embedDim, List<Integer> depths, List<Integer> heads) {
            return new Config(imgSize, window, embedDim, depths, heads, List.of(0, 0, 0, 0));
        }

        /**
         * The same config for another input size (timm's img_size): the window stays (clipped to smaller maps), and the
         * continuous position bias needs no resampling.
         */
        public Config imgSize(int size) {
            return new Config(size, window, embedDim, depths, numHeads, pretrainedWindowSizes);
        }

        /** The same config with the windows the position-bias coordinates are normalized by, per stage. */
        public Config pretrainedWindows(Integer... sizes) {
            return new Config(imgSize, window, embedDim, depths, numHeads, List.of(sizes));
        }

        public int numFeatures() {
            return embedDim << (depths.size() - 1);
        }
    }

    private static final int PATCH = 4;

    private final Config cfg;

    /** A Swin V2 of the given variant, at {@link ModelArgs#imgSize()} when set (timm's img_size). */
    public SwinTransformerV2(Config cfg, ModelArgs args) {
        super(
                args,
                args.imgSize(cfg.imgSize()),
                PATCH,
                cfg.embedDim(),
                cfg.depths(),
                (inDim, outDim) -> new SwinTransformer.PatchMerging(inDim, outDim, true, true),
                (stage, index, dim, res, dpr) -> new Block(
                        new SwinTransformer.BlockArgs(
                                Flavor.TIMM, dim, res, cfg.numHeads().get(stage), cfg.window(), index, 4.0, true, dpr),
                        cfg.pretrainedWindowSizes().get(stage)));
        this.cfg = args.imgSize() == null ? cfg : cfg.imgSize(args.imgSize());
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: trunc_normal(.02) Linear weights, zero biases, then zeroed res-post-norms
        super.initWeights(random);
        for (Module m : namedModules().values()) {
            if (m instanceof Block b) {
                b.zeroPostNorms();
            }
        }
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's swin_transformer_v2 names (torchvision's: {@link TvSwinTransformer}). */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "swin_transformer_v2";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "swinv2_tiny_window16_256", Config.of(256, 16, 96, DEPTHS_T, HEADS_T));
            add(m, "swinv2_tiny_window8_256", Config.of(256, 8, 96, DEPTHS_T, HEADS_T));
            add(m, "swinv2_small_window16_256", Config.of(256, 16, 96, DEPTHS_S, HEADS_T));
            add(m, "swinv2_small_window8_256", Config.of(256, 8, 96, DEPTHS_S, HEADS_T));
            add(m, "swinv2_base_window16_256", Config.of(256, 16, 128, DEPTHS_S, HEADS_B));
            add(m, "swinv2_base_window8_256", Config.of(256, 8, 128, DEPTHS_S, HEADS_B));
            add(m, "swinv2_base_window12_192", Config.of(192, 12, 128, DEPTHS_S, HEADS_B));
            addFineTuned(m, "swinv2_base_window12to16_192to256", Config.of(256, 16, 128, DEPTHS_S, HEADS_B));
            addFineTuned(m, "swinv2_base_window12to24_192to384", Config.of(384, 24, 128, DEPTHS_S, HEADS_B));
            add(m, "swinv2_large_window12_192", Config.of(192, 12, 192, DEPTHS_S, HEADS_L));
            addFineTuned(m, "swinv2_large_window12to16_192to256", Config.of(256, 16, 192, DEPTHS_S, HEADS_L));
            addFineTuned(m, "swinv2_large_window12to24_192to384", Config.of(384, 24, 192, DEPTHS_S, HEADS_L));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(SwinTransformer.timmEntry(
                    name, "swin_transformer_v2", c.imgSize(), args -> new SwinTransformerV2(c, args)));
        }

        /** A variant fine-tuned from 192 / window 12 weights: the CPB coordinates keep those windows. */
        private static void addFineTuned(List<ModelEntry> m, String name, Config c) {
            add(m, name, c.pretrainedWindows(12, 12, 12, 6));
        }
    }
}
