package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2dSame;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.models.EfficientNetBuilder.ArchDef;
import dev.jimm.models.EfficientNetBuilder.NormSpec;
import dev.jimm.models.EfficientNetBuilder.RoundChs;
import dev.jimm.models.EfficientNetBuilder.SeSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * timm's {@code models/mobilenetv3.py} for MobileNet-V3 (and its TF ports), MobileNetV3-RW, FBNet-V3 and LCNet: the
 * EfficientNet trunk with MobileNet-V3's "efficient head", where global pooling comes before a 1x1 {@code conv_head}
 * and its activation, then {@code flatten} and the classifier. {@link #numFeatures()} is the trunk's width (timm's
 * {@code num_features}); the pre-logits have {@link #headHiddenSize()} channels.
 */
public final class MobileNetV3 extends EfficientNetBase {

    /**
     * A MobileNet-V3-style variant, as timm's generators configure it. Made with {@link #builder()};
     * {@link #toBuilder()} derives variants by field name.
     *
     * @param trunk the stem and blocks
     * @param headHiddenSize channels of the head conv after pooling
     * @param seFromExp SE ratios relative to the expanded width
     * @param headBias a bias on the head conv
     * @param headNorm a norm with the activation after the head conv, instead of the activation alone (MobileNet-V4;
     *     the head conv then has no bias)
     * @param layerScale LayerScale2d init in uir/mqa blocks (MobileNet-V4 hybrids), or null
     */
    public record Config(
            Trunk trunk, int headHiddenSize, boolean seFromExp, boolean headBias, boolean headNorm, Double layerScale) {

        /**
         * A builder with timm's defaults: stem 16 and kernel 3, BatchNorm, SE ratios of the expanded width, head conv
         * of 1280 with a bias.
         */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields, to derive another one. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** The same variant with anti-aliased downsampling in its blocks. */
        public Config withAa(String layer) {
            return toBuilder().aa(layer).build();
        }

        /** The TensorFlow port: "same" padding and BN eps 1e-3. */
        public Config tf() {
            return toBuilder().tf().build();
        }

        /** Builds a {@link Config} by field name; {@link #build()} checks it. */
        public static final class Builder extends TrunkBuilder<Builder> {
            private int headHiddenSize = 1280;
            private boolean seFromExp = true;
            private boolean headBias = true;
            private boolean headNorm;
            private Double layerScale;

            private Builder() {
                stemSize = 16;
            }

            private Builder(Config c) {
                super(c.trunk());
                headHiddenSize = c.headHiddenSize();
                seFromExp = c.seFromExp();
                headBias = c.headBias();
                headNorm = c.headNorm();
                layerScale = c.layerScale();
            }

            @Override
            Builder self() {
                return this;
            }

            /** Channels of the head conv after pooling (default 1280). */
            public Builder headHiddenSize(int value) {
                headHiddenSize = value;
                return this;
            }

            /** SE ratios relative to the expanded width (default) rather than the block input. */
            public Builder seFromExp(boolean value) {
                seFromExp = value;
                return this;
            }

            /** A bias on the head conv (default). */
            public Builder headBias(boolean value) {
                headBias = value;
                return this;
            }

            /** A norm with the activation after the head conv (MobileNet-V4). */
            public Builder headNorm(boolean value) {
                headNorm = value;
                return this;
            }

            /** LayerScale2d init in uir/mqa blocks, or null for none. */
            public Builder layerScale(Double value) {
                layerScale = value;
                return this;
            }

            /** The config, failing on a missing or invalid field. */
            public Config build() {
                Trunk t = trunk("MobileNetV3");
                if (headHiddenSize <= 0) {
                    throw new IllegalArgumentException(
                            "MobileNetV3 config: headHiddenSize " + headHiddenSize + " must be positive");
                }
                return new Config(t, headHiddenSize, seFromExp, headBias, headNorm, layerScale);
            }
        }
    }

    private final Config cfg;
    private final int pooledMultiplier;
    private final Module convHead;
    private final Module normHead;
    private final Activation.Kind headAct;
    private GlobalPool pool;
    private Module classifier;

    public MobileNetV3(Config cfg, ModelArgs args) {
        super(args, cfg.trunk(), "", cfg.seFromExp(), cfg.layerScale());
        this.cfg = cfg;
        setNumFeatures(trunkChs);
        pool = register("global_pool", new GlobalPool(globalPool, false));
        // the head conv is sized for the pooling chosen at construction (catavgmax doubles it)
        pooledMultiplier = GlobalPool.featureMultiplier(globalPool);
        convHead = register(
                "conv_head",
                Conv2dSame.create(
                        trunkChs * pooledMultiplier,
                        cfg.headHiddenSize(),
                        1,
                        1,
                        1,
                        1,
                        cfg.headBias() && !cfg.headNorm(),
                        cfg.trunk().padSame()));
        if (cfg.headNorm()) {
            normHead = register(
                    "norm_head",
                    cfg.trunk().norm().create(cfg.headHiddenSize(), cfg.trunk().act()));
            headAct = Activation.Kind.IDENTITY;
        } else {
            normHead = register("norm_head", new Identity());
            headAct = cfg.trunk().act();
        }
        register("act2", new Activation(headAct));
        classifier = register("classifier", head(numClasses));
    }

    private Module head(int classes) {
        return Linear.classifier(cfg.headHiddenSize(), classes);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** Channels of the head conv, which the pre-logits have (timm's {@code head_hidden_size}). */
    @Override
    public int headHiddenSize() {
        return cfg.headHiddenSize();
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        x = Activation.apply(headAct, normHead.forward(convHead.forward(pool.forward(x))));
        return EfficientHead.finish(x, !globalPool.isEmpty(), dropRate, isTraining(), classifier, preLogits);
    }

    /**
     * Replaces the classifier (an identity for 0 classes) and the pooling. As in timm the head conv stays, so the
     * pooling must keep the channel multiplier it was built with.
     */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String p = GlobalPool.validate(newGlobalPool);
        if (!p.isEmpty() && GlobalPool.featureMultiplier(p) != pooledMultiplier) {
            throw new IllegalArgumentException("globalPool '" + newGlobalPool + "' changes the pooled width that "
                    + "conv_head was built for (" + trunkChs * pooledMultiplier + " channels)");
        }
        if (p.isEmpty() && newNumClasses > 0) {
            throw new IllegalArgumentException(
                    "globalPool '' (no pooling) needs numClasses 0; a classifier needs pooled features");
        }
        Module fc = head(newNumClasses);
        numClasses = newNumClasses;
        globalPool = p;
        pool = register("global_pool", new GlobalPool(p, false));
        classifier = register("classifier", fc);
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** timm's _gen_mobilenet_v3 ("small"/"large", optionally "minimal"). */
    static Config mobilenetV3(String variant, double width, double depth) {
        boolean minimal = variant.contains("minimal");
        ArchDef a;
        int head;
        if (variant.contains("small")) {
            head = 1024;
            a = minimal
                    ? arch(
                            s("ds_r1_k3_s2_e1_c16"),
                            s("ir_r1_k3_s2_e4.5_c24", "ir_r1_k3_s1_e3.67_c24"),
                            s("ir_r1_k3_s2_e4_c40", "ir_r2_k3_s1_e6_c40"),
                            s("ir_r2_k3_s1_e3_c48"),
                            s("ir_r3_k3_s2_e6_c96"),
                            s("cn_r1_k1_s1_c576"))
                    : arch(
                            s("ds_r1_k3_s2_e1_c16_se0.25_nre"),
                            s("ir_r1_k3_s2_e4.5_c24_nre", "ir_r1_k3_s1_e3.67_c24_nre"),
                            s("ir_r1_k5_s2_e4_c40_se0.25", "ir_r2_k5_s1_e6_c40_se0.25"),
                            s("ir_r2_k5_s1_e3_c48_se0.25"),
                            s("ir_r3_k5_s2_e6_c96_se0.25"),
                            s("cn_r1_k1_s1_c576"));
        } else {
            head = 1280;
            a = minimal
                    ? arch(
                            s("ds_r1_k3_s1_e1_c16"),
                            s("ir_r1_k3_s2_e4_c24", "ir_r1_k3_s1_e3_c24"),
                            s("ir_r3_k3_s2_e3_c40"),
                            s("ir_r1_k3_s2_e6_c80", "ir_r1_k3_s1_e2.5_c80", "ir_r2_k3_s1_e2.3_c80"),
                            s("ir_r2_k3_s1_e6_c112"),
                            s("ir_r3_k3_s2_e6_c160"),
                            s("cn_r1_k1_s1_c960"))
                    : arch(
                            s("ds_r1_k3_s1_e1_c16_nre"),
                            s("ir_r1_k3_s2_e4_c24_nre", "ir_r1_k3_s1_e3_c24_nre"),
                            s("ir_r3_k5_s2_e3_c40_se0.25_nre"),
                            s("ir_r1_k3_s2_e6_c80", "ir_r1_k3_s1_e2.5_c80", "ir_r2_k3_s1_e2.3_c80"),
                            s("ir_r2_k3_s1_e6_c112_se0.25"),
                            s("ir_r3_k5_s2_e6_c160_se0.25"),
                            s("cn_r1_k1_s1_c960"));
        }
        Activation.Kind act = minimal ? Activation.Kind.RELU : Activation.Kind.HARD_SWISH;
        SeSpec se = new SeSpec(Activation.Kind.HARD_SIGMOID, Activation.Kind.RELU, RoundChs.of(1.0));
        return Config.builder()
                .arch(a.depth(depth))
                .headHiddenSize(head)
                .fixStem(width < 0.75)
                .roundChs(RoundChs.of(width))
                .act(act)
                .se(se)
                .build();
    }

    static Config mobilenetV3Rw(double width) {
        ArchDef a = arch(
                s("ds_r1_k3_s1_e1_c16_nre_noskip"),
                s("ir_r1_k3_s2_e4_c24_nre", "ir_r1_k3_s1_e3_c24_nre"),
                s("ir_r3_k5_s2_e3_c40_se0.25_nre"),
                s("ir_r1_k3_s2_e6_c80", "ir_r1_k3_s1_e2.5_c80", "ir_r2_k3_s1_e2.3_c80"),
                s("ir_r2_k3_s1_e6_c112_se0.25"),
                s("ir_r3_k5_s2_e6_c160_se0.25"),
                s("cn_r1_k1_s1_c960"));
        SeSpec se = new SeSpec(Activation.Kind.HARD_SIGMOID, null, null);
        // timm registers mobilenetv3_rw with BN eps 1e-3
        return Config.builder()
                .arch(a)
                .roundChs(RoundChs.of(width))
                .act(Activation.Kind.HARD_SWISH)
                .norm(NormSpec.BN_TF)
                .se(se)
                .headBias(false)
                .build();
    }

    static Config fbnetV3(String variant, double width) {
        String vl = variant.substring(variant.lastIndexOf('_') + 1);
        ArchDef a;
        int stem;
        switch (vl) {
            case "a", "b" -> {
                stem = 16;
                a = arch(
                        s("ds_r2_k3_s1_e1_c16"),
                        s("ir_r1_k5_s2_e4_c24", "ir_r3_k5_s1_e2_c24"),
                        s("ir_r1_k5_s2_e5_c40_se0.25", "ir_r4_k5_s1_e3_c40_se0.25"),
                        s("ir_r1_k5_s2_e5_c72", "ir_r4_k3_s1_e3_c72"),
                        s("ir_r1_k3_s1_e5_c120_se0.25", "ir_r5_k5_s1_e3_c120_se0.25"),
                        s("ir_r1_k3_s2_e6_c184_se0.25", "ir_r5_k5_s1_e4_c184_se0.25", "ir_r1_k5_s1_e6_c224_se0.25"),
                        s("cn_r1_k1_s1_c1344"));
            }
            case "d" -> {
                stem = 24;
                a = arch(
                        s("ds_r2_k3_s1_e1_c16"),
                        s("ir_r1_k3_s2_e5_c24", "ir_r5_k3_s1_e2_c24"),
                        s("ir_r1_k5_s2_e4_c40_se0.25", "ir_r4_k3_s1_e3_c40_se0.25"),
                        s("ir_r1_k3_s2_e5_c72", "ir_r4_k3_s1_e3_c72"),
                        s("ir_r1_k3_s1_e5_c128_se0.25", "ir_r6_k5_s1_e3_c128_se0.25"),
                        s("ir_r1_k3_s2_e6_c208_se0.25", "ir_r5_k5_s1_e5_c208_se0.25", "ir_r1_k5_s1_e6_c240_se0.25"),
                        s("cn_r1_k1_s1_c1440"));
            }
            case "g" -> {
                stem = 32;
                a = arch(
                        s("ds_r3_k3_s1_e1_c24"),
                        s("ir_r1_k5_s2_e4_c40", "ir_r4_k5_s1_e2_c40"),
                        s("ir_r1_k5_s2_e4_c56_se0.25", "ir_r4_k5_s1_e3_c56_se0.25"),
                        s("ir_r1_k5_s2_e5_c104", "ir_r4_k3_s1_e3_c104"),
                        s("ir_r1_k3_s1_e5_c160_se0.25", "ir_r8_k5_s1_e3_c160_se0.25"),
                        s("ir_r1_k3_s2_e6_c264_se0.25", "ir_r6_k5_s1_e5_c264_se0.25", "ir_r2_k5_s1_e6_c288_se0.25"),
                        s("cn_r1_k1_s1_c1728"));
            }
            default -> throw new IllegalArgumentException("unknown FBNet-V3 variant " + variant);
        }
        RoundChs r = new RoundChs(width, 8, 0.95);
        SeSpec se = new SeSpec(Activation.Kind.HARD_SIGMOID, null, r);
        return Config.builder()
                .arch(a)
                .headHiddenSize(1984)
                .stemSize(stem)
                .roundChs(r)
                .act(Activation.Kind.HARD_SWISH)
                .se(se)
                .seFromExp(false)
                .headBias(false)
                .build();
    }

    static Config lcnet(double width) {
        ArchDef a = arch(
                s("dsa_r1_k3_s1_c32"),
                s("dsa_r2_k3_s2_c64"),
                s("dsa_r2_k3_s2_c128"),
                s("dsa_r1_k3_s2_c256", "dsa_r1_k5_s1_c256"),
                s("dsa_r4_k5_s1_c256"),
                s("dsa_r2_k5_s2_c512_se0.25"));
        SeSpec se = new SeSpec(Activation.Kind.HARD_SIGMOID, Activation.Kind.RELU, null);
        return Config.builder()
                .arch(a)
                .roundChs(RoundChs.of(width))
                .act(Activation.Kind.HARD_SWISH)
                .se(se)
                .build();
    }

    /** What the conv and hybrid MobileNet-V4s share: a normed head conv without bias. */
    private static Config.Builder mobilenetV4Config(ArchDef a, int stem, double width, Activation.Kind act) {
        return Config.builder()
                .arch(a)
                .stemSize(stem)
                .fixStem(width < 1.0)
                .roundChs(RoundChs.of(width))
                .act(act)
                .headBias(false)
                .headNorm(true);
    }

    /** timm's _gen_mobilenet_v4 for the conv-only variants (the hybrids need attention blocks). */
    static Config mobilenetV4(String variant, double width) {
        ArchDef a;
        int stem;
        if (variant.contains("small")) {
            stem = 32;
            a = arch(
                    s("cn_r1_k3_s2_e1_c32", "cn_r1_k1_s1_e1_c32"),
                    s("cn_r1_k3_s2_e1_c96", "cn_r1_k1_s1_e1_c64"),
                    s("uir_r1_a5_k5_s2_e3_c96", "uir_r4_a0_k3_s1_e2_c96", "uir_r1_a3_k0_s1_e4_c96"),
                    s(
                            "uir_r1_a3_k3_s2_e6_c128",
                            "uir_r1_a5_k5_s1_e4_c128",
                            "uir_r1_a0_k5_s1_e4_c128",
                            "uir_r1_a0_k5_s1_e3_c128",
                            "uir_r2_a0_k3_s1_e4_c128"),
                    s("cn_r1_k1_s1_c960"));
        } else if (variant.contains("medium")) {
            stem = 32;
            a = arch(
                    s("er_r1_k3_s2_e4_c48"),
                    s("uir_r1_a3_k5_s2_e4_c80", "uir_r1_a3_k3_s1_e2_c80"),
                    s(
                            "uir_r1_a3_k5_s2_e6_c160",
                            "uir_r2_a3_k3_s1_e4_c160",
                            "uir_r1_a3_k5_s1_e4_c160",
                            "uir_r1_a3_k3_s1_e4_c160",
                            "uir_r1_a3_k0_s1_e4_c160",
                            "uir_r1_a0_k0_s1_e2_c160",
                            "uir_r1_a3_k0_s1_e4_c160"),
                    s(
                            "uir_r1_a5_k5_s2_e6_c256",
                            "uir_r1_a5_k5_s1_e4_c256",
                            "uir_r2_a3_k5_s1_e4_c256",
                            "uir_r1_a0_k0_s1_e4_c256",
                            "uir_r1_a3_k0_s1_e4_c256",
                            "uir_r1_a3_k5_s1_e2_c256",
                            "uir_r1_a5_k5_s1_e4_c256",
                            "uir_r2_a0_k0_s1_e4_c256",
                            "uir_r1_a5_k0_s1_e2_c256"),
                    s("cn_r1_k1_s1_c960"));
        } else if (variant.contains("large")) {
            stem = 24;
            a = arch(
                    s("er_r1_k3_s2_e4_c48"),
                    s("uir_r1_a3_k5_s2_e4_c96", "uir_r1_a3_k3_s1_e4_c96"),
                    s(
                            "uir_r1_a3_k5_s2_e4_c192",
                            "uir_r3_a3_k3_s1_e4_c192",
                            "uir_r1_a3_k5_s1_e4_c192",
                            "uir_r5_a5_k3_s1_e4_c192",
                            "uir_r1_a3_k0_s1_e4_c192"),
                    s(
                            "uir_r4_a5_k5_s2_e4_c512",
                            "uir_r1_a5_k0_s1_e4_c512",
                            "uir_r1_a5_k3_s1_e4_c512",
                            "uir_r2_a5_k0_s1_e4_c512",
                            "uir_r1_a5_k3_s1_e4_c512",
                            "uir_r1_a5_k5_s1_e4_c512",
                            "uir_r3_a5_k0_s1_e4_c512"),
                    s("cn_r1_k1_s1_c960"));
        } else {
            throw new IllegalArgumentException("unknown MobileNet-V4 variant " + variant);
        }
        return mobilenetV4Config(a, stem, width, Activation.Kind.RELU).build();
    }

    /** timm's _gen_mobilenet_v4 for the hybrids: uir blocks with multi-query attention, layer scale 1e-5. */
    static Config mobilenetV4Hybrid(String variant, double width) {
        ArchDef a;
        int stem;
        Activation.Kind act;
        if (variant.contains("medium")) {
            stem = 32;
            act = Activation.Kind.RELU;
            a = arch(
                    s("er_r1_k3_s2_e4_c48"),
                    s("uir_r1_a3_k5_s2_e4_c80", "uir_r1_a3_k3_s1_e2_c80"),
                    s(
                            "uir_r1_a3_k5_s2_e6_c160",
                            "uir_r1_a0_k0_s1_e2_c160",
                            "uir_r1_a3_k3_s1_e4_c160",
                            "uir_r1_a3_k5_s1_e4_c160",
                            "mqa_r1_k3_h4_s1_v2_d64_c160",
                            "uir_r1_a3_k3_s1_e4_c160",
                            "mqa_r1_k3_h4_s1_v2_d64_c160",
                            "uir_r1_a3_k0_s1_e4_c160",
                            "mqa_r1_k3_h4_s1_v2_d64_c160",
                            "uir_r1_a3_k3_s1_e4_c160",
                            "mqa_r1_k3_h4_s1_v2_d64_c160",
                            "uir_r1_a3_k0_s1_e4_c160"),
                    s(
                            "uir_r1_a5_k5_s2_e6_c256",
                            "uir_r1_a5_k5_s1_e4_c256",
                            "uir_r2_a3_k5_s1_e4_c256",
                            "uir_r1_a0_k0_s1_e2_c256",
                            "uir_r1_a3_k5_s1_e2_c256",
                            "uir_r1_a0_k0_s1_e2_c256",
                            "uir_r1_a0_k0_s1_e4_c256",
                            "mqa_r1_k3_h4_s1_d64_c256",
                            "uir_r1_a3_k0_s1_e4_c256",
                            "mqa_r1_k3_h4_s1_d64_c256",
                            "uir_r1_a5_k5_s1_e4_c256",
                            "mqa_r1_k3_h4_s1_d64_c256",
                            "uir_r1_a5_k0_s1_e4_c256",
                            "mqa_r1_k3_h4_s1_d64_c256",
                            "uir_r1_a5_k0_s1_e4_c256"),
                    s("cn_r1_k1_s1_c960"));
        } else if (variant.contains("large")) {
            stem = 24;
            act = Activation.Kind.GELU;
            a = arch(
                    s("er_r1_k3_s2_e4_c48"),
                    s("uir_r1_a3_k5_s2_e4_c96", "uir_r1_a3_k3_s1_e4_c96"),
                    s(
                            "uir_r1_a3_k5_s2_e4_c192",
                            "uir_r3_a3_k3_s1_e4_c192",
                            "uir_r1_a3_k5_s1_e4_c192",
                            "uir_r2_a5_k3_s1_e4_c192",
                            "mqa_r1_k3_h8_s1_v2_d48_c192",
                            "uir_r1_a5_k3_s1_e4_c192",
                            "mqa_r1_k3_h8_s1_v2_d48_c192",
                            "uir_r1_a5_k3_s1_e4_c192",
                            "mqa_r1_k3_h8_s1_v2_d48_c192",
                            "uir_r1_a5_k3_s1_e4_c192",
                            "mqa_r1_k3_h8_s1_v2_d48_c192",
                            "uir_r1_a3_k0_s1_e4_c192"),
                    s(
                            "uir_r4_a5_k5_s2_e4_c512",
                            "uir_r1_a5_k0_s1_e4_c512",
                            "uir_r1_a5_k3_s1_e4_c512",
                            "uir_r2_a5_k0_s1_e4_c512",
                            "uir_r1_a5_k3_s1_e4_c512",
                            "uir_r1_a5_k5_s1_e4_c512",
                            "mqa_r1_k3_h8_s1_d64_c512",
                            "uir_r1_a5_k0_s1_e4_c512",
                            "mqa_r1_k3_h8_s1_d64_c512",
                            "uir_r1_a5_k0_s1_e4_c512",
                            "mqa_r1_k3_h8_s1_d64_c512",
                            "uir_r1_a5_k0_s1_e4_c512",
                            "mqa_r1_k3_h8_s1_d64_c512",
                            "uir_r1_a5_k0_s1_e4_c512"),
                    s("cn_r1_k1_s1_c960"));
        } else {
            throw new IllegalArgumentException("unknown MobileNet-V4 hybrid variant " + variant);
        }
        return mobilenetV4Config(a, stem, width, act).layerScale(1e-5).build();
    }

    /** Registers every name of timm's mobilenetv3.py. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "mobilenetv3";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "mobilenetv3_large_075", mobilenetV3("large", 0.75, 1.0), 224);
            add(m, "mobilenetv3_large_100", mobilenetV3("large", 1.0, 1.0), 224);
            add(m, "mobilenetv3_large_150d", mobilenetV3("large", 1.5, 1.2), 256);
            add(m, "mobilenetv3_small_050", mobilenetV3("small", 0.5, 1.0), 224);
            add(m, "mobilenetv3_small_075", mobilenetV3("small", 0.75, 1.0), 224);
            add(m, "mobilenetv3_small_100", mobilenetV3("small", 1.0, 1.0), 224);
            add(m, "mobilenetv3_rw", mobilenetV3Rw(1.0), 224);
            add(m, "tf_mobilenetv3_large_075", mobilenetV3("large", 0.75, 1.0).tf(), 224);
            add(m, "tf_mobilenetv3_large_100", mobilenetV3("large", 1.0, 1.0).tf(), 224);
            add(
                    m,
                    "tf_mobilenetv3_large_minimal_100",
                    mobilenetV3("large_minimal", 1.0, 1.0).tf(),
                    224);
            add(m, "tf_mobilenetv3_small_075", mobilenetV3("small", 0.75, 1.0).tf(), 224);
            add(m, "tf_mobilenetv3_small_100", mobilenetV3("small", 1.0, 1.0).tf(), 224);
            add(
                    m,
                    "tf_mobilenetv3_small_minimal_100",
                    mobilenetV3("small_minimal", 1.0, 1.0).tf(),
                    224);
            add(m, "fbnetv3_b", fbnetV3("fbnetv3_b", 1.0), 224);
            add(m, "fbnetv3_d", fbnetV3("fbnetv3_d", 1.0), 224);
            add(m, "fbnetv3_g", fbnetV3("fbnetv3_g", 1.0), 240);
            add(m, "lcnet_035", lcnet(0.35), 224);
            add(m, "lcnet_050", lcnet(0.5), 224);
            add(m, "lcnet_075", lcnet(0.75), 224);
            add(m, "lcnet_100", lcnet(1.0), 224);
            add(m, "lcnet_150", lcnet(1.5), 224);
            add(m, "mobilenetv4_conv_small_035", mobilenetV4("small", 0.35), 224);
            add(m, "mobilenetv4_conv_small_050", mobilenetV4("small", 0.5), 224);
            add(m, "mobilenetv4_conv_small", mobilenetV4("small", 1.0), 224);
            add(m, "mobilenetv4_conv_medium", mobilenetV4("medium", 1.0), 256);
            add(m, "mobilenetv4_conv_large", mobilenetV4("large", 1.0), 384);
            add(m, "mobilenetv4_conv_aa_medium", mobilenetV4("medium", 1.0).withAa("avg"), 256);
            add(m, "mobilenetv4_conv_blur_medium", mobilenetV4("medium", 1.0).withAa("blurpc"), 224);
            add(m, "mobilenetv4_hybrid_medium", mobilenetV4Hybrid("medium", 1.0), 256);
            add(m, "mobilenetv4_hybrid_large", mobilenetV4Hybrid("large", 1.0), 384);
            add(m, "mobilenetv4_hybrid_medium_075", mobilenetV4Hybrid("medium", 0.75), 224);
            add(m, "mobilenetv4_hybrid_large_075", mobilenetV4Hybrid("large", 0.75), 256);
            add(m, "mobilenetv4_conv_aa_large", mobilenetV4("large", 1.0).withAa("avg"), 448);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            m.add(new ModelEntry(
                    name,
                    "mobilenetv3",
                    args -> new MobileNetV3(c, args),
                    PretrainedCfg.untrained(name, size, "conv_stem", "classifier")));
        }
    }
}
