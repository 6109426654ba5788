package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNorm;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Reparameterizable;
import dev.jimm.layers.Reparameterization;
import dev.jimm.layers.Reparameterization.Kernel;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * FastViT and MobileCLIP's image towers (MCi), as timm's {@code models/fastvit.py} builds them: a MobileOne stem,
 * stages of RepMixer blocks (a re-parameterisable depthwise token mixer) and, in the SA/MA/MCi variants, a last stage
 * (two in MCi3/4) of attention blocks behind a re-parameterisable conditional position encoding; downsampling by
 * re-parameterisable large-kernel patch embeddings; a MobileOne {@code final_conv} with SE before the classifier.
 *
 * <p>Its multi-branch blocks train as timm's do; {@link #reparameterize()} turns them, in place, into the single
 * convolutions timm's {@code reparameterize_model} gives for inference.
 */
public final class FastVit extends ImageModel {

    /** The token mixer of a stage's blocks. */
    public enum Mixer {
        /** RepMixer: a depthwise conv minus a BatchNorm, scaled, as a residual */
        REPMIXER,
        /** multi-head self-attention on the flattened map */
        ATTENTION
    }

    /** The norm of the attention blocks. */
    public enum Norm {
        /** BatchNorm2d, timm's default */
        BATCHNORM,
        /** LayerNorm2d of eps 1e-5 (MCi3, MCi4) */
        LAYERNORM
    }

