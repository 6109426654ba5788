package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.EfficientChannelAttention;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.ScaledStdConv2d;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Normalization-Free networks, as timm's {@code models/nfnet.py} builds them: NFNet-F (and DeepMind's weight-compatible
 * {@code dm_nfnet_*}), the experimental NFNet-L / ECA-NFNet-L, NF-RegNet-B and the pre-activation NF-ResNets (plain, SE
 * and ECA). No norm layers: every convolution is a {@link ScaledStdConv2d}, and each residual block scales its input by
 * {@code beta = 1 / expected std} and its branch by {@code alpha} to keep the signal's variance in check.
 *
 * <p>Feature levels (timm's {@code features_only}): the stem conv at stride 2 ({@code stem.conv}, or {@code stem.conv2}
 * / {@code stem.conv3} of the deep stems), each stage, and {@code final_conv} in place of the last stage where there is
 * one; all before the final activation.
 */
public final class NfNet extends ImageModel {

    /** The attention a block applies (timm's {@code attn_layer}). */
    public enum Attn {
        NONE,
        /** timm's {@code SEModule}: squeeze-excitation with 1x1 convs. */
        SE,
        /** timm's {@code EcaModule}: efficient channel attention. */
        ECA
    }

    /**
     * timm's gain that makes each activation preserve unit variance on Gaussian inputs ({@code _nonlin_gamma}, from
     * DeepMind's NFNet code), for the activations jimm has.
     */
    static final Map<Activation.Kind, Double> NONLIN_GAMMA = Map.of(
            Activation.Kind.IDENTITY, 1.0,
            Activation.Kind.GELU, 1.7015043497085571,
            Activation.Kind.RELU, 1.7139588594436646,
            Activation.Kind.RELU6, 1.7131484746932983,
            Activation.Kind.SIGMOID, 4.803835391998291,
            Activation.Kind.SILU, 1.7881293296813965,
            Activation.Kind.TANH, 1.5939117670059204);

