package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.OwnedArrays;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * GhostNet (V1), GhostNetV2 and GhostNetV3 as timm's {@code models/ghostnet.py} builds them: ghost modules (a primary
 * conv plus a cheap depthwise conv, concatenated), ghost bottlenecks with an optional squeeze-excite gated by
 * hard-sigmoid, and an efficient head (global pool, then a 1x1 {@code conv_head} with bias, ReLU, classifier). V2 adds
 * the DFC attention branch ({@code short_conv}) to the first ghost module of every block after the second; V3 uses the
 * re-parameterizable multi-branch training form (not the fused deploy form).
 */
public final class GhostNet extends ImageModel {

    /** The GhostNet generation: block and ghost-module kinds. */
    public enum Version {
        V1,
        V2,
        V3
    }

    /**
     * A GhostNet variant.
     *
     * @param version V1, V2 or V3
     * @param width channel multiplier (make_divisible by 4)
     */
    public record Config(Version version, double width) {
        public Config {
            if (width <= 0) {
                throw new IllegalArgumentException("width " + width + " must be positive");
            }
        }
    }

    /** timm's cfgs: per stage, rows of kernel, expansion size, out channels, SE ratio (x100), stride. */
    private static final int[][][] CFGS = {
        {{3, 16, 16, 0, 1}},
        {{3, 48, 24, 0, 2}},
        {{3, 72, 24, 0, 1}},
        {{5, 72, 40, 25, 2}},
        {{5, 120, 40, 25, 1}},
        {{3, 240, 80, 0, 2}},
        {{3, 200, 80, 0, 1}, {3, 184, 80, 0, 1}, {3, 184, 80, 0, 1}, {3, 480, 112, 25, 1}, {3, 672, 112, 25, 1}},
        {{5, 672, 160, 25, 2}},
        {{5, 960, 160, 0, 1}, {5, 960, 160, 25, 1}, {5, 960, 160, 0, 1}, {5, 960, 160, 25, 1}},
    };

    private static final int HEAD_HIDDEN = 1280;

    // ---- layers ---------------------------------------------------------------------------------

    /** A bias-free conv with a rectangular kernel and per-axis padding (V2/V3's 1x5 and 5x1 convs). */
    static final class RectConv extends Module {
        private final Parameter weight;
        private final long[] kernel;
        private final long[] padding;
        private final int groups;

        RectConv(int in, int out, int kh, int kw, int ph, int pw, int groups) {
            this.kernel = new long[] {kh, kw};
            this.padding = new long[] {ph, pw};
            this.groups = groups;
            weight = parameter("weight", out, in / groups, kh, kw);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.getNDArrayInternal()
                    .convolution(
                            x, weight.getArray(), null, new Shape(1, 1), new Shape(padding), new Shape(1, 1), groups)
                    .singletonOrThrow();
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.torchDefault(weight.getArray(), null, random);
        }

        @Override
        protected String extraRepr() {
            return "Conv2d(kernel_size=(" + kernel[0] + ", " + kernel[1] + "), groups=" + groups + ", bias=False)";
        }
    }

    private static Conv2d conv(int in, int out, int k, int stride, int pad, int groups) {
        return new Conv2d(
                in,
                out,
                k,
                Conv2d.Options.defaults()
                        .stride(stride)
                        .padding(pad)
                        .groups(groups)
                        .bias(false));
    }

    private static Module act(boolean relu) {
        return relu ? Activation.relu() : new Identity();
    }

    /** timm's ConvBnAct: {@code conv} and {@code bn1} (a BatchNormAct2d) with ReLU or no activation. */
    static final class ConvBnAct extends Module {
        private final Module conv;
        private final Module bn1;
        private final boolean relu;

        ConvBnAct(int in, int out, int k, int stride, int pad, int groups, boolean relu) {
            conv = register("conv", conv(in, out, k, stride, pad, groups));
            bn1 = register("bn1", new BatchNorm2d(out));
            this.relu = relu;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = bn1.forward(conv.forward(x));
            return relu ? Activation.apply(Activation.Kind.RELU, y) : y;
        }
    }