    /**
     * A FastViT variant, as timm's FastVit keyword arguments (one entry per stage in the lists).
     *
     * @param layers blocks per stage
     * @param mixers token mixer per stage
     * @param embedDims channels per stage
     * @param mlpRatios ConvMlp expansion per stage
     * @param downsamples whether a stage starts with a patch embedding (also when its width changes)
     * @param seDownsamples SE in a stage's patch embedding
     * @param posEmbs a conditional position encoding (7x7) at a stage's start
     * @param repmixerKernelSize the RepMixer's depthwise kernel
     * @param downPatchSize the patch embedding's large kernel
     * @param downStride the patch embedding's stride
     * @param layerScaleInit layer-scale init value, or null for none
     * @param lkcUseAct the patch embedding's large-kernel conv ends with its activation
     * @param stemUseScaleBranch the stem's MobileOne blocks have a 1x1 branch
     * @param clsRatio {@code final_conv}'s width over the last stage's
     * @param norm the attention blocks' norm
     */
    public record Config(
            List<Integer> layers,
            List<Mixer> mixers,
            List<Integer> embedDims,
            List<Double> mlpRatios,
            List<Boolean> downsamples,
            List<Boolean> seDownsamples,
            List<Boolean> posEmbs,
            int repmixerKernelSize,
            int downPatchSize,
            int downStride,
            Double layerScaleInit,
            boolean lkcUseAct,
            boolean stemUseScaleBranch,
            double clsRatio,
            Norm norm) {
        public Config {
            layers = List.copyOf(layers);
            mixers = List.copyOf(mixers);
            embedDims = List.copyOf(embedDims);
            mlpRatios = List.copyOf(mlpRatios);
            downsamples = List.copyOf(downsamples);
            seDownsamples = List.copyOf(seDownsamples);
            posEmbs = List.copyOf(posEmbs);
            int n = layers.size();
            if (n == 0
                    || mixers.size() != n
                    || embedDims.size() != n
                    || mlpRatios.size() != n
                    || downsamples.size() != n
                    || seDownsamples.size() != n
                    || posEmbs.size() != n) {
                throw new IllegalArgumentException("FastViT needs one entry per stage in every list: layers " + layers
                        + ", mixers " + mixers + ", embedDims " + embedDims + ", mlpRatios " + mlpRatios
                        + ", downsamples " + downsamples + ", seDownsamples " + seDownsamples + ", posEmbs " + posEmbs);
            }
        }

        /** A builder with timm's defaults; layers, mixers, widths and MLP ratios are required. */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name; lists left unset take timm's per-stage defaults. */
        public static final class Builder {
            private List<Integer> layers;
            private List<Mixer> mixers;
            private List<Integer> embedDims;
            private List<Double> mlpRatios;
            private List<Boolean> downsamples;
            private List<Boolean> seDownsamples;
            private List<Boolean> posEmbs;
            private int repmixerKernelSize = 3;
            private int downPatchSize = 7;
            private int downStride = 2;
            private Double layerScaleInit = 1e-5;
            private boolean lkcUseAct;
            private boolean stemUseScaleBranch = true;
            private double clsRatio = 2.0;
            private Norm norm = Norm.BATCHNORM;

            private Builder() {}

            /** Blocks per stage (required). */
            public Builder layers(Integer... value) {
                layers = List.of(value);
                return this;
            }

            /** Token mixer per stage (required). */
            public Builder mixers(Mixer... value) {
                mixers = List.of(value);
                return this;
            }

            /** Channels per stage (required). */
            public Builder embedDims(Integer... value) {
                embedDims = List.of(value);
                return this;
            }

            /** One MLP ratio for every stage. */
            public Builder mlpRatio(double value) {
                mlpRatios = Collections.nCopies(layers.size(), value);
                return this;
            }

            /** Patch embedding per stage (default: all but the first). */
            public Builder downsamples(Boolean... value) {
                downsamples = List.of(value);
                return this;
            }

            /** SE in the patch embedding per stage (default none). */
            public Builder seDownsamples(Boolean... value) {
                seDownsamples = List.of(value);
                return this;
            }

            /** Conditional position encoding per stage (default none). */
            public Builder posEmbs(Boolean... value) {
                posEmbs = List.of(value);
                return this;
            }

            /** A 7x7 conditional position encoding before every attention stage. */
            public Builder posEmbsForAttention() {
                posEmbs = mixers.stream().map(m -> m == Mixer.ATTENTION).toList();
                return this;
            }

            /** The RepMixer's kernel (default 3). */
            public Builder repmixerKernelSize(int value) {
                repmixerKernelSize = value;
                return this;
            }

            /** Layer-scale init value, or null for none (default 1e-5). */
            public Builder layerScaleInit(Double value) {
                layerScaleInit = value;
                return this;
            }

            /** The patch embedding's large-kernel conv ends with its activation (MCi). */
            public Builder lkcUseAct(boolean value) {
                lkcUseAct = value;
                return this;
            }

            /** The stem's 1x1 branches (default on). */
            public Builder stemUseScaleBranch(boolean value) {
                stemUseScaleBranch = value;
                return this;
            }

            /** The attention blocks' norm (default BatchNorm). */
            public Builder norm(Norm value) {
                norm = value;
                return this;
            }

            /** The config, failing on a missing or inconsistent field. */
            public Config build() {
                if (layers == null || mixers == null || embedDims == null || mlpRatios == null) {
                    throw new IllegalArgumentException(
                            "FastViT config: layers, mixers, embedDims and mlpRatio are required");
                }
                int n = layers.size();
                List<Boolean> down = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    down.add(i > 0);
                }
                List<Boolean> none = Collections.nCopies(n, false);
                return new Config(
                        layers,
                        mixers,
                        embedDims,
                        mlpRatios,
                        downsamples == null ? down : downsamples,
                        seDownsamples == null ? none : seDownsamples,
                        posEmbs == null ? none : posEmbs,
                        repmixerKernelSize,
                        downPatchSize,
                        downStride,
                        layerScaleInit,
                        lkcUseAct,
                        stemUseScaleBranch,
                        clsRatio,
                        norm);
            }
        }
    }

    // ---- re-parameterisable blocks --------------------------------------------------------------

    private static final Activation.Kind ACT = Activation.Kind.GELU;

    /** The state of {@code part} (floating-point entries) under {@code prefix}, copied, for a replacement. */
    static void copyState(Map<String, float[]> into, String prefix, Module part) {
        part.stateDict().forEach((k, v) -> {
            if (v.getDataType().isFloating()) {
                into.put(prefix + k, v.toFloatArray());
            }
        });
    }

    /**
     * timm's MobileOneBlock: a kxk ConvNorm branch ({@code conv_kxk}, {@code numConvBranches} of them), a 1x1 ConvNorm
     * branch ({@code conv_scale}) and a BatchNorm shortcut ({@code identity}, when the shape allows), summed, then SE
     * and the activation; in its inference form one biased convolution ({@code reparam_conv}) before them.
     */
    static final class MobileOneBlock extends Module implements Reparameterizable {
        private final int in;
        private final int out;
        private final int kernel;
        private final int stride;
        private final int groups;
        private final boolean useSe;
        private final boolean useAct;
        private final boolean useScaleBranch;
        private final int numConvBranches;
        private final boolean inference;

        MobileOneBlock(
                int in,
                int out,
                int kernel,
                int stride,
                int groups,
                boolean useSe,
                boolean useAct,
                boolean useScaleBranch,
                int numConvBranches,
                boolean inference) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.groups = groups;
            this.useSe = useSe;
            this.useAct = useAct;
            this.useScaleBranch = useScaleBranch;
            this.numConvBranches = numConvBranches;
            this.inference = inference;
            register("se", useSe ? new SqueezeExcite(out, 1.0 / 16, 1) : new Identity());
            if (inference) {
                register("reparam_conv", conv(in, out, kernel, stride, groups));
            } else {
                if (out == in && stride == 1) {
                    register("identity", new BatchNorm2d(in));
                }
                if (numConvBranches > 0) {
                    Sequential branches = register("conv_kxk", new Sequential());
                    for (int i = 0; i < numConvBranches; i++) {
                        branches.add(new ConvNorm(in, out, kernel, stride, groups));
                    }
                }
                if (kernel > 1 && useScaleBranch) {
                    register("conv_scale", new ConvNorm(in, out, 1, stride, groups));
                }
            }
            register("act", useAct ? new Activation(ACT) : new Identity());
        }

        /** A MobileOne block of timm's defaults: SE off, activation on, scale branch on, one kxk branch. */
        static MobileOneBlock of(int in, int out, int kernel, int stride, int groups) {
            return new MobileOneBlock(in, out, kernel, stride, groups, false, true, true, 1, false);
        }

        private static Conv2d conv(int in, int out, int kernel, int stride, int groups) {
            return Conv2d.symmetric(in, out, kernel, stride, 1, groups, true);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y;
            if (inference) {
                y = child("reparam_conv").forward(x);
            } else {
                // timm's order: scale + identity, then each kxk branch
                y = null;
                Module scale = child("conv_scale");
                Module identity = child("identity");
                if (scale != null) {
                    y = scale.forward(x);
                }
                if (identity != null) {
                    y = y == null ? identity.forward(x) : y.add(identity.forward(x));
                }
                Module branches = child("conv_kxk");
                if (branches != null) {
                    for (Module b : branches.children().values()) {
                        y = y == null ? b.forward(x) : y.add(b.forward(x));
                    }
                }
                if (y == null) {
                    throw new IllegalStateException("a MobileOne block without branches");
                }
            }
            return useAct
                    ? Activation.apply(ACT, child("se").forward(y))
                    : child("se").forward(y);
        }

        /** The branches merged into one kernel (timm's {@code _get_kernel_bias}). */
        Kernel kernel() {
            if (inference) {
                return Kernel.of((Conv2d) child("reparam_conv"));
            }
            Kernel sum = null;
            Module branches = child("conv_kxk");
            if (branches != null) {
                for (Module b : branches.children().values()) {
                    Kernel k = ((ConvNorm) b).kernel();
                    sum = sum == null ? k : sum.plus(k);
                }
            }
            if (child("conv_scale") instanceof ConvNorm scale) {
                Kernel k = scale.kernel().padTo(kernel);
                sum = sum == null ? k : sum.plus(k);
            }
            if (child("identity") instanceof BatchNorm2d bn) {
                Kernel k = Kernel.of(bn, groups, kernel);
                sum = sum == null ? k : sum.plus(k);
            }
            return sum;
        }

        @Override
        public boolean isInferenceForm() {
            return inference;
        }

        @Override
        public Reparameterized reparameterized() {
            Map<String, float[]> values = new HashMap<>();
            copyState(values, "se.", child("se"));
            Kernel k = kernel();
            values.put("reparam_conv.weight", k.weightFloats());
            values.put("reparam_conv.bias", k.biasFloats());
            return new Reparameterized(
                    new MobileOneBlock(
                            in, out, kernel, stride, groups, useSe, useAct, useScaleBranch, numConvBranches, true),
                    values);
        }
    }

    /**
     * timm's ReparamLargeKernelConv: a large-kernel ConvNorm ({@code large_conv}) plus a small-kernel one
     * ({@code small_conv}), then SE and an optional activation; in its inference form one convolution
     * ({@code reparam_conv}).
     */
    static final class LargeKernelConv extends Module implements Reparameterizable {
        private final int in;
        private final int out;
        private final int kernel;
        private final int stride;
        private final int groups;
        private final int smallKernel;
        private final boolean useSe;
        private final boolean useAct;
        private final boolean inference;

        LargeKernelConv(
                int in,
                int out,
                int kernel,
                int stride,
                int groups,
                int smallKernel,
                boolean useSe,
                boolean useAct,
                boolean inference) {
            if (smallKernel > kernel) {
                throw new IllegalArgumentException(
                        "the small kernel " + smallKernel + " is larger than the large kernel " + kernel);
            }
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.groups = groups;
            this.smallKernel = smallKernel;
            this.useSe = useSe;
            this.useAct = useAct;
            this.inference = inference;
            if (inference) {
                register("reparam_conv", MobileOneBlock.conv(in, out, kernel, stride, groups));
            } else {
                register("large_conv", new ConvNorm(in, out, kernel, stride, groups));
                if (smallKernel > 0) {
                    register("small_conv", new ConvNorm(in, out, smallKernel, stride, groups));
                }
            }
            register("se", useSe ? new SqueezeExcite(out, 0.25, 8) : new Identity());
            register("act", useAct ? new Activation(ACT) : new Identity());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y;
            if (inference) {
                y = child("reparam_conv").forward(x);
            } else {
                y = child("large_conv").forward(x);
                Module small = child("small_conv");
                if (small != null) {
                    y = y.add(small.forward(x));
                }
            }
            y = child("se").forward(y);
            return useAct ? Activation.apply(ACT, y) : y;
        }

        @Override
        public boolean isInferenceForm() {
            return inference;
        }

        @Override
        public Reparameterized reparameterized() {
            Kernel k;
            if (inference) {
                k = Kernel.of((Conv2d) child("reparam_conv"));
            } else {
                k = ((ConvNorm) child("large_conv")).kernel();
                if (child("small_conv") instanceof ConvNorm small) {
                    k = k.plus(small.kernel().padTo(kernel));
                }
            }
            Map<String, float[]> values = new HashMap<>();
            values.put("reparam_conv.weight", k.weightFloats());
            values.put("reparam_conv.bias", k.biasFloats());
            copyState(values, "se.", child("se"));
            return new Reparameterized(
                    new LargeKernelConv(in, out, kernel, stride, groups, smallKernel, useSe, useAct, true), values);
        }
    }

    /** timm's LayerScale2d: a learned per-channel scale {@code gamma} of shape [dim, 1, 1]. */
    static final class LayerScale2d extends Module {
        private final float initValue;
        private final Parameter gamma;

        LayerScale2d(int dim, double initValue) {
            this.initValue = (float) initValue;
            this.gamma = parameter("gamma", dim, 1, 1);
        }

        Parameter gamma() {
            return gamma;
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(gamma.getArray(), initValue);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.mul(gamma.getArray());
        }
    }

    /**
     * timm's RepMixer: {@code x + layer_scale(mixer(x) - norm(x))}, with {@code mixer} a depthwise MobileOne block and
     * {@code norm} a MobileOne block of only its BatchNorm shortcut; in its inference form one depthwise convolution
     * ({@code reparam_conv}) that includes the residual.
     */
    static final class RepMixer extends Module implements Reparameterizable {
        private final int dim;
        private final int kernel;
        private final Double layerScaleInit;
        private final boolean inference;

        RepMixer(int dim, int kernel, Double layerScaleInit, boolean inference) {
            this.dim = dim;
            this.kernel = kernel;
            this.layerScaleInit = layerScaleInit;
            this.inference = inference;
            if (inference) {
                register("reparam_conv", MobileOneBlock.conv(dim, dim, kernel, 1, dim));
            } else {
                register("norm", new MobileOneBlock(dim, dim, kernel, 1, dim, false, false, false, 0, false));
                register("mixer", new MobileOneBlock(dim, dim, kernel, 1, dim, false, false, true, 1, false));
                register(
                        "layer_scale", layerScaleInit != null ? new LayerScale2d(dim, layerScaleInit) : new Identity());
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (inference) {
                return child("reparam_conv").forward(x);
            }
            NDArray mixed = child("mixer").forward(x).sub(child("norm").forward(x));
            return x.add(child("layer_scale").forward(mixed));
        }

        @Override
        public boolean isInferenceForm() {
            return inference;
        }

        @Override
        public Reparameterized reparameterized() {
            Kernel k;
            if (inference) {
                k = Kernel.of((Conv2d) child("reparam_conv"));
            } else {
                Kernel diff =
                        ((MobileOneBlock) child("mixer")).kernel().minus(((MobileOneBlock) child("norm")).kernel());
                double[] gamma = new double[dim];
                if (child("layer_scale") instanceof LayerScale2d ls) {
                    gamma = Reparameterization.toDouble(ls.gamma().getArray().toFloatArray());
                } else {
                    Arrays.fill(gamma, 1.0);
                }
                k = Kernel.identity(dim, dim, kernel).plus(diff.scaled(gamma, new double[dim]));
            }
            return new Reparameterized(
                    new RepMixer(dim, kernel, layerScaleInit, true),
                    Map.of("reparam_conv.weight", k.weightFloats(), "reparam_conv.bias", k.biasFloats()));
        }
    }

    /**
     * timm's RepConditionalPosEnc: a depthwise 7x7 convolution ({@code pos_enc}) added to its input; in its inference
     * form one convolution ({@code reparam_conv}) that includes the residual.
     */
    static final class RepCpe extends Module implements Reparameterizable {
        private static final int KERNEL = 7;
        private final int dim;
        private final boolean inference;

        RepCpe(int dim, boolean inference) {
            this.dim = dim;
            this.inference = inference;
            register(inference ? "reparam_conv" : "pos_enc", Conv2d.symmetric(dim, dim, KERNEL, 1, 1, dim, true));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return inference
                    ? child("reparam_conv").forward(x)
                    : child("pos_enc").forward(x).add(x);
        }

        @Override
        public boolean isInferenceForm() {
            return inference;
        }

        @Override
        public Reparameterized reparameterized() {
            Kernel k = inference
                    ? Kernel.of((Conv2d) child("reparam_conv"))
                    : Kernel.identity(dim, dim, KERNEL).plus(Kernel.of((Conv2d) child("pos_enc")));
            return new Reparameterized(
                    new RepCpe(dim, true),
                    Map.of("reparam_conv.weight", k.weightFloats(), "reparam_conv.bias", k.biasFloats()));
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's ConvMlp: a depthwise 7x7 ConvNorm ({@code conv}), then 1x1 {@code fc1}, GELU, 1x1 {@code fc2}. */
    static final class ConvMlp extends Module {
        private final Module conv;
        private final Module fc1;
        private final Module fc2;
        private final float drop;

        ConvMlp(int in, int hidden, double drop) {
            this.conv = register("conv", new ConvNorm(in, in, 7, 1, in));
            this.fc1 = register("fc1", new Conv2d(in, hidden, 1, Conv2d.Options.defaults()));
            register("act", new Activation(ACT));
            this.fc2 = register("fc2", new Conv2d(hidden, in, 1, Conv2d.Options.defaults()));
            this.drop = (float) drop;
            register("drop", new Dropout(this.drop));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            // timm's ConvMlp._init_weights: trunc_normal_(std=.02) (a plain normal at absolute bounds ±2), zero bias
            for (Module m : namedModules().values()) {
                if (m instanceof Conv2d c) {
                    TimmInit.normal(c.weight(), c.bias(), 0.02, random);
                }
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Activation.apply(ACT, fc1.forward(conv.forward(x)));
            x = fc2.forward(Dropout.apply(x, drop, isTraining()));
            return Dropout.apply(x, drop, isTraining());
        }
    }

    /** timm's FastViT Attention: multi-head self-attention (32-wide heads) on an NCHW map's pixels. */
    static final class MapAttention extends Attention {
        MapAttention(int dim) {
            super(dim, dim / 32, false, 0f, 0f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return NchwTokens.toMap(super.forwardImpl(NchwTokens.toTokens(x)), x.getShape());
        }
    }

    /** timm's RepMixerBlock: the RepMixer, then a ConvMlp residual with layer scale and drop path. */
    static final class RepMixerBlock extends Module {
        private final Module mlp;
        private final Module layerScale;
        private final Module dropPath;

        RepMixerBlock(Config cfg, int dim, double mlpRatio, double dpr) {
            register("token_mixer", new RepMixer(dim, cfg.repmixerKernelSize(), cfg.layerScaleInit(), false));
            this.mlp = register("mlp", new ConvMlp(dim, (int) (dim * mlpRatio), 0));
            this.layerScale = register(
                    "layer_scale",
                    cfg.layerScaleInit() != null ? new LayerScale2d(dim, cfg.layerScaleInit()) : new Identity());
            this.dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = child("token_mixer").forward(x);
            return x.add(dropPath.forward(layerScale.forward(mlp.forward(x))));
        }
    }

    /** timm's AttentionBlock: norm, attention and a ConvMlp, each residual with layer scale and drop path. */
    static final class AttentionBlock extends Module {
        private final Module norm;
        private final Module tokenMixer;
        private final Module layerScale1;
        private final Module dropPath1;
        private final Module mlp;
        private final Module layerScale2;
        private final Module dropPath2;

        AttentionBlock(Config cfg, int dim, double mlpRatio, double dpr) {
            this.norm = register(
                    "norm", cfg.norm() == Norm.BATCHNORM ? new BatchNorm2d(dim) : LayerNorm.channelsFirst(dim, 1e-5f));
            this.tokenMixer = register("token_mixer", new MapAttention(dim));
            this.layerScale1 = register("layer_scale_1", layerScale(cfg, dim));
            this.dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            this.mlp = register("mlp", new ConvMlp(dim, (int) (dim * mlpRatio), 0));
            this.layerScale2 = register("layer_scale_2", layerScale(cfg, dim));
            this.dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
        }

        private static Module layerScale(Config cfg, int dim) {
            return cfg.layerScaleInit() != null ? new LayerScale2d(dim, cfg.layerScaleInit()) : new Identity();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = x.add(dropPath1.forward(layerScale1.forward(tokenMixer.forward(norm.forward(x)))));
            return x.add(dropPath2.forward(layerScale2.forward(mlp.forward(x))));
        }
    }

    /**
     * timm's FastViT PatchEmbed: {@code proj}, a stride-2 depthwise large-kernel conv (7x7 with a 3x3 branch) to the
     * new width, then a 1x1 MobileOne block.
     */
    static final class PatchEmbed extends Module {
        private final Module proj;

        PatchEmbed(Config cfg, int in, int embedDim, boolean useSe) {
            this.proj = register(
                    "proj",
                    new Sequential(
                            new LargeKernelConv(
                                    in,
                                    embedDim,
                                    cfg.downPatchSize(),
                                    cfg.downStride(),
                                    in,
                                    3,
                                    useSe,
                                    cfg.lkcUseAct(),
                                    false),
                            MobileOneBlock.of(embedDim, embedDim, 1, 1, 1)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return proj.forward(x);
        }
    }

    /** timm's FastVitStage: a patch embedding (or identity), a position encoding (or identity), the blocks. */
    static final class Stage extends Module {
        private final Module downsample;
        private final Module blocks;

        Stage(Config cfg, int i, int in, int out, boolean downsample, double[] dpr) {
            if (!downsample && in != out) {
                throw new IllegalArgumentException(
                        "stage " + i + " keeps its width without a patch embedding: " + in + " -> " + out);
            }
            this.downsample = register(
                    "downsample",
                    downsample
                            ? new PatchEmbed(cfg, in, out, cfg.seDownsamples().get(i))
                            : new Identity());
            register("pos_emb", cfg.posEmbs().get(i) ? new RepCpe(out, false) : new Identity());
            Sequential b = new Sequential();
            for (int j = 0; j < cfg.layers().get(i); j++) {
                double ratio = cfg.mlpRatios().get(i);
                b.add(
                        cfg.mixers().get(i) == Mixer.REPMIXER
                                ? new RepMixerBlock(cfg, out, ratio, dpr[j])
                                : new AttentionBlock(cfg, out, ratio, dpr[j]));
            }
            this.blocks = register("blocks", b);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(child("pos_emb").forward(downsample.forward(x)));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final int finalFeatures;

    public FastVit(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.embedDims();
        int e0 = dims.get(0);
        boolean scale = cfg.stemUseScaleBranch();
        addTrunkStep(register(
                "stem",
                new Sequential(
                        new MobileOneBlock(inChans, e0, 3, 2, 1, false, true, scale, 1, false),
                        new MobileOneBlock(e0, e0, 3, 2, e0, false, true, scale, 1, false),
                        new MobileOneBlock(e0, e0, 1, 1, 1, false, true, scale, 1, false))));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.layers());
        Sequential stages = register("stages", new Sequential());
        int prev = e0;
        int reduction = 4;
        for (int i = 0; i < dims.size(); i++) {
            boolean down = cfg.downsamples().get(i) || prev != dims.get(i);
            stages.add(addTrunkStep(new Stage(cfg, i, prev, dims.get(i), down, dpr[i])));
            prev = dims.get(i);
            reduction *= down ? 2 : 1;
            addFeatureInfo(prev, reduction, "stages." + i);
        }
        finalFeatures = (int) (prev * cfg.clsRatio());
        register("final_conv", new MobileOneBlock(prev, finalFeatures, 3, 1, prev, true, true, true, 1, false));
        registerNestedClassifierHead("head", finalFeatures);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's FastVit._init_weights: trunc_normal_(std=.02) on every Linear (a plain normal at ±2), zero bias
        TimmInit.normalLinears(this, 0.02, random);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return child("final_conv").forward(forwardTrunk(x));
    }

    /**
     * timm's {@code reparameterize_model} in place: every MobileOne block, large-kernel conv, RepMixer and position
     * encoding becomes one convolution ({@code reparam_conv}), with the same eval-mode outputs (to float rounding). The
     * state_dict then has timm's {@code inference_mode=True} keys; the ConvMlp norms stay.
     *
     * @return this model
     */
    public FastVit reparameterize() {
        Reparameterization.apply(this);
        return this;
    }

    /**
     * timm's {@code checkpoint_filter_fn}: timm checkpoints pass unchanged; MobileCLIP training checkpoints lose their
     * {@code module.visual.trunk.} prefix; Apple's original FastViT and MobileCLIP ({@code image_encoder.model.})
     * checkpoints are renamed to timm's modules, their flat {@code network.N} list split into stages at the patch
     * embeddings, and a CLIP projection ({@code head.proj}) becomes {@code head.fc} with a zero bias.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("stem.0.conv_kxk.0.conv.weight")) {
            return checkpoint;
        }
        String trunk = "module.visual.trunk.";
        if (checkpoint.containsKey(trunk + "stem.0.conv_kxk.0.conv.weight")) {
            Map<String, NDArray> out = new LinkedHashMap<>();
            checkpoint.forEach((k, v) -> {
                if (k.startsWith(trunk)) {
                    out.put(k.replace(trunk, ""), v);
                }
            });
            return out;
        }
        String prefix = checkpoint.containsKey("image_encoder.model.patch_embed.0.rbr_conv.0.conv.weight")
                ? "image_encoder.model."
                : "";
        Pattern stageEnd = Pattern.compile("^(.*?)network\\.(\\d+)\\.proj.*");
        TreeSet<Integer> ends = new TreeSet<>();
        for (String k : checkpoint.keySet()) {
            Matcher mt = stageEnd.matcher(k);
            if (mt.matches()) {
                ends.add(Integer.parseInt(mt.group(2)));
            }
        }
        Pattern network = Pattern.compile("^network\\.(\\d+)");
        boolean linearHead = child("head").child("fc") instanceof Linear;
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            NDArray v = e.getValue();
            if (!prefix.isEmpty()) {
                if (!k.contains(prefix)) {
                    continue;
                }
                k = k.replace(prefix, "");
            }
            k = k.replace("patch_embed", "stem")
                    .replace("rbr_conv", "conv_kxk")
                    .replace("rbr_scale", "conv_scale")
                    .replace("rbr_skip", "identity")
                    .replace("conv_exp", "final_conv")
                    .replace("lkb_origin", "large_conv")
                    .replace("convffn", "mlp")
                    .replace("se.reduce", "se.fc1")
                    .replace("se.expand", "se.fc2")
                    .replaceAll("layer_scale_([0-9])", "layer_scale_$1.gamma");
            if (k.endsWith("layer_scale")) {
                k = k.replace("layer_scale", "layer_scale.gamma");
            }
            k = k.replace("dist_head", "head_dist");
            if (k.startsWith("head.")) {
                if (k.equals("head.proj") && linearHead) {
                    k = "head.fc.weight";
                    v = v.transpose();
                    out.put(
                            "head.fc.bias",
                            v.getManager().zeros(new Shape(v.getShape().get(0))));
                } else {
                    k = k.replace("head.", "head.fc.");
                }
            }
            Matcher mt = network.matcher(k);
            if (mt.find()) {
                int netIdx = Integer.parseInt(mt.group(1));
                int stageIdx = ends.headSet(netIdx, true).size();
                String netPrefix = "network." + netIdx;
                String stagePrefix = "stages." + stageIdx;
                if (k.contains(netPrefix + ".proj")) {
                    k = k.replace(netPrefix + ".proj", stagePrefix + ".downsample.proj");
                } else if (k.contains(netPrefix + ".pe")) {
                    k = k.replace(netPrefix + ".pe", stagePrefix + ".pos_emb.pos_enc");
                } else {
                    k = k.replace(netPrefix, stagePrefix + ".blocks");
                }
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's fastvit_* names, MobileCLIP's MCi image towers included. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "fastvit";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "fastvit_t8", rep(base(2, 2, 4, 2).embedDims(48, 96, 192, 384), 3));
            add(m, "fastvit_t12", rep(base(2, 2, 6, 2).embedDims(64, 128, 256, 512), 3));
            add(m, "fastvit_s12", rep(base(2, 2, 6, 2).embedDims(64, 128, 256, 512), 4));
            add(m, "fastvit_sa12", sa(base(2, 2, 6, 2).embedDims(64, 128, 256, 512)));
            add(m, "fastvit_sa24", sa(base(4, 4, 12, 4).embedDims(64, 128, 256, 512)));
            add(m, "fastvit_sa36", sa(base(6, 6, 18, 6).embedDims(64, 128, 256, 512)));
            add(m, "fastvit_ma36", sa(base(6, 6, 18, 6).embedDims(76, 152, 304, 608)));
            add(m, "fastvit_mci0", mci(base(2, 6, 10, 2).embedDims(64, 128, 256, 512)));
            add(m, "fastvit_mci1", mci(base(4, 12, 20, 4).embedDims(64, 128, 256, 512)));
            add(m, "fastvit_mci2", mci(base(4, 12, 24, 4).embedDims(80, 160, 320, 640)));
            add(m, "fastvit_mci3", mciLarge(base(2, 12, 24, 4, 2).embedDims(96, 192, 384, 768, 1536)));
            add(m, "fastvit_mci4", mciLarge(base(2, 12, 24, 4, 4).embedDims(128, 256, 512, 1024, 2048)));
            return m;
        }

        private static Config.Builder base(Integer... layers) {
            return Config.builder().layers(layers);
        }

        /** T/S: repmixer in all four stages. */
        private static Config.Builder rep(Config.Builder b, double mlpRatio) {
            return b.mixers(Mixer.REPMIXER, Mixer.REPMIXER, Mixer.REPMIXER, Mixer.REPMIXER)
                    .mlpRatio(mlpRatio);
        }

        /** SA/MA: repmixer stages, then an attention stage behind a position encoding. */
        private static Config.Builder sa(Config.Builder b) {
            return b.mixers(Mixer.REPMIXER, Mixer.REPMIXER, Mixer.REPMIXER, Mixer.ATTENTION)
                    .mlpRatio(4)
                    .posEmbsForAttention();
        }

        /** MCi0-2: SA with MLP ratio 3, SE in the last two patch embeddings and an activation after their conv. */
        private static Config.Builder mci(Config.Builder b) {
            return b.mixers(Mixer.REPMIXER, Mixer.REPMIXER, Mixer.REPMIXER, Mixer.ATTENTION)
                    .mlpRatio(3)
                    .seDownsamples(false, false, true, true)
                    .posEmbsForAttention()
                    .lkcUseAct(true);
        }

        /** MCi3/4: five stages, the last two attention, LayerNorm2d there, no scale branch in the stem. */
        private static Config.Builder mciLarge(Config.Builder b) {
            return b.mixers(Mixer.REPMIXER, Mixer.REPMIXER, Mixer.REPMIXER, Mixer.ATTENTION, Mixer.ATTENTION)
                    .mlpRatio(4)
                    .posEmbsForAttention()
                    .lkcUseAct(true)
                    .norm(Norm.LAYERNORM)
                    .stemUseScaleBranch(false);
        }

        private static void add(List<ModelEntry> m, String name, Config.Builder b) {
            Config c = b.build();
            m.add(ModelEntry.untrained(
                    name, "fastvit", args -> new FastVit(c, args), 256, "stem.0.conv_kxk.0.conv", "head.fc"));
        }
    }
}
