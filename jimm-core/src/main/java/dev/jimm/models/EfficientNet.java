package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2dSame;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.models.EfficientNetBuilder.ArchDef;
import dev.jimm.models.EfficientNetBuilder.NormSpec;
import dev.jimm.models.EfficientNetBuilder.RoundChs;
import dev.jimm.models.EfficientNetBuilder.SeSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * timm's {@code models/efficientnet.py}: EfficientNet B0-B8/L2, EfficientNet-Lite, -EdgeTPU, -X, EfficientNetV2,
 * MobileNet-V1/V2, MnasNet, FBNet-C, SPNASNet, TinyNet, MobileNet-EdgeTPU and their TensorFlow ports ({@code tf_*},
 * "same" padding and BN eps 1e-3): a stem conv, stages of blocks from arch strings, a 1x1 head conv with norm and
 * activation, pooling and a linear classifier.
 */
public final class EfficientNet extends EfficientNetBase {

    /**
     * An EfficientNet-style variant, as the keyword arguments timm's generators pass. Made with {@link #builder()};
     * {@link #toBuilder()} derives variants by field name.
     *
     * @param trunk the stem and blocks
     * @param numFeatures channels of the head conv (0: no head conv)
     * @param pruned the timm variant whose pruned layer widths the model takes ({@link PrunedWidths}), or "" for none
     */
    public record Config(Trunk trunk, int numFeatures, String pruned) {

        /** A builder with timm's defaults: stem 32 and kernel 3, BatchNorm, EfficientNet's SE, no head conv. */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields, to derive another one. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** The TensorFlow port of this variant: "same" padding and BN eps 1e-3. */
        public Config tf() {
            return toBuilder().tf().build();
        }

        /** The same variant with BN eps 1e-3 (weights trained with TensorFlow's default). */
        public Config tfEps() {
            return toBuilder()
                    .norm(trunk.norm().withEps(EfficientNetBuilder.BN_EPS_TF))
                    .build();
        }

        /** The same variant with anti-aliased downsampling in its blocks. */
        public Config withAa(String layer) {
            return toBuilder().aa(layer).build();
        }

        /** The same variant with another squeeze-excite flavour. */
        public Config se(SeSpec s) {
            return toBuilder().se(s).build();
        }

        /** The same variant with another norm layer. */
        public Config norm(NormSpec n) {
            return toBuilder().norm(n).build();
        }

        /** The same variant at the pruned widths timm lists for {@code variant} ({@code efficientnet_b1_pruned}). */
        public Config pruned(String variant) {
            return toBuilder().pruned(variant).build();
        }

        /** Builds a {@link Config} by field name; {@link #build()} checks it. */
        public static final class Builder extends TrunkBuilder<Builder> {
            private int numFeatures;
            private String pruned = "";

            private Builder() {}

            private Builder(Config c) {
                super(c.trunk());
                numFeatures = c.numFeatures();
                pruned = c.pruned();
            }

            @Override
            Builder self() {
                return this;
            }

            /** The config, failing on a missing or invalid field. */
            public Config build() {
                Trunk t = trunk("EfficientNet");
                if (numFeatures < 0) {
                    throw new IllegalArgumentException("EfficientNet config: numFeatures " + numFeatures + " < 0");
                }
                return new Config(t, numFeatures, pruned);
            }

            /** The timm variant whose pruned widths the model takes ("" for none, the default). */
            public Builder pruned(String variant) {
                pruned = variant == null ? "" : variant;
                return this;
            }

            /** Channels of the head conv (0: no head conv). */
            public Builder numFeatures(int value) {
                numFeatures = value;
                return this;
            }
        }
    }

    private final Config cfg;
    private final Module convHead;
    private final Module bn2;

    public EfficientNet(Config cfg, ModelArgs args) {
        super(args, cfg.trunk(), cfg.pruned(), false, null);
        this.cfg = cfg;
        Trunk t = cfg.trunk();
        int headChs = cfg.numFeatures() > 0 && pruned != null ? pruned.out("conv_head") : cfg.numFeatures();
        if (headChs > 0) {
            convHead = register("conv_head", Conv2dSame.create(trunkChs, headChs, 1, 1, 1, 1, false, t.padSame()));
            bn2 = register("bn2", t.norm().create(headChs, t.act()));
        } else {
            convHead = register("conv_head", new Identity());
            bn2 = register("bn2", new Identity());
        }
        registerClassifierHead("classifier", headChs > 0 ? headChs : trunkChs);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return bn2.forward(convHead.forward(forwardTrunk(x)));
    }

