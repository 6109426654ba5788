package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.KeptWeights;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MetaFormer (Yu et al., "MetaFormer is Actually What You Need for Vision" and "MetaFormer Baselines for Vision"), as
 * timm's {@code models/metaformer.py} builds PoolFormer v1 and v2, ConvFormer and CAFormer: a 7x7 stride-4
 * {@code stem}, four {@code stages} of MetaFormer blocks (norm, token mixer, optional layer and residual
 * {@code Scale}s, norm, MLP) whose stages after the first open with a norm and a 3x3 stride-2 conv; and a head of
 * pooling, LayerNorm2d {@code norm}, dropout and {@code fc}, a Linear (PoolFormers) or timm's {@code MlpHead} (fc1 4x
 * wide, squared ReLU, LayerNorm, fc2).
 *
 * <p>The token mixers are pooling minus identity (PoolFormer), an inverted separable conv with StarReLU (ConvFormer)
 * and, in CAFormer's last two stages, self-attention on [B, N, C] tokens (those stages run channels-last: LayerNorm
 * over the last dimension, Linear MLPs).
 */
public final class MetaFormer extends ImageModel {

    /** The token mixer of a stage. */
    public enum Mixer {
        /** PoolFormer's 3x3 average pooling (padding left out of the count) minus its input. */
        POOLING,
        /** ConvFormer's inverted separable conv: 1x1 to 2x, StarReLU, 7x7 depthwise, 1x1 back. */
        SEP_CONV,
        /** Self-attention with 32-wide heads and bias-free projections, on tokens (CAFormer). */
        ATTENTION
    }

    /** The norm of a stage's blocks (timm's norm_layers). */
    public enum Norm {
        /** timm's {@code GroupNorm1}: one group, weight and bias, eps 1e-5 (PoolFormer v1). */
        GROUP_NORM1,
        /** {@code GroupNorm1NoBias}: one group, weight only, eps 1e-6 (PoolFormer v2). */
        GROUP_NORM1_NO_BIAS,
        /** {@code LayerNorm2dNoBias}: over the channels of NCHW maps, weight only, eps 1e-6. */
        LAYER_NORM2D_NO_BIAS,
        /** {@code LayerNormNoBias}: over the last dimension of tokens, weight only, eps 1e-6 (attention stages). */
        LAYER_NORM_NO_BIAS
    }

