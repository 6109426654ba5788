package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNorm;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Reparameterizable;
import dev.jimm.layers.Reparameterization;
import dev.jimm.layers.Reparameterization.Kernel;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * RepViT, as timm's {@code models/repvit.py} builds it: a MobileNet-style net whose depthwise token mixer
 * ({@code RepVggDw}) has a 3x3 branch, a 1x1 branch and the identity, and whose convolutions each carry a BatchNorm
 * ({@code ConvNorm}); the classifier is BatchNorm + Linear ({@code NormLinear}), twice with timm's distillation head
 * ({@code head_dist}, averaged with {@code head} outside distilled training). {@link #fuse()} merges all of it into
 * plain convolutions and one Linear for inference, as timm's {@code RepVit.fuse}.
 *
 * <p>The {@code legacy} variants ({@code repvit_m1}, {@code m2}, {@code m3}) give the 1x1 branch its own BatchNorm; the
 * others put one BatchNorm after the three branches' sum.
 */
public final class RepVit extends ImageModel {

    /**
     * A RepViT variant, as timm's RepVit keyword arguments.
     *
     * @param embedDims channels per stage
     * @param depths blocks per stage
     * @param mlpRatio hidden width of the channel mixers over their input
     * @param kernelSize depthwise kernel of the token mixers and downsamplers
     * @param legacy the 1x1 token-mixer branch has its own BatchNorm (no BatchNorm after the sum)
     * @param distillation a second classifier ({@code head_dist}), averaged with the first
     */
    public record Config(
            List<Integer> embedDims,
            List<Integer> depths,
            int mlpRatio,
            int kernelSize,
            boolean legacy,
            boolean distillation) {
        public Config {
            embedDims = List.copyOf(embedDims);
            depths = List.copyOf(depths);
            if (embedDims.isEmpty() || embedDims.size() != depths.size()) {
                throw new IllegalArgumentException(
                        "RepViT needs one depth per stage: embedDims " + embedDims + ", depths " + depths);
            }
            if (kernelSize % 2 != 1) {
                throw new IllegalArgumentException("kernelSize " + kernelSize + " must be odd");
            }
        }

        /** timm's defaults with these widths and depths: MLP ratio 2, 3x3 kernels, distillation head. */
        public static Config of(List<Integer> embedDims, List<Integer> depths) {
            return builder().embedDims(embedDims).depths(depths).build();
        }

        /** A builder with timm's defaults (embedDims and depths required). */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** The legacy form: a BatchNorm on the 1x1 token-mixer branch instead of one after the sum. */
        public Config asLegacy() {
            return toBuilder().legacy(true).build();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private List<Integer> embedDims;
            private List<Integer> depths;
            private int mlpRatio = 2;
            private int kernelSize = 3;
            private boolean legacy;
            private boolean distillation = true;

            private Builder() {}

            private Builder(Config c) {
                embedDims = c.embedDims();
                depths = c.depths();
                mlpRatio = c.mlpRatio();
                kernelSize = c.kernelSize();
                legacy = c.legacy();
                distillation = c.distillation();
            }

            /** Channels per stage (required). */
            public Builder embedDims(List<Integer> value) {
                embedDims = value;
                return this;
            }

            /** Blocks per stage (required). */
            public Builder depths(List<Integer> value) {
                depths = value;
                return this;
            }

            /** Channel-mixer expansion (default 2). */
            public Builder mlpRatio(int value) {
                mlpRatio = value;
                return this;
            }

            /** Depthwise kernel (default 3). */
            public Builder kernelSize(int value) {
                kernelSize = value;
                return this;
            }

            /** A BatchNorm on the 1x1 token-mixer branch (timm's legacy weights). */
            public Builder legacy(boolean value) {
                legacy = value;
                return this;
            }

            /** The distillation head (default on, as timm's). */
            public Builder distillation(boolean value) {
                distillation = value;
                return this;
            }

            /** The config, failing on a missing or inconsistent field. */
            public Config build() {
                if (embedDims == null || depths == null) {
                    throw new IllegalArgumentException("RepViT config: embedDims and depths are required");
                }
                return new Config(embedDims, depths, mlpRatio, kernelSize, legacy, distillation);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's ConvNorm: a bias-free convolution {@code c} and a BatchNorm {@code bn}; fuses into one convolution. */
    static final class RepConvNorm extends ConvNorm implements Reparameterizable {
        RepConvNorm(int in, int out, int kernel, int stride, int groups, float bnWeightInit) {
            super(
                    "c",
                    Conv2d.symmetric(in, out, kernel, stride, 1, groups, false),
                    Activation.Kind.IDENTITY,
                    bnWeightInit);
        }

        /** A 1x1 ConvNorm. */
        static RepConvNorm pointwise(int in, int out, float bnWeightInit) {
            return new RepConvNorm(in, out, 1, 1, 1, bnWeightInit);
        }

        @Override
        public Reparameterized reparameterized() {
            return fusedConv(kernel(), (int) conv().stride()[0], (int) conv().padding()[0], conv().groups());
        }
    }

    /** A biased convolution holding {@code k}, as a {@link Reparameterized} replacement. */
    static Reparameterizable.Reparameterized fusedConv(Kernel k, int stride, int padding, int groups) {
        return new Reparameterizable.Reparameterized(
                k.newConv(stride, padding, groups), Map.of("weight", k.weightFloats(), "bias", k.biasFloats()));
    }

    /** timm's NormLinear: BatchNorm1d {@code bn} then Linear {@code l}; fuses into one Linear. */
    static final class NormLinear extends Module implements Reparameterizable {
        private final BatchNorm2d bn;
        private final Linear linear;

        NormLinear(int in, int out) {
            this.bn = register("bn", new BatchNorm2d(in));
            this.linear = register("l", new Linear(in, out));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.normal(linear.weight().getArray(), 0.02, random);
            Init.constant(linear.bias().getArray(), 0f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return linear.forward(bn.forward(x));
        }

        /** The weight [out, in] and bias of the fused Linear, in double: {@code W diag(s)}, {@code W t + b}. */
        double[][] fused() {
            int in = linear.inFeatures();
            int out = linear.outFeatures();
            // the BatchNorm as x * s + t, as a 1x1 kernel of the identity
            Kernel norm = Kernel.of(bn, in, 1);
            double[] w = Reparameterization.toDouble(linear.weight().getArray().toFloatArray());
            double[] b = Reparameterization.toDouble(linear.bias().getArray().toFloatArray());
            double[] fw = new double[out * in];
            double[] fb = new double[out];
            for (int o = 0; o < out; o++) {
                double sum = b[o];
                for (int i = 0; i < in; i++) {
                    fw[o * in + i] = w[o * in + i] * norm.weight()[i];
                    sum += w[o * in + i] * norm.bias()[i];
                }
                fb[o] = sum;
            }
            return new double[][] {fw, fb};
        }

        @Override
        public Reparameterized reparameterized() {
            double[][] f = fused();
            return new Reparameterized(
                    new Linear(linear.inFeatures(), linear.outFeatures()),
                    Map.of("weight", Reparameterization.toFloat(f[0]), "bias", Reparameterization.toFloat(f[1])));
        }
    }

    /**
     * timm's RepVggDw: a depthwise kxk ConvNorm ({@code conv}), a depthwise 1x1 branch ({@code conv1}) and the
     * identity, summed; then a BatchNorm ({@code bn}), or, legacy, a ConvNorm as the 1x1 branch and no norm after.
     */
    static final class RepVggDw extends Module implements Reparameterizable {
        private final int dim;
        private final int kernel;
        private final boolean legacy;

        RepVggDw(int dim, int kernel, boolean legacy) {
            this.dim = dim;
            this.kernel = kernel;
            this.legacy = legacy;
            register("conv", new RepConvNorm(dim, dim, kernel, 1, dim, 1f));
            if (legacy) {
                register("conv1", new RepConvNorm(dim, dim, 1, 1, dim, 1f));
                register("bn", new Identity());
            } else {
                register(
                        "conv1",
                        new Conv2d(dim, dim, 1, Conv2d.Options.defaults().groups(dim)));
                register("bn", new BatchNorm2d(dim));
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray sum =
                    child("conv").forward(x).add(child("conv1").forward(x)).add(x);
            return child("bn").forward(sum);
        }

        @Override
        public Reparameterized reparameterized() {
            Kernel conv = ((RepConvNorm) child("conv")).kernel();
            Kernel conv1 = legacy ? ((RepConvNorm) child("conv1")).kernel() : Kernel.of((Conv2d) child("conv1"));
            Kernel sum = conv.plus(conv1.padTo(kernel)).plus(Kernel.identity(dim, dim, kernel));
            if (!legacy) {
                sum = sum.then((BatchNorm2d) child("bn"));
            }
            return fusedConv(sum, 1, (kernel - 1) / 2, dim);
        }
    }

    /** timm's RepVitMlp: 1x1 ConvNorm {@code conv1}, activation, 1x1 ConvNorm {@code conv2} (its norm starts at 0). */
    static final class ChannelMlp extends Module {
        private final Activation.Kind act;

        ChannelMlp(int in, int hidden, Activation.Kind act) {
            this.act = act;
            register("conv1", RepConvNorm.pointwise(in, hidden, 1f));
            register("act", new Activation(act));
            register("conv2", RepConvNorm.pointwise(hidden, in, 0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return child("conv2").forward(Activation.apply(act, child("conv1").forward(x)));
        }
    }

    /** timm's RepViTBlock: token mixer, optional SE, then the channel mixer as a residual. */
    static final class Block extends Module {
        Block(Config cfg, int dim, boolean useSe, Activation.Kind act) {
            register("token_mixer", new RepVggDw(dim, cfg.kernelSize(), cfg.legacy()));
            register("se", useSe ? new SqueezeExcite(dim, 0.25, 8) : new Identity());
            register("channel_mixer", new ChannelMlp(dim, dim * cfg.mlpRatio(), act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = child("se").forward(child("token_mixer").forward(x));
            return x.add(child("channel_mixer").forward(x));
        }
    }

    /** timm's RepVitStem: two stride-2 3x3 ConvNorms with an activation between. */
    static final class Stem extends Module {
        private final Activation.Kind act;

        Stem(int in, int out, Activation.Kind act) {
            this.act = act;
            register("conv1", new RepConvNorm(in, out / 2, 3, 2, 1, 1f));
            register("act1", new Activation(act));
            register("conv2", new RepConvNorm(out / 2, out, 3, 2, 1, 1f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return child("conv2").forward(Activation.apply(act, child("conv1").forward(x)));
        }
    }

    /**
     * timm's RepVitDownsample: a block without SE ({@code pre_block}), a stride-2 depthwise ConvNorm, a 1x1 ConvNorm to
     * the new width, and a residual channel mixer ({@code ffn}).
     */
    static final class Downsample extends Module {
        Downsample(Config cfg, int in, int out, Activation.Kind act) {
            int k = cfg.kernelSize();
            register("pre_block", new Block(cfg, in, false, act));
            register("spatial_downsample", new RepConvNorm(in, in, k, 2, in, 1f));
            register("channel_downsample", RepConvNorm.pointwise(in, out, 1f));
            register("ffn", new ChannelMlp(out, out * cfg.mlpRatio(), act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = child("pre_block").forward(x);
            x = child("channel_downsample").forward(child("spatial_downsample").forward(x));
            return x.add(child("ffn").forward(x));
        }
    }

    /** timm's RepVitStage: a downsampler (or identity) and blocks that alternate SE on and off. */
    static final class Stage extends Module {
        private final Module downsample;
        private final Module blocks;

        Stage(Config cfg, int in, int out, int depth, boolean downsample, Activation.Kind act) {
            if (!downsample && in != out) {
                throw new IllegalArgumentException(
                        "a stage without downsampling keeps its width: " + in + " -> " + out);
            }
            this.downsample = register("downsample", downsample ? new Downsample(cfg, in, out, act) : new Identity());
            Sequential b = new Sequential();
            for (int i = 0; i < depth; i++) {
                b.add(new Block(cfg, out, i % 2 == 0, act));
            }
            this.blocks = register("blocks", b);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(downsample.forward(x));
        }
    }

    /**
     * timm's RepVitClassifier: {@code head_drop}, a NormLinear {@code head} and, with distillation, a second one
     * {@code head_dist}; the output is their mean. Fuses into one Linear of the mean weights (or an identity for 0
     * classes).
     */
    static final class Classifier extends Module implements Reparameterizable {
        private final int numClasses;
        private final boolean distillation;
        private final Module head;
        private final Module headDist;

        Classifier(int dim, int numClasses, boolean distillation) {
            this.numClasses = numClasses;
            this.distillation = distillation;
            register("head_drop", new Dropout(0f));
            this.head = register("head", numClasses > 0 ? new NormLinear(dim, numClasses) : new Identity());
            this.headDist = distillation
                    ? register("head_dist", numClasses > 0 ? new NormLinear(dim, numClasses) : new Identity())
                    : null;
        }

        boolean distillation() {
            return distillation;
        }

        /** Both heads' outputs (the class head's, then the distillation head's). */
        NDList both(NDArray x) {
            if (!distillation) {
                throw new IllegalStateException("this RepViT classifier has no distillation head");
            }
            return new NDList(head.forward(x), headDist.forward(x));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (!distillation) {
                return head.forward(x);
            }
            return Scalars.div(head.forward(x).add(headDist.forward(x)), 2);
        }

        @Override
        public Reparameterized reparameterized() {
            if (numClasses == 0) {
                return new Reparameterized(new Identity(), Map.of());
            }
            double[][] f = ((NormLinear) head).fused();
            if (distillation) {
                double[][] d = ((NormLinear) headDist).fused();
                for (int part = 0; part < 2; part++) {
                    for (int i = 0; i < f[part].length; i++) {
                        f[part][i] = (f[part][i] + d[part][i]) / 2;
                    }
                }
            }
            int in = (int) (f[0].length / numClasses);
            return new Reparameterized(
                    new Linear(in, numClasses),
                    Map.of("weight", Reparameterization.toFloat(f[0]), "bias", Reparameterization.toFloat(f[1])));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private static final Activation.Kind ACT = Activation.Kind.GELU;

    private final Config cfg;

    public RepVit(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        checkPool(globalPool, numClasses);
        List<Integer> dims = cfg.embedDims();
        addTrunkStep(register("stem", new Stem(inChans, dims.get(0), ACT)));
        Sequential stages = register("stages", new Sequential());
        int in = dims.get(0);
        int stride = 4;
        for (int i = 0; i < dims.size(); i++) {
            boolean down = i > 0;
            stages.add(addTrunkStep(new Stage(cfg, in, dims.get(i), cfg.depths().get(i), down, ACT)));
            stride *= down ? 2 : 1;
            in = dims.get(i);
            addFeatureInfo(in, stride, "stages." + i);
        }
        setNumFeatures(in);
        register("head_drop", new Dropout((float) dropRate));
        register("head", new Classifier(in, numClasses, cfg.distillation()));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    private static void checkPool(String pool, int numClasses) {
        GlobalPool.checkAvgOrNone(pool, numClasses, "RepViT", "maps");
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        x = pool(x);
        return preLogits ? x : child("head").forward(x);
    }

    private NDArray pool(NDArray x) {
        if (globalPool.equals("avg")) {
            x = Layers.spatialMean(x, false);
        }
        return Dropout.apply(x, (float) dropRate, isTraining());
    }

    /**
     * The class head's and the distillation head's logits apart (what timm's distilled training returns), from the
     * features; the ordinary output is their mean.
     *
     * @throws IllegalStateException when the model has no distillation head or has been fused
     */
    public NDList forwardHeadDistilled(NDArray features) {
        if (!(child("head") instanceof Classifier c) || !c.distillation()) {
            throw new IllegalStateException(
                    name() + " has no separate distillation head (built without one, reset, or fused)");
        }
        return c.both(pool(features));
    }

    /** Replaces the classifier without a distillation head, as timm's {@code reset_classifier} by default. */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        resetClassifier(newNumClasses, newGlobalPool, false);
    }

    /** Replaces the classifier, with or without a distillation head ({@code head_dist}). */
    public void resetClassifier(int newNumClasses, String newGlobalPool, boolean distillation) {
        String p = GlobalPool.validate(newGlobalPool);
        checkPool(p, newNumClasses);
        register("head", new Classifier(numFeatures(), newNumClasses, distillation));
        numClasses = newNumClasses;
        globalPool = p;
    }

    /**
     * timm's {@code fuse()}: every ConvNorm, RepVggDw and NormLinear becomes one convolution or Linear, and the two
     * heads one Linear of their mean, in place. Eval-mode outputs stay the same (to float rounding); the state_dict
     * then has the fused keys ({@code stem.conv1.weight}, {@code head.weight}, ...), and training would no longer use
     * batch statistics.
     *
     * @return this model
     */
    public RepVit fuse() {
        Reparameterization.apply(this);
        return this;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's repvit_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "repvit";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Config m09 = Config.of(List.of(48, 96, 192, 384), List.of(2, 2, 14, 2));
            Config m11 = Config.of(List.of(64, 128, 256, 512), List.of(2, 2, 12, 2));
            add(m, "repvit_m1", m09.asLegacy());
            add(m, "repvit_m2", m11.asLegacy());
            add(
                    m,
                    "repvit_m3",
                    Config.of(List.of(64, 128, 256, 512), List.of(4, 4, 18, 2)).asLegacy());
            add(m, "repvit_m0_9", m09);
            add(m, "repvit_m1_0", Config.of(List.of(56, 112, 224, 448), List.of(2, 2, 14, 2)));
            add(m, "repvit_m1_1", m11);
            add(m, "repvit_m1_5", Config.of(List.of(64, 128, 256, 512), List.of(4, 4, 24, 4)));
            add(m, "repvit_m2_3", Config.of(List.of(80, 160, 320, 640), List.of(6, 6, 34, 2)));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "repvit", args -> new RepVit(c, args), 224, "stem.conv1.c", "head.head.l"));
        }
    }
}