    // ---- configs and registrations ----------------------------------------------------------------

    private static final Activation.Kind RELU = Activation.Kind.RELU;
    private static final Activation.Kind RELU6 = Activation.Kind.RELU6;
    private static final Activation.Kind SILU = Activation.Kind.SILU;

    private static Config base(ArchDef a, int numFeatures, int stem, RoundChs r, Activation.Kind act) {
        return Config.builder()
                .arch(a)
                .numFeatures(numFeatures)
                .stemSize(stem)
                .roundChs(r)
                .act(act)
                .build();
    }

    /** timm's _gen_mnasnet_a1 (semnasnet). */
    static Config mnasnetA1(double width) {
        ArchDef a = arch(
                s("ds_r1_k3_s1_e1_c16_noskip"),
                s("ir_r2_k3_s2_e6_c24"),
                s("ir_r3_k5_s2_e3_c40_se0.25"),
                s("ir_r4_k3_s2_e6_c80"),
                s("ir_r2_k3_s1_e6_c112_se0.25"),
                s("ir_r3_k5_s2_e6_c160_se0.25"),
                s("ir_r1_k3_s1_e6_c320"));
        return base(a, 1280, 32, RoundChs.of(width), RELU);
    }

    /** timm's _gen_mnasnet_b1 (mnasnet). */
    static Config mnasnetB1(double width) {
        ArchDef a = arch(
                s("ds_r1_k3_s1_c16_noskip"),
                s("ir_r3_k3_s2_e3_c24"),
                s("ir_r3_k5_s2_e3_c40"),
                s("ir_r3_k5_s2_e6_c80"),
                s("ir_r2_k3_s1_e6_c96"),
                s("ir_r4_k5_s2_e6_c192"),
                s("ir_r1_k3_s1_e6_c320_noskip"));
        return base(a, 1280, 32, RoundChs.of(width), RELU);
    }

    static Config mnasnetSmall(double width) {
        ArchDef a = arch(
                s("ds_r1_k3_s1_c8"),
                s("ir_r1_k3_s2_e3_c16"),
                s("ir_r2_k3_s2_e6_c16"),
                s("ir_r4_k5_s2_e6_c32_se0.25"),
                s("ir_r3_k3_s1_e6_c32_se0.25"),
                s("ir_r3_k5_s2_e6_c88_se0.25"),
                s("ir_r1_k3_s1_e6_c144"));
        return base(a, 1280, 8, RoundChs.of(width), RELU);
    }

    static Config mobilenetV1(double width, boolean headConv) {
        ArchDef a = arch(
                s("dsa_r1_k3_s1_c64"),
                s("dsa_r2_k3_s2_c128"),
                s("dsa_r2_k3_s2_c256"),
                s("dsa_r6_k3_s2_c512"),
                s("dsa_r2_k3_s2_c1024"));
        RoundChs r = RoundChs.of(width);
        int head = headConv ? Math.max(1024, r.apply(1024)) : 0;
        return base(a, head, 32, r, RELU6);
    }

    static Config mobilenetV2(double width, double depth, boolean fixStemHead) {
        ArchDef a = arch(
                        s("ds_r1_k3_s1_c16"),
                        s("ir_r2_k3_s2_e6_c24"),
                        s("ir_r3_k3_s2_e6_c32"),
                        s("ir_r4_k3_s2_e6_c64"),
                        s("ir_r3_k3_s1_e6_c96"),
                        s("ir_r3_k3_s2_e6_c160"),
                        s("ir_r1_k3_s1_e6_c320"))
                .depth(depth)
                .fixFirstLast(fixStemHead);
        RoundChs r = RoundChs.of(width);
        int head = fixStemHead ? 1280 : Math.max(1280, r.apply(1280));
        return base(a, head, 32, r, RELU6).toBuilder().fixStem(fixStemHead).build();
    }

