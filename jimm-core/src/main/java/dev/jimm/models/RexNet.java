package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * ReXNet (and ReXNet-R, its channels rounded to multiples of 8, or 16 for rexnetr_300) as timm's
 * {@code models/rexnet.py} builds it: a stem, 16 linear bottlenecks whose widths grow linearly from 16 to 196 (times
 * the width multiplier), with SE (and a BatchNorm inside it) from the third stage on, and a final 1x1 conv to 1280 x
 * width. Keys: {@code stem.conv}, {@code features.N.conv_exp / conv_dw / se / conv_pwl}, the head conv
 * {@code features.16}, {@code head.fc}.
 *
 * <p>Feature levels, as timm's {@code feature_info}: the output before each stride-2 block ({@code features.0} at /2
 * and so on), and the last bottleneck ({@code features.15}, /32); the final 1x1 conv is not a level.
 */
public final class RexNet extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    static ConvNormAct convNormAct(int in, int out, int kernel, int stride, int groups, Activation.Kind act) {
        return ConvNormAct.batchNorm(in, out, kernel, stride, 1, groups, act);
    }

    /** timm's SEModule with {@code norm_layer=BatchNorm2d}: fc1, bn, ReLU, fc2, sigmoid gate. */
    static final class SqueezeExciteBn extends Module {
        private final Module fc1;
        private final Module bn;
        private final Module fc2;

        SqueezeExciteBn(int channels, int rdChannels) {
            fc1 = register("fc1", new Conv2d(channels, rdChannels, 1, Conv2d.Options.defaults()));
            bn = register("bn", new BatchNorm2d(rdChannels));
            fc2 = register("fc2", new Conv2d(rdChannels, channels, 1, Conv2d.Options.defaults()));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray s = Layers.spatialMean(x, true);
            s = Activation.apply(Activation.Kind.RELU, bn.forward(fc1.forward(s)));
            return x.mul(Activation.apply(Activation.Kind.SIGMOID, fc2.forward(s)));
        }
    }

    /**
     * The linear bottleneck: an optional 1x1 expansion, a depthwise 3x3 with BatchNorm and no activation, SE, the
     * depthwise activation (ReLU6), a linear 1x1 projection. Its shortcut adds the input to the first input-width
     * channels of the output (the output is never narrower).
     */
    static final class LinearBottleneck extends Module {
        private final int inChs;
        private final boolean useShortcut;
        private final Module convExp;
        private final Module convDw;
        private final Module se;
        private final Module actDw;
        private final Module convPwl;
        private final Module dropPath;

        LinearBottleneck(Config cfg, int in, int out, int stride, int expRatio, double seRatio, double dropPathRate) {
            this.inChs = in;
            this.useShortcut = stride == 1 && in <= out;
            int dwChs = in;
            if (expRatio != 1) {
                dwChs = Layers.makeDivisible(in * expRatio, cfg.chDiv());
                convExp = register("conv_exp", convNormAct(in, dwChs, 1, 1, 1, cfg.act()));
            } else {
                convExp = null;
            }
            convDw = register("conv_dw", convNormAct(dwChs, dwChs, 3, stride, dwChs, Activation.Kind.IDENTITY));
            se = seRatio > 0
                    ? register(
                            "se",
                            new SqueezeExciteBn(dwChs, Layers.makeDivisible((int) (dwChs * seRatio), cfg.chDiv())))
                    : null;
            actDw = register("act_dw", new Activation(cfg.dwAct()));
            convPwl = register("conv_pwl", convNormAct(dwChs, out, 1, 1, 1, Activation.Kind.IDENTITY));
            dropPath = dropPathRate > 0 ? register("drop_path", new DropPath((float) dropPathRate)) : null;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            if (convExp != null) {
                x = convExp.forward(x);
            }
            x = convDw.forward(x);
            if (se != null) {
                x = se.forward(x);
            }
            x = convPwl.forward(actDw.forward(x));
            if (!useShortcut) {
                return x;
            }
            if (dropPath != null) {
                x = dropPath.forward(x);
            }
            if (x.getShape().get(1) == inChs) {
                return x.add(shortcut);
            }
            NDArray head = x.get(":, :" + inChs).add(shortcut);
            return NDArrays.concat(new NDList(head, x.get(":, " + inChs + ":")), 1);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** Blocks per stage and the stride of each stage's first block, before the depth multiplier. */
    private static final int[] STAGE_DEPTHS = {1, 2, 2, 3, 3, 5};

    private static final int[] STAGE_STRIDES = {1, 2, 2, 2, 1, 2};

    /**
     * A ReXNet variant, the keyword arguments of timm's RexNet.
     *
     * @param widthMult width multiplier
     * @param depthMult depth multiplier (blocks per stage rounded up)
     * @param initialChs width of the first block (before the multiplier)
     * @param finalChs width added linearly over the blocks
     * @param seRatio SE reduction ratio from the third stage on (0: none)
     * @param chDiv channel divisor (1 for ReXNet, 8 or 16 for ReXNet-R)
     * @param act activation of the stem, expansions and the final conv
     * @param dwAct activation after the depthwise conv and SE
     */
    public record Config(
            double widthMult,
            double depthMult,
            int initialChs,
            int finalChs,
            double seRatio,
            int chDiv,
            Activation.Kind act,
            Activation.Kind dwAct) {

        public Config {
            if (widthMult <= 0 || depthMult <= 0 || chDiv < 1) {
                throw new IllegalArgumentException("widthMult " + widthMult + " and depthMult " + depthMult
                        + " must be positive and chDiv " + chDiv + " at least 1");
            }
        }

        /** timm's defaults at a width multiplier: ReXNet's channels (divisor 1). */
        public static Config of(double widthMult) {
            return builder().widthMult(widthMult).build();
        }

        /** A builder holding timm's defaults. */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant, to change some of its fields. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** ReXNet-R: channels rounded to multiples of {@code divisor} (8; 16 for rexnetr_300). */
        public Config rounded(int divisor) {
            return toBuilder().chDiv(divisor).build();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private double widthMult = 1.0;
            private double depthMult = 1.0;
            private int initialChs = 16;
            private int finalChs = 180;
            private double seRatio = 1 / 12.0;
            private int chDiv = 1;
            private Activation.Kind act = Activation.Kind.SILU;
            private Activation.Kind dwAct = Activation.Kind.RELU6;

            private Builder() {}

            private Builder(Config c) {
                widthMult = c.widthMult();
                depthMult = c.depthMult();
                initialChs = c.initialChs();
                finalChs = c.finalChs();
                seRatio = c.seRatio();
                chDiv = c.chDiv();
                act = c.act();
                dwAct = c.dwAct();
            }

            public Builder widthMult(double v) {
                widthMult = v;
                return this;
            }

            public Builder depthMult(double v) {
                depthMult = v;
                return this;
            }

            public Builder initialChs(int v) {
                initialChs = v;
                return this;
            }

            public Builder finalChs(int v) {
                finalChs = v;
                return this;
            }

            public Builder seRatio(double v) {
                seRatio = v;
                return this;
            }

            public Builder chDiv(int v) {
                chDiv = v;
                return this;
            }

            public Builder act(Activation.Kind v) {
                act = v;
                return this;
            }

            public Builder dwAct(Activation.Kind v) {
                dwAct = v;
                return this;
            }

            public Config build() {
                return new Config(widthMult, depthMult, initialChs, finalChs, seRatio, chDiv, act, dwAct);
            }
        }
    }

    /** One bottleneck of timm's {@code _block_cfg}: output channels, expansion, stride, SE ratio. */
    record BlockArgs(int outChs, int expRatio, int stride, double seRatio) {}

    /** timm's {@code _block_cfg}: the widths grow by finalChs / blocks per block, rounded (half to even) each time. */
    static List<BlockArgs> blockArgs(Config cfg) {
        int[] depths = new int[STAGE_DEPTHS.length];
        int blocks = 0;
        for (int s = 0; s < depths.length; s++) {
            depths[s] = (int) Math.ceil(STAGE_DEPTHS[s] * cfg.depthMult());
            blocks += depths[s];
        }
        double baseChs = cfg.widthMult() < 1.0 ? cfg.initialChs() / cfg.widthMult() : cfg.initialChs();
        List<BlockArgs> out = new ArrayList<>();
        int i = 0;
        for (int s = 0; s < depths.length; s++) {
            for (int b = 0; b < depths[s]; b++, i++) {
                int chs = Layers.makeDivisible(Math.rint(baseChs * cfg.widthMult()), cfg.chDiv());
                baseChs += cfg.finalChs() / (double) blocks;
                int stride = b == 0 ? STAGE_STRIDES[s] : 1;
                double se = s < 2 ? 0 : cfg.seRatio();
                out.add(new BlockArgs(chs, s == 0 ? 1 : 6, stride, se));
            }
        }
        return out;
    }

    private final Config cfg;

    public RexNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        double stemBase = cfg.widthMult() < 1.0 ? 32 / cfg.widthMult() : 32;
        int stemChs = Layers.makeDivisible(Math.rint(stemBase * cfg.widthMult()), cfg.chDiv());
        addTrunkStep(register("stem", convNormAct(inChans, stemChs, 3, 2, 1, cfg.act())));

        List<BlockArgs> blocks = blockArgs(cfg);
        Sequential features = new Sequential();
        int prev = stemChs;
        int reduction = 2;
        for (int i = 0; i < blocks.size(); i++) {
            BlockArgs b = blocks.get(i);
            if (b.stride() > 1) {
                // the level before each stride-2 block: trunk step i is the stem or features.(i - 1)
                addFeatureInfo(prev, reduction, i == 0 ? "stem" : "features." + (i - 1), i);
            }
            double dpr = args.dropPathRate() * i / (blocks.size() - 1);
            features.add(new LinearBottleneck(cfg, prev, b.outChs(), b.stride(), b.expRatio(), b.seRatio(), dpr));
            reduction *= b.stride();
            prev = b.outChs();
        }
        addFeatureInfo(prev, reduction, "features." + (blocks.size() - 1), blocks.size());
        int penChs = Layers.makeDivisible(1280 * cfg.widthMult(), cfg.chDiv());
        features.add(convNormAct(prev, penChs, 1, 1, 1, cfg.act()));
        register("features", features);
        addTrunkSteps(features.children().values());
        registerNestedClassifierHead("head", penChs);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: efficientnet_init_weights
        EfficientNetBuilder.initWeights(this, random);
    }

    // ---- registrations --------------------------------------------------------------------------

    /** Registers timm's rexnet_* and rexnetr_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "rexnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "rexnet_100", Config.of(1.0));
            add(m, "rexnet_130", Config.of(1.3));
            add(m, "rexnet_150", Config.of(1.5));
            add(m, "rexnet_200", Config.of(2.0));
            add(m, "rexnet_300", Config.of(3.0));
            add(m, "rexnetr_100", Config.of(1.0).rounded(8));
            add(m, "rexnetr_130", Config.of(1.3).rounded(8));
            add(m, "rexnetr_150", Config.of(1.5).rounded(8));
            add(m, "rexnetr_200", Config.of(2.0).rounded(8));
            add(m, "rexnetr_300", Config.of(3.0).rounded(16));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            // timm's _cfg, which the untrained rexnetr_100/130/150 keep: bicubic at 0.875
            PretrainedCfg fallback =
                    PretrainedCfgOverride.untrained(name, 224, "stem.conv", "head.fc", "bicubic", 0.875, "mit");
            m.add(new ModelEntry(name, "rexnet", args -> new RexNet(c, args), fallback));
        }
    }
}
