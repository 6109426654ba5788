package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNorm;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * LeViT, as timm's {@code models/levit.py} builds it: a convolutional stem to stride 16 (or 8), then stages of
 * attention blocks on a fixed grid of tokens, each linear layer carrying a BatchNorm ({@code LinearNorm}, or
 * {@code ConvNorm} in the {@code levit_conv_*} variants, which keep NCHW maps and 1x1 convolutions instead of tokens),
 * with learned per-head attention biases over the relative offsets of query and key; stages after the first start with
 * an attention that subsamples its queries. The head is BatchNorm + Linear ({@code NormLinear}), and with distillation
 * a second one ({@code head_dist}) whose logits are averaged with the first.
 *
 * <p>The attention biases fix the token grid: the input must be {@link Config#imgSize()} square, as timm's
 * {@code fixed_input_size}.
 */
public final class LeVit extends DistilledHeadModel {

    /**
     * A LeViT variant, as timm's {@code model_cfgs} entries and Levit keyword arguments.
     *
     * @param embedDims channels per stage
     * @param keyDim query/key width per head
     * @param numHeads attention heads per stage
     * @param depths blocks per stage
     * @param attnRatio value width over key width in the blocks
     * @param mlpRatio MLP hidden width over the block width
     * @param act activation of the stem, MLPs and attention projections
     * @param stemStride 16 (four stride-2 convs) or 8 (three)
     * @param useConv the {@code levit_conv_*} form: NCHW maps, ConvNorm instead of LinearNorm
     * @param distilled a distillation head ({@code head_dist}) averaged with {@code head}
     * @param imgSize the input side the attention biases are laid out for
     */
    public record Config(
            List<Integer> embedDims,
            int keyDim,
            List<Integer> numHeads,
            List<Integer> depths,
            double attnRatio,
            double mlpRatio,
            Activation.Kind act,
            int stemStride,
            boolean useConv,
            boolean distilled,
            int imgSize) {
        public Config {
            embedDims = List.copyOf(embedDims);
            numHeads = List.copyOf(numHeads);
            depths = List.copyOf(depths);
            if (embedDims.isEmpty() || embedDims.size() != depths.size() || embedDims.size() != numHeads.size()) {
                throw new IllegalArgumentException("LeViT needs one width, head count and depth per stage: embedDims "
                        + embedDims + ", numHeads " + numHeads + ", depths " + depths);
            }
            if (stemStride != 8 && stemStride != 16) {
                throw new IllegalArgumentException("stemStride " + stemStride + " must be 8 or 16");
            }
            if (imgSize < stemStride) {
                throw new IllegalArgumentException("imgSize " + imgSize + " is below the stem stride " + stemStride);
            }
        }

        /** A builder with timm's defaults (embedDims, keyDim, numHeads and depths required). */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant's fields. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private List<Integer> embedDims;
            private int keyDim;
            private List<Integer> numHeads;
            private List<Integer> depths;
            private double attnRatio = 2;
            private double mlpRatio = 2;
            private Activation.Kind act = Activation.Kind.HARD_SWISH;
            private int stemStride = 16;
            private boolean useConv;
            private boolean distilled = true;
            private int imgSize = 224;

            private Builder() {}

            private Builder(Config c) {
                embedDims = c.embedDims();
                keyDim = c.keyDim();
                numHeads = c.numHeads();
                depths = c.depths();
                attnRatio = c.attnRatio();
                mlpRatio = c.mlpRatio();
                act = c.act();
                stemStride = c.stemStride();
                useConv = c.useConv();
                distilled = c.distilled();
                imgSize = c.imgSize();
            }

            /** Channels per stage (required). */
            public Builder embedDims(List<Integer> value) {
                embedDims = value;
                return this;
            }

            /** Query/key width per head (required). */
            public Builder keyDim(int value) {
                keyDim = value;
                return this;
            }

            /** Heads per stage (required). */
            public Builder numHeads(List<Integer> value) {
                numHeads = value;
                return this;
            }

            /** Blocks per stage (required). */
            public Builder depths(List<Integer> value) {
                depths = value;
                return this;
            }

            /** Value width over key width in the blocks (default 2). */
            public Builder attnRatio(double value) {
                attnRatio = value;
                return this;
            }

            /** MLP expansion (default 2). */
            public Builder mlpRatio(double value) {
                mlpRatio = value;
                return this;
            }

            /** Activation (default hard-swish). */
            public Builder act(Activation.Kind value) {
                act = value;
                return this;
            }

            /** Stem stride, 16 or 8 (default 16). */
            public Builder stemStride(int value) {
                stemStride = value;
                return this;
            }

            /** NCHW maps and ConvNorm layers (timm's levit_conv_*; default off). */
            public Builder useConv(boolean value) {
                useConv = value;
                return this;
            }

            /** A distillation head (default on). */
            public Builder distilled(boolean value) {
                distilled = value;
                return this;
            }

            /** Input side (default 224). */
            public Builder imgSize(int value) {
                imgSize = value;
                return this;
            }

            /** The config. */
            public Config build() {
                return new Config(
                        embedDims,
                        keyDim,
                        numHeads,
                        depths,
                        attnRatio,
                        mlpRatio,
                        act,
                        stemStride,
                        useConv,
                        distilled,
                        imgSize);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** Sets a BatchNorm's weight to timm's {@code bn_weight_init}. */
    private static void initBnWeight(BatchNorm2d bn, float value) {
        Init.constant(bn.weight().getArray(), value);
    }

    /** timm's ConvNorm: a bias-free convolution ({@code linear}) and a BatchNorm ({@code bn}). */
    static ConvNorm convNorm(int in, int out, int kernel, int stride, float bnWeightInit) {
        return new ConvNorm(
                "linear",
                Conv2d.symmetric(in, out, kernel, stride, 1, 1, false),
                Activation.Kind.IDENTITY,
                bnWeightInit);
    }

    /** timm's LinearNorm: a bias-free Linear ({@code linear}) on tokens [B, N, C] and a BatchNorm1d over C. */
    static final class LinearNorm extends Module {
        private final BatchNorm2d bn;
        private final float bnWeightInit;

        LinearNorm(int in, int out, float bnWeightInit) {
            this.bnWeightInit = bnWeightInit;
            register("linear", new Linear(in, out, false));
            bn = register("bn", new BatchNorm2d(out));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = child("linear").forward(x);
            Shape s = y.getShape();
            return bn.forward(y.reshape(-1, s.get(s.dimension() - 1))).reshape(s);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            initBnWeight(bn, bnWeightInit);
        }
    }

    /** A ConvNorm 1x1 or a LinearNorm, as the model's form asks. */
    static Module normLayer(boolean useConv, int in, int out, float bnWeightInit) {
        return useConv ? convNorm(in, out, 1, 1, bnWeightInit) : new LinearNorm(in, out, bnWeightInit);
    }

    /** timm's NormLinear: BatchNorm1d ({@code bn}), dropout, Linear ({@code linear}, trunc-normal std 0.02). */
    static final class NormLinear extends Module {
        private final float drop;
        private final Linear linear;

        NormLinear(int in, int out, float drop) {
            this.drop = drop;
            register("bn", new BatchNorm2d(in));
            register("drop", new Dropout(drop));
            linear = register("linear", new Linear(in, out));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return linear.forward(Dropout.apply(child("bn").forward(x), drop, isTraining()));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.truncNormal(linear.weight().getArray(), 0.02, random);
            Init.constant(linear.bias().getArray(), 0f);
        }
    }

    /** timm's Stem16/Stem8: stride-2 3x3 ConvNorms widening to {@code out}, activations between. */
    static NamedSequential stem(int in, int out, int stride, Activation.Kind act) {
        int n = stride == 16 ? 4 : 3;
        NamedSequential s = new NamedSequential();
        int c = in;
        for (int i = 1; i <= n; i++) {
            int next = out >> (n - i);
            s.add("conv" + i, convNorm(c, next, 3, 2, 1f));
            if (i < n) {
                s.add("act" + i, new Activation(act));
            }
            c = next;
        }
        return s;
    }

    /**
     * The attention-bias index of queries on a grid subsampled by {@code stride} against keys on the full {@code res x
     * res} grid: |dy| * res + |dx|, row-major [Nq, Nk] (timm's {@code _compute_attention_bias_idxs}).
     */
    static long[] biasIndex(int res, int stride) {
        int qSide = (res - 1) / stride + 1;
        int nk = res * res;
        long[] idx = new long[qSide * qSide * nk];
        int o = 0;
        for (int qy = 0; qy < res; qy += stride) {
            for (int qx = 0; qx < res; qx += stride) {
                for (int ky = 0; ky < res; ky++) {
                    for (int kx = 0; kx < res; kx++) {
                        idx[o++] = (long) Math.abs(qy - ky) * res + Math.abs(qx - kx);
                    }
                }
            }
        }
        return idx;
    }

    /** Shared by both attentions: the biases [heads, Nk] and their gather to [heads, Nq, Nk]. */
    abstract static class BiasedAttention extends Module {
        final int numHeads;
        final int keyDim;
        final int valDim;
        /** The heads' values side by side: valDim * numHeads. */
        final int valAttnDim;

        final int res;
        final boolean useConv;
        final float scale;
        private final Parameter biases;
        private final long[] index;
        private final int nq;

        BiasedAttention(int numHeads, int keyDim, int valDim, int res, int stride, boolean useConv) {
            this.numHeads = numHeads;
            this.keyDim = keyDim;
            this.valDim = valDim;
            this.valAttnDim = valDim * numHeads;
            this.res = res;
            this.useConv = useConv;
            this.scale = (float) Math.pow(keyDim, -0.5);
            this.index = biasIndex(res, stride);
            this.nq = index.length / (res * res);
            this.biases = parameter("attention_biases", numHeads, (long) res * res);
        }

        /** Registers the parameter first in timm's order: called by subclasses after their layers. */
        NDArray gatheredBiases() {
            NDArray table = biases.getArray().transpose(1, 0);
            NDArray idx = table.getManager().create(index);
            try {
                NDArray rows = table.get(new NDIndex("{}", idx));
                return rows.reshape(nq, res * res, numHeads).transpose(2, 0, 1);
            } finally {
                idx.close();
            }
        }

        /**
         * softmax(q^T k * scale + bias) on q [B, h, dk, Nq] / k [B, h, dk, Nk] (conv) or q [B,h,Nq,dk] k [B,h,dk,Nk].
         */
        NDArray attend(NDArray qk) {
            return Scalars.mul(qk, scale).add(gatheredBiases()).softmax(-1);
        }

        /**
         * timm's {@code proj}, registered last: the activation, then a norm layer from the heads' values to
         * {@code out}.
         */
        final void registerProj(Activation.Kind act, int out, float bnWeightInit) {
            register(
                    "proj",
                    new NamedSequential()
                            .add("act", new Activation(act))
                            .add("ln", normLayer(useConv, valAttnDim, out, bnWeightInit)));
        }

        /** The conv form: q [B, h, dk, Nq], k [B, h, dk, Nk] and v [B, h, dv, Nk] to maps [B, h dv, outH, outW]. */
        NDArray attendMaps(NDArray q, NDArray k, NDArray v, long outH, long outW) {
            NDArray attn = attend(q.transpose(0, 1, 3, 2).matMul(k));
            return v.matMul(attn.transpose(0, 1, 3, 2)).reshape(q.getShape().get(0), -1, outH, outW);
        }

        /** The linear form: q [B, h, Nq, dk], k [B, h, dk, Nk] and v [B, h, Nk, dv] to tokens [B, Nq, h dv]. */
        NDArray attendTokens(NDArray q, NDArray k, NDArray v) {
            NDArray attn = attend(q.matMul(k));
            return attn.matMul(v).transpose(0, 2, 1, 3).reshape(q.getShape().get(0), -1, valAttnDim);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(biases.getArray(), 0f);
        }
    }

    /** timm's LeViT Attention: qkv in one norm layer, biased softmax attention, activation and projection. */
    static final class Attention extends BiasedAttention {
        Attention(int dim, int keyDim, int numHeads, double attnRatio, int res, boolean useConv, Activation.Kind act) {
            super(numHeads, keyDim, (int) (attnRatio * keyDim), res, 1, useConv);
            register("qkv", normLayer(useConv, dim, valAttnDim + keyDim * numHeads * 2, 1f));
            registerProj(act, dim, 0f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray qkv = child("qkv").forward(x);
            Shape s = x.getShape();
            long b = s.get(0);
            if (useConv) {
                long h = s.get(2);
                long w = s.get(3);
                NDList p = qkv.reshape(b, numHeads, -1, h * w).split(new long[] {keyDim, 2L * keyDim}, 2);
                x = attendMaps(p.get(0), p.get(1), p.get(2), h, w);
            } else {
                NDList p = qkv.reshape(b, s.get(1), numHeads, -1).split(new long[] {keyDim, 2L * keyDim}, 3);
                x = attendTokens(
                        p.get(0).transpose(0, 2, 1, 3),
                        p.get(1).transpose(0, 2, 3, 1),
                        p.get(2).transpose(0, 2, 1, 3));
            }
            return child("proj").forward(x);
        }
    }

    /** Token (or map) subsampling by {@code stride}: timm's Downsample without pooling, AvgPool2d(1, stride). */
    static final class Subsample extends Module {
        private final int stride;
        private final int res;
        private final boolean useConv;

        Subsample(int stride, int res, boolean useConv) {
            this.stride = stride;
            this.res = res;
            this.useConv = useConv;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (useConv) {
                return x.get(new NDIndex(":, :, ::{}, ::{}", stride, stride));
            }
            Shape s = x.getShape();
            NDArray g = x.reshape(s.get(0), res, res, s.get(2)).get(new NDIndex(":, ::{}, ::{}", stride, stride));
            return g.reshape(s.get(0), -1, s.get(2));
        }
    }

    /** timm's AttentionDownsample: keys and values on the full grid, queries on the subsampled one. */
    static final class AttentionDownsample extends BiasedAttention {
        private final int stride;

        AttentionDownsample(
                int in,
                int out,
                int keyDim,
                int numHeads,
                double attnRatio,
                int res,
                boolean useConv,
                Activation.Kind act) {
            super(numHeads, keyDim, (int) (attnRatio * keyDim), res, 2, useConv);
            this.stride = 2;
            register("kv", normLayer(useConv, in, valAttnDim + keyDim * numHeads, 1f));
            register(
                    "q",
                    new NamedSequential()
                            .add("down", new Subsample(stride, res, useConv))
                            .add("ln", normLayer(useConv, in, keyDim * numHeads, 1f)));
            registerProj(act, out, 1f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray kv = child("kv").forward(x);
            NDArray qs = child("q").forward(x);
            Shape s = x.getShape();
            long b = s.get(0);
            if (useConv) {
                long h = s.get(2);
                long w = s.get(3);
                long hh = (h - 1) / stride + 1;
                long ww = (w - 1) / stride + 1;
                NDList p = kv.reshape(b, numHeads, -1, h * w).split(new long[] {keyDim}, 2);
                x = attendMaps(qs.reshape(b, numHeads, keyDim, -1), p.get(0), p.get(1), hh, ww);
            } else {
                NDList p = kv.reshape(b, s.get(1), numHeads, -1).split(new long[] {keyDim}, 3);
                NDArray q = qs.reshape(b, -1, numHeads, keyDim).transpose(0, 2, 1, 3);
                x = attendTokens(q, p.get(0).transpose(0, 2, 3, 1), p.get(1).transpose(0, 2, 1, 3));
            }
            return child("proj").forward(x);
        }
    }

    /** timm's LevitMlp: norm layer {@code ln1}, activation, dropout, norm layer {@code ln2} (its BatchNorm at 0). */
    static final class Mlp extends Module {
        Mlp(int in, int hidden, boolean useConv, Activation.Kind act) {
            register("ln1", normLayer(useConv, in, hidden, 1f));
            register("act", new Activation(act));
            register("drop", new Dropout(0f));
            register("ln2", normLayer(useConv, hidden, in, 0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = child("act").forward(child("ln1").forward(x));
            return child("ln2").forward(child("drop").forward(x));
        }
    }

    /** timm's LevitDownsample: the subsampling attention, then a residual MLP. */
    static final class Downsample extends Module {
        Downsample(int in, int out, int keyDim, int res, boolean useConv, Activation.Kind act, double dropPath) {
            register("attn_downsample", new AttentionDownsample(in, out, keyDim, in / keyDim, 4.0, res, useConv, act));
            register("mlp", new Mlp(out, (int) (out * 2.0), useConv, act));
            register("drop_path", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = child("attn_downsample").forward(x);
            return x.add(child("drop_path").forward(child("mlp").forward(x)));
        }
    }

    /** timm's LevitBlock: residual attention and residual MLP. */
    static final class Block extends Module {
        Block(Config cfg, int dim, int numHeads, int res, double dropPath) {
            register(
                    "attn", new Attention(dim, cfg.keyDim(), numHeads, cfg.attnRatio(), res, cfg.useConv(), cfg.act()));
            register("drop_path1", DropPath.orIdentity(dropPath));
            register("mlp", new Mlp(dim, (int) (dim * cfg.mlpRatio()), cfg.useConv(), cfg.act()));
            register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = x.add(child("drop_path1").forward(child("attn").forward(x)));
            return x.add(child("drop_path2").forward(child("mlp").forward(x)));
        }
    }

    /** timm's LevitStage: a downsampler (or identity) and blocks. */
    static final class Stage extends DownsampledStage {
        Stage(Config cfg, int in, int out, int numHeads, int depth, int res, boolean downsample, double dropPath) {
            super(
                    downsample ? new Downsample(in, out, cfg.keyDim(), res, cfg.useConv(), cfg.act(), dropPath) : null,
                    in,
                    out);
            res = downsample ? (res - 1) / 2 + 1 : res;
            Sequential blocks = new Sequential();
            for (int i = 0; i < depth; i++) {
                blocks.add(new Block(cfg, out, numHeads, res, dropPath));
            }
            blocks(blocks);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module stem;
    private final List<Module> stages = new ArrayList<>();
    private final int[] stageRes;

    public LeVit(Config cfg, ModelArgs args) {
        super(args, "LeViT", "tokens");
        this.cfg = cfg;
        List<Integer> dims = cfg.embedDims();
        stem = register("stem", stem(inChans, dims.get(0), cfg.stemStride(), cfg.act()));
        int res = cfg.imgSize() / cfg.stemStride();
        int stride = cfg.stemStride();
        int in = dims.get(0);
        stageRes = new int[dims.size()];
        Sequential seq = register("stages", new Sequential());
        for (int i = 0; i < dims.size(); i++) {
            boolean down = i > 0;
            Stage stage = new Stage(
                    cfg, in, dims.get(i), cfg.numHeads().get(i), cfg.depths().get(i), res, down, args.dropPathRate());
            seq.add(stage);
            stages.add(stage);
            if (down) {
                stride *= 2;
                res = (res - 1) / 2 + 1;
            }
            stageRes[i] = res;
            in = dims.get(i);
            addFeatureInfo(in, stride, "stages." + i, i);
        }
        setNumFeatures(in);
        registerHeads(numClasses);
    }

    @Override
    protected void registerHeads(int classes) {
        register("head", classes > 0 ? new NormLinear(numFeatures(), classes, (float) dropRate) : new Identity());
        if (cfg.distilled()) {
            register("head_dist", classes > 0 ? new NormLinear(numFeatures(), classes, 0f) : new Identity());
        }
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    private void checkSize(NDArray x) {
        Shape s = x.getShape();
        if (s.get(2) != cfg.imgSize() || s.get(3) != cfg.imgSize()) {
            throw new IllegalArgumentException(name() + " takes " + cfg.imgSize() + "x" + cfg.imgSize()
                    + " images (its attention biases fix the token grid); the input is " + s);
        }
    }

    private NDArray embed(NDArray x) {
        checkSize(x);
        x = stem.forward(x);
        if (!cfg.useConv()) {
            Shape s = x.getShape();
            x = x.reshape(s.get(0), s.get(1), -1).transpose(0, 2, 1);
        }
        return x;
    }

    /** The features: tokens [B, N, C], or maps [B, C, H, W] in the conv form. */
    @Override
    public NDArray forwardFeatures(NDArray x) {
        x = embed(x);
        for (Module stage : stages) {
            x = stage.forward(x);
        }
        return x;
    }

    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        int[] take = resolveIndices(indices);
        int last = deepest(take);
        x = embed(x);
        List<NDArray> all = new ArrayList<>();
        for (int i = 0; i <= last; i++) {
            x = stages.get(i).forward(x);
            if (cfg.useConv()) {
                all.add(x);
            } else {
                Shape s = x.getShape();
                all.add(x.reshape(s.get(0), stageRes[i], stageRes[i], s.get(2)).transpose(0, 3, 1, 2));
            }
        }
        return select(all, take);
    }

    @Override
    protected NDArray averagePool(NDArray features) {
        return cfg.useConv() ? Layers.spatialMean(features, false) : features.mean(new int[] {1});
    }

    /** The dropout is inside the heads ({@link NormLinear}). */
    @Override
    protected float headDropRate() {
        return 0f;
    }

    /** timm's checkpoint_filter_fn: unwraps {@code model} and drops the attention-bias index buffers. */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey().startsWith("model.") ? e.getKey().substring(6) : e.getKey();
            if (!k.contains("attention_bias_idxs")) {
                out.put(k, e.getValue());
            }
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's levit_* and levit_conv_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "levit";
        }

        @Override
        public List<ModelEntry> models() {
            Map<String, Config> cfgs = new LinkedHashMap<>();
            Activation.Kind silu = Activation.Kind.SILU;
            cfgs.put(
                    "levit_128s",
                    cfg(List.of(128, 256, 384), 16, List.of(4, 6, 8), List.of(2, 3, 4))
                            .build());
            cfgs.put(
                    "levit_128",
                    cfg(List.of(128, 256, 384), 16, List.of(4, 8, 12), List.of(4, 4, 4))
                            .build());
            cfgs.put(
                    "levit_192",
                    cfg(List.of(192, 288, 384), 32, List.of(3, 5, 6), List.of(4, 4, 4))
                            .build());
            cfgs.put(
                    "levit_256",
                    cfg(List.of(256, 384, 512), 32, List.of(4, 6, 8), List.of(4, 4, 4))
                            .build());
            cfgs.put(
                    "levit_384",
                    cfg(List.of(384, 512, 768), 32, List.of(6, 9, 12), List.of(4, 4, 4))
                            .build());
            cfgs.put(
                    "levit_384_s8",
                    cfg(List.of(384, 512, 768), 32, List.of(6, 9, 12), List.of(4, 4, 4))
                            .act(silu)
                            .stemStride(8)
                            .build());
            cfgs.put(
                    "levit_512_s8",
                    cfg(List.of(512, 640, 896), 64, List.of(8, 10, 14), List.of(4, 4, 4))
                            .act(silu)
                            .stemStride(8)
                            .distilled(false)
                            .build());
            cfgs.put(
                    "levit_512",
                    cfg(List.of(512, 768, 1024), 64, List.of(8, 12, 16), List.of(4, 4, 4))
                            .act(silu)
                            .distilled(false)
                            .build());
            cfgs.put(
                    "levit_256d",
                    cfg(List.of(256, 384, 512), 32, List.of(4, 6, 8), List.of(4, 8, 6))
                            .act(silu)
                            .distilled(false)
                            .build());
            cfgs.put(
                    "levit_512d",
                    cfg(List.of(512, 640, 768), 64, List.of(8, 10, 12), List.of(4, 8, 6))
                            .act(silu)
                            .distilled(false)
                            .build());
            List<ModelEntry> m = new ArrayList<>();
            for (Map.Entry<String, Config> e : cfgs.entrySet()) {
                add(m, e.getKey(), e.getValue());
            }
            for (Map.Entry<String, Config> e : cfgs.entrySet()) {
                add(
                        m,
                        e.getKey().replace("levit_", "levit_conv_"),
                        e.getValue().toBuilder().useConv(true).build());
            }
            return m;
        }

        private static Config.Builder cfg(List<Integer> dims, int keyDim, List<Integer> heads, List<Integer> depths) {
            return Config.builder()
                    .embedDims(dims)
                    .keyDim(keyDim)
                    .numHeads(heads)
                    .depths(depths);
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "levit", args -> new LeVit(c, args), 224, "stem.conv1.linear", "head.linear"));
        }
    }
}