    static Config fbnetc(double width) {
        ArchDef a = arch(
                s("ir_r1_k3_s1_e1_c16"),
                s("ir_r1_k3_s2_e6_c24", "ir_r2_k3_s1_e1_c24"),
                s("ir_r1_k5_s2_e6_c32", "ir_r1_k5_s1_e3_c32", "ir_r1_k5_s1_e6_c32", "ir_r1_k3_s1_e6_c32"),
                s("ir_r1_k5_s2_e6_c64", "ir_r1_k5_s1_e3_c64", "ir_r2_k5_s1_e6_c64"),
                s("ir_r3_k5_s1_e6_c112", "ir_r1_k5_s1_e3_c112"),
                s("ir_r4_k5_s2_e6_c184"),
                s("ir_r1_k3_s1_e6_c352"));
        return base(a, 1984, 16, RoundChs.of(width), RELU);
    }

    static Config spnasnet(double width) {
        ArchDef a = arch(
                s("ds_r1_k3_s1_c16_noskip"),
                s("ir_r3_k3_s2_e3_c24"),
                s("ir_r1_k5_s2_e6_c40", "ir_r3_k3_s1_e3_c40"),
                s("ir_r1_k5_s2_e6_c80", "ir_r3_k3_s1_e3_c80"),
                s("ir_r1_k5_s1_e6_c96", "ir_r3_k5_s1_e3_c96"),
                s("ir_r4_k5_s2_e6_c192"),
                s("ir_r1_k3_s1_e6_c320_noskip"));
        return base(a, 1280, 32, RoundChs.of(width), RELU);
    }

    private static final String[][] EFFNET_STAGES = {
        {"ds_r1_k3_s1_e1_c16_se0.25"}, {"ir_r2_k3_s2_e6_c24_se0.25"}, {"ir_r2_k5_s2_e6_c40_se0.25"},
        {"ir_r3_k3_s2_e6_c80_se0.25"}, {"ir_r3_k5_s1_e6_c112_se0.25"}, {"ir_r4_k5_s2_e6_c192_se0.25"},
        {"ir_r1_k3_s1_e6_c320_se0.25"},
    };

    /** timm's _gen_efficientnet. */
    static Config efficientnet(double width, double depth, int divisor, Integer groupSize) {
        ArchDef a = arch(EFFNET_STAGES).depth(depth).groupSize(groupSize);
        RoundChs r = new RoundChs(width, divisor, 0.9);
        return base(a, r.apply(1280), 32, r, SILU);
    }

    static Config efficientnetEdge(double width, double depth) {
        ArchDef a = arch(
                        s("er_r1_k3_s1_e4_c24_fc24_noskip"),
                        s("er_r2_k3_s2_e8_c32"),
                        s("er_r4_k3_s2_e8_c48"),
                        s("ir_r5_k5_s2_e8_c96"),
                        s("ir_r4_k5_s1_e8_c144"),
                        s("ir_r2_k5_s2_e8_c192"))
                .depth(depth);
        RoundChs r = RoundChs.of(width);
        return base(a, r.apply(1280), 32, r, RELU);
    }

    /** timm's _gen_efficientnet_condconv. */
    static Config efficientnetCondConv(double width, double depth, int expertsMultiplier) {
        ArchDef a = arch(
                        s("ds_r1_k3_s1_e1_c16_se0.25"),
                        s("ir_r2_k3_s2_e6_c24_se0.25"),
                        s("ir_r2_k5_s2_e6_c40_se0.25"),
                        s("ir_r3_k3_s2_e6_c80_se0.25"),
                        s("ir_r3_k5_s1_e6_c112_se0.25_cc4"),
                        s("ir_r4_k5_s2_e6_c192_se0.25_cc4"),
                        s("ir_r1_k3_s1_e6_c320_se0.25_cc4"))
                .depth(depth)
                .experts(expertsMultiplier);
        RoundChs r = RoundChs.of(width);
        return base(a, r.apply(1280), 32, r, SILU);
    }

    static Config efficientnetLite(double width, double depth) {
        ArchDef a = arch(
                        s("ds_r1_k3_s1_e1_c16"),
                        s("ir_r2_k3_s2_e6_c24"),
                        s("ir_r2_k5_s2_e6_c40"),
                        s("ir_r3_k3_s2_e6_c80"),
                        s("ir_r3_k5_s1_e6_c112"),
                        s("ir_r4_k5_s2_e6_c192"),
                        s("ir_r1_k3_s1_e6_c320"))
                .depth(depth)
                .fixFirstLast(true);
        return base(a, 1280, 32, RoundChs.of(width), RELU6).toBuilder()
                .fixStem(true)
                .build();
    }