    /** The squeeze-excite of timm's efficientnet blocks, gated by hard-sigmoid. */
    static final class SqueezeExcite extends Module {
        private final Module convReduce;
        private final Module convExpand;

        SqueezeExcite(int channels, double rdRatio) {
            int rd = Layers.makeDivisible(channels * rdRatio, 4);
            convReduce = register("conv_reduce", new Conv2d(channels, rd, 1, Conv2d.Options.defaults()));
            convExpand = register("conv_expand", new Conv2d(rd, channels, 1, Conv2d.Options.defaults()));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray s = Layers.spatialMean(x, true);
            s = convExpand.forward(Activation.apply(Activation.Kind.RELU, convReduce.forward(s)));
            return x.mul(Activation.apply(Activation.Kind.HARD_SIGMOID, s));
        }
    }

    /**
     * PyTorch's nearest interpolation of NCHW maps to {@code (outH, outW)}: source index floor(dst * in / out), done as
     * two one-hot matrix products so that it stays on the engine.
     */
    static NDArray nearest(NDArray x, long outH, long outW) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        if (h == outH && w == outW) {
            return x;
        }
        NDManager m = x.getManager();
        NDArray rows = OwnedArrays.of(m, oneHot(outH, h), new Shape(outH, h)).toType(x.getDataType(), false);
        NDArray cols = OwnedArrays.of(m, oneHot(outW, w), new Shape(outW, w)).toType(x.getDataType(), false);
        return rows.matMul(x.matMul(cols.transpose()));
    }

    private static float[] oneHot(long out, long in) {
        float[] s = new float[Math.toIntExact(out * in)];
        // PyTorch computes the scale and the source index in float
        float scale = (float) in / (float) out;
        for (int d = 0; d < out; d++) {
            int src = Math.min((int) Math.floor(d * scale), (int) in - 1);
            s[Math.toIntExact(d * in + src)] = 1f;
        }
        return s;
    }

    /** The DFC attention branch of GhostNetV2/V3: strided conv, 1x5 and 5x1 depthwise convs. */
    private static Sequential shortConv(int in, int out, int k, int stride) {
        return new Sequential(
                conv(in, out, k, stride, k / 2, 1),
                new BatchNorm2d(out),
                new RectConv(out, out, 1, 5, 0, 2, out),
                new BatchNorm2d(out),
                new RectConv(out, out, 5, 1, 2, 0, out),
                new BatchNorm2d(out));
    }

    /** The attention gate: sigmoid of the pooled branch, upsampled (nearest) to the module's output. */
    private static NDArray attend(NDArray out, Module shortConv, NDArray x) {
        NDArray res = shortConv.forward(Pool2d.avg(2, 2, 0, false, true).forward(x));
        NDArray gate = nearest(
                Activation.apply(Activation.Kind.SIGMOID, res),
                out.getShape().get(2),
                out.getShape().get(3));
        return out.mul(gate);
    }

    /**
     * What timm's ghost modules share (ratio 2, a 1x1 primary conv, a 3x3 depthwise cheap one): {@code init} channels
     * from each, concatenated and cut to {@code out}, and the optional DFC attention {@code short_conv}.
     */
    abstract static class GhostModuleBase extends Module {
        static final int KERNEL = 1;
        static final int DW_KERNEL = 3;
        final int init;
        private final int outChs;
        private Module shortConv;

        GhostModuleBase(int out) {
            outChs = out;
            init = (out + 1) / 2;
        }

        /** Registers the DFC attention branch, after the module's convs as timm does. */
        void registerShortConv(int in) {
            shortConv = register("short_conv", shortConv(in, outChs, KERNEL, 1));
        }

        /** The output with the attention gate applied, cut to {@code out} channels; as it is without attention. */
        NDArray attendIfShortConv(NDArray out, NDArray x) {
            if (shortConv == null) {
                return out;
            }
            return attend(cut(out), shortConv, x);
        }

        /** The first {@code out} channels (the concatenation has one more when {@code out} is odd). */
        NDArray cut(NDArray out) {
            return out.getShape().get(1) == outChs ? out : out.get(":, :" + outChs);
        }
    }

    /** GhostModule (V1) and GhostModuleV2 (with {@code short_conv} attention when {@code attn}). */
    static final class GhostModule extends GhostModuleBase {
        private final Module primaryConv;
        private final Module cheapOperation;

        GhostModule(int in, int out, boolean relu, boolean attn) {
            super(out);
            primaryConv = register(
                    "primary_conv",
                    new Sequential(conv(in, init, KERNEL, 1, KERNEL / 2, 1), new BatchNorm2d(init), act(relu)));
            cheapOperation = register(
                    "cheap_operation",
                    new Sequential(
                            conv(init, init, DW_KERNEL, 1, DW_KERNEL / 2, init), new BatchNorm2d(init), act(relu)));
            if (attn) {
                registerShortConv(in);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray x1 = primaryConv.forward(x);
            NDArray x2 = cheapOperation.forward(x1);
            return attendIfShortConv(cut(NDArrays.concat(new NDList(x1, x2), 1)), x);
        }
    }

    /** GhostModuleV3's training form: three primary and three cheap conv branches plus scale/skip. */
    static final class GhostModuleV3 extends GhostModuleBase {
        private final List<Module> primary = new ArrayList<>();
        private final Module primaryActivation;
        private final Module cheapSkip;
        private final List<Module> cheap = new ArrayList<>();
        private final Module cheapScale;
        private final Module cheapActivation;

        GhostModuleV3(int in, int out, boolean relu, boolean shortcut) {
            super(out);
            register("primary_conv", new Identity());
            register("cheap_operation", new Identity());
            Sequential p = register("primary_rpr_conv", new Sequential());
            for (int i = 0; i < 3; i++) {
                ConvBnAct c = new ConvBnAct(in, init, KERNEL, 1, KERNEL / 2, 1, false);
                p.add(c);
                primary.add(c);
            }
            primaryActivation = register("primary_activation", act(relu));
            cheapSkip = register("cheap_rpr_skip", new BatchNorm2d(init));
            Sequential c3 = register("cheap_rpr_conv", new Sequential());
            for (int i = 0; i < 3; i++) {
                ConvBnAct c = new ConvBnAct(init, init, DW_KERNEL, 1, DW_KERNEL / 2, init, false);
                c3.add(c);
                cheap.add(c);
            }
            cheapScale = register("cheap_rpr_scale", new ConvBnAct(init, init, 1, 1, 0, init, false));
            cheapActivation = register("cheap_activation", act(relu));
            if (shortcut) {
                registerShortConv(in);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray x1 = null;
            for (Module c : primary) {
                x1 = x1 == null ? c.forward(x) : x1.add(c.forward(x));
            }
            x1 = primaryActivation.forward(x1);
            NDArray x2 = cheapScale.forward(x1).add(cheapSkip.forward(x1));
            for (Module c : cheap) {
                x2 = x2.add(c.forward(x1));
            }
            x2 = cheapActivation.forward(x2);
            // timm returns the whole concatenation, uncut, without attention
            return attendIfShortConv(NDArrays.concat(new NDList(x1, x2), 1), x);
        }
    }

    private static Sequential shortcut(int in, int out, int k, int stride) {
        return new Sequential(
                conv(in, in, k, stride, (k - 1) / 2, in),
                new BatchNorm2d(in),
                conv(in, out, 1, 1, 0, 1),
                new BatchNorm2d(out));
    }

    /** GhostBottleneck (V1/V2): ghost expansion, strided depthwise conv, SE, ghost projection. */
    static final class GhostBottleneck extends Module {
        private final Module ghost1;
        private final Module convDw;
        private final Module bnDw;
        private final Module se;
        private final Module ghost2;
        private final Module shortcut;

        GhostBottleneck(int in, int mid, int out, int k, int stride, double seRatio, boolean attn) {
            ghost1 = register("ghost1", new GhostModule(in, mid, true, attn));
            if (stride > 1) {
                convDw = register("conv_dw", conv(mid, mid, k, stride, (k - 1) / 2, mid));
                bnDw = register("bn_dw", new BatchNorm2d(mid));
            } else {
                convDw = null;
                bnDw = null;
            }
            se = seRatio > 0 ? register("se", new SqueezeExcite(mid, seRatio)) : null;
            ghost2 = register("ghost2", new GhostModule(mid, out, false, false));
            shortcut = in == out && stride == 1 ? null : register("shortcut", shortcut(in, out, k, stride));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = ghost1.forward(x);
            if (convDw != null) {
                y = bnDw.forward(convDw.forward(y));
            }
            if (se != null) {
                y = se.forward(y);
            }
            y = ghost2.forward(y);
            return y.add(shortcut == null ? x : shortcut.forward(x));
        }
    }

    /** GhostBottleneckV3's training form: the strided depthwise conv as three branches plus a 1x1 scale. */
    static final class GhostBottleneckV3 extends Module {
        private final Module ghost1;
        private final List<Module> dw = new ArrayList<>();
        private final Module dwScale;
        private final Module se;
        private final Module ghost2;
        private final Module shortcut;

        GhostBottleneckV3(int in, int mid, int out, int k, int stride, double seRatio, boolean shortcutMode) {
            register("conv_dw", new Identity());
            register("bn_dw", new Identity());
            ghost1 = register("ghost1", new GhostModuleV3(in, mid, true, shortcutMode));
            Sequential branches = register("dw_rpr_conv", new Sequential());
            if (stride > 1) {
                for (int i = 0; i < 3; i++) {
                    ConvBnAct c = new ConvBnAct(mid, mid, k, stride, (k - 1) / 2, mid, false);
                    branches.add(c);
                    dw.add(c);
                }
                // timm builds the scale branch with stride 2 whatever the block's stride
                dwScale = register("dw_rpr_scale", new ConvBnAct(mid, mid, 1, 2, 0, mid, false));
            } else {
                dwScale = register("dw_rpr_scale", new Identity());
            }
            se = register("se", seRatio > 0 ? new SqueezeExcite(mid, seRatio) : new Identity());
            ghost2 = register("ghost2", new GhostModuleV3(mid, out, false, false));
            shortcut = register("shortcut", in == out && stride == 1 ? new Identity() : shortcut(in, out, k, stride));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = ghost1.forward(x);
            if (!dw.isEmpty()) {
                NDArray acc = dwScale.forward(y);
                for (Module c : dw) {
                    acc = acc.add(c.forward(y));
                }
                y = acc;
            }
            y = ghost2.forward(se.forward(y));
            return y.add(shortcut.forward(x));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private GlobalPool pool;
    private final Module convHead;
    private final Module act2;
    private Module classifier;

    public GhostNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        checkPool(globalPool);
        double w = cfg.width();
        int stem = Layers.makeDivisible(16 * w, 4);
        // timm takes the first level at conv_stem's output, before bn1 and act1
        addTrunkStep(register("conv_stem", conv(inChans, stem, 3, 2, 1, 1)));
        addFeatureInfo(stem, 2, "conv_stem");
        addTrunkStep(register("bn1", new BatchNorm2d(stem)));
        addTrunkStep(register("act1", Activation.relu()));
        int prev = stem;
        Sequential blocks = new Sequential();
        int layerIdx = 0;
        int netStride = 2;
        int lastExp = 0;
        for (int s = 0; s < CFGS.length; s++) {
            Sequential stage = new Sequential();
            int stride = 1;
            for (int[] row : CFGS[s]) {
                int k = row[0];
                stride = row[4];
                lastExp = row[1];
                int out = Layers.makeDivisible(row[2] * w, 4);
                int mid = Layers.makeDivisible(row[1] * w, 4);
                double se = row[3] / 100.0;
                boolean special = layerIdx > 1;
                stage.add(
                        cfg.version() == Version.V3
                                ? new GhostBottleneckV3(prev, mid, out, k, stride, se, special)
                                : new GhostBottleneck(
                                        prev, mid, out, k, stride, se, cfg.version() == Version.V2 && special));
                prev = out;
                layerIdx++;
            }
            if (stride > 1) {
                netStride *= 2;
                addFeatureInfo(prev, netStride, "blocks." + s, s + 3);
            }
            blocks.add(stage);
        }
        int out = Layers.makeDivisible(lastExp * w, 4);
        blocks.add(new Sequential(new ConvBnAct(prev, out, 1, 1, 0, 1, true)));
        register("blocks", blocks);
        addTrunkSteps(blocks.children().values());
        setNumFeatures(out);
        pool = register("global_pool", new GlobalPool(globalPool, false));
        convHead = register("conv_head", new Conv2d(out, HEAD_HIDDEN, 1, Conv2d.Options.defaults()));
        act2 = register("act2", Activation.relu());
        classifier =
                register("classifier", ClassifierHead.fc(HEAD_HIDDEN, numClasses, globalPool.isEmpty() ? "" : "avg"));
    }

    private static void checkPool(String poolType) {
        if ("catavgmax".equals(poolType)) {
            throw new IllegalArgumentException(
                    "globalPool 'catavgmax' doubles the channels into conv_head, which takes the trunk's width; "
                            + "use avg, max, avgmax or ''");
        }
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    // timm leaves GhostNet at PyTorch's default init ("FIXME init"): the layers' own defaults stand

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        x = act2.forward(convHead.forward(pool.forward(x)));
        return EfficientHead.finish(x, !pool.isIdentity(), dropRate, isTraining(), classifier, preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String poolType = GlobalPool.validate(newGlobalPool);
        checkPool(poolType);
        Module fc = ClassifierHead.fc(HEAD_HIDDEN, newNumClasses, poolType.isEmpty() ? "" : "avg");
        numClasses = newNumClasses;
        globalPool = poolType;
        pool = register("global_pool", new GlobalPool(poolType, false));
        classifier = register("classifier", fc);
    }

    /** Width of conv_head's output, the pre-logits ({@link #numFeatures()} is the trunk's, what the pool sees). */
    @Override
    public int headHiddenSize() {
        return HEAD_HIDDEN;
    }

    // ---- registrations ------------------------------------------------------------------------

    /** Registers timm's ghostnet_*, ghostnetv2_* and ghostnetv3_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "ghostnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "ghostnet_050", Version.V1, 0.5);
            add(m, "ghostnet_100", Version.V1, 1.0);
            add(m, "ghostnet_130", Version.V1, 1.3);
            add(m, "ghostnetv2_100", Version.V2, 1.0);
            add(m, "ghostnetv2_130", Version.V2, 1.3);
            add(m, "ghostnetv2_160", Version.V2, 1.6);
            add(m, "ghostnetv3_050", Version.V3, 0.5);
            add(m, "ghostnetv3_100", Version.V3, 1.0);
            add(m, "ghostnetv3_130", Version.V3, 1.3);
            add(m, "ghostnetv3_160", Version.V3, 1.6);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Version v, double width) {
            Config c = new Config(v, width);
            m.add(new ModelEntry(
                    name,
                    "ghostnet",
                    args -> new GhostNet(c, args),
                    PretrainedCfg.untrained(name, 224, "conv_stem", "classifier")));
        }
    }
}
