package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.GroupNorm;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * RegNet X, Y, V (pre-activation) and Z, as timm's {@code models/regnet.py} builds them from the RegNet design-space
 * parameters (w0, wa, wm, depth, group width). Its family also registers torchvision's RegNets ({@link TvRegNet}) as
 * {@code tv/regnet_*}.
 */
public final class RegNet extends ImageModel {

    /** How a block's shortcut changes shape when it must (timm's {@code downsample} argument). */
    public enum Downsample {
        /** a strided 1x1 conv and norm */
        CONV1X1,
        /** a 2x2 average pool, then a 1x1 conv and norm ("D" ResNet style) */
        AVG,
        /** no shortcut at all for shape-changing blocks (RegNet-Z) */
        NONE
    }

    /**
     * A RegNet variant, timm's {@code RegNetCfg}. Made by {@link #x}, {@link #y} or {@link #builder()};
     * {@link #toBuilder()} derives variants by field name.
     *
     * @param depth blocks in the whole network
     * @param w0 initial width
     * @param wa width slope
     * @param wm width multiplier (the quantization step in log space)
     * @param groupSize channels per group of the 3x3 conv
     * @param bottleRatio bottleneck width ratio
     * @param seRatio SE reduction relative to the block's input width (0: no SE)
     * @param groupMinRatio torchvision's width rounding when non-zero (make_divisible with this limit)
     * @param stemWidth stem channels
     * @param downsample shortcut kind for shape-changing blocks
     * @param linearOut no activation after the residual sum
     * @param preact pre-activation blocks (RegNet-V)
     * @param numFeatures width of a final 1x1 conv before the head (0: none)
     * @param act activation
     * @param groupNormSize channels per group of GroupNorm instead of BatchNorm (0: BatchNorm)
     */
    public record Config(
            int depth,
            int w0,
            double wa,
            double wm,
            int groupSize,
            double bottleRatio,
            double seRatio,
            double groupMinRatio,
            int stemWidth,
            Downsample downsample,
            boolean linearOut,
            boolean preact,
            int numFeatures,
            Activation.Kind act,
            int groupNormSize) {

        /** A RegNet-X: no SE, bottleneck ratio 1, BatchNorm and ReLU. */
        public static Config x(int w0, double wa, double wm, int groupSize, int depth) {
            return builder()
                    .w0(w0)
                    .wa(wa)
                    .wm(wm)
                    .groupSize(groupSize)
                    .depth(depth)
                    .build();
        }

        /** A RegNet-Y: a RegNet-X with SE of ratio 0.25 of the block's input width. */
        public static Config y(int w0, double wa, double wm, int groupSize, int depth) {
            return x(w0, wa, wm, groupSize, depth).withSe(0.25);
        }

        /** A builder with timm's defaults (RegNet-X); the design-space parameters are required. */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields, to derive another one. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        public Config withSe(double ratio) {
            return toBuilder().seRatio(ratio).build();
        }

        /** torchvision's rounding of bottleneck widths to the group width (timm's {@code *_tv}). */
        public Config tvRounding() {
            return toBuilder().groupMinRatio(0.9).build();
        }

        public Config withAct(Activation.Kind newAct) {
            return toBuilder().act(newAct).build();
        }

        public Config withGroupNorm(int channelsPerGroup) {
            return toBuilder().groupNormSize(channelsPerGroup).build();
        }

        /** Pre-activation blocks (RegNet-V). */
        public Config withPreact() {
            return toBuilder().preact(true).build();
        }

        public Config withDownsample(Downsample d) {
            return toBuilder().downsample(d).build();
        }

        /** The RegNet-Z head and blocks: bottleneck expansion, linear output, optional final conv. */
        public Config z(double newBottleRatio, int newNumFeatures) {
            return toBuilder()
                    .bottleRatio(newBottleRatio)
                    .downsample(Downsample.NONE)
                    .linearOut(true)
                    .numFeatures(newNumFeatures)
                    .build();
        }

        /** Builds a {@link Config} by field name; {@link #build()} checks it. */
        public static final class Builder {
            private int depth;
            private int w0;
            private double wa;
            private double wm;
            private int groupSize;
            private double bottleRatio = 1.0;
            private double seRatio;
            private double groupMinRatio;
            private int stemWidth = 32;
            private Downsample downsample = Downsample.CONV1X1;
            private boolean linearOut;
            private boolean preact;
            private int numFeatures;
            private Activation.Kind act = Activation.Kind.RELU;
            private int groupNormSize;

            private Builder() {}

            private Builder(Config c) {
                depth = c.depth();
                w0 = c.w0();
                wa = c.wa();
                wm = c.wm();
                groupSize = c.groupSize();
                bottleRatio = c.bottleRatio();
                seRatio = c.seRatio();
                groupMinRatio = c.groupMinRatio();
                stemWidth = c.stemWidth();
                downsample = c.downsample();
                linearOut = c.linearOut();
                preact = c.preact();
                numFeatures = c.numFeatures();
                act = c.act();
                groupNormSize = c.groupNormSize();
            }

            /** Blocks in the whole network (required). */
            public Builder depth(int value) {
                depth = value;
                return this;
            }

            /** Initial width (required, a multiple of 8). */
            public Builder w0(int value) {
                w0 = value;
                return this;
            }

            /** Width slope (required). */
            public Builder wa(double value) {
                wa = value;
                return this;
            }

            /** Width multiplier, above 1 (required). */
            public Builder wm(double value) {
                wm = value;
                return this;
            }

            /** Channels per group of the 3x3 conv (required). */
            public Builder groupSize(int value) {
                groupSize = value;
                return this;
            }

            /** Bottleneck width ratio (default 1). */
            public Builder bottleRatio(double value) {
                bottleRatio = value;
                return this;
            }

            /** SE reduction relative to the block's input width (default 0: no SE). */
            public Builder seRatio(double value) {
                seRatio = value;
                return this;
            }

            /** torchvision's width rounding when non-zero (default 0). */
            public Builder groupMinRatio(double value) {
                groupMinRatio = value;
                return this;
            }

            /** Stem channels (default 32). */
            public Builder stemWidth(int value) {
                stemWidth = value;
                return this;
            }

            /** Shortcut kind for shape-changing blocks (default a strided 1x1 conv). */
            public Builder downsample(Downsample value) {
                downsample = value;
                return this;
            }

            /** No activation after the residual sum. */
            public Builder linearOut(boolean value) {
                linearOut = value;
                return this;
            }

            /** Pre-activation blocks (RegNet-V). */
            public Builder preact(boolean value) {
                preact = value;
                return this;
            }

            /** Width of a final 1x1 conv before the head (default 0: none). */
            public Builder numFeatures(int value) {
                numFeatures = value;
                return this;
            }

            /** The activation (default ReLU). */
            public Builder act(Activation.Kind value) {
                act = value;
                return this;
            }

            /** Channels per group of GroupNorm instead of BatchNorm (default 0: BatchNorm). */
            public Builder groupNormSize(int value) {
                groupNormSize = value;
                return this;
            }

            /** The config, failing on missing or invalid design-space parameters. */
            public Config build() {
                if (depth <= 0 || groupSize <= 0 || wa < 0 || w0 <= 0 || wm <= 1 || w0 % 8 != 0) {
                    throw new IllegalArgumentException("invalid RegNet parameters depth=" + depth + " groupSize="
                            + groupSize + " w0=" + w0 + " wa=" + wa + " wm=" + wm
                            + " (needed: depth, groupSize, w0 > 0, w0 a multiple of 8, wa >= 0, wm > 1)");
                }
                return new Config(
                        depth,
                        w0,
                        wa,
                        wm,
                        groupSize,
                        bottleRatio,
                        seRatio,
                        groupMinRatio,
                        stemWidth,
                        downsample,
                        linearOut,
                        preact,
                        numFeatures,
                        act,
                        groupNormSize);
            }
        }
    }