    /**
     * A Normalization-Free net, timm's {@code NfCfg} field by field. Made by {@link #nfnet}, {@link #dmNfnet},
     * {@link #regnet}, {@link #resnet} or {@link #builder()}; {@link #toBuilder()} derives variants.
     *
     * @param depths blocks per stage (4 stages)
     * @param channels output channels per stage, before {@code widthFactor}
     * @param alpha the residual branch's scale
     * @param stemType timm's stem: "", "deep", "deep_tiered", "deep_quad", "3x3", "7x7", "deep_pool", "3x3_pool",
     *     "7x7_pool"
     * @param stemChs stem output channels before {@code widthFactor} (0: the first stage's)
     * @param groupSize channels per group of the 3x3 convs (0: no groups)
     * @param attn the block attention
     * @param attnRdRatio SE reduction ratio (timm's {@code attn_kwargs rd_ratio})
     * @param attnRdDivisor SE reduced width divisor ({@code rd_divisor})
     * @param attnGain the factor on the attention's output
     * @param widthFactor multiplier of every width
     * @param bottleRatio bottleneck width ratio
     * @param numFeatures width of a final 1x1 conv before the head (0: none)
     * @param chDiv widths are rounded to multiples of this
     * @param reg RegNet-style blocks: bottleneck from the input width, attention between conv2 and conv3
     * @param extraConv a second 3x3 conv in each block (NFNet-F)
     * @param gammaInAct the activations carry the variance gain rather than the convs' scale (DeepMind's layout)
     * @param samePadding TensorFlow "SAME" padding in every conv
     * @param stdConvEps the weight standardization's eps
     * @param skipinit a learned scalar gain (initially 0) on each residual branch
     * @param zeroInitFc the classifier starts at zero
     * @param act the activation
     */
    public record Config(
            List<Integer> depths,
            List<Integer> channels,
            double alpha,
            String stemType,
            int stemChs,
            int groupSize,
            Attn attn,
            double attnRdRatio,
            int attnRdDivisor,
            double attnGain,
            double widthFactor,
            double bottleRatio,
            int numFeatures,
            int chDiv,
            boolean reg,
            boolean extraConv,
            boolean gammaInAct,
            boolean samePadding,
            double stdConvEps,
            boolean skipinit,
            boolean zeroInitFc,
            Activation.Kind act) {

        public Config {
            depths = List.copyOf(depths);
            channels = List.copyOf(channels);
        }

        /** timm's {@code _nfnet_cfg}: NFNet-F with GELU, SE of ratio 0.5, a final conv of twice the last width. */
        public static Config nfnet(List<Integer> depths) {
            List<Integer> channels = List.of(256, 512, 1536, 1536);
            return builder()
                    .depths(depths)
                    .channels(channels)
                    .stemType("deep_quad")
                    .stemChs(128)
                    .groupSize(128)
                    .bottleRatio(0.5)
                    .extraConv(true)
                    .numFeatures(channels.get(3) * 2)
                    .act(Activation.Kind.GELU)
                    .attn(Attn.SE)
                    .attnRdRatio(0.5)
                    .build();
        }

        /**
         * timm's {@code _nfnet_cfg} for the light NFNet-L variants: SiLU, group size 64, bottleneck 0.25, a final conv
         * of {@code featMult} times the last width, and the given attention.
         */
        public static Config light(List<Integer> depths, double featMult, Attn attn, double rdRatio) {
            Config f = nfnet(depths);
            return f.toBuilder()
                    .groupSize(64)
                    .bottleRatio(0.25)
                    .numFeatures((int) (f.channels().get(3) * featMult))
                    .act(Activation.Kind.SILU)
                    .attn(attn)
                    .attnRdRatio(rdRatio)
                    .build();
        }

        /** timm's {@code _dm_nfnet_cfg}: DeepMind's NFNet-F, with gains in the activations, SAME padding, skipinit. */
        public static Config dmNfnet(List<Integer> depths) {
            return nfnet(depths).toBuilder()
                    .gammaInAct(true)
                    .samePadding(true)
                    .skipinit(true)
                    .build();
        }

        /** timm's {@code _nfreg_cfg}: NF-RegNet-B, widths times 0.75, SE of ratio 0.5 between conv2 and conv3. */
        public static Config regnet(List<Integer> depths, List<Integer> channels) {
            return builder()
                    .depths(depths)
                    .channels(channels)
                    .stemType("3x3")
                    .groupSize(8)
                    .widthFactor(0.75)
                    .bottleRatio(2.25)
                    .numFeatures(1280 * channels.get(3) / 440)
                    .reg(true)
                    .attn(Attn.SE)
                    .attnRdRatio(0.5)
                    .build();
        }

        /** timm's {@code _nfres_cfg}: a pre-activation NF-ResNet with a 7x7 stem and max pool, ReLU. */
        public static Config resnet(List<Integer> depths) {
            return builder()
                    .depths(depths)
                    .channels(List.of(256, 512, 1024, 2048))
                    .stemType("7x7_pool")
                    .stemChs(64)
                    .bottleRatio(0.25)
                    .act(Activation.Kind.RELU)
                    .build();
        }

        /** The same variant with another block attention (SE keeps this config's ratio). */
        public Config withAttn(Attn newAttn, double rdRatio) {
            return toBuilder().attn(newAttn).attnRdRatio(rdRatio).build();
        }

        /** A builder with timm's {@code NfCfg} defaults; depths and channels are required. */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields, to derive another one. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** Builds a {@link Config} by field name; {@link #build()} checks it. */
        public static final class Builder {
            private List<Integer> depths;
            private List<Integer> channels;
            private double alpha = 0.2;
            private String stemType = "3x3";
            private int stemChs;
            private int groupSize;
            private Attn attn = Attn.NONE;
            private double attnRdRatio = 1.0 / 16;
            private int attnRdDivisor = 8;
            private double attnGain = 2.0;
            private double widthFactor = 1.0;
            private double bottleRatio = 0.5;
            private int numFeatures;
            private int chDiv = 8;
            private boolean reg;
            private boolean extraConv;
            private boolean gammaInAct;
            private boolean samePadding;
            private double stdConvEps = 1e-5;
            private boolean skipinit;
            private boolean zeroInitFc;
            private Activation.Kind act = Activation.Kind.SILU;

            private Builder() {}

            private Builder(Config c) {
                depths = c.depths();
                channels = c.channels();
                alpha = c.alpha();
                stemType = c.stemType();
                stemChs = c.stemChs();
                groupSize = c.groupSize();
                attn = c.attn();
                attnRdRatio = c.attnRdRatio();
                attnRdDivisor = c.attnRdDivisor();
                attnGain = c.attnGain();
                widthFactor = c.widthFactor();
                bottleRatio = c.bottleRatio();
                numFeatures = c.numFeatures();
                chDiv = c.chDiv();
                reg = c.reg();
                extraConv = c.extraConv();
                gammaInAct = c.gammaInAct();
                samePadding = c.samePadding();
                stdConvEps = c.stdConvEps();
                skipinit = c.skipinit();
                zeroInitFc = c.zeroInitFc();
                act = c.act();
            }

            /** Blocks per stage, 4 stages (required). */
            public Builder depths(List<Integer> value) {
                depths = value;
                return this;
            }

            /** Output channels per stage, 4 stages (required). */
            public Builder channels(List<Integer> value) {
                channels = value;
                return this;
            }

            /** The residual branch's scale (default 0.2). */
            public Builder alpha(double value) {
                alpha = value;
                return this;
            }

            /** timm's stem type (default "3x3"). */
            public Builder stemType(String value) {
                stemType = value;
                return this;
            }

            /** Stem channels (default 0: the first stage's). */
            public Builder stemChs(int value) {
                stemChs = value;
                return this;
            }

            /** Channels per group of the 3x3 convs (default 0: no groups). */
            public Builder groupSize(int value) {
                groupSize = value;
                return this;
            }

            /** The block attention (default none). */
            public Builder attn(Attn value) {
                attn = value;
                return this;
            }

            /** SE reduction ratio (default 1/16, SEModule's). */
            public Builder attnRdRatio(double value) {
                attnRdRatio = value;
                return this;
            }

            /** SE reduced width divisor (default 8). */
            public Builder attnRdDivisor(int value) {
                attnRdDivisor = value;
                return this;
            }

            /** The factor on the attention's output (default 2). */
            public Builder attnGain(double value) {
                attnGain = value;
                return this;
            }

            /** Multiplier of every width (default 1). */
            public Builder widthFactor(double value) {
                widthFactor = value;
                return this;
            }

            /** Bottleneck width ratio (default 0.5). */
            public Builder bottleRatio(double value) {
                bottleRatio = value;
                return this;
            }

            /** Width of a final 1x1 conv (default 0: none). */
            public Builder numFeatures(int value) {
                numFeatures = value;
                return this;
            }

            /** Width divisor (default 8). */
            public Builder chDiv(int value) {
                chDiv = value;
                return this;
            }

            /** RegNet-style blocks (default off). */
            public Builder reg(boolean value) {
                reg = value;
                return this;
            }

            /** A second 3x3 conv per block (default off). */
            public Builder extraConv(boolean value) {
                extraConv = value;
                return this;
            }

            /** Gains in the activations instead of the convs (default off). */
            public Builder gammaInAct(boolean value) {
                gammaInAct = value;
                return this;
            }

            /** TensorFlow "SAME" padding (default off). */
            public Builder samePadding(boolean value) {
                samePadding = value;
                return this;
            }

            /** The weight standardization's eps (default 1e-5). */
            public Builder stdConvEps(double value) {
                stdConvEps = value;
                return this;
            }

            /** A learned scalar gain on each residual branch (default off). */
            public Builder skipinit(boolean value) {
                skipinit = value;
                return this;
            }

            /** A zero-initialized classifier (default off). */
            public Builder zeroInitFc(boolean value) {
                zeroInitFc = value;
                return this;
            }

            /** The activation (default SiLU). */
            public Builder act(Activation.Kind value) {
                act = value;
                return this;
            }

            /** The config, failing on a missing or invalid field. */
            public Config build() {
                if (depths == null || channels == null || depths.size() != 4 || channels.size() != 4) {
                    throw new IllegalArgumentException("NFNet needs 4 stage depths and 4 stage widths, got depths "
                            + depths + " and channels " + channels);
                }
                if (!NONLIN_GAMMA.containsKey(act)) {
                    throw new IllegalArgumentException(
                            "activation " + act + " has no NFNet variance gain; use one of " + NONLIN_GAMMA.keySet());
                }
                if (!List.of("", "deep", "deep_tiered", "deep_quad", "3x3", "7x7", "deep_pool", "3x3_pool", "7x7_pool")
                        .contains(stemType)) {
                    throw new IllegalArgumentException("stem type '" + stemType + "' is not one of timm's: '', deep, "
                            + "deep_tiered, deep_quad, 3x3, 7x7, deep_pool, 3x3_pool, 7x7_pool");
                }
                if (stemType.contains("quad") && stemType.contains("pool")) {
                    throw new IllegalArgumentException("the deep_quad stem takes no pool");
                }
                return new Config(
                        depths,
                        channels,
                        alpha,
                        stemType,
                        stemChs,
                        groupSize,
                        attn,
                        attnRdRatio,
                        attnRdDivisor,
                        attnGain,
                        widthFactor,
                        bottleRatio,
                        numFeatures,
                        chDiv,
                        reg,
                        extraConv,
                        gammaInAct,
                        samePadding,
                        stdConvEps,
                        skipinit,
                        zeroInitFc,
                        act);
            }
        }
    }

    // ---- layers ---------------------------------------------------------------------------------

    /** timm's {@code GammaAct}: an activation whose output is multiplied by its variance gain. */
    static final class GammaAct extends Module {
        private final Activation.Kind kind;
        private final double gamma;

        GammaAct(Activation.Kind kind, double gamma) {
            this.kind = kind;
            this.gamma = gamma;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return Scalars.mul(Activation.apply(kind, x), gamma);
        }

        @Override
        protected String extraRepr() {
            return "GammaAct(" + kind + ", gamma=" + gamma + ")";
        }
    }

    /**
     * The convolution, activation and attention a config asks for (timm binds them once as {@code conv_layer},
     * {@code act_layer} and {@code attn_layer}): the variance gain goes into the activations or into the convs' scale.
     */
    private record Parts(Config cfg) {
        double gamma() {
            return NONLIN_GAMMA.get(cfg.act());
        }

        Module act() {
            return cfg.gammaInAct() ? new GammaAct(cfg.act(), gamma()) : new Activation(cfg.act());
        }

        ScaledStdConv2d conv(int in, int out, int kernel, int stride, int groups, double gainInit) {
            Conv2d.Options o = Conv2d.Options.defaults().stride(stride).groups(groups);
            double convGamma = cfg.gammaInAct() ? 1.0 : gamma();
            return cfg.samePadding()
                    ? ScaledStdConv2d.same(in, out, kernel, o, convGamma, cfg.stdConvEps(), gainInit)
                    : ScaledStdConv2d.symmetric(in, out, kernel, o, convGamma, cfg.stdConvEps(), gainInit);
        }

        ScaledStdConv2d conv(int in, int out, int kernel, int stride) {
            return conv(in, out, kernel, stride, 1, 1.0);
        }

        Module attn(int channels) {
            return switch (cfg.attn()) {
                case NONE -> null;
                case SE -> new SqueezeExcite(channels, cfg.attnRdRatio(), cfg.attnRdDivisor());
                case ECA -> new EfficientChannelAttention(channels);
            };
        }
    }

    /** timm's {@code DownsampleAvg}: a 2x2 ceil-mode average pool (when strided), then a 1x1 conv. */
    static final class DownsampleAvg extends Module {
        private final Module pool;
        private final Module conv;

        DownsampleAvg(Parts parts, int in, int out, int stride) {
            pool = register("pool", stride > 1 ? Pool2d.avg(2, stride, 0, true, false) : new Identity());
            conv = register("conv", parts.conv(in, out, 1, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return conv.forward(pool.forward(x));
        }
    }

    /** timm's {@code NormFreeBlock}: a pre-activation bottleneck whose branch is scaled by alpha and added. */
    static final class NormFreeBlock extends Module {
        private final double alpha;
        private final double beta;
        private final double attnGain;
        private final Module downsample;
        private final Module act1;
        private final Module conv1;
        private final Module act2;
        private final Module conv2;
        private final Module act2b;
        private final Module conv2b;
        private final Module attn;
        private final Module act3;
        private final Module conv3;
        private final Module attnLast;
        private final Module dropPath;
        private final Parameter skipinitGain;

        NormFreeBlock(
                Parts parts,
                int in,
                int out,
                int stride,
                double alpha,
                double beta,
                double bottleRatio,
                double dropPathRate) {
            Config cfg = parts.cfg();
            int mid = Layers.makeDivisible((cfg.reg() ? in : out) * bottleRatio, cfg.chDiv());
            int groups = cfg.groupSize() == 0 ? 1 : mid / cfg.groupSize();
            if (cfg.groupSize() != 0 && cfg.groupSize() % cfg.chDiv() == 0) {
                // the bottleneck made a whole number of groups
                mid = cfg.groupSize() * groups;
            }
            this.alpha = alpha;
            this.beta = beta;
            this.attnGain = cfg.attnGain();
            downsample =
                    in != out || stride != 1 ? register("downsample", new DownsampleAvg(parts, in, out, stride)) : null;
            act1 = register("act1", parts.act());
            conv1 = register("conv1", parts.conv(in, mid, 1, 1));
            act2 = register("act2", parts.act());
            conv2 = register("conv2", parts.conv(mid, mid, 3, stride, groups, 1.0));
            if (cfg.extraConv()) {
                act2b = register("act2b", parts.act());
                conv2b = register("conv2b", parts.conv(mid, mid, 3, 1, groups, 1.0));
            } else {
                act2b = null;
                conv2b = null;
            }
            Module a = cfg.reg() ? parts.attn(mid) : null;
            attn = a == null ? null : register("attn", a);
            act3 = register("act3", parts.act());
            // the branch starts at zero unless skipinit's gain does that
            conv3 = register("conv3", parts.conv(mid, out, 1, 1, 1, cfg.skipinit() ? 1.0 : 0.0));
            Module last = cfg.reg() ? null : parts.attn(out);
            attnLast = last == null ? null : register("attn_last", last);
            dropPath = register("drop_path", DropPath.orIdentity(dropPathRate));
            skipinitGain = cfg.skipinit() ? parameter("skipinit_gain") : null;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out = Scalars.mul(act1.forward(x), beta);
            NDArray shortcut = downsample == null ? x : downsample.forward(out);
            out = conv1.forward(out);
            out = conv2.forward(act2.forward(out));
            if (conv2b != null) {
                out = conv2b.forward(act2b.forward(out));
            }
            if (attn != null) {
                out = Scalars.mul(attn.forward(out), attnGain);
            }
            out = conv3.forward(act3.forward(out));
            if (attnLast != null) {
                out = Scalars.mul(attnLast.forward(out), attnGain);
            }
            out = dropPath.forward(out);
            if (skipinitGain != null) {
                out = out.mul(skipinitGain.getArray());
            }
            return Scalars.mul(out, alpha).add(shortcut);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            if (skipinitGain != null) {
                Init.constant(skipinitGain.getArray(), 0f);
            }
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module finalAct;
    private final int numFeatures;

    public NfNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        Parts parts = new Parts(cfg);

        int stemChs = Layers.makeDivisible(
                (cfg.stemChs() > 0 ? cfg.stemChs() : cfg.channels().get(0)) * cfg.widthFactor(), cfg.chDiv());
        NamedSequential stem = register("stem", new NamedSequential());
        int stemStride = buildStem(stem, parts, inChans, stemChs);
        addTrunkSteps(stem.children().values());

        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int prev = stemChs;
        int netStride = stemStride;
        double expectedVar = 1.0;
        for (int s = 0; s < 4; s++) {
            // output_stride 32: no dilation
            int stride = s == 0 && stemStride > 2 ? 1 : 2;
            netStride *= stride;
            int out = Layers.makeDivisible(cfg.channels().get(s) * cfg.widthFactor(), cfg.chDiv());
            Sequential stage = new Sequential();
            for (int b = 0; b < cfg.depths().get(s); b++) {
                boolean firstBlock = b == 0 && s == 0;
                stage.add(new NormFreeBlock(
                        parts,
                        prev,
                        out,
                        b == 0 ? stride : 1,
                        cfg.alpha(),
                        1.0 / Math.sqrt(expectedVar),
                        cfg.reg() && firstBlock ? 1.0 : cfg.bottleRatio(),
                        dpr[s][b]));
                if (b == 0) {
                    // the expected variance restarts after each stage's first (transition) block
                    expectedVar = 1.0;
                }
                expectedVar += cfg.alpha() * cfg.alpha();
                prev = out;
            }
            stages.add(stage);
            addTrunkStep(stage);
            if (s < 3 || cfg.numFeatures() == 0) {
                addFeatureInfo(prev, netStride, "stages." + s);
            }
        }

        if (cfg.numFeatures() > 0) {
            numFeatures = Layers.makeDivisible(cfg.widthFactor() * cfg.numFeatures(), cfg.chDiv());
            addTrunkStep(register("final_conv", parts.conv(prev, numFeatures, 1, 1)));
            addFeatureInfo(numFeatures, netStride, "final_conv");
        } else {
            numFeatures = prev;
            register("final_conv", new Identity());
        }
        finalAct = register("final_act", parts.act());
        registerNestedClassifierHead("head", numFeatures);
    }

    /**
     * timm's {@code create_stem} into {@code stem}; adds the stem's feature level at the step it ends, and returns the
     * stem's stride.
     */
    private int buildStem(NamedSequential stem, Parts parts, int in, int out) {
        String type = cfg.stemType();
        int stride = 2;
        String feature = "conv";
        int featureChs = out;
        if (type.contains("deep")) {
            int[] chs;
            int[] strides;
            if (type.contains("quad")) {
                // 4 convs, NFNet-F
                chs = new int[] {out / 8, out / 4, out / 2, out};
                strides = new int[] {2, 1, 1, 2};
                stride = 4;
                feature = "conv3";
            } else {
                chs = type.contains("tiered")
                        ? new int[] {3 * out / 8, out / 2, out} // 'T' ResNets
                        : new int[] {out / 2, out / 2, out}; // 'D' ResNets
                strides = new int[] {2, 1, 1};
                feature = "conv2";
            }
            featureChs = out / 2;
            for (int i = 0; i < chs.length; i++) {
                stem.add("conv" + (i + 1), parts.conv(in, chs[i], 3, strides[i]));
                if (i != chs.length - 1) {
                    stem.add("act" + (i + 2), parts.act());
                }
                in = chs[i];
            }
        } else if (type.contains("3x3")) {
            // RegNet's
            stem.add("conv", parts.conv(in, out, 3, 2));
        } else {
            // ResNet's
            stem.add("conv", parts.conv(in, out, 7, 2));
        }
        if (type.contains("pool")) {
            stem.add("pool", Pool2d.max(3, 2, 1));
            stride = 4;
        }
        List<String> names = new ArrayList<>(stem.children().keySet());
        addFeatureInfo(featureChs, 2, "stem." + feature, names.indexOf(feature));
        return stride;
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return finalAct.forward(forwardTrunk(x));
    }

    /**
     * timm's NFNet init: every 2-D conv (the standardized ones and SE's) normal with std 1/sqrt(fan_in) and zero bias,
     * the classifier normal with std 0.01 (or zero) and zero bias. ECA's 1-D conv keeps PyTorch's default, as timm's
     * loop only matches {@code nn.Conv2d}; the convs' gains keep their init (1, or 0 on a branch's last conv).
     */
    @Override
    protected void initWeights(SplittableRandom random) {
        for (Map.Entry<String, Module> e : namedModules().entrySet()) {
            Module m = e.getValue();
            if (m instanceof Linear l && e.getKey().contains("fc")) {
                if (cfg.zeroInitFc()) {
                    Init.constant(l.weight().getArray(), 0f);
                } else {
                    Init.normal(l.weight().getArray(), 0.01, random);
                }
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            } else if (m instanceof Conv2d c && c.kernelSize().length == 2) {
                NDArray w = c.weight().getArray();
                Init.normal(w, 1.0 / Math.sqrt(Init.fanIn(w)), random);
                if (c.bias() != null) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            }
        }
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers every name of timm's nfnet.py. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "nfnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            List<List<Integer>> fDepths = List.of(
                    List.of(1, 2, 6, 3),
                    List.of(2, 4, 12, 6),
                    List.of(3, 6, 18, 9),
                    List.of(4, 8, 24, 12),
                    List.of(5, 10, 30, 15),
                    List.of(6, 12, 36, 18),
                    List.of(7, 14, 42, 21),
                    List.of(8, 16, 48, 24));
            int[] fSizes = {192, 224, 256, 320, 384, 416, 448, 480};
            for (int i = 0; i <= 6; i++) {
                add(m, "dm_nfnet_f" + i, Config.dmNfnet(fDepths.get(i)), fSizes[i]);
            }
            for (int i = 0; i <= 7; i++) {
                add(m, "nfnet_f" + i, Config.nfnet(fDepths.get(i)), fSizes[i]);
            }
            add(m, "nfnet_l0", Config.light(fDepths.get(0), 1.5, Attn.SE, 0.25), 224);
            add(m, "eca_nfnet_l0", Config.light(fDepths.get(0), 1.5, Attn.ECA, 0), 224);
            add(m, "eca_nfnet_l1", Config.light(fDepths.get(1), 2, Attn.ECA, 0), 256);
            add(m, "eca_nfnet_l2", Config.light(fDepths.get(2), 2, Attn.ECA, 0), 320);
            add(m, "eca_nfnet_l3", Config.light(fDepths.get(3), 2, Attn.ECA, 0), 352);

            // NOTE (timm): not quite the paper's widths, which need ch_div 1; rounded to multiples of 8
            addStemConv(m, "nf_regnet_b0", Config.regnet(List.of(1, 3, 6, 6), List.of(48, 104, 208, 440)), 192);
            addStemConv(m, "nf_regnet_b1", Config.regnet(List.of(2, 4, 7, 7), List.of(48, 104, 208, 440)), 256);
            addStemConv(m, "nf_regnet_b2", Config.regnet(List.of(2, 4, 8, 8), List.of(56, 112, 232, 488)), 240);
            addStemConv(m, "nf_regnet_b3", Config.regnet(List.of(2, 5, 9, 9), List.of(56, 128, 248, 528)), 288);
            addStemConv(m, "nf_regnet_b4", Config.regnet(List.of(2, 6, 11, 11), List.of(64, 144, 288, 616)), 320);
            addStemConv(m, "nf_regnet_b5", Config.regnet(List.of(3, 7, 14, 14), List.of(80, 168, 336, 704)), 384);

            List<Integer> r26 = List.of(2, 2, 2, 2);
            List<Integer> r50 = List.of(3, 4, 6, 3);
            List<Integer> r101 = List.of(3, 4, 23, 3);
            addStemConv(m, "nf_resnet26", Config.resnet(r26), 224);
            addStemConv(m, "nf_resnet50", Config.resnet(r50), 224);
            addStemConv(m, "nf_resnet101", Config.resnet(r101), 224);
            addStemConv(m, "nf_seresnet26", Config.resnet(r26).withAttn(Attn.SE, 1.0 / 16), 224);
            addStemConv(m, "nf_seresnet50", Config.resnet(r50).withAttn(Attn.SE, 1.0 / 16), 224);
            addStemConv(m, "nf_seresnet101", Config.resnet(r101).withAttn(Attn.SE, 1.0 / 16), 224);
            addStemConv(m, "nf_ecaresnet26", Config.resnet(r26).withAttn(Attn.ECA, 0), 224);
            addStemConv(m, "nf_ecaresnet50", Config.resnet(r50).withAttn(Attn.ECA, 0), 224);
            addStemConv(m, "nf_ecaresnet101", Config.resnet(r101).withAttn(Attn.ECA, 0), 224);

            add(
                    m,
                    "test_nfnet",
                    Config.light(List.of(1, 1, 1, 1), 1.5, Attn.SE, 0.25).toBuilder()
                            .channels(List.of(32, 64, 96, 128))
                            .numFeatures((int) (128 * 1.5))
                            .groupSize(8)
                            .build(),
                    160);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            add(m, name, c, size, "stem.conv1");
        }

        private static void addStemConv(List<ModelEntry> m, String name, Config c, int size) {
            add(m, name, c, size, "stem.conv");
        }

        // timm's _dcfg for the names the weights table lacks: bicubic, crop 0.9, ImageNet statistics
        private static void add(List<ModelEntry> m, String name, Config c, int size, String firstConv) {
            PretrainedCfg fallback = new PretrainedCfg(
                    name,
                    "",
                    "",
                    "",
                    List.of(3, size, size),
                    "bicubic",
                    0.9,
                    "center",
                    PretrainedCfg.IMAGENET_MEAN,
                    PretrainedCfg.IMAGENET_STD,
                    1000,
                    firstConv,
                    "head.fc",
                    "apache-2.0",
                    "");
            m.add(new ModelEntry(name, "nfnet", args -> new NfNet(c, args), fallback));
        }
    }
}
