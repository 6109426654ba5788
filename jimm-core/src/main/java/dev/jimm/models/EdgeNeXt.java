package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NormMlpClassifierHead;
import dev.jimm.layers.OwnedArrays;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * EdgeNeXt, as timm's {@code models/edgenext.py} builds it: ConvNeXt-style stages whose last block is a split
 * depth-wise transpose attention (SDTA) encoder: the channels split into groups run through chained depthwise 3x3 convs
 * (multi-scale), then cross-covariance attention across channels (XCA, with a Fourier position encoding projected by a
 * 1x1 conv in the second stage) and an MLP, with layer scale; the head is timm's NormMlpClassifierHead.
 */
public final class EdgeNeXt extends ImageModel {

    /**
     * An EdgeNeXt variant, as timm's EdgeNeXt keyword arguments.
     *
     * @param depths blocks per stage
     * @param dims channels per stage
     * @param globalBlocks SDTA blocks at the end of each stage
     * @param kernelSizes the conv blocks' depthwise kernel per stage
     * @param heads XCA heads per stage
     * @param d2Scales channel groups of the SDTA's multi-scale convs per stage
     * @param usePosEmb a Fourier position encoding in a stage's SDTA blocks
     * @param lsInitValue layer-scale init value (0: none)
     * @param expandRatio MLP expansion
     * @param downsampleBlock downsample in the first conv block (strided depthwise conv) instead of norm + 2x2 conv
     * @param convBias bias in the convolutions
     * @param stemType "patch" (4x4, stride 4) or "overlap" (9x9, stride 4)
     */
    public record Config(
            List<Integer> depths,
            List<Integer> dims,
            List<Integer> globalBlocks,
            List<Integer> kernelSizes,
            List<Integer> heads,
            List<Integer> d2Scales,
            List<Boolean> usePosEmb,
            double lsInitValue,
            double expandRatio,
            boolean downsampleBlock,
            boolean convBias,
            String stemType) {
        public Config {
            depths = List.copyOf(depths);
            dims = List.copyOf(dims);
            globalBlocks = List.copyOf(globalBlocks);
            kernelSizes = List.copyOf(kernelSizes);
            heads = List.copyOf(heads);
            d2Scales = List.copyOf(d2Scales);
            usePosEmb = List.copyOf(usePosEmb);
            for (List<?> l : List.of(depths, dims, globalBlocks, kernelSizes, heads, d2Scales, usePosEmb)) {
                if (l.size() != 4) {
                    throw new IllegalArgumentException("EdgeNeXt needs 4 stages in every list: depths " + depths
                            + ", dims " + dims + ", globalBlocks " + globalBlocks + ", kernelSizes " + kernelSizes
                            + ", heads " + heads + ", d2Scales " + d2Scales + ", usePosEmb " + usePosEmb);
                }
            }
            if (!stemType.equals("patch") && !stemType.equals("overlap")) {
                throw new IllegalArgumentException("stemType '" + stemType + "' is not patch or overlap");
            }
        }

        /** timm's defaults with these depths, widths and heads. */
        public static Config of(List<Integer> depths, List<Integer> dims, int heads) {
            return builder()
                    .depths(depths)
                    .dims(dims)
                    .heads(List.of(heads, heads, heads, heads))
                    .build();
        }

        /** A builder with timm's defaults (depths and dims required). */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder extends StagedConfigBuilder<Builder> {
            private List<Integer> globalBlocks = List.of(0, 1, 1, 1);
            private List<Integer> kernelSizes = List.of(3, 5, 7, 9);
            private List<Integer> heads = List.of(8, 8, 8, 8);
            private List<Integer> d2Scales = List.of(2, 2, 3, 4);
            private List<Boolean> usePosEmb = List.of(false, true, false, false);
            private double lsInitValue = 1e-6;
            private double expandRatio = 4;
            private boolean downsampleBlock;
            private boolean convBias = true;
            private String stemType = "patch";

            private Builder() {}

            @Override
            protected Builder self() {
                return this;
            }

            /** XCA heads per stage (default 8). */
            public Builder heads(List<Integer> value) {
                heads = value;
                return this;
            }

            /** Downsample in the first conv block of a stage (timm's {@code downsample_block}). */
            public Builder downsampleBlock(boolean value) {
                downsampleBlock = value;
                return this;
            }

            /** Bias in the convolutions (default). */
            public Builder convBias(boolean value) {
                convBias = value;
                return this;
            }

            /** "patch" (default) or "overlap". */
            public Builder stemType(String value) {
                stemType = value;
                return this;
            }

            /** The config, failing on a missing or inconsistent field. */
            public Config build() {
                requireStages("EdgeNeXt");
                return new Config(
                        depths,
                        dims,
                        globalBlocks,
                        kernelSizes,
                        heads,
                        d2Scales,
                        usePosEmb,
                        lsInitValue,
                        expandRatio,
                        downsampleBlock,
                        convBias,
                        stemType);
            }
        }
    }

