package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.NormMlpClassifierHead;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import dev.jimm.models.SwinTransformer.Windows;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * DaViT (Dual Attention Vision Transformers), as timm's {@code models/davit.py} builds it: a 7x7 stride-4 stem, four
 * stages of blocks that alternate a spatial block (windowed self-attention over tokens) and a channel block (attention
 * across channels, over the whole map), each preceded by depthwise-conv position encodings, and timm's
 * NormMlpClassifierHead. The Florence-2 vision towers ({@code _fl}) use 12x12 windows, 3x3 downsampling convs, the v2
 * channel attention and named blocks.
 */
public final class DaViT extends ImageModel {

    /**
     * A DaViT variant, as timm's keyword arguments.
     *
     * @param depths dual-attention blocks per stage
     * @param embedDims widths per stage
     * @param numHeads heads per stage
     * @param windowSize the spatial blocks' window side
     * @param mlpRatio MLP expansion
     * @param downKernelSize the downsampling conv's kernel (2: padded to a multiple; odd: half padding)
     * @param channelAttnV2 the v2 channel attention (queries scaled by the token count, keys attend to values)
     * @param namedBlocks blocks hold {@code spatial_block} and {@code channel_block} instead of {@code 0} and {@code 1}
     */
    public record Config(
            List<Integer> depths,
            List<Integer> embedDims,
            List<Integer> numHeads,
            int windowSize,
            double mlpRatio,
            int downKernelSize,
            boolean channelAttnV2,
            boolean namedBlocks) {
        public Config {
            depths = List.copyOf(depths);
            embedDims = List.copyOf(embedDims);
            numHeads = List.copyOf(numHeads);
            if (embedDims.size() != depths.size() || numHeads.size() != depths.size()) {
                throw new IllegalArgumentException("DaViT needs one entry per stage: depths " + depths + ", embedDims "
                        + embedDims + ", numHeads " + numHeads);
            }
        }

        /** timm's defaults (7x7 windows, 2x2 downsampling) with these depths, widths and heads. */
        public static Config of(List<Integer> depths, List<Integer> embedDims, List<Integer> numHeads) {
            return new Config(depths, embedDims, numHeads, 7, 4, 2, false, false);
        }

        /** The Florence-2 form: 12x12 windows, 3x3 downsampling, v2 channel attention, named blocks. */
        public Config florence() {
            return new Config(depths, embedDims, numHeads, 12, mlpRatio, 3, true, true);
        }
    }

    // timm's DaViT passes norm_eps 1e-5 to both its LayerNorm2d and LayerNorm
    private static final float EPS = 1e-5f;

    // ---- blocks ---------------------------------------------------------------------------------

    /** Zero padding at the bottom and right of an NCHW map to multiples of {@code mh} x {@code mw}. */
    static NDArray padToMultiple(NDArray x, int mh, int mw) {
        Shape s = x.getShape();
        int padB = (int) ((mh - s.get(2) % mh) % mh);
        int padR = (int) ((mw - s.get(3) % mw) % mw);
        if (padB == 0 && padR == 0) {
            return x;
        }
        return Windows.padBottomRight(x.transpose(0, 2, 3, 1), padB, padR).transpose(0, 3, 1, 2);
    }

    /** timm's ConvPosEnc: x plus a depthwise 3x3 conv of x (no activation in the registered variants). */
    static final class ConvPosEnc extends Module {
        private final Module proj;

        ConvPosEnc(int dim) {
            this.proj = register(
                    "proj",
                    new Conv2d(dim, dim, 3, Conv2d.Options.defaults().padding(1).groups(dim)));
            register("act", new Identity());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.add(proj.forward(x));
        }
    }

    /** timm's Stem: bottom/right padding to a multiple of 4, a 7x7 stride-4 conv, LayerNorm2d. */
    static final class Stem extends Module {
        private final Module conv;
        private final Module norm;

        Stem(int in, int out) {
            this.conv = register(
                    "conv",
                    new Conv2d(in, out, 7, Conv2d.Options.defaults().stride(4).padding(3)));
            this.norm = register("norm", LayerNorm.channelsFirst(out, EPS));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return norm.forward(conv.forward(padToMultiple(x, 4, 4)));
        }
    }