    /** One stage: its output width, stride, depth, group size and per-block drop-path rates. */
    record StageArgs(int outChs, int stride, int depth, double bottleRatio, int groupSize, double[] dropPath) {}

    /**
     * timm's generate_regnet and adjust_widths_groups_comp: per-block widths from the linear parameterization,
     * quantized in log space, grouped into stages, then made divisible by the group width. Torch computes the widths in
     * float32, so this does too.
     */
    static List<StageArgs> stageArgs(Config cfg, double dropPathRate) {
        if (cfg.wa() < 0 || cfg.w0() <= 0 || cfg.wm() <= 1 || cfg.w0() % 8 != 0) {
            throw new IllegalArgumentException(
                    "invalid RegNet parameters w0=" + cfg.w0() + " wa=" + cfg.wa() + " wm=" + cfg.wm());
        }
        final int quant = 8;
        float w0 = cfg.w0();
        float wa = (float) cfg.wa();
        float logWm = (float) Math.log(cfg.wm());
        float wm = (float) cfg.wm();
        TreeMap<Integer, Integer> counts = new TreeMap<>();
        for (int i = 0; i < cfg.depth(); i++) {
            float cont = (float) i * wa + w0;
            float exp = (float) Math.rint((float) Math.log(cont / w0) / logWm);
            float pow = (float) Math.pow(wm, exp);
            int width = (int) ((float) Math.rint((w0 * pow) / quant) * quant);
            counts.merge(width, 1, Integer::sum);
        }
        if (counts.size() != 4) {
            throw new IllegalArgumentException(
                    "RegNet parameters give " + counts.size() + " stages, not 4: widths " + counts);
        }
        List<Integer> widths = new ArrayList<>(counts.keySet());
        List<Integer> depths = new ArrayList<>(counts.values());
        double[][] dprs = DropPath.schedule(dropPathRate, depths);
        List<StageArgs> out = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            double b = cfg.bottleRatio();
            int wBot = (int) (widths.get(s) * b);
            int g = Math.min(cfg.groupSize(), wBot);
            wBot = cfg.groupMinRatio() != 0
                    ? Layers.makeDivisible(wBot, g, cfg.groupMinRatio())
                    : (int) (Math.rint((double) wBot / g) * g);
            out.add(new StageArgs((int) (wBot / b), 2, depths.get(s), b, g, dprs[s]));
        }
        return out;
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** Norm (BatchNorm or GroupNorm) as timm's norm-act layers name it, with the activation applied after. */
    private static Module makeNorm(Config cfg, int channels) {
        return cfg.groupNormSize() > 0
                ? new GroupNorm(channels / cfg.groupNormSize(), channels)
                : new BatchNorm2d(channels);
    }