    static Config efficientnetV2Base(double width, double depth) {
        ArchDef a = arch(
                        s("cn_r1_k3_s1_e1_c16_skip"),
                        s("er_r2_k3_s2_e4_c32"),
                        s("er_r2_k3_s2_e4_c48"),
                        s("ir_r3_k3_s2_e4_c96_se0.25"),
                        s("ir_r5_k3_s1_e6_c112_se0.25"),
                        s("ir_r8_k3_s2_e6_c192_se0.25"))
                .depth(depth);
        RoundChs r = new RoundChs(width, 8, 0.0);
        return base(a, r.apply(1280), 32, r, SILU);
    }

    static Config efficientnetV2S(double width, ArchDefDepth depth, boolean rw) {
        String[] first = rw ? s("er_r2_k3_s1_e1_c24") : s("cn_r2_k3_s1_e1_c24_skip");
        String[] lastStage = rw ? s("ir_r15_k3_s2_e6_c272_se0.25") : s("ir_r15_k3_s2_e6_c256_se0.25");
        ArchDef a = depth.apply(arch(
                first,
                s("er_r4_k3_s2_e4_c48"),
                s("er_r4_k3_s2_e4_c64"),
                s("ir_r6_k3_s2_e4_c128_se0.25"),
                s("ir_r9_k3_s1_e6_c160_se0.25"),
                lastStage));
        RoundChs r = RoundChs.of(width);
        return base(a, r.apply(rw ? 1792 : 1280), 24, r, SILU);
    }

    /** A depth multiplier (or one per stage) applied to an arch. */
    @FunctionalInterface
    interface ArchDefDepth {
        ArchDef apply(ArchDef a);

        static ArchDefDepth of(double... m) {
            return a -> a.depth(m);
        }
    }

    static Config efficientnetV2M() {
        ArchDef a = arch(
                s("cn_r3_k3_s1_e1_c24_skip"),
                s("er_r5_k3_s2_e4_c48"),
                s("er_r5_k3_s2_e4_c80"),
                s("ir_r7_k3_s2_e4_c160_se0.25"),
                s("ir_r14_k3_s1_e6_c176_se0.25"),
                s("ir_r18_k3_s2_e6_c304_se0.25"),
                s("ir_r5_k3_s1_e6_c512_se0.25"));
        return base(a, 1280, 24, RoundChs.of(1.0), SILU);
    }

    static Config efficientnetV2L() {
        ArchDef a = arch(
                s("cn_r4_k3_s1_e1_c32_skip"),
                s("er_r7_k3_s2_e4_c64"),
                s("er_r7_k3_s2_e4_c96"),
                s("ir_r10_k3_s2_e4_c192_se0.25"),
                s("ir_r19_k3_s1_e6_c224_se0.25"),
                s("ir_r25_k3_s2_e6_c384_se0.25"),
                s("ir_r7_k3_s1_e6_c640_se0.25"));
        return base(a, 1280, 32, RoundChs.of(1.0), SILU);
    }

    static Config efficientnetV2XL() {
        ArchDef a = arch(
                s("cn_r4_k3_s1_e1_c32_skip"),
                s("er_r8_k3_s2_e4_c64"),
                s("er_r8_k3_s2_e4_c96"),
                s("ir_r16_k3_s2_e4_c192_se0.25"),
                s("ir_r24_k3_s1_e6_c256_se0.25"),
                s("ir_r32_k3_s2_e6_c512_se0.25"),
                s("ir_r8_k3_s1_e6_c640_se0.25"));
        return base(a, 1280, 32, RoundChs.of(1.0), SILU);
    }

    static Config efficientnetX(double width, double depth, int version) {
        String e1 = version == 1 ? "6" : "4";
        ArchDef a = arch(
                        s("ds_r1_k3_s1_e1_c16_se0.25_d1"),
                        s("er_r2_k3_s2_e" + e1 + "_c24_se0.25_nre"),
                        s("er_r2_k5_s2_e" + e1 + "_c40_se0.25_nre"),
                        s("ir_r3_k3_s2_e" + e1 + "_c80_se0.25"),
                        s("ir_r3_k5_s1_e6_c112_se0.25"),
                        s("ir_r4_k5_s2_e6_c192_se0.25"),
                        s("ir_r1_k3_s1_e6_c320_se0.25"))
                .depth(depth);
        RoundChs r = RoundChs.of(width);
        return base(a, r.apply(1280), 32, r, SILU);
    }

