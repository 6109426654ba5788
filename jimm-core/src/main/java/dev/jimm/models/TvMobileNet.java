package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNormActivation;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * torchvision's mobile networks with torchvision's own state_dict keys: MobileNetV2 ({@code mobilenetv2.py}),
 * MobileNetV3 small/large ({@code mobilenetv3.py}), EfficientNet B0–B7 and V2 S/M/L ({@code efficientnet.py}) and
 * MNASNet ({@code mnasnet.py}).
 *
 * <p>All are a trunk ({@code features}, or {@code layers} for MNASNet) followed by a global average pool and a
 * {@code classifier} Sequential. {@link #forwardFeatures} is the trunk's output; {@link #forwardHead} with
 * {@code preLogits} is everything before the last Linear. Pooling and the classifier follow timm's API
 * ({@code numClasses} 0 puts an identity at the classifier's place, {@code globalPool ""} keeps the maps).
 * MobileNetV3's hidden head Linear ({@code classifier.0}) needs pooled features, so with {@code globalPool ""} the head
 * returns the maps untouched.
 *
 * <p>Feature levels ({@link #featureInfo}): the last trunk module at each reduction (2, 4, 8, 16, 32), so the deepest
 * level is the trunk's output (its final 1x1 conv), as torchvision's own detection backbones cut these nets before each
 * strided block.
 *
 * <p>Dropout before the classifier comes from {@link ModelArgs} as for timm models, default 0 (torchvision's training
 * default is {@link Config#tvDropout()}); the EfficientNets' stochastic depth is the drop-path rate, unset
 * torchvision's default 0.2.
 */
public final class TvMobileNet extends ImageModel {

    /** The torchvision architecture a config builds. */
    public enum Arch {
        MOBILENET_V2,
        MOBILENET_V3_LARGE,
        MOBILENET_V3_SMALL,
        EFFICIENTNET_B,
        EFFICIENTNET_V2_S,
        EFFICIENTNET_V2_M,
        EFFICIENTNET_V2_L,
        MNASNET
    }

    /**
     * A torchvision mobile net.
     *
     * @param arch the architecture
     * @param widthMult channel multiplier (EfficientNet B*, MNASNet alpha, MobileNetV2 width_mult)
     * @param depthMult block-count multiplier (EfficientNet B*)
     * @param bnEps BatchNorm eps
     * @param bnMomentum BatchNorm momentum (PyTorch convention)
     * @param tvDropout torchvision's default classifier dropout, for reference
     */
    public record Config(
            Arch arch, double widthMult, double depthMult, float bnEps, float bnMomentum, double tvDropout) {
        public Config {
            if (widthMult <= 0 || depthMult <= 0) {
                throw new IllegalArgumentException(
                        "widthMult " + widthMult + " and depthMult " + depthMult + " must be positive");
            }
        }

        boolean isV3() {
            return arch == Arch.MOBILENET_V3_LARGE || arch == Arch.MOBILENET_V3_SMALL;
        }

        boolean isEfficientNet() {
            return arch.name().startsWith("EFFICIENTNET");
        }

        String trunkName() {
            return arch == Arch.MNASNET ? "layers" : "features";
        }

        /** The state_dict name of the final classifier Linear. */
        String classifierName() {
            return isV3() ? "classifier.3" : "classifier.1";
        }

        String firstConvName() {
            return arch == Arch.MNASNET ? "layers.0" : "features.0.0";
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /**
     * Activations computed in the order of torch's CPU kernels, so that rounding matches them: SiLU as {@code x / (1 +
     * exp(-x))}, Hardswish as {@code x * relu6(x + 3) / 6}.
     */
    static final class TorchAct extends Module {
        private final Activation.Kind kind;

        TorchAct(Activation.Kind kind) {
            this.kind = kind;
        }

        static NDArray apply(Activation.Kind kind, NDArray x) {
            return switch (kind) {
                case SILU -> x.div(x.neg().exp().add(1f));
                case HARD_SWISH -> Scalars.div(x.mul(x.add(3f).clip(0f, 6f)), 6);
                default -> Activation.apply(kind, x);
            };
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return apply(kind, x);
        }

        @Override
        protected String extraRepr() {
            return kind == Activation.Kind.SILU
                    ? "SiLU()"
                    : kind == Activation.Kind.HARD_SWISH ? "Hardswish()" : kind.name();
        }
    }

    /** torchvision's Conv2dNormActivation with a torch-ordered activation (null for none). */
    private static ConvNormActivation cna(
            int in, int out, int k, int stride, int groups, Module norm, Activation.Kind act) {
        return ConvNormActivation.withActivation(
                in, out, k, stride, groups, norm, act == null ? null : new TorchAct(act));
    }

    /** torchvision's SqueezeExcitation: adaptive average pool, {@code fc1}, activation, {@code fc2}, gate. */
    static final class SqueezeExcitation extends Module {
        private final Module fc1;
        private final Module fc2;
        private final Activation.Kind act;
        private final Activation.Kind gate;

        SqueezeExcitation(int channels, int squeeze, Activation.Kind act, Activation.Kind gate) {
            register("avgpool", new Identity());
            fc1 = register("fc1", new Conv2d(channels, squeeze, 1, Conv2d.Options.defaults()));
            fc2 = register("fc2", new Conv2d(squeeze, channels, 1, Conv2d.Options.defaults()));
            this.act = act;
            this.gate = gate;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            // adaptive_avg_pool2d(x, 1) as a mean over H and W, kept 4-D: its gradient keeps the maps' layout
            NDArray s = Layers.spatialMean(x, true);
            s = fc2.forward(TorchAct.apply(act, fc1.forward(s)));
            return x.mul(TorchAct.apply(gate, s));
        }
    }

    private static BatchNorm2d bn(Config cfg, int c) {
        return new BatchNorm2d(c, cfg.bnEps(), cfg.bnMomentum());
    }

    private static int divisible8(double v) {
        return Layers.makeDivisible(v, 8, 0.9);
    }

    /**
     * What torchvision's residual blocks share: their layers under one name, added to the input when the block keeps
     * its shape (after stochastic depth where there is one).
     */
    abstract static class ResidualLayers extends Module {
        private final String name;
        private final boolean residual;
        private Module layers;
        private Module stochasticDepth;

        ResidualLayers(String name, boolean residual) {
            this.name = name;
            this.residual = residual;
        }

        /** Registers the block's layers under its name. */
        void setLayers(Module m) {
            layers = register(name, m);
        }

        /** Registers torchvision's {@code stochastic_depth} on the residual branch. */
        void setStochasticDepth(Module m) {
            stochasticDepth = register("stochastic_depth", m);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = layers.forward(x);
            if (!residual) {
                return y;
            }
            return (stochasticDepth == null ? y : stochasticDepth.forward(y)).add(x);
        }
    }

    /** MobileNetV2's inverted residual: keys {@code conv.N}, the last two a bare conv and norm. */
    static final class InvertedResidualV2 extends ResidualLayers {
        InvertedResidualV2(Config cfg, int inp, int oup, int stride, int expandRatio) {
            super("conv", stride == 1 && inp == oup);
            int hidden = inp * expandRatio;
            Sequential layers = new Sequential();
            if (expandRatio != 1) {
                layers.add(cna(inp, hidden, 1, 1, 1, bn(cfg, hidden), Activation.Kind.RELU6));
            }
            layers.add(cna(hidden, hidden, 3, stride, hidden, bn(cfg, hidden), Activation.Kind.RELU6));
            layers.add(new Conv2d(hidden, oup, 1, Conv2d.Options.defaults().bias(false)));
            layers.add(bn(cfg, oup));
            setLayers(layers);
        }
    }

    /** MobileNetV3's inverted residual: {@code block} of expand, depthwise, SE, project. */
    static final class InvertedResidualV3 extends ResidualLayers {
        InvertedResidualV3(Config cfg, int in, int kernel, int expanded, int out, boolean se, boolean hs, int stride) {
            super("block", stride == 1 && in == out);
            Activation.Kind act = hs ? Activation.Kind.HARD_SWISH : Activation.Kind.RELU;
            Sequential layers = new Sequential();
            if (expanded != in) {
                layers.add(cna(in, expanded, 1, 1, 1, bn(cfg, expanded), act));
            }
            layers.add(cna(expanded, expanded, kernel, stride, expanded, bn(cfg, expanded), act));
            if (se) {
                layers.add(new SqueezeExcitation(
                        expanded, divisible8(expanded / 4), Activation.Kind.RELU, Activation.Kind.HARD_SIGMOID));
            }
            layers.add(cna(expanded, out, 1, 1, 1, bn(cfg, out), null));
            setLayers(layers);
        }
    }

    /** EfficientNet's MBConv (expand, depthwise, SE, project) and V2's FusedMBConv. */
    static final class MBConv extends ResidualLayers {
        MBConv(Config cfg, boolean fused, double expandRatio, int kernel, int stride, int in, int out, double sdProb) {
            super("block", stride == 1 && in == out);
            Activation.Kind silu = Activation.Kind.SILU;
            int expanded = divisible8(in * expandRatio);
            Sequential layers = new Sequential();
            if (fused) {
                if (expanded != in) {
                    layers.add(cna(in, expanded, kernel, stride, 1, bn(cfg, expanded), silu));
                    layers.add(cna(expanded, out, 1, 1, 1, bn(cfg, out), null));
                } else {
                    layers.add(cna(in, out, kernel, stride, 1, bn(cfg, out), silu));
                }
            } else {
                if (expanded != in) {
                    layers.add(cna(in, expanded, 1, 1, 1, bn(cfg, expanded), silu));
                }
                layers.add(cna(expanded, expanded, kernel, stride, expanded, bn(cfg, expanded), silu));
                layers.add(new SqueezeExcitation(expanded, Math.max(1, in / 4), silu, Activation.Kind.SIGMOID));
                layers.add(cna(expanded, out, 1, 1, 1, bn(cfg, out), null));
            }
            setLayers(layers);
            // torchvision's StochasticDepth(p, "row"): per-sample drop, the kept rows scaled by 1/(1-p)
            setStochasticDepth(new DropPath((float) sdProb));
        }
    }

    /** MNASNet's inverted residual: {@code layers} of pointwise, depthwise, linear pointwise. */
    static final class MnasInvertedResidual extends ResidualLayers {
        MnasInvertedResidual(Config cfg, int in, int out, int kernel, int stride, int expansion) {
            super("layers", in == out && stride == 1);
            int mid = in * expansion;
            Conv2d.Options noBias = Conv2d.Options.defaults().bias(false);
            setLayers(new Sequential(
                    new Conv2d(in, mid, 1, noBias),
                    bn(cfg, mid),
                    Activation.relu(),
                    new Conv2d(
                            mid,
                            mid,
                            kernel,
                            noBias.padding(kernel / 2).stride(stride).groups(mid)),
                    bn(cfg, mid),
                    Activation.relu(),
                    new Conv2d(mid, out, 1, noBias),
                    bn(cfg, out)));
        }
    }

    /**
     * The classifier Sequential: {@code Dropout, Linear} or, for MobileNetV3, {@code Linear, Hardswish, Dropout,
     * Linear}. The last one is replaceable.
     */
    static final class Classifier extends Module {
        private final List<Module> body = new ArrayList<>();
        private final String lastName;
        private Module last;

        Classifier(List<Module> body, Module last) {
            for (int i = 0; i < body.size(); i++) {
                this.body.add(register(Integer.toString(i), body.get(i)));
            }
            lastName = Integer.toString(body.size());
            this.last = register(lastName, last);
        }

        NDArray preLogits(NDArray x) {
            for (Module m : body) {
                x = m.forward(x);
            }
            return x;
        }

        void replaceLast(Module m) {
            last = register(lastName, m);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return last.forward(preLogits(x));
        }

        @Override
        protected String extraRepr() {
            return "Sequential";
        }
    }

    // ---- the trunk ----------------------------------------------------------------------------

    /** Builds the trunk while recording each module's output channels and reduction. */
    private static final class Trunk {
        final Sequential seq = new Sequential();
        final List<Integer> channels = new ArrayList<>();
        final List<Integer> reductions = new ArrayList<>();
        int reduction = 1;
        int outChannels;

        void add(Module m, int out, int stride) {
            seq.add(m);
            reduction *= stride;
            outChannels = out;
            channels.add(out);
            reductions.add(reduction);
        }
    }

    private static Trunk mobileNetV2(Config cfg, int inChans) {
        Trunk t = new Trunk();
        int[][] setting = {
            // t, c, n, s
            {1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}
        };
        int input = divisible8(32 * cfg.widthMult());
        int last = divisible8(1280 * Math.max(1.0, cfg.widthMult()));
        t.add(cna(inChans, input, 3, 2, 1, bn(cfg, input), Activation.Kind.RELU6), input, 2);
        for (int[] s : setting) {
            int out = divisible8(s[1] * cfg.widthMult());
            for (int i = 0; i < s[2]; i++) {
                int stride = i == 0 ? s[3] : 1;
                t.add(new InvertedResidualV2(cfg, input, out, stride, s[0]), out, stride);
                input = out;
            }
        }
        t.add(cna(input, last, 1, 1, 1, bn(cfg, last), Activation.Kind.RELU6), last, 1);
        return t;
    }

    /** Rows of torchvision's bneck_conf: in, kernel, expanded, out, SE, hardswish, stride. */
    private static final int[][] V3_LARGE = {
        {16, 3, 16, 16, 0, 0, 1}, {16, 3, 64, 24, 0, 0, 2}, {24, 3, 72, 24, 0, 0, 1},
        {24, 5, 72, 40, 1, 0, 2}, {40, 5, 120, 40, 1, 0, 1}, {40, 5, 120, 40, 1, 0, 1},
        {40, 3, 240, 80, 0, 1, 2}, {80, 3, 200, 80, 0, 1, 1}, {80, 3, 184, 80, 0, 1, 1},
        {80, 3, 184, 80, 0, 1, 1}, {80, 3, 480, 112, 1, 1, 1}, {112, 3, 672, 112, 1, 1, 1},
        {112, 5, 672, 160, 1, 1, 2}, {160, 5, 960, 160, 1, 1, 1}, {160, 5, 960, 160, 1, 1, 1},
    };

    private static final int[][] V3_SMALL = {
        {16, 3, 16, 16, 1, 0, 2}, {16, 3, 72, 24, 0, 0, 2}, {24, 3, 88, 24, 0, 0, 1},
        {24, 5, 96, 40, 1, 1, 2}, {40, 5, 240, 40, 1, 1, 1}, {40, 5, 240, 40, 1, 1, 1},
        {40, 5, 120, 48, 1, 1, 1}, {48, 5, 144, 48, 1, 1, 1}, {48, 5, 288, 96, 1, 1, 2},
        {96, 5, 576, 96, 1, 1, 1}, {96, 5, 576, 96, 1, 1, 1},
    };

    private static Trunk mobileNetV3(Config cfg, int inChans) {
        Trunk t = new Trunk();
        int[][] setting = cfg.arch() == Arch.MOBILENET_V3_LARGE ? V3_LARGE : V3_SMALL;
        double w = cfg.widthMult();
        int first = divisible8(setting[0][0] * w);
        t.add(cna(inChans, first, 3, 2, 1, bn(cfg, first), Activation.Kind.HARD_SWISH), first, 2);
        for (int[] s : setting) {
            int in = divisible8(s[0] * w);
            int exp = divisible8(s[2] * w);
            int out = divisible8(s[3] * w);
            t.add(new InvertedResidualV3(cfg, in, s[1], exp, out, s[4] == 1, s[5] == 1, s[6]), out, s[6]);
        }
        int lastIn = t.outChannels;
        int lastOut = 6 * lastIn;
        t.add(cna(lastIn, lastOut, 1, 1, 1, bn(cfg, lastOut), Activation.Kind.HARD_SWISH), lastOut, 1);
        return t;
    }

    /** Rows of torchvision's stage table: expand, kernel, stride, in, out, layers, fused. */
    private static int[][] efficientNetStages(Arch arch) {
        return switch (arch) {
            case EFFICIENTNET_B ->
                new int[][] {
                    {1, 3, 1, 32, 16, 1, 0},
                    {6, 3, 2, 16, 24, 2, 0},
                    {6, 5, 2, 24, 40, 2, 0},
                    {6, 3, 2, 40, 80, 3, 0},
                    {6, 5, 1, 80, 112, 3, 0},
                    {6, 5, 2, 112, 192, 4, 0},
                    {6, 3, 1, 192, 320, 1, 0},
                };
            case EFFICIENTNET_V2_S ->
                new int[][] {
                    {1, 3, 1, 24, 24, 2, 1}, {4, 3, 2, 24, 48, 4, 1}, {4, 3, 2, 48, 64, 4, 1},
                    {4, 3, 2, 64, 128, 6, 0}, {6, 3, 1, 128, 160, 9, 0}, {6, 3, 2, 160, 256, 15, 0},
                };
            case EFFICIENTNET_V2_M ->
                new int[][] {
                    {1, 3, 1, 24, 24, 3, 1}, {4, 3, 2, 24, 48, 5, 1}, {4, 3, 2, 48, 80, 5, 1},
                    {4, 3, 2, 80, 160, 7, 0}, {6, 3, 1, 160, 176, 14, 0}, {6, 3, 2, 176, 304, 18, 0},
                    {6, 3, 1, 304, 512, 5, 0},
                };
            case EFFICIENTNET_V2_L ->
                new int[][] {
                    {1, 3, 1, 32, 32, 4, 1}, {4, 3, 2, 32, 64, 7, 1}, {4, 3, 2, 64, 96, 7, 1},
                    {4, 3, 2, 96, 192, 10, 0}, {6, 3, 1, 192, 224, 19, 0}, {6, 3, 2, 224, 384, 25, 0},
                    {6, 3, 1, 384, 640, 7, 0},
                };
            default -> throw new IllegalArgumentException("arch " + arch + " is not an EfficientNet");
        };
    }

    private static Trunk efficientNet(Config cfg, int inChans, double stochasticDepth) {
        Trunk t = new Trunk();
        int[][] stages = efficientNetStages(cfg.arch());
        boolean v1 = cfg.arch() == Arch.EFFICIENTNET_B;
        // only V1's MBConvConfig scales widths and depths; V2's FusedMBConvConfig/MBConvConfig do not
        double w = v1 ? cfg.widthMult() : 1.0;
        double d = v1 ? cfg.depthMult() : 1.0;
        int[] layers = new int[stages.length];
        int total = 0;
        for (int i = 0; i < stages.length; i++) {
            layers[i] = (int) Math.ceil(stages[i][5] * d);
            total += layers[i];
        }
        int first = divisible8(stages[0][3] * w);
        t.add(cna(inChans, first, 3, 2, 1, bn(cfg, first), Activation.Kind.SILU), first, 2);
        int blockId = 0;
        for (int s = 0; s < stages.length; s++) {
            int[] st = stages[s];
            int in = divisible8(st[3] * w);
            int out = divisible8(st[4] * w);
            Sequential stage = new Sequential();
            for (int b = 0; b < layers[s]; b++) {
                int bin = b == 0 ? in : out;
                int stride = b == 0 ? st[2] : 1;
                double sd = stochasticDepth * blockId / total;
                stage.add(new MBConv(cfg, st[6] == 1, st[0], st[1], stride, bin, out, sd));
                blockId++;
            }
            t.add(stage, out, st[2]);
        }
        int lastIn = t.outChannels;
        int lastOut = v1 ? 4 * lastIn : 1280;
        t.add(cna(lastIn, lastOut, 1, 1, 1, bn(cfg, lastOut), Activation.Kind.SILU), lastOut, 1);
        return t;
    }

    /** torchvision's _round_to_multiple_of with its 0.9 bias (the same rounding as make_divisible). */
    private static int mnasDepth(double v) {
        return Layers.makeDivisible(v, 8, 0.9);
    }

    private static Trunk mnasNet(Config cfg, int inChans) {
        Trunk t = new Trunk();
        int[] depths = new int[8];
        int[] base = {32, 16, 24, 40, 80, 96, 192, 320};
        for (int i = 0; i < 8; i++) {
            depths[i] = mnasDepth(base[i] * cfg.widthMult());
        }
        Conv2d.Options noBias = Conv2d.Options.defaults().bias(false);
        t.add(new Conv2d(inChans, depths[0], 3, noBias.padding(1).stride(2)), depths[0], 2);
        t.add(bn(cfg, depths[0]), depths[0], 1);
        t.add(Activation.relu(), depths[0], 1);
        t.add(new Conv2d(depths[0], depths[0], 3, noBias.padding(1).groups(depths[0])), depths[0], 1);
        t.add(bn(cfg, depths[0]), depths[0], 1);
        t.add(Activation.relu(), depths[0], 1);
        t.add(new Conv2d(depths[0], depths[1], 1, noBias), depths[1], 1);
        t.add(bn(cfg, depths[1]), depths[1], 1);
        // in, out (as depth indices), kernel, stride, expansion, repeats
        int[][] stacks = {
            {1, 2, 3, 2, 3, 3},
            {2, 3, 5, 2, 3, 3},
            {3, 4, 5, 2, 6, 3},
            {4, 5, 3, 1, 6, 2},
            {5, 6, 5, 2, 6, 4},
            {6, 7, 3, 1, 6, 1}
        };
        for (int[] s : stacks) {
            int in = depths[s[0]];
            int out = depths[s[1]];
            Sequential stack = new Sequential();
            stack.add(new MnasInvertedResidual(cfg, in, out, s[2], s[3], s[4]));
            for (int r = 1; r < s[5]; r++) {
                stack.add(new MnasInvertedResidual(cfg, out, out, s[2], 1, s[4]));
            }
            t.add(stack, out, s[3]);
        }
        t.add(new Conv2d(depths[7], 1280, 1, noBias), 1280, 1);
        t.add(bn(cfg, 1280), 1280, 1);
        t.add(Activation.relu(), 1280, 1);
        return t;
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Sequential trunk;
    private final int headHidden;
    private int poolMultiplier;
    private GlobalPool pool;
    private Classifier classifier;

    /** torchvision's EfficientNet stochastic_depth_prob, of B0-B7 and V2 alike. */
    private static final double EFFICIENTNET_STOCHASTIC_DEPTH = 0.2;

    public TvMobileNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        Trunk t = switch (cfg.arch()) {
            case MOBILENET_V2 -> mobileNetV2(cfg, inChans);
            case MOBILENET_V3_LARGE, MOBILENET_V3_SMALL -> mobileNetV3(cfg, inChans);
            case MNASNET -> mnasNet(cfg, inChans);
            default -> efficientNet(cfg, inChans, args.dropPathRate(EFFICIENTNET_STOCHASTIC_DEPTH));
        };
        trunk = register(cfg.trunkName(), t.seq);
        addTrunkSteps(trunk.children().values());
        for (int i = 0; i < t.channels.size(); i++) {
            boolean lastAtReduction =
                    i == t.channels.size() - 1 || !t.reductions.get(i + 1).equals(t.reductions.get(i));
            if (lastAtReduction) {
                addFeatureInfo(t.channels.get(i), t.reductions.get(i), cfg.trunkName() + "." + i, i);
            }
        }
        // numFeatures is the trunk's output, before MobileNetV3's hidden head layer
        setNumFeatures(t.outChannels);
        headHidden = cfg.isV3() ? (cfg.arch() == Arch.MOBILENET_V3_LARGE ? 1280 : 1024) : t.outChannels;
        // torchvision's AdaptiveAvgPool2d (no state); registered for the V2/MNASNet functional pool too
        pool = register("avgpool", ClassifierHead.pool(globalPool));
        poolMultiplier = GlobalPool.featureMultiplier(globalPool);
        classifier = register("classifier", newClassifier(numClasses, globalPool));
    }

    private Classifier newClassifier(int classes, String poolType) {
        if (classes > 0 && GlobalPool.validate(poolType).isEmpty()) {
            throw new IllegalArgumentException(
                    "globalPool '' (no pooling) needs numClasses 0; a classifier needs pooled features");
        }
        int in = numFeatures() * GlobalPool.featureMultiplier(poolType);
        Module fc = classes > 0
                ? new Linear(headHidden * (cfg.isV3() ? 1 : GlobalPool.featureMultiplier(poolType)), classes)
                : new Identity();
        Dropout drop = new Dropout((float) dropRate);
        if (cfg.isV3()) {
            return new Classifier(
                    List.of(new Linear(in, headHidden), new TorchAct(Activation.Kind.HARD_SWISH), drop), fc);
        }
        return new Classifier(List.of(drop), fc);
    }

    /** The architecture this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // torchvision: kaiming_normal_(fan_out) convs with zero bias, unit/zero norms, and per family
        // N(0, 0.01) (MobileNets), U(+-1/sqrt(out)) (EfficientNet) or kaiming_uniform_(fan_out,
        // sigmoid) (MNASNet) for Linear weights with zero bias
        for (Module m : namedModules().values()) {
            if (m instanceof Conv2d c) {
                Init.kaimingNormalFanOut(c.weight().getArray(), random);
                if (c.bias() != null) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            } else if (m instanceof BatchNorm2d b) {
                Init.constant(b.weight().getArray(), 1f);
                Init.constant(b.bias().getArray(), 0f);
            } else if (m instanceof Linear l) {
                NDArray w = l.weight().getArray();
                if (cfg.isEfficientNet()) {
                    Init.uniform(w, 1.0 / Math.sqrt(l.outFeatures()), random);
                } else if (cfg.arch() == Arch.MNASNET) {
                    Init.uniform(w, Math.sqrt(3.0 / l.outFeatures()), random);
                } else {
                    Init.normal(w, 0.01, random);
                }
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            }
        }
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return trunk.forward(x);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        if (pool.isIdentity()) {
            // no pooling: only numClasses 0 is allowed, and V3's hidden Linear cannot take maps
            return cfg.isV3() ? x : classifier.forward(x);
        }
        x = pool.forward(x);
        return preLogits ? classifier.preLogits(x) : classifier.forward(x);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String poolType = GlobalPool.validate(newGlobalPool);
        int mult = GlobalPool.featureMultiplier(poolType);
        if (cfg.isV3() && mult == poolMultiplier) {
            if (newNumClasses > 0 && poolType.isEmpty()) {
                throw new IllegalArgumentException(
                        "globalPool '' (no pooling) needs numClasses 0; a classifier needs pooled features");
            }
            // keep the trained hidden Linear; only the last one is new
            classifier.replaceLast(Linear.classifier(headHidden, newNumClasses));
        } else {
            classifier = register("classifier", newClassifier(newNumClasses, poolType));
        }
        numClasses = newNumClasses;
        globalPool = poolType;
        poolMultiplier = mult;
        pool = register("avgpool", ClassifierHead.pool(poolType));
    }

    /** Width of the pre-logits: MobileNetV3's hidden head Linear, else {@link #numFeatures()}. */
    public int headHiddenSize() {
        return headHidden;
    }

    // ---- registrations ------------------------------------------------------------------------

    /** Registers torchvision's MobileNetV2/V3, EfficientNet B0–B7, V2 S/M/L and MNASNet as {@code tv/…}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            // the entries' family is "torchvision", shared with the other tv/ registrations
            return "tv_mobilenet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "tv/mobilenet_v2", new Config(Arch.MOBILENET_V2, 1.0, 1.0, 1e-5f, 0.1f, 0.2), 224);
            add(m, "tv/mobilenet_v3_large", new Config(Arch.MOBILENET_V3_LARGE, 1.0, 1.0, 1e-3f, 0.01f, 0.2), 224);
            add(m, "tv/mobilenet_v3_small", new Config(Arch.MOBILENET_V3_SMALL, 1.0, 1.0, 1e-3f, 0.01f, 0.2), 224);
            // width, depth, dropout, crop size of torchvision's weights; B5-B7 use TF-like BN
            double[][] b = {
                {1.0, 1.0, 0.2, 224}, {1.0, 1.1, 0.2, 240}, {1.1, 1.2, 0.3, 288}, {1.2, 1.4, 0.3, 300},
                {1.4, 1.8, 0.4, 380}, {1.6, 2.2, 0.4, 456}, {1.8, 2.6, 0.5, 528}, {2.0, 3.1, 0.5, 600},
            };
            for (int i = 0; i < b.length; i++) {
                boolean tfBn = i >= 5;
                add(
                        m,
                        "tv/efficientnet_b" + i,
                        new Config(
                                Arch.EFFICIENTNET_B,
                                b[i][0],
                                b[i][1],
                                tfBn ? 1e-3f : 1e-5f,
                                tfBn ? 0.01f : 0.1f,
                                b[i][2]),
                        (int) b[i][3]);
            }
            add(m, "tv/efficientnet_v2_s", new Config(Arch.EFFICIENTNET_V2_S, 1.0, 1.0, 1e-3f, 0.1f, 0.2), 384);
            add(m, "tv/efficientnet_v2_m", new Config(Arch.EFFICIENTNET_V2_M, 1.0, 1.0, 1e-3f, 0.1f, 0.3), 480);
            add(m, "tv/efficientnet_v2_l", new Config(Arch.EFFICIENTNET_V2_L, 1.0, 1.0, 1e-3f, 0.1f, 0.4), 480);
            // MNASNet: TensorFlow's BN momentum 0.9997, i.e. PyTorch momentum 1 - 0.9997
            float mnasMomentum = (float) (1 - 0.9997);
            add(m, "tv/mnasnet0_5", new Config(Arch.MNASNET, 0.5, 1.0, 1e-5f, mnasMomentum, 0.2), 224);
            add(m, "tv/mnasnet0_75", new Config(Arch.MNASNET, 0.75, 1.0, 1e-5f, mnasMomentum, 0.2), 224);
            add(m, "tv/mnasnet1_0", new Config(Arch.MNASNET, 1.0, 1.0, 1e-5f, mnasMomentum, 0.2), 224);
            add(m, "tv/mnasnet1_3", new Config(Arch.MNASNET, 1.3, 1.0, 1e-5f, mnasMomentum, 0.2), 224);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            m.add(new ModelEntry(
                    name,
                    "torchvision",
                    args -> new TvMobileNet(c, args),
                    PretrainedCfg.untrained(name, size, c.firstConvName(), c.classifierName())));
        }
    }
}