    private static Conv2d conv(int in, int out, int k, int stride, int groups) {
        return Conv2d.symmetric(in, out, k, stride, 1, groups, false);
    }

    /** timm's ConvNormAct: {@code conv}, {@code bn} (the norm, with its activation applied after). */
    static final class ConvNormAct extends Module {
        private final Module conv;
        private final Module bn;
        private final Activation.Kind act;

        ConvNormAct(Config cfg, int in, int out, int k, int stride, int groups, boolean applyAct) {
            conv = register("conv", conv(in, out, k, stride, groups));
            bn = register("bn", makeNorm(cfg, out));
            act = applyAct ? cfg.act() : Activation.Kind.IDENTITY;
        }

        Module norm() {
            return bn;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return Activation.apply(act, bn.forward(conv.forward(x)));
        }
    }

    private static Module shortcut(Config cfg, int in, int out, int stride, boolean preact) {
        if (in == out && stride == 1) {
            return new Identity();
        }
        return switch (cfg.downsample()) {
            case NONE -> null;
            case CONV1X1 -> preact ? conv(in, out, 1, stride, 1) : new ConvNormAct(cfg, in, out, 1, stride, 1, false);
            case AVG ->
                new Sequential(
                        stride > 1 ? Pool2d.avg(2, stride, 0, true, false) : new Identity(),
                        preact ? conv(in, out, 1, 1, 1) : new ConvNormAct(cfg, in, out, 1, 1, 1, false));
        };
    }

    private static Module se(Config cfg, int in, int bottleneck) {
        if (cfg.seRatio() == 0) {
            return new Identity();
        }
        int rd = (int) Math.rint(in * cfg.seRatio());
        return new SqueezeExcite(bottleneck, rd, cfg.act(), Activation.Kind.SIGMOID);
    }

