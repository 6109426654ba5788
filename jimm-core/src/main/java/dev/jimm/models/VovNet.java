package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.EfficientChannelAttention;
import dev.jimm.layers.EvoNorm2dS0;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * VoVNet V1 and V2 as timm's {@code models/vovnet.py} builds them: stages of one-shot aggregation (OSA) blocks, each
 * concatenating its input with every output of a chain of 3x3 convs and projecting the result by a 1x1 conv; V2 adds a
 * residual and effective squeeze-excitation (ESE) on the last block of a stage.
 */
public final class VovNet extends ImageModel {

    /** The attention on the last block of each stage. */
    public enum Attention {
        NONE,
        /** timm's EffectiveSEModule: one 1x1 conv with bias on the pooled features, hard-sigmoid gate */
        ESE,
        /** timm's EcaModule */
        ECA
    }

    /** The norm after every conv. */
    public enum Norm {
        /** BatchNorm then ReLU (timm's BatchNormAct2d) */
        BATCH_NORM,
        /** timm's EvoNorm2dS0 of 32 groups, its activation built in */
        EVO_NORM_S0
    }

    /**
     * A VoVNet variant (timm's {@code model_cfgs} entry). Made by {@link #builder()}; {@link #toBuilder()} derives
     * variants.
     *
     * @param stemChs widths of the three stem convs
     * @param stageConvChs width of the 3x3 convs of each stage's blocks
     * @param stageOutChs output width of each stage
     * @param layerPerBlock 3x3 convs per block
     * @param blockPerStage blocks per stage
     * @param residual blocks after a stage's first add their input
     * @param depthwise separable (depthwise and pointwise) convs in the blocks and the stem's last two convs
     * @param attn attention on each stage's last block
     * @param norm the norm after every conv
     */
    public record Config(
            List<Integer> stemChs,
            List<Integer> stageConvChs,
            List<Integer> stageOutChs,
            int layerPerBlock,
            List<Integer> blockPerStage,
            boolean residual,
            boolean depthwise,
            Attention attn,
            Norm norm) {

        public Config {
            stemChs = List.copyOf(stemChs);
            stageConvChs = List.copyOf(stageConvChs);
            stageOutChs = List.copyOf(stageOutChs);
            blockPerStage = List.copyOf(blockPerStage);
            if (stemChs.size() != 3
                    || stageConvChs.size() != 4
                    || stageOutChs.size() != 4
                    || blockPerStage.size() != 4
                    || layerPerBlock < 1) {
                throw new IllegalArgumentException("VoVNet needs 3 stem widths and 4 stages of conv widths, output"
                        + " widths and block counts, and at least one layer per block; got stem " + stemChs
                        + ", conv " + stageConvChs + ", out " + stageOutChs + ", blocks " + blockPerStage
                        + ", layers " + layerPerBlock);
            }
        }

        /** A builder with timm's VoVNet-39/57 widths, 5 layers per block, BatchNorm, no residual or attention. */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private List<Integer> stemChs = List.of(64, 64, 128);
            private List<Integer> stageConvChs = List.of(128, 160, 192, 224);
            private List<Integer> stageOutChs = List.of(256, 512, 768, 1024);
            private int layerPerBlock = 5;
            private List<Integer> blockPerStage = List.of(1, 1, 2, 2);
            private boolean residual;
            private boolean depthwise;
            private Attention attn = Attention.NONE;
            private Norm norm = Norm.BATCH_NORM;

            private Builder() {}

            private Builder(Config c) {
                stemChs = c.stemChs();
                stageConvChs = c.stageConvChs();
                stageOutChs = c.stageOutChs();
                layerPerBlock = c.layerPerBlock();
                blockPerStage = c.blockPerStage();
                residual = c.residual();
                depthwise = c.depthwise();
                attn = c.attn();
                norm = c.norm();
            }

            /** Widths of the three stem convs (default 64, 64, 128). */
            public Builder stemChs(Integer... values) {
                stemChs = List.of(values);
                return this;
            }

            /** Width of the blocks' 3x3 convs per stage (default 128, 160, 192, 224). */
            public Builder stageConvChs(Integer... values) {
                stageConvChs = List.of(values);
                return this;
            }

            /** Output width per stage (default 256, 512, 768, 1024). */
            public Builder stageOutChs(Integer... values) {
                stageOutChs = List.of(values);
                return this;
            }

            /** 3x3 convs per block (default 5). */
            public Builder layerPerBlock(int value) {
                layerPerBlock = value;
                return this;
            }

            /** Blocks per stage (default 1, 1, 2, 2). */
            public Builder blockPerStage(Integer... values) {
                blockPerStage = List.of(values);
                return this;
            }

            /** Residual blocks after each stage's first (default off). */
            public Builder residual(boolean value) {
                residual = value;
                return this;
            }

            /** Separable convs (default off). */
            public Builder depthwise(boolean value) {
                depthwise = value;
                return this;
            }

            /** Attention on each stage's last block (default none). */
            public Builder attn(Attention value) {
                attn = value;
                return this;
            }

            /** The norm after every conv (default BatchNorm with ReLU). */
            public Builder norm(Norm value) {
                norm = value;
                return this;
            }

            /** The config, checked by {@link Config}'s constructor. */
            public Config build() {
                return new Config(
                        stemChs,
                        stageConvChs,
                        stageOutChs,
                        layerPerBlock,
                        blockPerStage,
                        residual,
                        depthwise,
                        attn,
                        norm);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    private static Module norm(Norm norm, int channels) {
        return switch (norm) {
            case BATCH_NORM -> new BatchNormAct2d(channels, 1e-5f, Activation.Kind.RELU);
            case EVO_NORM_S0 -> new EvoNorm2dS0(channels, channels / 32, true, 1e-5f);
        };
    }

    /** timm's create_conv2d as VovNet and DPN use it: no bias, symmetric padding. */
    static Conv2d conv(int in, int out, int kernel, int stride, int groups) {
        return Conv2d.symmetric(in, out, kernel, stride, 1, groups, false);
    }

    /** timm's ConvNormAct: {@code conv} then {@code bn} (the norm with its activation). */
    static ConvNormAct convNormAct(Norm norm, int in, int out, int kernel, int stride) {
        return new ConvNormAct(conv(in, out, kernel, stride, 1), norm(norm, out));
    }

    /** timm's SeparableConvNormAct: depthwise {@code conv_dw}, pointwise {@code conv_pw}, then {@code bn}. */
    static final class SeparableConvNormAct extends Module {
        private final Module convDw;
        private final Module convPw;
        private final Module bn;

        SeparableConvNormAct(Norm norm, int in, int out, int kernel, int stride) {
            convDw = register("conv_dw", conv(in, in, kernel, stride, in));
            convPw = register("conv_pw", conv(in, out, 1, 1, 1));
            bn = register("bn", norm(norm, out));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return bn.forward(convPw.forward(convDw.forward(x)));
        }
    }

    /** timm's EffectiveSEModule: {@code x * hard_sigmoid(fc(mean(x)))}, {@code fc} a 1x1 conv with bias. */
    static final class EffectiveSqueezeExcite extends Module {
        private final Module fc;

        EffectiveSqueezeExcite(int channels) {
            fc = register("fc", new Conv2d(channels, channels, 1, Conv2d.Options.defaults()));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray se = fc.forward(Layers.spatialMean(x, true));
            return x.mul(Activation.apply(Activation.Kind.HARD_SIGMOID, se));
        }

        @Override
        protected String extraRepr() {
            return "EffectiveSEModule";
        }
    }

    /**
     * timm's OsaBlock: an optional 1x1 reduction (separable blocks whose input is wider than their convs), a chain of
     * convs whose outputs are concatenated with the block's input, a 1x1 projection, attention, and the residual.
     */
    static final class OsaBlock extends Module {
        private final Module convReduction;
        private final List<Module> convMid = new ArrayList<>();
        private final Module convConcat;
        private final Module attn;
        private final Module dropPath;
        private final boolean residual;

        OsaBlock(Config cfg, int in, int mid, int out, boolean residual, Attention attention, double dpr) {
            this.residual = residual;
            Norm norm = cfg.norm();
            if (cfg.depthwise() && in != mid) {
                if (residual) {
                    throw new IllegalArgumentException("a separable OSA block of " + in + " input and " + mid
                            + " conv channels cannot be residual");
                }
                convReduction = register("conv_reduction", convNormAct(norm, in, mid, 1, 1));
            } else {
                convReduction = null;
            }
            Sequential chain = register("conv_mid", new Sequential());
            int next = in;
            for (int i = 0; i < cfg.layerPerBlock(); i++) {
                Module conv = cfg.depthwise()
                        ? new SeparableConvNormAct(norm, mid, mid, 3, 1)
                        : convNormAct(norm, next, mid, 3, 1);
                chain.add(conv);
                convMid.add(conv);
                next = mid;
            }
            convConcat = register("conv_concat", convNormAct(norm, in + cfg.layerPerBlock() * mid, out, 1, 1));
            attn = switch (attention) {
                case NONE -> null;
                case ESE -> register("attn", new EffectiveSqueezeExcite(out));
                case ECA -> register("attn", new EfficientChannelAttention(out));
            };
            dropPath = dpr > 0 ? register("drop_path", new DropPath((float) dpr)) : null;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDList outputs = new NDList(x);
            NDArray y = convReduction == null ? x : convReduction.forward(x);
            for (Module conv : convMid) {
                y = conv.forward(y);
                outputs.add(y);
            }
            y = convConcat.forward(NDArrays.concat(outputs, 1));
            if (attn != null) {
                y = attn.forward(y);
            }
            if (dropPath != null) {
                y = dropPath.forward(y);
            }
            return residual ? y.add(x) : y;
        }
    }

    /** timm's OsaStage: a 3x3 max pool of stride 2 (ceil mode) unless it is the first stage, then the blocks. */
    static final class OsaStage extends Module {
        private final Module pool;
        private final Module blocks;

        OsaStage(Config cfg, int stage, int in, boolean downsample, double[] dpr) {
            pool = downsample ? register("pool", Pool2d.max(3, 2, 0, true)) : null;
            Sequential b = new Sequential();
            int n = cfg.blockPerStage().get(stage);
            for (int i = 0; i < n; i++) {
                b.add(new OsaBlock(
                        cfg,
                        i == 0 ? in : cfg.stageOutChs().get(stage),
                        cfg.stageConvChs().get(stage),
                        cfg.stageOutChs().get(stage),
                        cfg.residual() && i > 0,
                        i == n - 1 ? cfg.attn() : Attention.NONE,
                        dpr[i]));
            }
            blocks = register("blocks", b);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(pool == null ? x : pool.forward(x));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;

    public VovNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> stemChs = cfg.stemChs();
        Norm norm = cfg.norm();
        // timm's stem stride is 4: a strided conv, then a stride-1 and a strided conv (separable when depthwise)
        Sequential stem = register("stem", new Sequential());
        stem.add(addTrunkStep(convNormAct(norm, inChans, stemChs.get(0), 3, 2)));
        for (int i = 1; i < 3; i++) {
            int stride = i == 2 ? 2 : 1;
            Module conv = cfg.depthwise()
                    ? new SeparableConvNormAct(norm, stemChs.get(i - 1), stemChs.get(i), 3, stride)
                    : convNormAct(norm, stemChs.get(i - 1), stemChs.get(i), 3, stride);
            stem.add(addTrunkStep(conv));
            if (i == 1) {
                addFeatureInfo(stemChs.get(1), 2, "stem.1");
            }
        }
        Sequential stages = register("stages", new Sequential());
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.blockPerStage());
        int prev = stemChs.get(2);
        int reduction = 4;
        for (int i = 0; i < 4; i++) {
            // with the stem at stride 4 the first stage does not downsample
            boolean downsample = i > 0;
            stages.add(addTrunkStep(new OsaStage(cfg, i, prev, downsample, dpr[i])));
            prev = cfg.stageOutChs().get(i);
            reduction *= downsample ? 2 : 1;
            addFeatureInfo(prev, reduction, "stages." + i);
        }
        registerNestedClassifierHead("head", prev);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** timm's init: convs kaiming-normal (fan out), linear biases zero (their weights keep PyTorch's default). */
    @Override
    protected void initWeights(SplittableRandom random) {
        ConvNetInit.fanOutConvs().withZeroLinearBiases().apply(this, random);
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers every name of timm's vovnet.py. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "vovnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Config v39 = Config.builder().build();
            Config v57 = v39.toBuilder().blockPerStage(1, 1, 4, 3).build();
            Config ese19 = Config.builder()
                    .layerPerBlock(3)
                    .blockPerStage(1, 1, 1, 1)
                    .residual(true)
                    .attn(Attention.ESE)
                    .build();
            Config ese19Slim = ese19.toBuilder()
                    .stageConvChs(64, 80, 96, 112)
                    .stageOutChs(112, 256, 384, 512)
                    .build();
            Config ese39 = v39.toBuilder().residual(true).attn(Attention.ESE).build();
            add(m, "vovnet39a", v39);
            add(m, "vovnet57a", v57);
            add(
                    m,
                    "ese_vovnet19b_slim_dw",
                    ese19Slim.toBuilder().stemChs(64, 64, 64).depthwise(true).build());
            add(
                    m,
                    "ese_vovnet19b_dw",
                    ese19.toBuilder().stemChs(64, 64, 64).depthwise(true).build());
            add(m, "ese_vovnet19b_slim", ese19Slim);
            // timm has an ese_vovnet19b config but registers no such name
            add(m, "ese_vovnet39b", ese39);
            add(m, "ese_vovnet57b", ese39.toBuilder().blockPerStage(1, 1, 4, 3).build());
            add(m, "ese_vovnet99b", ese39.toBuilder().blockPerStage(1, 3, 9, 3).build());
            add(m, "eca_vovnet39b", ese39.toBuilder().attn(Attention.ECA).build());
            add(
                    m,
                    "ese_vovnet39b_evos",
                    ese39.toBuilder().norm(Norm.EVO_NORM_S0).build());
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(name, "vovnet", args -> new VovNet(c, args), defaultCfg(name)));
        }

        /** timm's vovnet {@code _cfg}: 224 pixels, bicubic, crop 0.875, ImageNet statistics. */
        private static PretrainedCfg defaultCfg(String name) {
            return PretrainedCfgOverride.untrained(name, 224, "stem.0.conv", "head.fc", "bicubic", 0.875, "apache-2.0");
        }
    }
}