    /**
     * A variant, as timm's {@code MetaFormer} keyword arguments.
     *
     * @param depths blocks per stage
     * @param dims channels per stage
     * @param mixers token mixer per stage
     * @param norms block norm per stage
     * @param starReluMlp the MLP's activation is StarReLU (else GELU, PoolFormer v1)
     * @param mlpBias the MLP's projections have biases (PoolFormer v1)
     * @param layerScaleInit layer-scale init value, or null for none
     * @param resScaleInits residual-scale init value per stage, null entries for none
     * @param downsampleNorm a LayerNorm2dNoBias after the stem conv and before each downsampling conv (not PoolFormer
     *     v1)
     * @param mlpHead timm's MlpHead as {@code head.fc} (else a Linear)
     */
    public record Config(
            List<Integer> depths,
            List<Integer> dims,
            List<Mixer> mixers,
            List<Norm> norms,
            boolean starReluMlp,
            boolean mlpBias,
            Double layerScaleInit,
            List<Double> resScaleInits,
            boolean downsampleNorm,
            boolean mlpHead) {
        public Config {
            depths = List.copyOf(depths);
            dims = List.copyOf(dims);
            mixers = List.copyOf(mixers);
            norms = List.copyOf(norms);
            resScaleInits = Collections.unmodifiableList(new ArrayList<>(resScaleInits));
            int n = depths.size();
            if (dims.size() != n || mixers.size() != n || norms.size() != n || resScaleInits.size() != n) {
                throw new IllegalArgumentException("MetaFormer stages disagree: depths " + depths + ", dims " + dims
                        + ", mixers " + mixers + ", norms " + norms + ", resScaleInits " + resScaleInits);
            }
            for (int i = 0; i < n; i++) {
                boolean tokens = mixers.get(i) == Mixer.ATTENTION;
                if (tokens != (norms.get(i) == Norm.LAYER_NORM_NO_BIAS)) {
                    throw new IllegalArgumentException("stage " + i + ": the " + mixers.get(i) + " mixer needs "
                            + (tokens ? "LAYER_NORM_NO_BIAS" : "a channel norm") + ", not " + norms.get(i));
                }
            }
        }

        /** A builder with timm's MetaFormer defaults (depths and dims required). */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder extends StagedConfigBuilder<Builder> {
            private List<Mixer> mixers;
            private List<Norm> norms;
            private boolean starReluMlp = true;
            private boolean mlpBias = false;
            private Double layerScaleInit = null;
            private List<Double> resScaleInits = Arrays.asList(null, null, 1.0, 1.0);
            private boolean downsampleNorm = true;
            private boolean mlpHead = true;

            private Builder() {}

            @Override
            protected Builder self() {
                return this;
            }

            /** One token mixer for every stage (default pooling). */
            public Builder mixer(Mixer value) {
                mixers = Collections.nCopies(4, value);
                return this;
            }

            /** Token mixer per stage. */
            public Builder mixers(Mixer... value) {
                mixers = List.of(value);
                return this;
            }

            /** One block norm for every stage (default LayerNorm2dNoBias). */
            public Builder norm(Norm value) {
                norms = Collections.nCopies(4, value);
                return this;
            }

            /** Block norm per stage. */
            public Builder norms(Norm... value) {
                norms = List.of(value);
                return this;
            }

            /**
             * PoolFormer v1's blocks: GELU MLP with biases, GroupNorm1, no stem or downsampling norm, a Linear head.
             */
            public Builder poolFormerV1(double layerScale) {
                starReluMlp = false;
                mlpBias = true;
                layerScaleInit = layerScale;
                resScaleInits = Arrays.asList(null, null, null, null);
                downsampleNorm = false;
                mlpHead = false;
                return norm(Norm.GROUP_NORM1);
            }

            /** A Linear classifier instead of timm's MlpHead (PoolFormers). */
            public Builder linearHead() {
                mlpHead = false;
                return this;
            }

            public Config build() {
                requireStages("MetaFormer");
                int n = depths.size();
                List<Mixer> mx = mixers != null ? mixers : Collections.nCopies(n, Mixer.POOLING);
                List<Norm> nm = norms != null ? norms : Collections.nCopies(n, Norm.LAYER_NORM2D_NO_BIAS);
                return new Config(
                        depths,
                        dims,
                        mx,
                        nm,
                        starReluMlp,
                        mlpBias,
                        layerScaleInit,
                        resScaleInits,
                        downsampleNorm,
                        mlpHead);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's LayerNorm2d eps, which its NoBias variants keep. */
    private static final float LN_EPS = 1e-6f;

    /**
     * A norm with a weight and an optional bias: timm's {@code GroupNorm1} (one group over C, H, W),
     * {@code LayerNorm2d} (per pixel over the channels) or {@code LayerNorm} (over the last dimension), and their
     * NoBias forms, which MetaFormer has and the shared layers do not.
     */
    static final class Norm2 extends Module {
        private final Norm kind;
        private final int dim;
        private final float eps;
        private final Parameter weight;
        private final Parameter bias;

        Norm2(Norm kind, int dim) {
            this(kind, dim, kind == Norm.GROUP_NORM1 ? 1e-5f : LN_EPS, kind == Norm.GROUP_NORM1);
        }

        Norm2(Norm kind, int dim, float eps, boolean withBias) {
            this.kind = kind;
            this.dim = dim;
            this.eps = eps;
            weight = parameter("weight", dim);
            bias = withBias ? parameter("bias", dim) : null;
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(weight.getArray(), 1f);
            if (bias != null) {
                Init.constant(bias.getArray(), 0f);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray b = bias != null ? bias.getArray() : x.getManager().zeros(new Shape(dim));
            switch (kind) {
                case GROUP_NORM1, GROUP_NORM1_NO_BIAS -> {
                    // one group: normalize each sample over all of C, H, W, then the per-channel affine map
                    Shape s = x.getShape();
                    NDArray flat = x.reshape(s.get(0), -1);
                    NDArray normed = flat.getNDArrayInternal()
                            .layerNorm(
                                    flat,
                                    new Shape(flat.getShape().get(1)),
                                    x.getManager()
                                            .ones(new Shape(flat.getShape().get(1))),
                                    x.getManager()
                                            .zeros(new Shape(flat.getShape().get(1))),
                                    eps)
                            .singletonOrThrow()
                            .reshape(s);
                    Shape cs = new Shape(1, dim, 1, 1);
                    return normed.mul(weight.getArray().reshape(cs)).add(b.reshape(cs));
                }
                case LAYER_NORM2D_NO_BIAS -> {
                    NDArray t = x.transpose(0, 2, 3, 1);
                    return layerNormLast(t, b).transpose(0, 3, 1, 2);
                }
                default -> {
                    return layerNormLast(x, b);
                }
            }
        }

        private NDArray layerNormLast(NDArray x, NDArray b) {
            return x.getNDArrayInternal()
                    .layerNorm(x, new Shape(dim), weight.getArray(), b, eps)
                    .singletonOrThrow();
        }

        @Override
        protected String extraRepr() {
            return kind + "(" + dim + ", eps=" + eps + ")";
        }
    }

    /**
     * timm's {@code StarReLU}: {@code scale * relu(x)^2 + bias}, with a learned scalar {@code scale} and {@code bias}.
     */
    static final class StarRelu extends ScalarAffine {
        @Override
        protected NDArray forwardImpl(NDArray x) {
            return affine(Activation.apply(Activation.Kind.RELU, x).square());
        }
    }

    /** timm's {@code Scale}: a learned per-channel factor ({@code scale}), on NCHW maps or on tokens. */
    static final class Scale extends Module {
        private final Parameter scale;
        private final double init;
        private final boolean nchw;
        private final int dim;

        Scale(int dim, double init, boolean nchw) {
            this.dim = dim;
            this.init = init;
            this.nchw = nchw;
            scale = parameter("scale", dim);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(scale.getArray(), (float) init);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray s = scale.getArray();
            return x.mul(nchw ? s.reshape(dim, 1, 1) : s);
        }
    }

    private static Conv2d conv(int in, int out, int k, int stride, int padding, int groups, boolean bias) {
        return new Conv2d(
                in,
                out,
                k,
                Conv2d.Options.defaults()
                        .stride(stride)
                        .padding(padding)
                        .groups(groups)
                        .bias(bias));
    }

    /** PoolFormer's token mixer: 3x3 average pooling (count without padding) minus the input. */
    static final class Pooling extends Module {
        private final Module pool = register("pool", Pool2d.avg(3, 1, 1, false, false));

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return pool.forward(x).sub(x);
        }
    }

    /** ConvFormer's {@code SepConv}: {@code pwconv1} to 2x, StarReLU {@code act1}, 7x7 depthwise, {@code pwconv2}. */
    static final class SepConv extends Module {
        private final Module pwconv1;
        private final Module act1;
        private final Module dwconv;
        private final Module pwconv2;

        SepConv(int dim) {
            int mid = 2 * dim;
            pwconv1 = register("pwconv1", conv(dim, mid, 1, 1, 0, 1, false));
            act1 = register("act1", new StarRelu());
            dwconv = register("dwconv", conv(mid, mid, 7, 1, 3, mid, false));
            register("act2", new Identity());
            pwconv2 = register("pwconv2", conv(mid, dim, 1, 1, 0, 1, false));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return pwconv2.forward(dwconv.forward(act1.forward(pwconv1.forward(x))));
        }
    }

    /**
     * timm's {@code Mlp} as the MetaFormer block holds it: {@code fc1} to 4x, activation {@code act} (StarReLU, with
     * parameters, or GELU), {@code fc2}; 1x1 convs on maps or Linears on tokens.
     */
    static final class BlockMlp extends Module {
        private final Module fc1;
        private final Module act;
        private final Module fc2;
        private final float drop;

        BlockMlp(int dim, boolean nchw, boolean starRelu, boolean bias, double drop) {
            int hidden = 4 * dim;
            this.drop = (float) drop;
            fc1 = register("fc1", nchw ? conv(dim, hidden, 1, 1, 0, 1, bias) : new Linear(dim, hidden, bias));
            act = register("act", starRelu ? new StarRelu() : new Activation(Activation.Kind.GELU));
            register("norm", new Identity());
            fc2 = register("fc2", nchw ? conv(hidden, dim, 1, 1, 0, 1, bias) : new Linear(hidden, dim, bias));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Dropout.apply(act.forward(fc1.forward(x)), drop, isTraining());
            return Dropout.apply(fc2.forward(x), drop, isTraining());
        }
    }

    /**
     * timm's {@code MetaFormerBlock}: {@code x = res_scale1(x) + layer_scale1(drop_path(token_mixer(norm1(x))))}, then
     * the same with {@code norm2} and {@code mlp}; absent scales are identities.
     */
    static final class Block extends Module {
        private final Module norm1;
        private final Module tokenMixer;
        private final Module dropPath1;
        private final Module layerScale1;
        private final Module resScale1;
        private final Module norm2;
        private final Module mlp;
        private final Module dropPath2;
        private final Module layerScale2;
        private final Module resScale2;

        Block(Config cfg, int stage, int dim, double dpr, double projDrop) {
            boolean nchw = cfg.mixers().get(stage) != Mixer.ATTENTION;
            Norm norm = cfg.norms().get(stage);
            Double ls = cfg.layerScaleInit();
            Double rs = cfg.resScaleInits().get(stage);
            norm1 = register("norm1", new Norm2(norm, dim));
            tokenMixer = register(
                    "token_mixer",
                    switch (cfg.mixers().get(stage)) {
                        case POOLING -> new Pooling();
                        case SEP_CONV -> new SepConv(dim);
                        case ATTENTION ->
                            new Attention(dim, Math.max(1, dim / 32), false, false, null, 0f, (float) projDrop);
                    });
            dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            layerScale1 = register("layer_scale1", ls != null ? new Scale(dim, ls, nchw) : new Identity());
            resScale1 = register("res_scale1", rs != null ? new Scale(dim, rs, nchw) : new Identity());
            norm2 = register("norm2", new Norm2(norm, dim));
            mlp = register("mlp", new BlockMlp(dim, nchw, cfg.starReluMlp(), cfg.mlpBias(), projDrop));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
            layerScale2 = register("layer_scale2", ls != null ? new Scale(dim, ls, nchw) : new Identity());
            resScale2 = register("res_scale2", rs != null ? new Scale(dim, rs, nchw) : new Identity());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = resScale1.forward(x).add(layerScale1.forward(dropPath1.forward(tokenMixer.forward(norm1.forward(x)))));
            return resScale2.forward(x).add(layerScale2.forward(dropPath2.forward(mlp.forward(norm2.forward(x)))));
        }
    }

    /** timm's {@code Downsampling} and {@code Stem}: an optional norm and a conv, in the order given. */
    static final class NormConv extends Module {
        private final Module first;
        private final Module second;

        /** The stem: {@code conv} (7x7, stride 4, padding 2), then {@code norm}. */
        static NormConv stem(int in, int out, boolean norm) {
            return new NormConv(
                    "conv",
                    conv(in, out, 7, 4, 2, 1, true),
                    "norm",
                    norm ? new Norm2(Norm.LAYER_NORM2D_NO_BIAS, out) : new Identity());
        }

        /** A stage's downsampling: {@code norm}, then {@code conv} (3x3, stride 2, padding 1). */
        static NormConv downsample(int in, int out, boolean norm) {
            return new NormConv(
                    "norm",
                    norm ? new Norm2(Norm.LAYER_NORM2D_NO_BIAS, in) : new Identity(),
                    "conv",
                    conv(in, out, 3, 2, 1, 1, true));
        }

        private NormConv(String firstName, Module first, String secondName, Module second) {
            this.first = register(firstName, first);
            this.second = register(secondName, second);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return second.forward(first.forward(x));
        }
    }

    /** timm's {@code MetaFormerStage}: {@code downsample}, then {@code blocks} on maps or, for attention, on tokens. */
    static final class Stage extends DownsampledStage {
        private final boolean nchw;

        Stage(Config cfg, int stage, int in, int out, double[] dpr, double projDrop) {
            super(in == out ? null : NormConv.downsample(in, out, cfg.downsampleNorm()), in, out);
            nchw = cfg.mixers().get(stage) != Mixer.ATTENTION;
            Sequential b = new Sequential();
            for (int i = 0; i < cfg.depths().get(stage); i++) {
                b.add(new Block(cfg, stage, out, dpr[i], projDrop));
            }
            blocks(b);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (nchw) {
                return super.forwardImpl(x);
            }
            // attention blocks take tokens
            x = child("downsample").forward(x);
            return NchwTokens.toMap(child("blocks").forward(NchwTokens.toTokens(x)), x.getShape());
        }
    }

    /**
     * timm's {@code MlpHead}, the classifier of ConvFormer, CAFormer and PoolFormer v2: {@code fc1} to 4x, squared
     * ReLU, LayerNorm {@code norm} (eps 1e-6), dropout, {@code fc2}.
     */
    static final class MlpHead extends Module {
        private final Module fc1;
        private final Module norm;
        private final Module fc2;
        private final float drop;

        MlpHead(int dim, int numClasses, double drop) {
            int hidden = 4 * dim;
            this.drop = (float) drop;
            fc1 = register("fc1", new Linear(dim, hidden));
            norm = register("norm", new LayerNorm(hidden, LN_EPS));
            fc2 = register("fc2", new Linear(hidden, numClasses));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            // timm's SquaredReLU
            x = Activation.apply(Activation.Kind.RELU, fc1.forward(x)).square();
            return fc2.forward(Dropout.apply(norm.forward(x), drop, isTraining()));
        }
    }

    /**
     * The head: {@code global_pool} (kept [N, C, 1, 1]), LayerNorm2d {@code norm}, flatten, dropout, {@code fc}. Built
     * {@code empty} it holds nothing and passes the maps through (the features-only form).
     */
    static final class Head extends PooledMlpHead {
        private final GlobalPool pool;
        private final Module norm;

        Head(int dim, int numClasses, String poolType, double dropRate, boolean mlpHead) {
            // timm's head.drop is an Identity in front of a Linear fc (PoolFormer), dropout only before its MlpHead
            super(mlpHead ? dropRate : 0);
            pool = register("global_pool", new GlobalPool(poolType, false));
            norm = register("norm", LayerNorm.channelsFirst(dim, LN_EPS));
            register("flatten", new Identity());
            register("drop", new Dropout(mlpHead ? (float) dropRate : 0f));
            Module f;
            if (numClasses == 0) {
                f = new Identity();
            } else {
                f = mlpHead ? new MlpHead(dim, numClasses, dropRate) : new Linear(dim, numClasses);
            }
            classifier("fc", f);
        }

        private Head() {
            super(0);
            pool = null;
            norm = null;
        }

        static Head empty() {
            return new Head();
        }

        @Override
        NDArray hidden(NDArray maps) {
            NDArray x = norm.forward(pool.forward(maps));
            return pool.isIdentity() ? x : x.reshape(x.getShape().get(0), -1);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private Head head;

    public MetaFormer(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.dims();
        addTrunkStep(register("stem", NormConv.stem(inChans, dims.get(0), cfg.downsampleNorm())));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int prev = dims.get(0);
        for (int i = 0; i < dims.size(); i++) {
            stages.add(addTrunkStep(new Stage(cfg, i, prev, dims.get(i), dpr[i], 0)));
            prev = dims.get(i);
            addFeatureInfo(prev, 1 << (i + 2), "stages." + i);
        }
        setNumFeatures(prev);
        head = register("head", newHead(numClasses, globalPool));
    }

    private Head newHead(int classes, String pool) {
        if (pool.isEmpty() && classes == 0) {
            // the features-only form, as resetClassifier(0, "") makes it
            return Head.empty();
        }
        if (pool.isEmpty() || GlobalPool.featureMultiplier(pool) != 1) {
            throw new IllegalArgumentException("MetaFormer's head normalizes pooled " + numFeatures()
                    + " channels before its classifier: globalPool must be avg, max or avgmax, not '" + pool
                    + "' (no pooling only with numClasses 0)");
        }
        return new Head(numFeatures(), classes, pool, dropRate, cfg.mlpHead());
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        TimmInit.truncNormalConvsAndLinears(this, 0.02, random);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return head.forward(x, preLogits);
    }

    /**
     * timm's {@code reset_classifier}: a new pooling and {@code fc} (a fresh MlpHead where the variant has one); the
     * head's {@code norm} stays. Pooling {@code ""} is allowed only with 0 classes and drops the whole head (the
     * features-only form).
     */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = GlobalPool.validate(newGlobalPool);
        Head fresh = newHead(newNumClasses, pool);
        // keep the trained norm, as timm does
        Map<String, float[]> norm =
                fresh.isEmpty() || head.isEmpty() ? Map.of() : KeptWeights.snapshot(head, k -> k.startsWith("norm."));
        head = register("head", fresh);
        KeptWeights.restore(head, norm);
        numClasses = newNumClasses;
        globalPool = pool;
    }

    /**
     * timm's {@code checkpoint_filter_fn}: the original sail-sg checkpoints ({@code network.*},
     * {@code downsample_layers.*}, {@code patch_embed.*}, PoolFormer v1's {@code layer_scale_1}) renamed to timm's
     * keys, with layer scales reshaped to timm's vectors.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("stem.conv.weight")) {
            return checkpoint;
        }
        boolean v1 = checkpoint.containsKey("network.0.0.mlp.fc1.weight");
        Map<String, Shape> own = stateDictShapes();
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            NDArray v = e.getValue();
            if (v1) {
                k = k.replaceAll("layer_scale_([0-9]+)", "layer_scale$1.scale");
                k = k.replace("network.1", "downsample_layers.1");
                k = k.replace("network.3", "downsample_layers.2");
                k = k.replace("network.5", "downsample_layers.3");
                k = k.replace("network.2", "network.1");
                k = k.replace("network.4", "network.2");
                k = k.replace("network.6", "network.3");
                k = k.replace("network", "stages");
            }
            // timm's patterns, unescaped dots included
            k = k.replaceAll("downsample_layers.([0-9]+)", "stages.$1.downsample");
            k = k.replace("downsample.proj", "downsample.conv");
            k = k.replace("patch_embed.proj", "patch_embed.conv");
            k = k.replaceAll("([0-9]+).([0-9]+)", "$1.blocks.$2");
            k = k.replace("stages.0.downsample", "patch_embed");
            k = k.replace("patch_embed", "stem");
            k = k.replace("post_norm", "norm");
            k = k.replace("pre_norm", "norm");
            k = k.replaceAll("^head", "head.fc");
            k = k.replaceAll("^norm", "head.norm");
            Shape target = own.get(k);
            if (target != null && !target.equals(v.getShape()) && target.size() == v.size()) {
                v = v.reshape(target);
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's PoolFormer (v1, v2), ConvFormer and CAFormer names. */
    public static final class Family implements ModelFamily {
        private static final Integer[] S12 = {2, 2, 6, 2};
        private static final Integer[] S18 = {3, 3, 9, 3};
        private static final Integer[] S24 = {4, 4, 12, 4};
        private static final Integer[] S36 = {6, 6, 18, 6};
        private static final Integer[] M48 = {8, 8, 24, 8};
        private static final Integer[] X36 = {3, 12, 18, 3};
        private static final Integer[] SMALL = {64, 128, 320, 512};
        private static final Integer[] MEDIUM = {96, 192, 384, 768};
        private static final Integer[] M36_DIMS = {96, 192, 384, 576};
        private static final Integer[] BASE = {128, 256, 512, 768};

        @Override
        public String name() {
            return "metaformer";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            poolFormer(m, "s12", S12, SMALL, 1e-5);
            poolFormer(m, "s24", S24, SMALL, 1e-5);
            poolFormer(m, "s36", S36, SMALL, 1e-6);
            poolFormer(m, "m36", S36, MEDIUM, 1e-6);
            poolFormer(m, "m48", M48, MEDIUM, 1e-6);
            poolFormerV2(m, "s12", S12, SMALL);
            poolFormerV2(m, "s24", S24, SMALL);
            poolFormerV2(m, "s36", S36, SMALL);
            poolFormerV2(m, "m36", S36, MEDIUM);
            poolFormerV2(m, "m48", M48, MEDIUM);
            for (String prefix : List.of("convformer", "caformer")) {
                former(m, prefix, "s18", S18, SMALL);
                former(m, prefix, "s36", X36, SMALL);
                former(m, prefix, "m36", X36, M36_DIMS);
                former(m, prefix, "b36", X36, BASE);
            }
            return m;
        }

        private static void poolFormer(List<ModelEntry> m, String size, Integer[] depths, Integer[] dims, double ls) {
            add(
                    m,
                    "poolformer_" + size,
                    Config.builder().depths(depths).dims(dims).poolFormerV1(ls).build());
        }

        private static void poolFormerV2(List<ModelEntry> m, String size, Integer[] depths, Integer[] dims) {
            add(
                    m,
                    "poolformerv2_" + size,
                    Config.builder()
                            .depths(depths)
                            .dims(dims)
                            .norm(Norm.GROUP_NORM1_NO_BIAS)
                            .linearHead()
                            .build());
        }

        private static void former(List<ModelEntry> m, String prefix, String size, Integer[] depths, Integer[] dims) {
            Config.Builder b = Config.builder().depths(depths).dims(dims);
            if (prefix.equals("convformer")) {
                b.mixer(Mixer.SEP_CONV);
            } else {
                b.mixers(Mixer.SEP_CONV, Mixer.SEP_CONV, Mixer.ATTENTION, Mixer.ATTENTION)
                        .norms(
                                Norm.LAYER_NORM2D_NO_BIAS,
                                Norm.LAYER_NORM2D_NO_BIAS,
                                Norm.LAYER_NORM_NO_BIAS,
                                Norm.LAYER_NORM_NO_BIAS);
            }
            add(m, prefix + "_" + size, b.build());
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "metaformer", args -> new MetaFormer(c, args), 224, "stem.conv", "head.fc"));
        }
    }
}