    private static final float EPS = 1e-6f;
    private static final Activation.Kind ACT = Activation.Kind.GELU;

    // ---- blocks ---------------------------------------------------------------------------------

    /**
     * timm's ConvBlock: depthwise {@code conv_dw} (strided and widening in the downsampling form), then on NHWC a
     * LayerNorm, an MLP and the layer scale {@code gamma}, as a residual (from after the conv when it downsamples).
     */
    static final class ConvBlock extends Module {
        private final Parameter gamma;
        private final float lsInit;
        private final Module convDw;
        private final Module norm;
        private final Module mlp;
        private final Module dropPath;
        private final boolean shortcutAfterDw;

        ConvBlock(Config cfg, int dim, int dimOut, int kernel, int stride, double dpr) {
            this.shortcutAfterDw = stride > 1 || dim != dimOut;
            this.lsInit = (float) cfg.lsInitValue();
            this.gamma = lsInit > 0 ? parameter("gamma", dimOut) : null;
            this.convDw = register(
                    "conv_dw",
                    new Conv2d(
                            dim,
                            dimOut,
                            kernel,
                            Conv2d.Options.defaults()
                                    .stride(stride)
                                    .padding(Layers.padding(kernel, stride, 1))
                                    .groups(dim)
                                    .bias(cfg.convBias())));
            this.norm = register("norm", new LayerNorm(dimOut, EPS));
            this.mlp = register("mlp", new Mlp(dimOut, (int) (cfg.expandRatio() * dimOut), ACT));
            this.dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            if (gamma != null) {
                Init.constant(gamma.getArray(), lsInit);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = convDw.forward(x);
            if (shortcutAfterDw) {
                shortcut = x;
            }
            x = mlp.forward(norm.forward(x.transpose(0, 2, 3, 1)));
            if (gamma != null) {
                x = x.mul(gamma.getArray());
            }
            return shortcut.add(dropPath.forward(x.transpose(0, 3, 1, 2)));
        }
    }

    /**
     * timm's PositionalEncodingFourier: sine/cosine features of each pixel's normalized row and column (32 each, DETR's
     * scheme) projected to the block's width by a 1x1 conv ({@code token_projection}).
     */
    static final class PositionalEncodingFourier extends Module {
        private static final int HIDDEN = 32;
        private static final double TEMPERATURE = 10000;
        private final Module projection;

        PositionalEncodingFourier(int dim) {
            this.projection = register("token_projection", new Conv2d(2 * HIDDEN, dim, 1, Conv2d.Options.defaults()));
        }