    /** timm's _gen_mixnet_s. */
    static Config mixnetS(double width) {
        ArchDef a = arch(
                s("ds_r1_k3_s1_e1_c16"),
                s("ir_r1_k3_a1.1_p1.1_s2_e6_c24", "ir_r1_k3_a1.1_p1.1_s1_e3_c24"),
                s("ir_r1_k3.5.7_s2_e6_c40_se0.5_nsw", "ir_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw"),
                s("ir_r1_k3.5.7_p1.1_s2_e6_c80_se0.25_nsw", "ir_r2_k3.5_p1.1_s1_e6_c80_se0.25_nsw"),
                s("ir_r1_k3.5.7_a1.1_p1.1_s1_e6_c120_se0.5_nsw", "ir_r2_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw"),
                s("ir_r1_k3.5.7.9.11_s2_e6_c200_se0.5_nsw", "ir_r2_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw"));
        return base(a, 1536, 16, RoundChs.of(width), RELU);
    }

    /** timm's _gen_mixnet_m (also mixnet_l/xl/xxl by width and depth). */
    static Config mixnetM(double width, double depth) {
        ArchDef a = arch(
                        s("ds_r1_k3_s1_e1_c24"),
                        s("ir_r1_k3.5.7_a1.1_p1.1_s2_e6_c32", "ir_r1_k3_a1.1_p1.1_s1_e3_c32"),
                        s("ir_r1_k3.5.7.9_s2_e6_c40_se0.5_nsw", "ir_r3_k3.5_a1.1_p1.1_s1_e6_c40_se0.5_nsw"),
                        s("ir_r1_k3.5.7_s2_e6_c80_se0.25_nsw", "ir_r3_k3.5.7.9_a1.1_p1.1_s1_e6_c80_se0.25_nsw"),
                        s("ir_r1_k3_s1_e6_c120_se0.5_nsw", "ir_r3_k3.5.7.9_a1.1_p1.1_s1_e3_c120_se0.5_nsw"),
                        s("ir_r1_k3.5.7.9_s2_e6_c200_se0.5_nsw", "ir_r3_k3.5.7.9_p1.1_s1_e6_c200_se0.5_nsw"))
                .depth(depth)
                .withRoundDepth();
        return base(a, 1536, 24, RoundChs.of(width), RELU);
    }

    static Config tinynet(double width, double depth) {
        ArchDef a = arch(EFFNET_STAGES).depth(depth).withRoundDepth();
        int head = Math.max(1280, RoundChs.of(width).apply(1280));
        return base(a, head, 32, RoundChs.of(width), SILU).toBuilder()
                .fixStem(true)
                .build();
    }

    static Config mobilenetEdgeTpu(String variant) {
        if (!variant.contains("edgetpu_v2")) {
            ArchDef a = arch(
                    s("cn_r1_k1_s1_c16"),
                    s("er_r1_k3_s2_e8_c32", "er_r3_k3_s1_e4_c32"),
                    s("er_r1_k3_s2_e8_c48", "er_r3_k3_s1_e4_c48"),
                    s("ir_r1_k3_s2_e8_c96", "ir_r3_k3_s1_e4_c96"),
                    s("ir_r1_k3_s1_e8_c96_noskip", "ir_r3_k3_s1_e4_c96"),
                    s("ir_r1_k5_s2_e8_c160", "ir_r3_k5_s1_e4_c160"),
                    s("ir_r1_k3_s1_e8_c192"));
            return base(a, 1280, 32, RoundChs.of(1.0), RELU);
        }
        int stem = 64;
        int stemKernel = 5;
        int gs = 64;
        int numFeatures = 1280;
        int[] c;
        if (variant.contains("edgetpu_v2_xs")) {
            stem = 32;
            stemKernel = 3;
            c = new int[] {16, 32, 48, 96, 144, 160, 192};
        } else if (variant.contains("edgetpu_v2_s")) {
            c = new int[] {24, 48, 64, 128, 160, 192, 256};
        } else if (variant.contains("edgetpu_v2_m")) {
            c = new int[] {32, 64, 80, 160, 192, 240, 320};
            numFeatures = 1344;
        } else if (variant.contains("edgetpu_v2_l")) {
            stemKernel = 7;
            gs = 128;
            c = new int[] {32, 64, 96, 192, 240, 256, 384};
            numFeatures = 1408;
        } else {
            throw new IllegalArgumentException("unknown MobileNet-EdgeTPU v2 variant " + variant);
        }
        ArchDef a = arch(
                s("cn_r1_k1_s1_c" + c[0]),
                s("er_r1_k3_s2_e8_c" + c[1], "er_r1_k3_s1_e4_gs" + gs + "_c" + c[1]),
                s(
                        "er_r1_k3_s2_e8_c" + c[2],
                        "er_r1_k3_s1_e4_gs" + gs + "_c" + c[2],
                        "er_r1_k3_s1_e4_c" + c[2],
                        "er_r1_k3_s1_e4_gs" + gs + "_c" + c[2]),
                s("er_r1_k3_s2_e8_c" + c[3], "ir_r3_k3_s1_e4_c" + c[3]),
                s("ir_r1_k3_s1_e8_c" + c[4], "ir_r3_k3_s1_e4_c" + c[4]),
                s("ir_r1_k3_s2_e8_c" + c[5], "ir_r3_k3_s1_e4_c" + c[5]),
                s("ir_r1_k3_s1_e8_c" + c[6]));
        return base(a, numFeatures, stem, RoundChs.of(1.0), RELU).toBuilder()
                .stemKernel(stemKernel)
                .build();
    }