    /** timm's RegNet Bottleneck: a ResNet bottleneck with grouped 3x3 conv and SE after it. */
    static final class Bottleneck extends Module {
        private final ConvNormAct conv1;
        private final ConvNormAct conv2;
        private final Module se;
        private final ConvNormAct conv3;
        private final Activation.Kind act3;
        private final Module downsample;
        private final Module dropPath;

        Bottleneck(Config cfg, int in, int out, int stride, double bottleRatio, int groupSize, double dpr) {
            int b = (int) Math.rint(out * bottleRatio);
            int groups = b / groupSize;
            conv1 = register("conv1", new ConvNormAct(cfg, in, b, 1, 1, 1, true));
            conv2 = register("conv2", new ConvNormAct(cfg, b, b, 3, stride, groups, true));
            se = register("se", se(cfg, in, b));
            conv3 = register("conv3", new ConvNormAct(cfg, b, out, 1, 1, 1, false));
            act3 = cfg.linearOut() ? Activation.Kind.IDENTITY : cfg.act();
            register("act3", new Activation(act3));
            Module sc = shortcut(cfg, in, out, stride, false);
            downsample = sc == null ? null : register("downsample", sc);
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        Module lastNorm() {
            return conv3.norm();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = conv3.forward(se.forward(conv2.forward(conv1.forward(x))));
            if (downsample != null) {
                x = dropPath.forward(x).add(downsample.forward(shortcut));
            }
            return Activation.apply(act3, x);
        }
    }

    /** timm's PreBottleneck (RegNet-V): norm-act before each conv, the shortcut taken after the first norm. */
    static final class PreBottleneck extends Module {
        private final Module norm1;
        private final Module conv1;
        private final Module norm2;
        private final Module conv2;
        private final Module se;
        private final Module norm3;
        private final Module conv3;
        private final Module downsample;
        private final Module dropPath;
        private final Activation.Kind act;

        PreBottleneck(Config cfg, int in, int out, int stride, double bottleRatio, int groupSize, double dpr) {
            int b = (int) Math.rint(out * bottleRatio);
            int groups = b / groupSize;
            act = cfg.act();
            // timm's BatchNormAct2d is a BatchNorm2d (its keys are the norm's) that applies the activation
            norm1 = register("norm1", makeNorm(cfg, in));
            conv1 = register("conv1", conv(in, b, 1, 1, 1));
            norm2 = register("norm2", makeNorm(cfg, b));
            conv2 = register("conv2", conv(b, b, 3, stride, groups));
            se = register("se", se(cfg, in, b));
            norm3 = register("norm3", makeNorm(cfg, b));
            conv3 = register("conv3", conv(b, out, 1, 1, 1));
            Module sc = shortcut(cfg, in, out, stride, true);
            downsample = sc == null ? null : register("downsample", sc);
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Activation.apply(act, norm1.forward(x));
            NDArray shortcut = x;
            x = conv2.forward(Activation.apply(act, norm2.forward(conv1.forward(x))));
            x = conv3.forward(Activation.apply(act, norm3.forward(se.forward(x))));
            if (downsample != null) {
                x = dropPath.forward(x).add(downsample.forward(shortcut));
            }
            return x;
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module finalConv;

    public RegNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int sw = cfg.stemWidth();
        addTrunkStep(register(
                "stem", cfg.preact() ? conv(inChans, sw, 3, 2, 1) : new ConvNormAct(cfg, inChans, sw, 3, 2, 1, true)));
        addFeatureInfo(sw, 2, "stem");

        int prev = sw;
        int stride = 2;
        List<StageArgs> sa = stageArgs(cfg, args.dropPathRate());
        for (int s = 0; s < sa.size(); s++) {
            StageArgs a = sa.get(s);
            NamedSequential stage = new NamedSequential();
            for (int i = 0; i < a.depth(); i++) {
                int in = i == 0 ? prev : a.outChs();
                int st = i == 0 ? a.stride() : 1;
                double dpr = a.dropPath()[i];
                stage.add(
                        "b" + (i + 1),
                        cfg.preact()
                                ? new PreBottleneck(cfg, in, a.outChs(), st, a.bottleRatio(), a.groupSize(), dpr)
                                : new Bottleneck(cfg, in, a.outChs(), st, a.bottleRatio(), a.groupSize(), dpr));
            }
            prev = a.outChs();
            stride *= a.stride();
            addTrunkStep(register("s" + (s + 1), stage));
            addFeatureInfo(prev, stride, "s" + (s + 1));
        }
        if (cfg.numFeatures() > 0) {
            finalConv = register("final_conv", new ConvNormAct(cfg, prev, cfg.numFeatures(), 1, 1, 1, true));
            prev = cfg.numFeatures();
        } else {
            boolean finalAct = cfg.linearOut() || cfg.preact();
            finalConv = register("final_conv", finalAct ? new Activation(cfg.act()) : new Identity());
        }
        registerNestedClassifierHead("head", prev);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        initConvLinear(this, random, true);
        if (cfg.numFeatures() == 0 && !cfg.linearOut() && zeroInitLast) {
            // zero_init_last, which timm turns off only for the RegNet-Z definitions
            for (Module m : namedModules().values()) {
                if (m instanceof Bottleneck b) {
                    Init.constant(b.lastNorm().directParameters().get("weight").getArray(), 0f);
                }
            }
        }
    }

