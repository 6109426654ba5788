package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.GlobalResponseNormMlp;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.ResettableHead;
import dev.jimm.layers.RmsNorm2d;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SimpleNorm2d;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * ConvNeXt and ConvNeXt-V2 (Global Response Norm in the MLP, no layer scale), as timm's {@code models/convnext.py}
 * builds them, including timm's small conv-MLP variants (atto to nano, their overlapping-stem {@code _ols} forms,
 * RMS/simple-norm variants). Its family also registers torchvision's ConvNeXts ({@link TvConvNeXt}) as
 * {@code tv/convnext_*}.
 */
public final class ConvNeXt extends ImageModel {

    /** The channel norm of stem, downsampling layers, blocks and head (timm's {@code norm_layer}). */
    public enum Norm {
        /** LayerNorm (LayerNorm2d on NCHW), timm's default */
        LAYERNORM,
        /** RmsNorm2d */
        RMSNORM,
        /** SimpleNorm2d: x / std(x) */
        SIMPLENORM
    }

    /**
     * A ConvNeXt variant, as timm's ConvNeXt keyword arguments.
     *
     * @param depths blocks per stage
     * @param dims channels per stage
     * @param kernelSizes depthwise kernel per stage
     * @param lsInitValue layer-scale init value, or null for no layer scale ({@code gamma})
     * @param stemType "patch", "overlap", "overlap_tiered" or "overlap_act"
     * @param patchSize kernel and stride of the patch stem
     * @param headInitScale factor on the head's linear weights and biases at init
     * @param headNormFirst norm before pooling ({@code norm_pre}) and a plain classifier head
     * @param headHiddenSize width of a pre-logits linear + GELU in the head (0: none)
     * @param convMlp 1x1 convs and a channels-first norm in the blocks instead of NHWC linear layers
     * @param convBias bias in convolutions
     * @param useGrn ConvNeXt-V2 Global Response Norm in the MLP
     * @param act the MLP activation
     * @param norm the norm kind
     * @param normEps the norm epsilon
     */
    public record Config(
            List<Integer> depths,
            List<Integer> dims,
            List<Integer> kernelSizes,
            Double lsInitValue,
            String stemType,
            int patchSize,
            double headInitScale,
            boolean headNormFirst,
            int headHiddenSize,
            boolean convMlp,
            boolean convBias,
            boolean useGrn,
            Activation.Kind act,
            Norm norm,
            float normEps) {

        public Config {
            depths = List.copyOf(depths);
            dims = List.copyOf(dims);
            kernelSizes = List.copyOf(kernelSizes);
            if (depths.size() != 4 || dims.size() != 4 || kernelSizes.size() != 4) {
                throw new IllegalArgumentException("ConvNeXt needs 4 stages: depths " + depths + ", dims " + dims
                        + ", kernelSizes " + kernelSizes);
            }
            if (!List.of("patch", "overlap", "overlap_tiered", "overlap_act").contains(stemType)) {
                throw new IllegalArgumentException(
                        "stemType '" + stemType + "' is not patch, overlap, overlap_tiered or overlap_act");
            }
            if (headNormFirst && headHiddenSize > 0) {
                throw new IllegalArgumentException(
                        "headNormFirst cannot have a headHiddenSize (" + headHiddenSize + ")");
            }
            if (!convMlp && norm != Norm.LAYERNORM) {
                throw new IllegalArgumentException(
                        "norm " + norm + " needs convMlp (only LayerNorm has a channels-last form here)");
            }
        }

        /** timm's defaults with these depths and widths: patch stem, layer scale 1e-6, LayerNorm, GELU. */
        public static Config of(List<Integer> depths, List<Integer> dims) {
            return builder().depths(depths).dims(dims).build();
        }

        /** A builder with timm's defaults (depths and dims required). */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields, to derive another one. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** 1x1-conv MLPs with channels-first norms (timm's small models). */
        public Config withConvMlp() {
            return toBuilder().convMlp(true).build();
        }

        public Config stem(String type) {
            return toBuilder().stemType(type).build();
        }

        public Config norm(Norm newNorm) {
            return toBuilder().norm(newNorm).build();
        }

        public Config eps(float eps) {
            return toBuilder().normEps(eps).build();
        }

        public Config act(Activation.Kind newAct) {
            return toBuilder().act(newAct).build();
        }

        public Config kernels(int... k) {
            List<Integer> ks = new ArrayList<>();
            for (int v : k) {
                ks.add(v);
            }
            return toBuilder().kernelSizes(ks).build();
        }

        /** Norm before the pooling, as most other nets (timm's {@code head_norm_first}). */
        public Config withHeadNormFirst() {
            return toBuilder().headNormFirst(true).build();
        }

        public Config headHidden(int size) {
            return toBuilder().headHiddenSize(size).build();
        }

        /** ConvNeXt-V2: GRN in the MLP and no layer scale. */
        public Config v2() {
            return toBuilder().lsInitValue(null).useGrn(true).build();
        }

        /** A channels-first (NCHW) norm. */
        Module norm2d(int channels) {
            return switch (norm) {
                case LAYERNORM -> LayerNorm.channelsFirst(channels, normEps);
                case RMSNORM -> new RmsNorm2d(channels, normEps);
                case SIMPLENORM -> new SimpleNorm2d(channels, normEps);
            };
        }

        /** Builds a {@link Config} by field name; {@link #build()} checks it. */
        public static final class Builder extends StagedConfigBuilder<Builder> {
            private List<Integer> kernelSizes = List.of(7, 7, 7, 7);
            private Double lsInitValue = 1e-6;
            private String stemType = "patch";
            private int patchSize = 4;
            private double headInitScale = 1.0;
            private boolean headNormFirst;
            private int headHiddenSize;
            private boolean convMlp;
            private boolean convBias = true;
            private boolean useGrn;
            private Activation.Kind act = Activation.Kind.GELU;
            private Norm norm = Norm.LAYERNORM;
            private float normEps = 1e-6f;

            private Builder() {}

            @Override
            protected Builder self() {
                return this;
            }

            private Builder(Config c) {
                depths = c.depths();
                dims = c.dims();
                kernelSizes = c.kernelSizes();
                lsInitValue = c.lsInitValue();
                stemType = c.stemType();
                patchSize = c.patchSize();
                headInitScale = c.headInitScale();
                headNormFirst = c.headNormFirst();
                headHiddenSize = c.headHiddenSize();
                convMlp = c.convMlp();
                convBias = c.convBias();
                useGrn = c.useGrn();
                act = c.act();
                norm = c.norm();
                normEps = c.normEps();
            }

            /** Depthwise kernel per stage (default 7). */
            public Builder kernelSizes(List<Integer> value) {
                kernelSizes = value;
                return this;
            }

            /** Layer-scale init value, or null for no layer scale (default 1e-6). */
            public Builder lsInitValue(Double value) {
                lsInitValue = value;
                return this;
            }

            /** "patch" (default), "overlap", "overlap_tiered" or "overlap_act". */
            public Builder stemType(String value) {
                stemType = value;
                return this;
            }

            /** Kernel and stride of the patch stem (default 4). */
            public Builder patchSize(int value) {
                patchSize = value;
                return this;
            }

            /** Factor on the head's linear weights at init (default 1). */
            public Builder headInitScale(double value) {
                headInitScale = value;
                return this;
            }

            /** Norm before pooling and a plain classifier head. */
            public Builder headNormFirst(boolean value) {
                headNormFirst = value;
                return this;
            }

            /** Width of a pre-logits linear + GELU in the head (0: none, the default). */
            public Builder headHiddenSize(int value) {
                headHiddenSize = value;
                return this;
            }

            /** 1x1 convs and a channels-first norm in the blocks instead of NHWC linear layers. */
            public Builder convMlp(boolean value) {
                convMlp = value;
                return this;
            }

            /** Bias in convolutions (default). */
            public Builder convBias(boolean value) {
                convBias = value;
                return this;
            }

            /** ConvNeXt-V2 Global Response Norm in the MLP. */
            public Builder useGrn(boolean value) {
                useGrn = value;
                return this;
            }

            /** The MLP activation (default GELU). */
            public Builder act(Activation.Kind value) {
                act = value;
                return this;
            }

            /** The norm kind (default LayerNorm). */
            public Builder norm(Norm value) {
                norm = value;
                return this;
            }

            /** The norm epsilon (default 1e-6). */
            public Builder normEps(float value) {
                normEps = value;
                return this;
            }

            /** The config, failing on a missing or inconsistent field. */
            public Config build() {
                requireStages("ConvNeXt");
                return new Config(
                        depths,
                        dims,
                        kernelSizes,
                        lsInitValue,
                        stemType,
                        patchSize,
                        headInitScale,
                        headNormFirst,
                        headHiddenSize,
                        convMlp,
                        convBias,
                        useGrn,
                        act,
                        norm,
                        normEps);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's ConvNeXtBlock: depthwise conv, norm, MLP, layer scale, drop path, residual. */
    static final class Block extends Module {
        private final Module convDw;
        private final Module norm;
        private final Module mlp;
        private final Parameter gamma;
        private final Double lsInitValue;
        private final Module dropPath;
        private final boolean convMlp;
        private final int dim;

        Block(Config cfg, int dim, int kernel, double dpr) {
            this.dim = dim;
            this.convMlp = cfg.convMlp();
            this.lsInitValue = cfg.lsInitValue();
            convDw = register("conv_dw", Conv2d.symmetric(dim, dim, kernel, 1, 1, dim, cfg.convBias()));
            norm = register("norm", cfg.convMlp() ? cfg.norm2d(dim) : new LayerNorm(dim, cfg.normEps()));
            int hidden = 4 * dim;
            if (cfg.useGrn()) {
                mlp = register("mlp", new GlobalResponseNormMlp(dim, hidden, cfg.act(), 0f, cfg.convMlp()));
            } else {
                mlp = register(
                        "mlp",
                        cfg.convMlp() ? Mlp.conv(dim, hidden, dim, cfg.act(), 0f) : new Mlp(dim, hidden, cfg.act()));
            }
            gamma = lsInitValue == null ? null : parameter("gamma", dim);
            register("shortcut", new Identity());
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            if (gamma != null) {
                Init.constant(gamma.getArray(), lsInitValue.floatValue());
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = convDw.forward(x);
            if (convMlp) {
                x = mlp.forward(norm.forward(x));
            } else {
                x = mlp.forward(norm.forward(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2);
            }
            if (gamma != null) {
                x = x.mul(gamma.getArray().reshape(new Shape(1, dim, 1, 1)));
            }
            return dropPath.forward(x).add(shortcut);
        }
    }

    /** timm's ConvNeXtStage: {@code downsample} (norm + strided conv, or identity), {@code blocks}. */
    static final class Stage extends Module {
        private final Module downsample;
        private final Module blocks;

        Stage(Config cfg, int in, int out, int kernel, int stride, int depth, double[] dpr) {
            if (in != out || stride > 1) {
                int k = stride > 1 ? 2 : 1;
                downsample = register(
                        "downsample",
                        new Sequential(
                                cfg.norm2d(in),
                                new Conv2d(
                                        in,
                                        out,
                                        k,
                                        Conv2d.Options.defaults().stride(stride).bias(cfg.convBias()))));
            } else {
                downsample = register("downsample", new Identity());
            }
            Sequential b = new Sequential();
            for (int i = 0; i < depth; i++) {
                b.add(new Block(cfg, out, kernel, dpr[i]));
            }
            blocks = register("blocks", b);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(downsample.forward(x));
        }
    }

    /** timm's {@code pre_logits} of a hidden-size head: {@code fc} (linear, or 1x1 conv on maps) and GELU. */
    static final class PreLogits extends Module {
        private final Module fc;

        PreLogits(Module fc) {
            this.fc = register("fc", fc);
            register("act", new Activation(Activation.Kind.GELU));
        }

        Module fc() {
            return fc;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return Activation.apply(Activation.Kind.GELU, fc.forward(x));
        }
    }

    /**
     * timm's NormMlpClassifierHead (pool, norm, flatten, optional pre-logits, dropout, fc) and, for
     * {@code head_norm_first}, its ClassifierHead (pool, dropout, fc). Without pooling the classifier is a 1x1 conv on
     * the maps, as timm makes it.
     */
    static final class Head extends Module implements ResettableHead {
        private final boolean normMlp;
        private final int inFeatures;
        private final int hiddenSize;
        private final float dropRate;
        private GlobalPool pool;
        private final Module norm;
        private Module preLogits;
        private Module fc;

        Head(Config cfg, int inFeatures, int numClasses, String poolType, double dropRate) {
            this.normMlp = !cfg.headNormFirst();
            this.inFeatures = inFeatures;
            this.hiddenSize = cfg.headHiddenSize();
            this.dropRate = (float) dropRate;
            String p = checkPool(poolType);
            pool = register("global_pool", new GlobalPool(p, !normMlp && !p.isEmpty()));
            if (normMlp) {
                norm = register("norm", cfg.norm2d(inFeatures));
                register("flatten", new Identity());
                preLogits = register(
                        "pre_logits",
                        hiddenSize > 0
                                ? new PreLogits(projection(inFeatures, hiddenSize, p.isEmpty()))
                                : new Identity());
                register("drop", new Identity());
                fc = register("fc", classifier(numClasses, p));
            } else {
                norm = null;
                preLogits = null;
                fc = register("fc", ClassifierHead.fc(inFeatures, numClasses, p));
            }
        }

        private String checkPool(String poolType) {
            String p = GlobalPool.validate(poolType);
            if (normMlp && p.equals("catavgmax")) {
                throw new IllegalArgumentException(
                        "globalPool catavgmax doubles the channels, which the ConvNeXt head's norm of " + inFeatures
                                + " cannot take");
            }
            return p;
        }

        private static Module projection(int in, int out, boolean conv) {
            return conv ? new Conv2d(in, out, 1, Conv2d.Options.defaults()) : new Linear(in, out);
        }

        private Module classifier(int numClasses, String p) {
            int width = hiddenSize > 0 ? hiddenSize : inFeatures;
            return numClasses > 0 ? projection(width, numClasses, p.isEmpty()) : new Identity();
        }

        @Override
        public void reset(int numClasses, String poolType) {
            String p = checkPool(poolType);
            if (!normMlp) {
                Module newFc = ClassifierHead.fc(inFeatures, numClasses, p);
                pool = register("global_pool", new GlobalPool(p, !p.isEmpty()));
                fc = register("fc", newFc);
                return;
            }
            pool = register("global_pool", new GlobalPool(p, false));
            if (preLogits instanceof PreLogits pl && (pl.fc() instanceof Conv2d) != p.isEmpty()) {
                // timm keeps the trained pre-logits weights when switching between linear and 1x1 conv
                Module old = pl.fc();
                Module fresh = projection(inFeatures, hiddenSize, p.isEmpty());
                PreLogits npl = new PreLogits(fresh);
                NDArray w = old.directParameters().get("weight").getArray().duplicate();
                NDArray b = old.directParameters().get("bias").getArray().duplicate();
                preLogits = register("pre_logits", npl);
                NDArray nw = fresh.directParameters().get("weight").getArray();
                Module.copyInto(nw, w.reshape(nw.getShape()));
                Module.copyInto(fresh.directParameters().get("bias").getArray(), b);
                w.close();
                b.close();
            }
            fc = register("fc", classifier(numClasses, p));
        }

        @Override
        public NDArray forward(NDArray x, boolean wantPreLogits) {
            x = pool.forward(x);
            if (normMlp) {
                x = norm.forward(x);
                if (!pool.isIdentity()) {
                    x = x.reshape(x.getShape().get(0), -1);
                }
                x = preLogits.forward(x);
            }
            x = Dropout.apply(x, dropRate, isTraining());
            return wantPreLogits ? x : fc.forward(x);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, false);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module normPre;
    private final Head head;

    public ConvNeXt(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.dims();
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        int stemStride;
        Module stem;
        if (cfg.stemType().equals("patch")) {
            stem = register(
                    "stem",
                    new Sequential(
                            new Conv2d(
                                    inChans,
                                    dims.get(0),
                                    cfg.patchSize(),
                                    Conv2d.Options.defaults()
                                            .stride(cfg.patchSize())
                                            .bias(cfg.convBias())),
                            cfg.norm2d(dims.get(0))));
            stemStride = cfg.patchSize();
        } else {
            int mid = cfg.stemType().contains("tiered") ? Layers.makeDivisible(dims.get(0) / 2, 8) : dims.get(0);
            Conv2d.Options o = Conv2d.Options.defaults().stride(2).padding(1).bias(cfg.convBias());
            Sequential st = new Sequential(new Conv2d(inChans, mid, 3, o));
            if (cfg.stemType().contains("act")) {
                st.add(new Activation(cfg.act()));
            }
            st.add(new Conv2d(mid, dims.get(0), 3, o));
            st.add(cfg.norm2d(dims.get(0)));
            stem = register("stem", st);
            stemStride = 4;
        }
        addTrunkStep(stem);
        Sequential stageSeq = register("stages", new Sequential());
        int prev = dims.get(0);
        int curStride = stemStride;
        for (int s = 0; s < 4; s++) {
            int stride = curStride == 2 || s > 0 ? 2 : 1;
            curStride *= stride;
            Stage stage = new Stage(
                    cfg,
                    prev,
                    dims.get(s),
                    cfg.kernelSizes().get(s),
                    stride,
                    cfg.depths().get(s),
                    dpr[s]);
            stageSeq.add(addTrunkStep(stage));
            prev = dims.get(s);
            addFeatureInfo(prev, curStride, "stages." + s);
        }
        setNumFeatures(prev);
        normPre = register("norm_pre", cfg.headNormFirst() ? cfg.norm2d(prev) : new Identity());
        head = registerHead("head", new Head(cfg, prev, numClasses, globalPool, dropRate));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        initTruncNormal(this, random, cfg.headInitScale());
    }

    /**
     * timm's and torchvision's init: trunc_normal_(std=.02) with bounds ±2 (absolute, so ±100 std: a plain normal) for
     * conv and linear weights, zero biases, and timm's {@code head_init_scale} on the linear layers under
     * {@code head.}.
     */
    static void initTruncNormal(Module root, SplittableRandom random, double headInitScale) {
        for (var e : root.namedModules().entrySet()) {
            Module m = e.getValue();
            if (m instanceof Conv2d c) {
                Init.normal(c.weight().getArray(), 0.02, random);
                if (c.bias() != null) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            } else if (m instanceof Linear l) {
                Init.normal(l.weight().getArray(), 0.02, random);
                Init.constant(l.bias().getArray(), 0f);
                if (headInitScale != 1.0 && e.getKey().startsWith("head.")) {
                    NDArray w = l.weight().getArray();
                    Module.copyInto(w, w.mul((float) headInitScale));
                }
            }
        }
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return normPre.forward(forwardTrunk(x));
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /**
     * Registers every ConvNeXt name of timm's convnext.py, and torchvision's ConvNeXts ({@link TvConvNeXt}) under
     * {@code tv/}.
     */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "convnext";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Config zepto = Config.of(List.of(2, 2, 4, 2), List.of(32, 64, 128, 256))
                    .withConvMlp()
                    .norm(Norm.SIMPLENORM);
            Config atto =
                    Config.of(List.of(2, 2, 6, 2), List.of(40, 80, 160, 320)).withConvMlp();
            Config femto =
                    Config.of(List.of(2, 2, 6, 2), List.of(48, 96, 192, 384)).withConvMlp();
            Config pico =
                    Config.of(List.of(2, 2, 6, 2), List.of(64, 128, 256, 512)).withConvMlp();
            Config nano =
                    Config.of(List.of(2, 2, 8, 2), List.of(80, 160, 320, 640)).withConvMlp();
            Config tiny = Config.of(List.of(3, 3, 9, 3), List.of(96, 192, 384, 768));
            Config small = Config.of(List.of(3, 3, 27, 3), List.of(96, 192, 384, 768));
            Config base = Config.of(List.of(3, 3, 27, 3), List.of(128, 256, 512, 1024));
            Config large = Config.of(List.of(3, 3, 27, 3), List.of(192, 384, 768, 1536));
            Config xlarge = Config.of(List.of(3, 3, 27, 3), List.of(256, 512, 1024, 2048));
            Config xxlarge = Config.of(List.of(3, 4, 30, 3), List.of(384, 768, 1536, 3072))
                    .eps(1e-5f);
            Config huge = Config.of(List.of(3, 3, 27, 3), List.of(352, 704, 1408, 2816));
            Config test2 =
                    Config.of(List.of(1, 1, 1, 1), List.of(32, 64, 96, 128)).eps(1e-5f);

            add(m, "convnext_zepto_rms", zepto);
            add(m, "convnext_zepto_rms_ols", zepto.stem("overlap_act"));
            add(m, "convnext_atto", atto);
            add(m, "convnext_atto_ols", atto.stem("overlap_tiered"));
            add(m, "convnext_atto_rms", atto.norm(Norm.RMSNORM));
            add(m, "convnext_femto", femto);
            add(m, "convnext_femto_ols", femto.stem("overlap_tiered"));
            add(m, "convnext_pico", pico);
            add(m, "convnext_pico_ols", pico.stem("overlap_tiered"));
            add(m, "convnext_nano", nano);
            add(m, "convnext_nano_ols", nano.stem("overlap"));
            add(m, "convnext_tiny_hnf", tiny.withHeadNormFirst().withConvMlp());
            add(m, "convnext_tiny", tiny);
            add(m, "convnext_small", small);
            add(m, "convnext_base", base);
            add(m, "convnext_large", large);
            add(m, "convnext_large_mlp", large.headHidden(1536), 256);
            add(m, "convnext_xlarge", xlarge);
            add(m, "convnext_xxlarge", xxlarge, 256);
            add(m, "convnextv2_atto", atto.v2());
            add(m, "convnextv2_femto", femto.v2());
            add(m, "convnextv2_pico", pico.v2());
            add(m, "convnextv2_nano", nano.v2());
            add(m, "convnextv2_tiny", tiny.v2());
            add(m, "convnextv2_small", small.v2());
            add(m, "convnextv2_base", base.v2());
            add(m, "convnextv2_large", large.v2());
            add(m, "convnextv2_huge", huge.v2());
            add(
                    m,
                    "test_convnext",
                    Config.of(List.of(1, 2, 4, 2), List.of(24, 32, 48, 64))
                            .eps(1e-5f)
                            .act(Activation.Kind.GELU_TANH),
                    160);
            add(m, "test_convnext2", test2.act(Activation.Kind.GELU_TANH), 160);
            add(m, "test_convnext3", test2.kernels(7, 5, 5, 3).act(Activation.Kind.SILU), 160);

            // torchvision's builders default stochastic_depth_prob to 0.1, 0.4, 0.5 and 0.5
            addTv(m, "tv/convnext_tiny", tiny, 0.1);
            addTv(m, "tv/convnext_small", small, 0.4);
            addTv(m, "tv/convnext_base", base, 0.5);
            addTv(m, "tv/convnext_large", large, 0.5);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            add(m, name, c, 224);
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            m.add(new ModelEntry(
                    name,
                    "convnext",
                    args -> new ConvNeXt(c, args),
                    PretrainedCfg.untrained(name, size, "stem.0", "head.fc")));
        }

        private static void addTv(List<ModelEntry> m, String name, Config c, double dropPathRate) {
            m.add(new ModelEntry(
                    name,
                    "torchvision",
                    args -> new TvConvNeXt(c, args.withDefaultDropPathRate(dropPathRate)),
                    PretrainedCfg.untrained(name, 224, "features.0.0", "classifier.2")));
        }
    }
}