    static Config testEfficientnet() {
        ArchDef a = arch(
                s("cn_r1_k3_s1_e1_c16_skip"),
                s("er_r1_k3_s2_e4_c24"),
                s("er_r1_k3_s2_e4_c32"),
                s("ir_r1_k3_s2_e4_c48_se0.25"),
                s("ir_r1_k3_s2_e4_c64_se0.25"));
        RoundChs r = new RoundChs(1.0, 8, 0.0);
        return base(a, r.apply(256), 24, r, SILU);
    }

    /** Registers every name of timm's efficientnet.py that these blocks build. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "efficientnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "mnasnet_050", mnasnetB1(0.5), 224);
            add(m, "mnasnet_075", mnasnetB1(0.75), 224);
            add(m, "mnasnet_100", mnasnetB1(1.0), 224);
            add(m, "mnasnet_140", mnasnetB1(1.4), 224);
            add(m, "semnasnet_050", mnasnetA1(0.5), 224);
            add(m, "semnasnet_075", mnasnetA1(0.75), 224);
            add(m, "semnasnet_100", mnasnetA1(1.0), 224);
            add(m, "semnasnet_140", mnasnetA1(1.4), 224);
            add(m, "mnasnet_small", mnasnetSmall(1.0), 224);
            add(m, "mobilenetv1_100", mobilenetV1(1.0, false), 224);
            add(m, "mobilenetv1_100h", mobilenetV1(1.0, true), 224);
            add(m, "mobilenetv1_125", mobilenetV1(1.25, false), 224);
            add(m, "mobilenetv2_035", mobilenetV2(0.35, 1.0, false), 224);
            add(m, "mobilenetv2_050", mobilenetV2(0.5, 1.0, false), 224);
            add(m, "mobilenetv2_075", mobilenetV2(0.75, 1.0, false), 224);
            add(m, "mobilenetv2_100", mobilenetV2(1.0, 1.0, false), 224);
            add(m, "mobilenetv2_140", mobilenetV2(1.4, 1.0, false), 224);
            add(m, "mobilenetv2_110d", mobilenetV2(1.1, 1.2, true), 224);
            add(m, "mobilenetv2_120d", mobilenetV2(1.2, 1.4, true), 224);
            // timm builds fbnetc_100 with BN eps 1e-3 only when loading its pretrained weights
            add(m, "fbnetc_100", fbnetc(1.0), 224);
            add(m, "spnasnet_100", spnasnet(1.0), 224);

            double[][] b = {
                {1.0, 1.0},
                {1.0, 1.1},
                {1.1, 1.2},
                {1.2, 1.4},
                {1.4, 1.8},
                {1.6, 2.2},
                {1.8, 2.6},
                {2.0, 3.1},
                {2.2, 3.6}
            };
            int[] sizes = {224, 240, 256, 288, 320, 448, 528, 600, 672};
            int[] tfSizes = {224, 240, 260, 300, 380, 456, 528, 600, 672};
            for (int i = 0; i < b.length; i++) {
                add(m, "efficientnet_b" + i, efficientnet(b[i][0], b[i][1], 8, null), sizes[i]);
            }
            add(m, "efficientnet_l2", efficientnet(4.3, 5.3, 8, null), 800);
            add(m, "efficientnet_b0_gn", efficientnet(1.0, 1.0, 8, null).norm(NormSpec.groupNorm(8)), 224);
            add(m, "efficientnet_b0_g8_gn", efficientnet(1.0, 1.0, 8, 8).norm(NormSpec.groupNorm(8)), 224);
            add(m, "efficientnet_b0_g16_evos", efficientnet(1.0, 1.0, 16, 16), 224);
            add(m, "efficientnet_b3_gn", efficientnet(1.2, 1.4, 16, null).norm(NormSpec.groupNorm(16)), 288);
            add(m, "efficientnet_b3_g8_gn", efficientnet(1.2, 1.4, 16, 8).norm(NormSpec.groupNorm(16)), 288);
            add(m, "efficientnet_blur_b0", efficientnet(1.0, 1.0, 8, null).withAa("blurpc"), 224);
            // knapsack-pruned B1-B3 (arXiv 2002.08258): "same" padding, BN eps 1e-3, timm's listed layer widths
            add(
                    m,
                    "efficientnet_b1_pruned",
                    efficientnet(1.0, 1.1, 8, null).tf().pruned("efficientnet_b1_pruned"),
                    240);
            add(
                    m,
                    "efficientnet_b2_pruned",
                    efficientnet(1.1, 1.2, 8, null).tf().pruned("efficientnet_b2_pruned"),
                    260);
            add(
                    m,
                    "efficientnet_b3_pruned",
                    efficientnet(1.2, 1.4, 8, null).tf().pruned("efficientnet_b3_pruned"),
                    300);
            add(m, "efficientnet_es", efficientnetEdge(1.0, 1.0), 224);
            add(m, "efficientnet_es_pruned", efficientnetEdge(1.0, 1.0), 224);
            add(m, "efficientnet_em", efficientnetEdge(1.0, 1.1), 240);
            add(m, "efficientnet_el", efficientnetEdge(1.2, 1.4), 300);
            add(m, "efficientnet_el_pruned", efficientnetEdge(1.2, 1.4), 300);
            add(m, "efficientnet_cc_b0_4e", efficientnetCondConv(1.0, 1.0, 1), 224);
            add(m, "efficientnet_cc_b0_8e", efficientnetCondConv(1.0, 1.0, 2), 224);
            add(m, "efficientnet_cc_b1_8e", efficientnetCondConv(1.0, 1.1, 2), 240);
            add(m, "tf_efficientnet_cc_b0_4e", efficientnetCondConv(1.0, 1.0, 1).tf(), 224);
            add(m, "tf_efficientnet_cc_b0_8e", efficientnetCondConv(1.0, 1.0, 2).tf(), 224);
            add(m, "tf_efficientnet_cc_b1_8e", efficientnetCondConv(1.0, 1.1, 2).tf(), 240);
            double[][] lite = {{1.0, 1.0}, {1.0, 1.1}, {1.1, 1.2}, {1.2, 1.4}, {1.4, 1.8}};
            int[] liteSizes = {224, 240, 260, 300, 380};
            for (int i = 0; i < lite.length; i++) {
                add(m, "efficientnet_lite" + i, efficientnetLite(lite[i][0], lite[i][1]), liteSizes[i]);
            }
            add(m, "efficientnetv2_rw_t", efficientnetV2S(0.8, ArchDefDepth.of(0.9), false), 224);
            add(
                    m,
                    "gc_efficientnetv2_rw_t",
                    efficientnetV2S(0.8, ArchDefDepth.of(0.9), false).se(SeSpec.GLOBAL_CONTEXT),
                    224);
            add(m, "efficientnetv2_rw_s", efficientnetV2S(1.0, ArchDefDepth.of(1.0), true), 288);
            add(
                    m,
                    "efficientnetv2_rw_m",
                    efficientnetV2S(1.2, ArchDefDepth.of(1.2, 1.2, 1.2, 1.2, 1.6, 1.6), true),
                    320);
            add(m, "efficientnetv2_s", efficientnetV2S(1.0, ArchDefDepth.of(1.0), false), 288);
            add(m, "efficientnetv2_m", efficientnetV2M(), 320);
            add(m, "efficientnetv2_l", efficientnetV2L(), 384);
            add(m, "efficientnetv2_xl", efficientnetV2XL(), 384);

            for (int i = 0; i < b.length; i++) {
                add(
                        m,
                        "tf_efficientnet_b" + i,
                        efficientnet(b[i][0], b[i][1], 8, null).tf(),
                        tfSizes[i]);
            }
            add(m, "tf_efficientnet_l2", efficientnet(4.3, 5.3, 8, null).tf(), 475);
            add(m, "tf_efficientnet_es", efficientnetEdge(1.0, 1.0).tf(), 224);
            add(m, "tf_efficientnet_em", efficientnetEdge(1.0, 1.1).tf(), 240);
            add(m, "tf_efficientnet_el", efficientnetEdge(1.2, 1.4).tf(), 300);
            for (int i = 0; i < lite.length; i++) {
                add(
                        m,
                        "tf_efficientnet_lite" + i,
                        efficientnetLite(lite[i][0], lite[i][1]).tf(),
                        liteSizes[i]);
            }
            add(
                    m,
                    "tf_efficientnetv2_s",
                    efficientnetV2S(1.0, ArchDefDepth.of(1.0), false).tf(),
                    300);
            add(m, "tf_efficientnetv2_m", efficientnetV2M().tf(), 384);
            add(m, "tf_efficientnetv2_l", efficientnetV2L().tf(), 384);
            add(m, "tf_efficientnetv2_xl", efficientnetV2XL().tf(), 384);
            add(m, "tf_efficientnetv2_b0", efficientnetV2Base(1.0, 1.0).tf(), 192);
            add(m, "tf_efficientnetv2_b1", efficientnetV2Base(1.0, 1.1).tf(), 192);
            add(m, "tf_efficientnetv2_b2", efficientnetV2Base(1.1, 1.2).tf(), 208);
            add(m, "tf_efficientnetv2_b3", efficientnetV2Base(1.2, 1.4).tf(), 240);

            add(m, "efficientnet_x_b3", efficientnetX(1.2, 1.4, 1), 288);
            add(m, "efficientnet_x_b5", efficientnetX(1.6, 2.2, 1), 448);
            add(m, "efficientnet_h_b5", efficientnetX(1.92, 2.2, 2), 448);
            add(m, "mixnet_s", mixnetS(1.0), 224);
            add(m, "mixnet_m", mixnetM(1.0, 1.0), 224);
            add(m, "mixnet_l", mixnetM(1.3, 1.0), 224);
            add(m, "mixnet_xl", mixnetM(1.6, 1.2), 224);
            add(m, "mixnet_xxl", mixnetM(2.4, 1.3), 224);
            add(m, "tf_mixnet_s", mixnetS(1.0).tf(), 224);
            add(m, "tf_mixnet_m", mixnetM(1.0, 1.0).tf(), 224);
            add(m, "tf_mixnet_l", mixnetM(1.3, 1.0).tf(), 224);
            add(m, "tinynet_a", tinynet(1.0, 1.2), 192);
            add(m, "tinynet_b", tinynet(0.75, 1.1), 188);
            add(m, "tinynet_c", tinynet(0.54, 0.85), 184);
            add(m, "tinynet_d", tinynet(0.54, 0.695), 152);
            add(m, "tinynet_e", tinynet(0.51, 0.6), 106);
            add(m, "mobilenet_edgetpu_100", mobilenetEdgeTpu("mobilenet_edgetpu_100"), 224);
            for (String v : new String[] {"xs", "s", "m", "l"}) {
                String name = "mobilenet_edgetpu_v2_" + v;
                add(m, name, mobilenetEdgeTpu(name), 224);
            }
            add(m, "test_efficientnet", testEfficientnet(), 160);
            add(m, "test_efficientnet_gn", testEfficientnet().norm(NormSpec.groupNorm(8)), 160);
            add(m, "test_efficientnet_ln", testEfficientnet().norm(NormSpec.LN), 160);
            add(m, "test_efficientnet_evos", testEfficientnet().norm(NormSpec.evoNormS0(8)), 160);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            m.add(new ModelEntry(
                    name,
                    "efficientnet",
                    args -> new EfficientNet(c, args),
                    PretrainedCfg.untrained(name, size, "conv_stem", "classifier")));
        }
    }
}