    /**
     * timm's and torchvision's RegNet init: convs normal with std sqrt(2 / fan_out), linear layers normal 0.01 and zero
     * biases. timm divides the fan-out by the groups and zeroes conv biases; torchvision does neither.
     */
    static void initConvLinear(Module root, SplittableRandom random, boolean timm) {
        for (Module m : root.namedModules().values()) {
            if (m instanceof Conv2d c) {
                long[] k = c.kernelSize();
                long fanOut = k[0] * k[1] * c.outChannels() / (timm ? c.groups() : 1);
                Init.normal(c.weight().getArray(), Math.sqrt(2.0 / fanOut), random);
                if (c.bias() != null && timm) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            } else if (m instanceof Linear l) {
                Init.normal(l.weight().getArray(), 0.01, random);
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            }
        }
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return finalConv.forward(forwardTrunk(x));
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /**
     * Registers every RegNet name of timm's regnet.py, and torchvision's RegNets ({@link TvRegNet}) under {@code tv/}.
     */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "regnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Config x004 = Config.x(24, 24.48, 2.54, 16, 22);
            Config y008 = Config.y(56, 38.84, 2.4, 16, 14);
            Config y080 = Config.y(192, 76.82, 2.19, 56, 17);
            Config y040 = Config.y(96, 31.41, 2.24, 64, 22);
            Config y064 = Config.y(112, 33.22, 2.27, 72, 25);
            Config silu = y040.withAct(Activation.Kind.SILU);
            add(m, "regnetx_002", Config.x(24, 36.44, 2.49, 8, 13));
            add(m, "regnetx_004", x004);
            add(m, "regnetx_004_tv", x004.tvRounding());
            add(m, "regnetx_006", Config.x(48, 36.97, 2.24, 24, 16));
            add(m, "regnetx_008", Config.x(56, 35.73, 2.28, 16, 16));
            add(m, "regnetx_016", Config.x(80, 34.01, 2.25, 24, 18));
            add(m, "regnetx_032", Config.x(88, 26.31, 2.25, 48, 25));
            add(m, "regnetx_040", Config.x(96, 38.65, 2.43, 40, 23));
            add(m, "regnetx_064", Config.x(184, 60.83, 2.07, 56, 17));
            add(m, "regnetx_080", Config.x(80, 49.56, 2.88, 120, 23));
            add(m, "regnetx_120", Config.x(168, 73.36, 2.37, 112, 19));
            add(m, "regnetx_160", Config.x(216, 55.59, 2.1, 128, 22));
            add(m, "regnetx_320", Config.x(320, 69.86, 2.0, 168, 23));
            add(m, "regnety_002", Config.y(24, 36.44, 2.49, 8, 13));
            add(m, "regnety_004", Config.y(48, 27.89, 2.09, 8, 16));
            add(m, "regnety_006", Config.y(48, 32.54, 2.32, 16, 15));
            add(m, "regnety_008", y008);
            add(m, "regnety_008_tv", y008.tvRounding());
            add(m, "regnety_016", Config.y(48, 20.71, 2.65, 24, 27));
            add(m, "regnety_032", Config.y(80, 42.63, 2.66, 24, 21));
            add(m, "regnety_040", y040);
            add(m, "regnety_064", y064);
            add(m, "regnety_080", y080);
            add(m, "regnety_080_tv", y080.tvRounding());
            add(m, "regnety_120", Config.y(168, 73.36, 2.37, 112, 19));
            add(m, "regnety_160", Config.y(200, 106.23, 2.48, 112, 18));
            add(m, "regnety_320", Config.y(232, 115.89, 2.53, 232, 20));
            add(m, "regnety_640", Config.y(352, 147.48, 2.4, 328, 20), 384);
            add(m, "regnety_1280", Config.y(456, 160.83, 2.52, 264, 27), 384);
            add(m, "regnety_2560", Config.y(640, 230.83, 2.53, 373, 27), 384);
            add(m, "regnety_040_sgn", silu.withGroupNorm(16));
            add(m, "regnetv_040", silu.withPreact(), 224, "stem");
            add(
                    m,
                    "regnetv_064",
                    y064.withAct(Activation.Kind.SILU).withPreact().withDownsample(Downsample.AVG),
                    224,
                    "stem");
            add(
                    m,
                    "regnetz_005",
                    Config.y(16, 10.7, 2.51, 4, 21)
                            .withAct(Activation.Kind.SILU)
                            .z(4.0, 1024));
            add(
                    m,
                    "regnetz_040",
                    Config.y(48, 14.5, 2.226, 8, 28)
                            .withAct(Activation.Kind.SILU)
                            .z(4.0, 0),
                    256);
            add(
                    m,
                    "regnetz_040_h",
                    Config.y(48, 14.5, 2.226, 8, 28)
                            .withAct(Activation.Kind.SILU)
                            .z(4.0, 1536),
                    256);

            // torchvision's RegNets: its own width rounding and module names
            addTv(m, "tv/regnet_x_400mf", x004);
            addTv(m, "tv/regnet_x_800mf", Config.x(56, 35.73, 2.28, 16, 16));
            addTv(m, "tv/regnet_x_1_6gf", Config.x(80, 34.01, 2.25, 24, 18));
            addTv(m, "tv/regnet_x_3_2gf", Config.x(88, 26.31, 2.25, 48, 25));
            addTv(m, "tv/regnet_x_8gf", Config.x(80, 49.56, 2.88, 120, 23));
            addTv(m, "tv/regnet_x_16gf", Config.x(216, 55.59, 2.1, 128, 22));
            addTv(m, "tv/regnet_x_32gf", Config.x(320, 69.86, 2.0, 168, 23));
            addTv(m, "tv/regnet_y_400mf", Config.y(48, 27.89, 2.09, 8, 16));
            addTv(m, "tv/regnet_y_800mf", y008);
            addTv(m, "tv/regnet_y_1_6gf", Config.y(48, 20.71, 2.65, 24, 27));
            addTv(m, "tv/regnet_y_3_2gf", Config.y(80, 42.63, 2.66, 24, 21));
            addTv(m, "tv/regnet_y_8gf", y080);
            addTv(m, "tv/regnet_y_16gf", Config.y(200, 106.23, 2.48, 112, 18));
            addTv(m, "tv/regnet_y_32gf", Config.y(232, 115.89, 2.53, 232, 20));
            addTv(m, "tv/regnet_y_128gf", Config.y(456, 160.83, 2.52, 264, 27));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            add(m, name, c, 224);
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            add(m, name, c, size, "stem.conv");
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size, String firstConv) {
            m.add(new ModelEntry(
                    name,
                    "regnet",
                    args -> new RegNet(c, args),
                    PretrainedCfg.untrained(name, size, firstConv, "head.fc")));
        }

        private static void addTv(List<ModelEntry> m, String name, Config c) {
            Config tv = c.tvRounding();
            m.add(new ModelEntry(
                    name,
                    "torchvision",
                    args -> new TvRegNet(tv, args),
                    PretrainedCfg.untrained(name, 224, "stem.0", "fc")));
        }
    }
}
