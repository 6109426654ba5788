package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.hub.KeyMapping;
import dev.jimm.layers.Activation;
import dev.jimm.layers.AdaptiveAvgPool2d;
import dev.jimm.layers.Attention;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pyramid Vision Transformer v2, as timm's {@code models/pvt_v2.py} builds it: an overlapping 7x7 patch embedding, four
 * stages of transformer blocks whose attention takes keys and values from a spatially reduced map (a strided conv and
 * LayerNorm, or in the linear form an average pool to 7x7, a 1x1 conv, LayerNorm and GELU), and an MLP with a depthwise
 * 3x3 conv between its projections; stages after the first start with an overlapping 3x3 stride-2 patch embedding.
 */
public final class PvtV2 extends ImageModel {

    /**
     * A PVT-v2 variant, as timm's keyword arguments.
     *
     * @param depths blocks per stage
     * @param embedDims widths per stage
     * @param numHeads heads per stage
     * @param srRatios spatial reduction of the keys and values per stage
     * @param mlpRatios MLP expansion per stage
     * @param qkvBias bias in the q and kv projections
     * @param linear the linear-attention form (pool to 7x7; an extra ReLU in the MLP)
     */
    public record Config(
            List<Integer> depths,
            List<Integer> embedDims,
            List<Integer> numHeads,
            List<Integer> srRatios,
            List<Double> mlpRatios,
            boolean qkvBias,
            boolean linear) {
        public Config {
            depths = List.copyOf(depths);
            embedDims = List.copyOf(embedDims);
            numHeads = List.copyOf(numHeads);
            srRatios = List.copyOf(srRatios);
            mlpRatios = List.copyOf(mlpRatios);
            int n = depths.size();
            if (embedDims.size() != n || numHeads.size() != n || srRatios.size() != n || mlpRatios.size() != n) {
                throw new IllegalArgumentException("PVT-v2 needs one entry per stage in every list: depths " + depths
                        + ", embedDims " + embedDims + ", numHeads " + numHeads + ", srRatios " + srRatios
                        + ", mlpRatios " + mlpRatios);
            }
        }

        /** A builder with timm's defaults (depths, embedDims and numHeads required). */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private List<Integer> depths;
            private List<Integer> embedDims;
            private List<Integer> numHeads;
            private List<Integer> srRatios = List.of(8, 4, 2, 1);
            private List<Double> mlpRatios = List.of(8.0, 8.0, 4.0, 4.0);
            private boolean qkvBias = true;
            private boolean linear;

            private Builder() {}

            /** Blocks per stage (required). */
            public Builder depths(Integer... value) {
                depths = List.of(value);
                return this;
            }

            /** Widths per stage (required). */
            public Builder embedDims(Integer... value) {
                embedDims = List.of(value);
                return this;
            }

            /** Heads per stage (required). */
            public Builder numHeads(Integer... value) {
                numHeads = List.of(value);
                return this;
            }

            /** Spatial reduction per stage (default 8, 4, 2, 1). */
            public Builder srRatios(Integer... value) {
                srRatios = List.of(value);
                return this;
            }

            /** MLP expansion per stage (default 8, 8, 4, 4). */
            public Builder mlpRatios(Double... value) {
                mlpRatios = List.of(value);
                return this;
            }

            /** Bias in the q and kv projections (default). */
            public Builder qkvBias(boolean value) {
                qkvBias = value;
                return this;
            }

            /** The linear-attention form (timm's {@code linear}). */
            public Builder linear(boolean value) {
                linear = value;
                return this;
            }

            /** The config, failing on a missing or inconsistent field. */
            public Config build() {
                if (depths == null || embedDims == null || numHeads == null) {
                    throw new IllegalArgumentException("PVT-v2 config: depths, embedDims and numHeads are required");
                }
                return new Config(depths, embedDims, numHeads, srRatios, mlpRatios, qkvBias, linear);
            }
        }
    }

    // timm.layers.LayerNorm (the blocks' and stages' norms) defaults to eps 1e-6; nn.LayerNorm (patch embeddings and
    // the attention's reduction) to 1e-5
    private static final float EPS = 1e-6f;
    private static final float TORCH_EPS = 1e-5f;

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's MlpWithDepthwiseConv: fc1, (ReLU in the linear form,) a depthwise 3x3 conv on the map, GELU, fc2. */
    static final class MlpWithDepthwiseConv extends MapTokenModule {
        private final Module fc1;
        private final boolean extraRelu;
        private final Module dwconv;
        private final Module fc2;

        MlpWithDepthwiseConv(int dim, int hidden, boolean extraRelu) {
            this.fc1 = register("fc1", new Linear(dim, hidden));
            this.extraRelu = extraRelu;
            register("relu", extraRelu ? new Activation(Activation.Kind.RELU) : new Identity());
            this.dwconv = register(
                    "dwconv",
                    new Conv2d(
                            hidden,
                            hidden,
                            3,
                            Conv2d.Options.defaults().padding(1).groups(hidden)));
            register("act", new Activation(Activation.Kind.GELU));
            this.fc2 = register("fc2", new Linear(hidden, dim));
            register("drop", new Dropout(0f));
        }

        @Override
        NDArray forward(NDArray x, long h, long w) {
            x = fc1.forward(x);
            Shape s = x.getShape();
            long b = s.get(0);
            long c = s.get(2);
            x = x.transpose(0, 2, 1).reshape(b, c, h, w);
            if (extraRelu) {
                x = Activation.apply(Activation.Kind.RELU, x);
            }
            x = dwconv.forward(x).reshape(b, c, h * w).transpose(0, 2, 1);
            return fc2.forward(Activation.apply(Activation.Kind.GELU, x));
        }
    }

    /**
     * timm's PVT-v2 Attention: queries from every token, keys and values ({@code kv}) from the map reduced by
     * {@code sr} (a strided conv, or an adaptive pool to 7x7 and a 1x1 conv in the linear form) and {@code norm}.
     */
    static final class ReducedAttention extends MapTokenModule {
        private final int numHeads;
        private final Module q;
        private final Module kv;
        private final Module proj;
        private final boolean linear;
        private final Module sr;
        private final Module norm;

        ReducedAttention(int dim, int numHeads, int srRatio, boolean linear, boolean qkvBias) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.numHeads = numHeads;
            this.linear = linear;
            this.q = register("q", new Linear(dim, dim, qkvBias));
            this.kv = register("kv", new Linear(dim, dim * 2, qkvBias));
            register("attn_drop", new Dropout(0f));
            this.proj = register("proj", new Linear(dim, dim));
            register("proj_drop", new Dropout(0f));
            if (linear) {
                register("pool", new AdaptiveAvgPool2d(7));
                this.sr = register("sr", new Conv2d(dim, dim, 1, Conv2d.Options.defaults()));
                this.norm = register("norm", new LayerNorm(dim, TORCH_EPS));
                register("act", new Activation(Activation.Kind.GELU));
            } else if (srRatio > 1) {
                this.sr = register(
                        "sr",
                        new Conv2d(dim, dim, srRatio, Conv2d.Options.defaults().stride(srRatio)));
                this.norm = register("norm", new LayerNorm(dim, TORCH_EPS));
            } else {
                this.sr = null;
                this.norm = null;
            }
        }

        @Override
        NDArray forward(NDArray x, long h, long w) {
            Shape s = x.getShape();
            long b = s.get(0);
            long n = s.get(1);
            long c = s.get(2);
            NDArray query = q.forward(x).reshape(b, n, numHeads, -1).transpose(0, 2, 1, 3);
            if (sr != null) {
                NDArray map = x.transpose(0, 2, 1).reshape(b, c, h, w);
                if (linear) {
                    map = AdaptiveAvgPool2d.apply(map, 7, 7);
                }
                x = norm.forward(sr.forward(map).reshape(b, c, -1).transpose(0, 2, 1));
                if (linear) {
                    x = Activation.apply(Activation.Kind.GELU, x);
                }
            }
            NDArray packed =
                    kv.forward(x).reshape(b, -1, 2, numHeads, c / numHeads).transpose(2, 0, 3, 1, 4);
            NDArray out = Attention.scaledDotProduct(query, packed.get(0), packed.get(1), 0f, isTraining());
            return proj.forward(out.transpose(0, 2, 1, 3).reshape(b, n, c));
        }
    }

    /** timm's PVT-v2 Block: pre-norm residual attention and depthwise-conv MLP on tokens of an h x w map. */
    static final class Block extends MapTokenModule {
        private final Module norm1;
        private final ReducedAttention attn;
        private final Module dropPath1;
        private final Module norm2;
        private final MlpWithDepthwiseConv mlp;
        private final Module dropPath2;

        Block(int dim, int numHeads, double mlpRatio, int srRatio, boolean linear, boolean qkvBias, double dpr) {
            this.norm1 = register("norm1", new LayerNorm(dim, EPS));
            this.attn = register("attn", new ReducedAttention(dim, numHeads, srRatio, linear, qkvBias));
            this.dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            this.norm2 = register("norm2", new LayerNorm(dim, EPS));
            this.mlp = register("mlp", new MlpWithDepthwiseConv(dim, (int) (dim * mlpRatio), linear));
            this.dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
        }

        @Override
        NDArray forward(NDArray x, long h, long w) {
            x = x.add(dropPath1.forward(attn.forward(norm1.forward(x), h, w)));
            return x.add(dropPath2.forward(mlp.forward(norm2.forward(x), h, w)));
        }
    }

    /** timm's OverlapPatchEmbed: a conv of {@code patch} with stride and half padding, then LayerNorm; NHWC out. */
    static final class OverlapPatchEmbed extends Module {
        private final Module proj;
        private final Module norm;

        OverlapPatchEmbed(int patch, int stride, int in, int dim) {
            this.proj = register(
                    "proj",
                    new Conv2d(
                            in,
                            dim,
                            patch,
                            Conv2d.Options.defaults().stride(stride).padding(patch / 2)));
            this.norm = register("norm", new LayerNorm(dim, TORCH_EPS));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return norm.forward(proj.forward(x).transpose(0, 2, 3, 1));
        }
    }

    /** timm's PyramidVisionTransformerStage: NCHW (or the stem's NHWC) in, NCHW out. */
    static final class Stage extends Module {
        private final Module downsample;
        private final List<Block> blocks = new ArrayList<>();
        private final Module norm;

        Stage(Config cfg, int i, int dim, double[] dpr) {
            int out = cfg.embedDims().get(i);
            this.downsample = i > 0 ? register("downsample", new OverlapPatchEmbed(3, 2, dim, out)) : null;
            Sequential list = register("blocks", new Sequential());
            for (int j = 0; j < cfg.depths().get(i); j++) {
                Block b = new Block(
                        out,
                        cfg.numHeads().get(i),
                        cfg.mlpRatios().get(i),
                        cfg.srRatios().get(i),
                        cfg.linear(),
                        cfg.qkvBias(),
                        dpr[j]);
                list.add(b);
                blocks.add(b);
            }
            this.norm = register("norm", new LayerNorm(out, EPS));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (downsample != null) {
                x = downsample.forward(x);
            }
            Shape s = x.getShape();
            long b = s.get(0);
            long h = s.get(1);
            long w = s.get(2);
            long c = s.get(3);
            x = x.reshape(b, h * w, c);
            for (Block blk : blocks) {
                x = blk.forward(x, h, w);
            }
            return norm.forward(x).reshape(b, h, w, c).transpose(0, 3, 1, 2);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;

    public PvtV2(Config cfg, ModelArgs args) {
        super(args);
        if (!args.globalPool().equals("avg") && !args.globalPool().isEmpty()) {
            throw new IllegalArgumentException(
                    "PVT-v2 pools with 'avg' or '' (none); globalPool '" + args.globalPool() + "' is not supported");
        }
        this.cfg = cfg;
        List<Integer> dims = cfg.embedDims();
        addTrunkStep(register("patch_embed", new OverlapPatchEmbed(7, 4, inChans, dims.get(0))));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int prev = dims.get(0);
        for (int i = 0; i < cfg.depths().size(); i++) {
            stages.add(addTrunkStep(new Stage(cfg, i, prev, dpr[i])));
            prev = dims.get(i);
            addFeatureInfo(prev, 4 << i, "stages." + i);
        }
        registerClassifierHead("head", prev);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        if (!newGlobalPool.equals("avg") && !newGlobalPool.isEmpty()) {
            throw new IllegalArgumentException(
                    "PVT-v2 pools with 'avg' or '' (none); globalPool '" + newGlobalPool + "' is not supported");
        }
        super.resetClassifier(newNumClasses, newGlobalPool);
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's _init_weights: trunc_normal(.02) linears with zero bias; convs N(0, sqrt(2 / fan_out)), fan_out
        // divided by the groups, zero bias
        for (Module m : namedModules().values()) {
            if (!TimmInit.normalLinear(m, 0.02, random) && m instanceof Conv2d c) {
                long[] k = c.kernelSize();
                long fanOut = k[0] * k[1] * c.outChannels() / c.groups();
                TimmInit.normal(c.weight(), c.bias(), Math.sqrt(2.0 / fanOut), random);
            }
        }
    }

    private static final Pattern BLOCK = Pattern.compile("block(\\d+)\\.(\\d+)");
    private static final Pattern NORM = Pattern.compile("^norm(\\d+)");

    /**
     * timm's {@code checkpoint_filter_fn}: timm checkpoints pass unchanged; the original PVT-v2 ones
     * ({@code patch_embedN}, {@code blockN.i}, {@code normN}, {@code dwconv.dwconv}) are renamed to timm's modules.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("patch_embed.proj.weight")) {
            return checkpoint;
        }
        return KeyMapping.renameEach(checkpoint, PvtV2::timmKey);
    }

    private static String timmKey(String key) {
        String k = key;
        if (k.startsWith("patch_embed")) {
            k = k.replace("patch_embed1", "patch_embed")
                    .replace("patch_embed2", "stages.1.downsample")
                    .replace("patch_embed3", "stages.2.downsample")
                    .replace("patch_embed4", "stages.3.downsample");
        }
        k = k.replace("dwconv.dwconv", "dwconv");
        k = renumber(BLOCK, k, "stages.%d.blocks.%s");
        return renumber(NORM, k, "stages.%d.norm");
    }

    // replaces the first match, its stage number made 0-based
    private static String renumber(Pattern p, String k, String format) {
        Matcher m = p.matcher(k);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            int stage = Integer.parseInt(m.group(1)) - 1;
            String rest = m.groupCount() > 1 ? m.group(2) : "";
            m.appendReplacement(sb, Matcher.quoteReplacement(String.format(format, stage, rest)));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's pvt_v2_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "pvt_v2";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "pvt_v2_b0", base(2, 2, 2, 2).embedDims(32, 64, 160, 256));
            add(m, "pvt_v2_b1", base(2, 2, 2, 2));
            add(m, "pvt_v2_b2", base(3, 4, 6, 3));
            add(m, "pvt_v2_b3", base(3, 4, 18, 3));
            add(m, "pvt_v2_b4", base(3, 8, 27, 3));
            add(m, "pvt_v2_b5", base(3, 6, 40, 3).mlpRatios(4.0, 4.0, 4.0, 4.0));
            add(m, "pvt_v2_b2_li", base(3, 4, 6, 3).linear(true));
            return m;
        }

        // the registered variants' widths (all but b0) and heads
        private static Config.Builder base(Integer... depths) {
            return Config.builder().depths(depths).embedDims(64, 128, 320, 512).numHeads(1, 2, 5, 8);
        }

        private static void add(List<ModelEntry> m, String name, Config.Builder b) {
            Config c = b.build();
            m.add(ModelEntry.untrained(name, "pvt_v2", args -> new PvtV2(c, args), 224, "patch_embed.proj", "head"));
        }
    }
}