        /**
         * The raw encoding [1, 64, h, w] (rows' features, then columns'), computed in float32 step by step as timm's
         * forward does.
         */
        static float[] encoding(int h, int w) {
            float scale = (float) (2 * Math.PI);
            float eps = 1e-6f;
            float[] dimT = new float[HIDDEN];
            for (int i = 0; i < HIDDEN; i++) {
                float exponent = (float) (2 * (i / 2)) / HIDDEN;
                dimT[i] = (float) Math.pow(TEMPERATURE, exponent);
            }
            float[] out = new float[2 * HIDDEN * h * w];
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    float y = (float) (r + 1) / ((float) h + eps) * scale;
                    float x = (float) (c + 1) / ((float) w + eps) * scale;
                    for (int i = 0; i < HIDDEN; i++) {
                        float py = y / dimT[i];
                        float px = x / dimT[i];
                        // even channels take the sine, odd ones the cosine
                        out[(i * h + r) * w + c] = (float) (i % 2 == 0 ? Math.sin(py) : Math.cos(py));
                        out[((HIDDEN + i) * h + r) * w + c] = (float) (i % 2 == 0 ? Math.sin(px) : Math.cos(px));
                    }
                }
            }
            return out;
        }

        /** The projected encoding [1, dim, h, w] for maps of {@code h} x {@code w}, in {@code like}'s manager. */
        NDArray forward(NDArray like, int h, int w) {
            NDArray pos = OwnedArrays.of(like.getManager(), encoding(h, w), new Shape(1, 2 * HIDDEN, h, w));
            return projection.forward(pos);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            return forward(x, (int) s.get(2), (int) s.get(3));
        }
    }

    /**
     * timm's CrossCovarianceAttn (XCA): attention between channels rather than tokens; q and k are L2-normalized over
     * the tokens and the channel-by-channel map is scaled by a learned per-head {@code temperature}.
     */
    static final class CrossCovarianceAttn extends Module {
        private final int numHeads;
        private final Parameter temperature;
        private final Module qkv;
        private final Module proj;

        CrossCovarianceAttn(int dim, int numHeads) {
            this.numHeads = numHeads;
            this.temperature = parameter("temperature", numHeads, 1, 1);
            this.qkv = register("qkv", new Linear(dim, dim * 3, true));
            register("attn_drop", new Dropout(0f));
            this.proj = register("proj", new Linear(dim, dim));
            register("proj_drop", new Dropout(0f));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(temperature.getArray(), 1f);
        }

        private static NDArray normalize(NDArray x) {
            // F.normalize: x / max(||x||, 1e-12) over the last axis
            NDArray norm = x.mul(x).sum(new int[] {-1}, true).sqrt().clip(1e-12f, Float.MAX_VALUE);
            return x.div(norm);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long n = s.get(1);
            long c = s.get(2);
            // [3, B, heads, C/heads, N]
            NDArray packed = qkv.forward(x).reshape(b, n, 3, numHeads, -1).transpose(2, 0, 3, 4, 1);
            NDArray q = packed.get(0);
            NDArray k = packed.get(1);
            NDArray v = packed.get(2);
            NDArray attn = normalize(q).matMul(normalize(k).swapAxes(-2, -1)).mul(temperature.getArray());
            NDArray out = attn.softmax(-1).matMul(v).transpose(0, 3, 1, 2).reshape(b, n, c);
            return proj.forward(out);
        }
    }

    /**
     * timm's SplitTransposeBlock (SDTA encoder): the channels split into groups, each group after the first added to
     * the previous group's output and run through its own depthwise 3x3 conv (the last group passes); then on tokens an
     * optional position encoding, a residual XCA with layer scale {@code gamma_xca}, and a residual MLP with
     * {@code gamma}.
     */
    static final class SplitTransposeBlock extends Module {
        private final Parameter gammaXca;
        private final Parameter gamma;
        private final float lsInit;
        private final int numConvs;
        private final List<Module> convs = new ArrayList<>();
        private final PositionalEncodingFourier posEmbd;
        private final Module normXca;
        private final Module xca;
        private final Module norm;
        private final Module mlp;
        private final Module dropPath;

        SplitTransposeBlock(Config cfg, int dim, int numScales, int numHeads, boolean usePosEmb, double dpr) {
            int width = (int) Math.ceil(dim / (double) numScales);
            this.numConvs = Math.max(1, numScales - 1);
            this.lsInit = (float) cfg.lsInitValue();
            this.gammaXca = lsInit > 0 ? parameter("gamma_xca", dim) : null;
            this.gamma = lsInit > 0 ? parameter("gamma", dim) : null;
            Sequential convList = register("convs", new Sequential());
            for (int i = 0; i < numConvs; i++) {
                Conv2d conv = new Conv2d(
                        width,
                        width,
                        3,
                        Conv2d.Options.defaults().padding(1).groups(width).bias(cfg.convBias()));
                convList.add(conv);
                convs.add(conv);
            }
            this.posEmbd = usePosEmb ? register("pos_embd", new PositionalEncodingFourier(dim)) : null;
            this.normXca = register("norm_xca", new LayerNorm(dim, EPS));
            this.xca = register("xca", new CrossCovarianceAttn(dim, numHeads));
            this.norm = register("norm", new LayerNorm(dim, EPS));
            this.mlp = register("mlp", new Mlp(dim, (int) (cfg.expandRatio() * dim), ACT));
            this.dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            if (gamma != null) {
                Init.constant(gammaXca.getArray(), lsInit);
                Init.constant(gamma.getArray(), lsInit);
            }
        }

        /** torch.chunk along the channels: pieces of ceil(C / n), the last one smaller (and fewer when C is small). */
        static NDList chunk(NDArray x, int n) {
            long c = x.getShape().get(1);
            long size = (c + n - 1) / n;
            List<Long> cuts = new ArrayList<>();
            for (long at = size; at < c; at += size) {
                cuts.add(at);
            }
            return x.split(cuts.stream().mapToLong(Long::longValue).toArray(), 1);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            NDList spx = chunk(x, numConvs + 1);
            NDList spo = new NDList();
            NDArray sp = spx.get(0);
            for (int i = 0; i < convs.size(); i++) {
                if (i > 0) {
                    sp = sp.add(spx.get(i));
                }
                sp = convs.get(i).forward(sp);
                spo.add(sp);
            }
            spo.add(spx.get(spx.size() - 1));
            x = NDArrays.concat(spo, 1);

            Shape s = x.getShape();
            long b = s.get(0);
            long c = s.get(1);
            long h = s.get(2);
            long w = s.get(3);
            x = x.reshape(b, c, h * w).transpose(0, 2, 1);
            if (posEmbd != null) {
                x = x.add(posEmbd.forward(x, (int) h, (int) w)
                        .reshape(1, c, h * w)
                        .transpose(0, 2, 1));
            }
            NDArray attn = xca.forward(normXca.forward(x));
            x = x.add(dropPath.forward(gammaXca == null ? attn : attn.mul(gammaXca.getArray())));
            x = mlp.forward(norm.forward(x.reshape(b, h, w, c)));
            if (gamma != null) {
                x = x.mul(gamma.getArray());
            }
            return shortcut.add(dropPath.forward(x.transpose(0, 3, 1, 2)));
        }
    }

    /** timm's EdgeNeXtStage: a downsampler (LayerNorm2d + 2x2 stride-2 conv, or identity) and the blocks. */
    static final class Stage extends DownsampledStage {
        Stage(Config cfg, int i, int in, int out, int stride, double[] dpr) {
            // with downsampleBlock the first block downsamples (and widens), the stage's downsampler is an identity
            super(
                    cfg.downsampleBlock() || stride == 1
                            ? new Identity()
                            : new Sequential(
                                    LayerNorm.channelsFirst(in, EPS),
                                    new Conv2d(
                                            in,
                                            out,
                                            2,
                                            Conv2d.Options.defaults().stride(2).bias(cfg.convBias()))),
                    in,
                    out);
            if (!cfg.downsampleBlock() && stride != 1) {
                in = out;
            }
            Sequential b = new Sequential();
            int depth = cfg.depths().get(i);
            for (int j = 0; j < depth; j++) {
                if (j < depth - cfg.globalBlocks().get(i)) {
                    int s = cfg.downsampleBlock() && j == 0 ? stride : 1;
                    b.add(new ConvBlock(cfg, in, out, cfg.kernelSizes().get(i), s, dpr[j]));
                } else {
                    b.add(new SplitTransposeBlock(
                            cfg,
                            in,
                            cfg.d2Scales().get(i),
                            cfg.heads().get(i),
                            cfg.usePosEmb().get(i),
                            dpr[j]));
                }
                in = out;
            }
            blocks(b);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module normPre;
    private final NormMlpClassifierHead head;

    public EdgeNeXt(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.dims();
        Conv2d.Options stemConv = Conv2d.Options.defaults().stride(4).bias(cfg.convBias());
        Conv2d conv = cfg.stemType().equals("patch")
                ? new Conv2d(inChans, dims.get(0), 4, stemConv)
                : new Conv2d(inChans, dims.get(0), 9, stemConv.padding(9 / 2));
        addTrunkStep(register("stem", new Sequential(conv, LayerNorm.channelsFirst(dims.get(0), EPS))));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int in = dims.get(0);
        int currStride = 4;
        for (int i = 0; i < 4; i++) {
            int stride = currStride == 2 || i > 0 ? 2 : 1;
            currStride *= stride;
            stages.add(addTrunkStep(new Stage(cfg, i, in, dims.get(i), stride, dpr[i])));
            in = dims.get(i);
            addFeatureInfo(in, currStride, "stages." + i);
        }
        setNumFeatures(in);
        normPre = register("norm_pre", new Identity());
        head = registerHead("head", DaViT.normMlpHead(in, numClasses, globalPool, dropRate, EPS));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's _init_weights: trunc_normal_tf_(std=.02) on conv and linear weights, zero biases
        TimmInit.truncNormalConvsAndLinears(this, 0.02, random);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return normPre.forward(forwardTrunk(x));
    }

    private static final Pattern STAGE_BLOCK = Pattern.compile("stages.([0-9]+).([0-9]+)");
    private static final Pattern DOWNSAMPLE = Pattern.compile("downsample_layers.([0-9]+).([0-9]+)");

    /**
     * timm's {@code checkpoint_filter_fn}: timm checkpoints pass unchanged; the original EdgeNeXt checkpoints
     * ({@code downsample_layers}, {@code dwconv}, {@code pwconv}, {@code norm}, {@code head}) are renamed to timm's
     * modules, 2-D weights outside the head reshaped to the model's shapes.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("head.norm.weight") || checkpoint.containsKey("norm_pre.weight")) {
            return checkpoint;
        }
        Map<String, Shape> shapes = stateDictShapes();
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey().replace("downsample_layers.0.", "stem.");
            k = STAGE_BLOCK.matcher(k).replaceAll("stages.$1.blocks.$2");
            k = DOWNSAMPLE.matcher(k).replaceAll("stages.$1.downsample.$2");
            k = k.replace("dwconv", "conv_dw").replace("pwconv", "mlp.fc").replace("head.", "head.fc.");
            if (k.startsWith("norm.")) {
                k = k.replace("norm", "head.norm");
            }
            NDArray v = e.getValue();
            if (v.getShape().dimension() == 2 && !k.contains("head") && shapes.containsKey(k)) {
                v = v.reshape(shapes.get(k));
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's edgenext_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "edgenext";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "edgenext_xx_small", Config.of(List.of(2, 2, 6, 2), List.of(24, 48, 88, 168), 4));
            add(m, "edgenext_x_small", Config.of(List.of(3, 3, 9, 3), List.of(32, 64, 100, 192), 4));
            add(m, "edgenext_small", Config.of(List.of(3, 3, 9, 3), List.of(48, 96, 160, 304), 8));
            add(m, "edgenext_base", Config.of(List.of(3, 3, 9, 3), List.of(80, 160, 288, 584), 8));
            add(
                    m,
                    "edgenext_small_rw",
                    Config.builder()
                            .depths(List.of(3, 3, 9, 3))
                            .dims(List.of(48, 96, 192, 384))
                            .downsampleBlock(true)
                            .convBias(false)
                            .stemType("overlap")
                            .build());
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(name, "edgenext", args -> new EdgeNeXt(c, args), 256, "stem.0", "head.fc"));
        }
    }
}