    /** timm's Downsample: LayerNorm2d, then a stride-2 conv (an even kernel pads the map to its multiple first). */
    static final class Downsample extends Module {
        private final Module norm;
        private final Module conv;
        private final int kernel;
        private final boolean evenKernel;

        Downsample(int in, int out, int kernel) {
            this.kernel = kernel;
            this.evenKernel = kernel % 2 == 0;
            this.norm = register("norm", LayerNorm.channelsFirst(in, EPS));
            this.conv = register(
                    "conv",
                    new Conv2d(
                            in, out, kernel, Conv2d.Options.defaults().stride(2).padding(evenKernel ? 0 : kernel / 2)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = norm.forward(x);
            if (evenKernel) {
                x = padToMultiple(x, kernel, kernel);
            }
            return conv.forward(x);
        }
    }

    /**
     * timm's ChannelAttention (and ChannelAttentionV2): attention between the channels of each head, over all tokens.
     * v1 scales the keys by {@code head_dim^-0.5}, softmaxes kᵀv and applies it to q; v2 scales q by {@code N^-0.5},
     * softmaxes qᵀk and applies it to v.
     */
    static final class ChannelAttention extends Module {
        private final int numHeads;
        private final boolean v2;
        private final Module qkv;
        private final Module proj;

        ChannelAttention(int dim, int numHeads, boolean v2) {
            this.numHeads = numHeads;
            this.v2 = v2;
            this.qkv = register("qkv", new Linear(dim, dim * 3, true));
            this.proj = register("proj", new Linear(dim, dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long n = s.get(1);
            long c = s.get(2);
            NDArray packed =
                    qkv.forward(x).reshape(b, n, 3, numHeads, c / numHeads).transpose(2, 0, 3, 1, 4);
            NDArray q = packed.get(0);
            NDArray k = packed.get(1);
            NDArray v = packed.get(2);
            NDArray out;
            if (v2) {
                q = Scalars.mul(q, Math.pow(n, -0.5));
                NDArray attn = q.swapAxes(-1, -2).matMul(k).softmax(-1);
                out = attn.matMul(v.swapAxes(-1, -2)).swapAxes(-1, -2);
            } else {
                k = Scalars.mul(k, Math.pow(c / numHeads, -0.5));
                NDArray attn = k.swapAxes(-1, -2).matMul(v).softmax(-1);
                out = attn.matMul(q.swapAxes(-1, -2)).swapAxes(-1, -2);
            }
            return proj.forward(out.transpose(0, 2, 1, 3).reshape(b, n, c));
        }
    }

    /**
     * The layout timm's ChannelBlock and SpatialBlock share: position encoding, residual attention (the subclass's),
     * position encoding, residual MLP; registered in timm's order.
     */
    abstract static class CpeBlock extends Module {
        protected final Module cpe1;
        protected final Module norm1;
        protected final Module attn;
        protected final Module dropPath1;
        private final Module cpe2;
        private final Module norm2;
        private final Module mlp;
        private final Module dropPath2;

        CpeBlock(int dim, Module attention, double mlpRatio, double dpr) {
            this.cpe1 = register("cpe1", new ConvPosEnc(dim));
            this.norm1 = register("norm1", new LayerNorm(dim, EPS));
            this.attn = register("attn", attention);
            this.dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            this.cpe2 = register("cpe2", new ConvPosEnc(dim));
            this.norm2 = register("norm2", new LayerNorm(dim, EPS));
            this.mlp = register("mlp", new Mlp(dim, (int) (dim * mlpRatio), Activation.Kind.GELU));
            this.dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
        }

        /**
         * Both halves: cpe1 on the map, its tokens (B, HW, C) through the subclass's attention residual
         * ({@link #attend}), then cpe2 and the MLP residual, back to NCHW.
         */
        @Override
        protected final NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            x = attend(NchwTokens.toTokens(cpe1.forward(x)), s.get(0), s.get(1), s.get(2), s.get(3));
            x = NchwTokens.toTokens(cpe2.forward(NchwTokens.toMap(x, s)));
            x = x.add(dropPath2.forward(mlp.forward(norm2.forward(x))));
            return NchwTokens.toMap(x, s);
        }

        /** The attention residual on the tokens (B, HW, C) of a (B, C, H, W) map. */
        protected abstract NDArray attend(NDArray tokens, long b, long c, long h, long w);
    }

    /** timm's ChannelBlock: position encoding, residual channel attention, position encoding, residual MLP. */
    static final class ChannelBlock extends CpeBlock {
        ChannelBlock(int dim, int numHeads, double mlpRatio, boolean v2, double dpr) {
            super(dim, new ChannelAttention(dim, numHeads, v2), mlpRatio, dpr);
        }

        @Override
        protected NDArray attend(NDArray x, long b, long c, long h, long w) {
            return x.add(dropPath1.forward(attn.forward(norm1.forward(x))));
        }
    }

    /** timm's DaViT WindowAttention: plain multi-head self-attention within each window (no position bias). */
    static final class WindowAttention extends Module {
        private final int numHeads;
        private final Module qkv;
        private final Module proj;

        WindowAttention(int dim, int numHeads) {
            this.numHeads = numHeads;
            this.qkv = register("qkv", new Linear(dim, dim * 3, true));
            this.proj = register("proj", new Linear(dim, dim));
            register("softmax", new Identity());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return proj.forward(Attention.selfAttention(qkv.forward(x), numHeads, 0f, isTraining()));
        }
    }

    /**
     * timm's SpatialBlock: position encoding, residual window attention (the map zero-padded at the bottom and right to
     * whole windows, cropped back after), position encoding, residual MLP.
     */
    static final class SpatialBlock extends CpeBlock {
        private final int window;

        SpatialBlock(int dim, int numHeads, int window, double mlpRatio, double dpr) {
            super(dim, new WindowAttention(dim, numHeads), mlpRatio, dpr);
            this.window = window;
        }

        @Override
        protected NDArray attend(NDArray shortcut, long b, long c, long h, long w) {
            NDArray t = norm1.forward(shortcut).reshape(b, h, w, c);
            int padB = (int) ((window - h % window) % window);
            int padR = (int) ((window - w % window) % window);
            t = Windows.padBottomRight(t, padB, padR);
            long hp = h + padB;
            long wp = w + padR;
            t = attn.forward(Windows.partition(t, window, window));
            t = Windows.reverse(t, window, window, hp, wp);
            if (padB > 0 || padR > 0) {
                t = t.get(":, :" + h + ", :" + w + ", :");
            }
            return shortcut.add(dropPath1.forward(t.reshape(b, h * w, c)));
        }
    }

    /** timm's DaVitStage: a downsampler (identity in stage 0), then dual blocks of a spatial and a channel block. */
    static final class Stage extends DownsampledStage {
        Stage(Config cfg, int i, int in, double[] dpr) {
            super(
                    i > 0 ? new Downsample(in, cfg.embedDims().get(i), cfg.downKernelSize()) : null,
                    in,
                    cfg.embedDims().get(i));
            int out = cfg.embedDims().get(i);
            Sequential list = new Sequential();
            for (int j = 0; j < cfg.depths().get(i); j++) {
                int heads = cfg.numHeads().get(i);
                Module spatial = new SpatialBlock(out, heads, cfg.windowSize(), cfg.mlpRatio(), dpr[j]);
                Module channel = new ChannelBlock(out, heads, cfg.mlpRatio(), cfg.channelAttnV2(), dpr[j]);
                list.add(
                        cfg.namedBlocks()
                                ? new NamedSequential()
                                        .add("spatial_block", spatial)
                                        .add("channel_block", channel)
                                : new Sequential(spatial, channel));
            }
            blocks(list);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final NormMlpClassifierHead head;

    public DaViT(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.embedDims();
        addTrunkStep(register("stem", new Stem(inChans, dims.get(0))));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int in = dims.get(0);
        for (int i = 0; i < dims.size(); i++) {
            stages.add(addTrunkStep(new Stage(cfg, i, in, dpr[i])));
            in = dims.get(i);
            addFeatureInfo(in, 4 << i, "stages." + i);
        }
        setNumFeatures(in);
        register("norm_pre", new Identity());
        head = registerHead("head", normMlpHead(in, numClasses, globalPool, dropRate, EPS));
    }

    /**
     * timm's NormMlpClassifierHead as DaViT, TinyViT and EdgeNeXt build it: no hidden layer, a channels-first LayerNorm
     * of {@code eps}, tanh pre-logits.
     */
    static NormMlpClassifierHead normMlpHead(int in, int numClasses, String pool, double dropRate, float eps) {
        return new NormMlpClassifierHead(
                in, numClasses, 0, pool, dropRate, LayerNorm.channelsFirst(in, eps), Activation.Kind.TANH);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's _init_weights: trunc_normal(.02) linears with zero bias; convs keep PyTorch's default
        TimmInit.normalLinears(this, 0.02, random);
    }

    private static final Pattern PATCH_EMBEDS = Pattern.compile("patch_embeds\\.([0-9]+)");
    private static final Pattern MAIN_BLOCKS = Pattern.compile("main_blocks\\.([0-9]+)");
    private static final Pattern CONVS = Pattern.compile("convs\\.([0-9]+)");
    private static final Pattern BLOCKS = Pattern.compile("blocks\\.([0-9]+)");
    private static final String FLORENCE = "vision_tower.";

    /**
     * timm's {@code checkpoint_filter_fn}: timm checkpoints pass unchanged; Microsoft's DaViT checkpoints
     * ({@code patch_embeds}, {@code main_blocks}, {@code norms}, {@code cpe.0}) and Florence-2's vision towers (keys
     * under {@code vision_tower.}, the rest dropped) are renamed to timm's modules.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("head.fc.weight")) {
            return checkpoint;
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        boolean florence = checkpoint.containsKey(FLORENCE + "convs.0.proj.weight");
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            if (florence) {
                if (!k.startsWith(FLORENCE)) {
                    continue;
                }
                k = k.substring(FLORENCE.length());
                k = CONVS.matcher(k).replaceAll("stages.$1.downsample");
                k = BLOCKS.matcher(k).replaceAll("stages.$1.blocks");
                k = k.replace("downsample.proj", "downsample.conv")
                        .replace("stages.0.downsample", "stem")
                        .replace("window_attn.norm.", "norm1.")
                        .replace("window_attn.fn.", "attn.")
                        .replace("channel_attn.norm.", "norm1.")
                        .replace("channel_attn.fn.", "attn.")
                        .replace("ffn.norm.", "norm2.")
                        .replace("ffn.fn.net.", "mlp.")
                        .replace("conv1.fn.dw", "cpe1.proj")
                        .replace("conv2.fn.dw", "cpe2.proj");
            } else {
                k = PATCH_EMBEDS.matcher(k).replaceAll("stages.$1.downsample");
                k = MAIN_BLOCKS.matcher(k).replaceAll("stages.$1.blocks");
                k = k.replace("downsample.proj", "downsample.conv")
                        .replace("stages.0.downsample", "stem")
                        .replace("head.", "head.fc.")
                        .replace("norms.", "head.norm.")
                        .replace("cpe.0", "cpe1")
                        .replace("cpe.1", "cpe2");
            }
            out.put(k, e.getValue());
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's davit_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "davit";
        }

        @Override
        public List<ModelEntry> models() {
            List<Integer> d9 = List.of(1, 1, 9, 1);
            Config base = Config.of(d9, List.of(128, 256, 512, 1024), List.of(4, 8, 16, 32));
            Config huge = Config.of(d9, List.of(256, 512, 1024, 2048), List.of(8, 16, 32, 64));
            List<ModelEntry> m = new ArrayList<>();
            add(m, "davit_tiny", Config.of(List.of(1, 1, 3, 1), List.of(96, 192, 384, 768), List.of(3, 6, 12, 24)));
            add(m, "davit_small", Config.of(d9, List.of(96, 192, 384, 768), List.of(3, 6, 12, 24)));
            add(m, "davit_base", base);
            add(m, "davit_large", Config.of(d9, List.of(192, 384, 768, 1536), List.of(6, 12, 24, 48)));
            add(m, "davit_huge", huge);
            add(
                    m,
                    "davit_giant",
                    Config.of(List.of(1, 1, 12, 3), List.of(384, 768, 1536, 3072), List.of(12, 24, 48, 96)));
            add(m, "davit_base_fl", base.florence());
            add(m, "davit_huge_fl", huge.florence());
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(name, "davit", args -> new DaViT(c, args), 224, "stem.conv", "head.fc"));
        }
    }
}
