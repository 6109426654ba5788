package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
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
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * EfficientFormer-V2, as timm's {@code models/efficientformer_v2.py} builds it: a stride-4 stem of two conv-BN-GELUs,
 * four stages of layer-scaled conv-MLP blocks (1x1, depthwise 3x3, 1x1, with BatchNorms) on NCHW maps, the last
 * {@code numVit} blocks of stages 3 and 4 adding a 2d attention (talking heads, a local depthwise value branch and
 * learned biases over the relative offsets of a 7x7 grid; in stage 3 the attention runs on a stride-2 copy and is
 * upsampled back), and stage 4 downsampling with an attention beside its strided conv. The head is a BatchNorm, average
 * pooling, and a {@code head} and {@code head_dist} Linear, averaged.
 *
 * <p>The attention grids fix the input to 224 square (timm's {@code fixed_input_size}).
 */
public final class EfficientFormerV2 extends DistilledHeadModel {

    /**
     * An EfficientFormer-V2 variant.
     *
     * @param embedDims channels per stage
     * @param depths blocks per stage
     * @param mlpRatios the MLP expansion of every block, stage by stage
     * @param numVit attention blocks at the end of stages 3 and 4
     * @param imgSize the input side the attention grids are laid out for
     */
    public record Config(
            List<Integer> embedDims, List<Integer> depths, List<List<Integer>> mlpRatios, int numVit, int imgSize) {
        public Config {
            embedDims = List.copyOf(embedDims);
            depths = List.copyOf(depths);
            mlpRatios = mlpRatios.stream().map(List::copyOf).toList();
            if (embedDims.size() != 4 || depths.size() != 4 || mlpRatios.size() != 4) {
                throw new IllegalArgumentException("EfficientFormer-V2 has 4 stages: embedDims " + embedDims
                        + ", depths " + depths + ", mlpRatios " + mlpRatios);
            }
            for (int i = 0; i < 4; i++) {
                if (mlpRatios.get(i).size() != depths.get(i)) {
                    throw new IllegalArgumentException("stage " + i + " has " + depths.get(i) + " blocks but "
                            + mlpRatios.get(i).size() + " MLP ratios");
                }
            }
        }
    }

    private static final Activation.Kind ACT = Activation.Kind.GELU;

    /** timm's ConvNorm (conv with bias, BatchNorm) and, with an activation, its ConvNormAct: keys {@code conv, bn}. */
    static ConvNorm convNorm(int in, int out, int kernel, int stride, int groups, Activation.Kind act) {
        return new ConvNorm("conv", Conv2d.symmetric(in, out, kernel, stride, 1, groups, true), act, 1f);
    }

    static ConvNorm pointwise(int in, int out) {
        return convNorm(in, out, 1, 1, 1, Activation.Kind.IDENTITY);
    }

    /** PyTorch's bilinear upsampling by 2 with align_corners=False, along {@code axis} of x. */
    static NDArray upsample2(NDArray x, int axis) {
        long n = x.getShape().get(axis);
        String pre = ":, ".repeat(axis);
        NDArray first = x.get(new NDIndex(pre + "0:1"));
        NDArray last = x.get(new NDIndex(pre + "{}:", n - 1));
        NDArray prev = n > 1 ? first.concat(x.get(new NDIndex(pre + ":{}", n - 1)), axis) : first;
        NDArray next = n > 1 ? x.get(new NDIndex(pre + "1:")).concat(last, axis) : last;
        NDArray centre = Scalars.mul(x, 0.75);
        NDArray even = centre.add(Scalars.mul(prev, 0.25));
        NDArray odd = centre.add(Scalars.mul(next, 0.25));
        Shape s = x.getShape();
        long[] dims = s.getShape().clone();
        dims[axis] = 2 * n;
        return NDArrays.stack(new NDList(even, odd), axis + 1).reshape(new Shape(dims));
    }

    /** The relative-offset bias index, queries every {@code stride}-th position of an {@code h x w} key grid. */
    static long[] biasIndex(int h, int w, int stride) {
        List<Long> out = new ArrayList<>();
        for (int qy = 0; qy < h; qy += stride) {
            for (int qx = 0; qx < w; qx += stride) {
                for (int ky = 0; ky < h; ky++) {
                    for (int kx = 0; kx < w; kx++) {
                        out.add((long) Math.abs(qy - ky) * w + Math.abs(qx - kx));
                    }
                }
            }
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** The attentions' shared parts: 8 heads, the biases [heads, N] and their gather. */
    abstract static class BiasedAttention extends Module {
        static final int HEADS = 8;
        final int keyDim;
        final int dh;
        final float scale;
        private final Parameter biases;
        private final long[] index;
        final long nk;
        final long nq;

        BiasedAttention(int keyDim, int res, int queryStride) {
            this.keyDim = keyDim;
            this.dh = 4 * keyDim * HEADS;
            this.scale = (float) Math.pow(keyDim, -0.5);
            this.index = biasIndex(res, res, queryStride);
            this.nk = (long) res * res;
            this.nq = index.length / nk;
            this.biases = parameter("attention_biases", HEADS, nk);
        }

        NDArray biasesGathered() {
            NDArray table = biases.getArray().transpose(1, 0);
            try (NDArray idx = table.getManager().create(index)) {
                return table.get(new NDIndex("{}", idx)).reshape(nq, nk, HEADS).transpose(2, 0, 1);
            }
        }

        void checkTokens(long n) {
            if (n != nk) {
                throw new IllegalArgumentException("this attention's biases are laid out for " + nk
                        + " positions; the map has " + n + " (EfficientFormer-V2 takes its configured input size)");
            }
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(biases.getArray(), 0f);
        }
    }

    /** timm's Attention2d (key width 32, values 4x), optionally on a stride-2 copy upsampled back. */
    static final class Attention2d extends BiasedAttention {
        private final boolean strided;
        private final int side;

        Attention2d(int dim, int res, boolean strided) {
            super(32, strided ? (res + 1) / 2 : res, 1);
            this.strided = strided;
            this.side = strided ? (res + 1) / 2 : res;
            int kh = keyDim * HEADS;
            if (strided) {
                register("stride_conv", convNorm(dim, dim, 3, 2, dim, Activation.Kind.IDENTITY));
            }
            register("q", pointwise(dim, kh));
            register("k", pointwise(dim, kh));
            register("v", pointwise(dim, dh));
            register("v_local", convNorm(dh, dh, 3, 1, dh, Activation.Kind.IDENTITY));
            register("talking_head1", new Conv2d(HEADS, HEADS, 1, Conv2d.Options.defaults()));
            register("talking_head2", new Conv2d(HEADS, HEADS, 1, Conv2d.Options.defaults()));
            register("proj", pointwise(dh, dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long b = x.getShape().get(0);
            if (strided) {
                x = child("stride_conv").forward(x);
            }
            checkTokens(x.getShape().get(2) * x.getShape().get(3));
            NDArray q = child("q").forward(x).reshape(b, HEADS, -1, nk).transpose(0, 1, 3, 2);
            NDArray k = child("k").forward(x).reshape(b, HEADS, -1, nk);
            NDArray v = child("v").forward(x);
            NDArray vLocal = child("v_local").forward(v);
            v = v.reshape(b, HEADS, -1, nk).transpose(0, 1, 3, 2);
            NDArray attn = Scalars.mul(q.matMul(k), scale).add(biasesGathered());
            attn = child("talking_head1").forward(attn).softmax(-1);
            attn = child("talking_head2").forward(attn);
            x = attn.matMul(v).transpose(0, 1, 3, 2).reshape(b, dh, side, side).add(vLocal);
            if (strided) {
                x = upsample2(upsample2(x, 2), 3);
            }
            return child("proj").forward(Activation.apply(ACT, x));
        }
    }

    /** timm's LocalGlobalQuery: a stride-2 depthwise conv plus a stride-2 subsample, then a 1x1 ConvNorm. */
    static final class LocalGlobalQuery extends Module {
        LocalGlobalQuery(int in, int out) {
            register("pool", new Identity());
            register(
                    "local",
                    new Conv2d(
                            in,
                            in,
                            3,
                            Conv2d.Options.defaults().stride(2).padding(1).groups(in)));
            register("proj", pointwise(in, out));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            // AvgPool2d(1, 2, 0) keeps every other pixel
            NDArray pooled = x.get(new NDIndex(":, :, ::2, ::2"));
            return child("proj").forward(child("local").forward(x).add(pooled));
        }
    }

    /** timm's Attention2dDownsample (key width 16): queries on the stride-2 grid, keys and values on the full one. */
    static final class Attention2dDownsample extends BiasedAttention {
        private final int side2;

        Attention2dDownsample(int dim, int out, int res) {
            super(16, res, 2);
            this.side2 = (res + 1) / 2;
            int kh = keyDim * HEADS;
            register("q", new LocalGlobalQuery(dim, kh));
            register("k", pointwise(dim, kh));
            register("v", pointwise(dim, dh));
            register("v_local", convNorm(dh, dh, 3, 2, dh, Activation.Kind.IDENTITY));
            register("proj", pointwise(dh, out));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long b = x.getShape().get(0);
            checkTokens(x.getShape().get(2) * x.getShape().get(3));
            NDArray q = child("q").forward(x).reshape(b, HEADS, -1, nq).transpose(0, 1, 3, 2);
            NDArray k = child("k").forward(x).reshape(b, HEADS, -1, nk);
            NDArray v = child("v").forward(x);
            NDArray vLocal = child("v_local").forward(v);
            v = v.reshape(b, HEADS, -1, nk).transpose(0, 1, 3, 2);
            NDArray attn = Scalars.mul(q.matMul(k), scale).add(biasesGathered()).softmax(-1);
            x = attn.matMul(v)
                    .transpose(0, 1, 3, 2)
                    .reshape(b, dh, side2, side2)
                    .add(vLocal);
            return child("proj").forward(Activation.apply(ACT, x));
        }
    }

    /** timm's Downsample: a stride-2 3x3 ConvNorm, plus an attention downsample beside it in the last stage. */
    static final class Downsample extends Module {
        private final boolean useAttn;

        Downsample(int in, int out, int res, boolean useAttn) {
            this.useAttn = useAttn;
            register("conv", convNorm(in, out, 3, 2, 1, Activation.Kind.IDENTITY));
            if (useAttn) {
                register("attn", new Attention2dDownsample(in, out, res));
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out = child("conv").forward(x);
            return useAttn ? child("attn").forward(x).add(out) : out;
        }
    }

    /** timm's ConvMlpWithNorm with its mid conv: 1x1 conv-BN-GELU, depthwise 3x3 conv-BN-GELU, 1x1 conv-BN. */
    static final class ConvMlp extends Module {
        private final float drop;

        ConvMlp(int dim, int hidden, float drop) {
            this.drop = drop;
            register("fc1", convNorm(dim, hidden, 1, 1, 1, ACT));
            register("mid", convNorm(hidden, hidden, 3, 1, hidden, ACT));
            register("drop1", new Dropout(drop));
            register("fc2", pointwise(hidden, dim));
            register("drop2", new Dropout(drop));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = child("mid").forward(child("fc1").forward(x));
            x = child("fc2").forward(Dropout.apply(x, drop, isTraining()));
            return Dropout.apply(x, drop, isTraining());
        }
    }

    /** timm's EfficientFormerV2Block: an optional residual attention, then a residual MLP, both layer-scaled. */
    static final class Block extends Module {
        private final boolean useAttn;

        Block(int dim, double mlpRatio, int res, boolean stridedAttn, boolean useAttn, double dropPath) {
            this.useAttn = useAttn;
            if (useAttn) {
                register("token_mixer", new Attention2d(dim, res, stridedAttn));
                register("ls1", new EfficientFormer.LayerScale2d(dim, 1e-5f));
                register("drop_path1", DropPath.orIdentity(dropPath));
            }
            register("mlp", new ConvMlp(dim, (int) (dim * mlpRatio), 0f));
            register("ls2", new EfficientFormer.LayerScale2d(dim, 1e-5f));
            register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (useAttn) {
                x = x.add(child("drop_path1")
                        .forward(child("ls1").forward(child("token_mixer").forward(x))));
            }
            return x.add(child("drop_path2")
                    .forward(child("ls2").forward(child("mlp").forward(x))));
        }
    }

    /** timm's EfficientFormerV2Stage: a downsampler (or identity) and blocks. */
    static final class Stage extends DownsampledStage {
        Stage(
                int in,
                int out,
                int depth,
                int res,
                boolean downsample,
                boolean stridedAttn,
                boolean downsampleAttn,
                boolean blockAttn,
                int numVit,
                List<Integer> mlpRatios,
                double[] dpr) {
            super(downsample ? new Downsample(in, out, res, downsampleAttn) : null, in, out);
            res = downsample ? (res + 1) / 2 : res;
            Sequential blocks = new Sequential();
            for (int i = 0; i < depth; i++) {
                boolean attn = blockAttn && i > depth - numVit - 1;
                blocks.add(new Block(out, mlpRatios.get(i), res, stridedAttn, attn, dpr[i]));
            }
            blocks(blocks);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;

    public EfficientFormerV2(Config cfg, ModelArgs args) {
        super(args, "EfficientFormer-V2", "maps");
        this.cfg = cfg;
        List<Integer> dims = cfg.embedDims();
        addTrunkStep(register(
                "stem",
                new NamedSequential()
                        .add("conv1", convNorm(inChans, dims.get(0) / 2, 3, 2, 1, ACT))
                        .add("conv2", convNorm(dims.get(0) / 2, dims.get(0), 3, 2, 1, ACT))));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int prev = dims.get(0);
        int stride = 4;
        for (int i = 0; i < 4; i++) {
            int res = (cfg.imgSize() + stride - 1) / stride;
            boolean down = i > 0;
            Stage stage = new Stage(
                    prev,
                    dims.get(i),
                    cfg.depths().get(i),
                    res,
                    down,
                    i == 2,
                    i >= 3,
                    i >= 2,
                    cfg.numVit(),
                    cfg.mlpRatios().get(i),
                    dpr[i]);
            stages.add(addTrunkStep(stage));
            stride *= down ? 2 : 1;
            prev = dims.get(i);
            addFeatureInfo(prev, stride, "stages." + i);
        }
        registerNormAndHeads(prev, new BatchNorm2d(prev));
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        Init.truncNormalLinears(this, random);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return child("norm").forward(forwardTrunk(x));
    }

    @Override
    protected NDArray averagePool(NDArray features) {
        return Layers.spatialMean(features, false);
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's efficientformerv2_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "efficientformer_v2";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(
                    m,
                    "efficientformerv2_s0",
                    new Config(
                            List.of(32, 48, 96, 176),
                            List.of(2, 2, 6, 4),
                            ratios(2, 2, List.of(4, 3, 3, 3, 4, 4), List.of(4, 3, 3, 4)),
                            2,
                            224));
            add(
                    m,
                    "efficientformerv2_s1",
                    new Config(
                            List.of(32, 48, 120, 224),
                            List.of(3, 3, 9, 6),
                            ratios(3, 3, List.of(4, 4, 3, 3, 3, 3, 4, 4, 4), List.of(4, 4, 3, 3, 4, 4)),
                            2,
                            224));
            add(
                    m,
                    "efficientformerv2_s2",
                    new Config(
                            List.of(32, 64, 144, 288),
                            List.of(4, 4, 12, 8),
                            ratios(4, 4, List.of(4, 4, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4), List.of(4, 4, 3, 3, 3, 3, 4, 4)),
                            4,
                            224));
            add(
                    m,
                    "efficientformerv2_l",
                    new Config(
                            List.of(40, 80, 192, 384),
                            List.of(5, 5, 15, 10),
                            ratios(
                                    5,
                                    5,
                                    List.of(4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4),
                                    List.of(4, 4, 4, 3, 3, 3, 3, 4, 4, 4)),
                            6,
                            224));
            return m;
        }

        /** The first two stages expand every block 4x; the last two as listed. */
        private static List<List<Integer>> ratios(int d0, int d1, List<Integer> s2, List<Integer> s3) {
            return List.of(Collections.nCopies(d0, 4), Collections.nCopies(d1, 4), s2, s3);
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name,
                    "efficientformer_v2",
                    args -> new EfficientFormerV2(c, args),
                    c.imgSize(),
                    "stem.conv1.conv",
                    "head"));
        }
    }
}
