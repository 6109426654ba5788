package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.hub.KeyMapping;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.LayerScale;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * EfficientFormer (v1), as timm's {@code models/efficientformer.py} builds it: a stride-4 conv stem, PoolFormer-style
 * stages on NCHW maps (average-pool token mixer and a 1x1-conv MLP with BatchNorms, both layer-scaled), and in the last
 * stage, after flattening to tokens, {@code numVit} transformer blocks whose attention has learned biases over the 7x7
 * grid's relative offsets. The classifier is {@code head} and a distillation {@code head_dist}, averaged.
 *
 * <p>The attention biases fix the last stage's grid to 7x7, so the input is 224 square (timm's
 * {@code fixed_input_size}).
 */
public final class EfficientFormer extends DistilledHeadModel {

    /**
     * An EfficientFormer variant.
     *
     * @param embedDims channels per stage
     * @param depths blocks per stage
     * @param numVit attention blocks at the end of the last stage
     */
    public record Config(List<Integer> embedDims, List<Integer> depths, int numVit) {
        public Config {
            embedDims = List.copyOf(embedDims);
            depths = List.copyOf(depths);
            if (embedDims.size() != 4 || depths.size() != 4) {
                throw new IllegalArgumentException(
                        "EfficientFormer has 4 stages: embedDims " + embedDims + ", depths " + depths);
            }
            if (numVit < 0 || numVit > depths.get(3)) {
                throw new IllegalArgumentException(
                        "numVit " + numVit + " must be within the last stage's depth " + depths.get(3));
            }
        }
    }

    /** The input side the 7x7 attention grid implies. */
    static final int IMG_SIZE = 224;

    /** timm's LayerScale2d: a per-channel {@code gamma} [C] on NCHW maps. */
    static final class LayerScale2d extends Module {
        private final Parameter gamma;
        private final float init;

        LayerScale2d(int dim, float init) {
            this.init = init;
            this.gamma = parameter("gamma", dim);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.mul(gamma.getArray().reshape(1, -1, 1, 1));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(gamma.getArray(), init);
        }
    }

    /** The relative-offset bias index of an {@code h x w} grid with itself: |dy| * w + |dx|, [N, N] row-major. */
    static long[] biasIndex(int h, int w) {
        int n = h * w;
        long[] idx = new long[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                idx[i * n + j] = (long) Math.abs(i / w - j / w) * w + Math.abs(i % w - j % w);
            }
        }
        return idx;
    }

    /** biases [heads, N] gathered by an [Nq * Nk] index to [heads, Nq, Nk]. */
    static NDArray gatherBiases(NDArray biases, NDArray index, long nq, long nk) {
        NDArray rows = biases.transpose(1, 0).get(new NDIndex("{}", index.reshape(-1)));
        return rows.reshape(nq, nk, -1).transpose(2, 0, 1);
    }

    /**
     * timm's EfficientFormer Attention on tokens [B, N, C]: 8 heads of key width 32, values 4x wider, biases on the 7x7
     * grid's relative offsets (the index is a persistent buffer in timm, so it is in the state_dict).
     */
    static final class Attention extends Module {
        private static final int HEADS = 8;
        private static final int KEY_DIM = 32;
        private static final int VAL_DIM = 4 * KEY_DIM;
        private static final int RES = 7;
        private final Parameter biases;
        private final Buffer index;
        private final float scale = (float) Math.pow(KEY_DIM, -0.5);

        Attention(int dim) {
            register("qkv", new Linear(dim, KEY_DIM * HEADS * 2 + VAL_DIM * HEADS));
            register("proj", new Linear(VAL_DIM * HEADS, dim));
            biases = parameter("attention_biases", HEADS, RES * RES);
            index = buffer("attention_bias_idxs", DataType.INT64, RES * RES, RES * RES);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long n = s.get(1);
            if (n != RES * RES) {
                throw new IllegalArgumentException("EfficientFormer's attention takes the " + RES + "x" + RES
                        + " grid of a " + IMG_SIZE + " input; it got " + n + " tokens");
            }
            NDArray qkv = child("qkv").forward(x).reshape(b, n, HEADS, -1).transpose(0, 2, 1, 3);
            NDList p = qkv.split(new long[] {KEY_DIM, 2 * KEY_DIM}, 3);
            NDArray attn = Scalars.mul(p.get(0).matMul(p.get(1).transpose(0, 1, 3, 2)), scale);
            attn = attn.add(gatherBiases(biases.getArray(), index.array(), n, n))
                    .softmax(-1);
            x = attn.matMul(p.get(2)).transpose(0, 2, 1, 3).reshape(b, n, (long) VAL_DIM * HEADS);
            return child("proj").forward(x);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(biases.getArray(), 0f);
            try (NDArray idx =
                    index.array().getManager().create(biasIndex(RES, RES), new Shape(RES * RES, RES * RES))) {
                Module.copyInto(index.array(), idx);
            }
        }
    }

    /** Conv (with bias) then BatchNorm: timm's Downsample ({@code conv}, {@code norm}). */
    static final class Downsample extends Module {
        Downsample(int in, int out) {
            register(
                    "conv",
                    new Conv2d(in, out, 3, Conv2d.Options.defaults().stride(2).padding(1)));
            register("norm", new BatchNorm2d(out));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return child("norm").forward(child("conv").forward(x));
        }
    }

    /** NCHW maps to tokens [B, HW, C] (timm's Flat). */
    static final class Flat extends Module {
        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            return x.reshape(s.get(0), s.get(1), -1).transpose(0, 2, 1);
        }
    }

    /** timm's ConvMlpWithNorm: 1x1 conv, BatchNorm, GELU, 1x1 conv, BatchNorm. */
    static final class ConvMlp extends Module {
        private final float drop;

        ConvMlp(int dim, int hidden, float drop) {
            this.drop = drop;
            register("fc1", new Conv2d(dim, hidden, 1, Conv2d.Options.defaults()));
            register("norm1", new BatchNorm2d(hidden));
            register("fc2", new Conv2d(hidden, dim, 1, Conv2d.Options.defaults()));
            register("norm2", new BatchNorm2d(dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = child("norm1").forward(child("fc1").forward(x));
            x = Dropout.apply(Activation.apply(Activation.Kind.GELU, x), drop, isTraining());
            x = child("norm2").forward(child("fc2").forward(x));
            return Dropout.apply(x, drop, isTraining());
        }
    }

    /** timm's Pooling (PoolFormer's mixer): a 3x3 average without the padding, minus the input. */
    static final class Pooling extends Module {
        Pooling() {
            register("pool", Pool2d.avg(3, 1, 1, false, false));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return child("pool").forward(x).sub(x);
        }
    }

    /** timm's MetaBlock2d: pooling token mixer (pool(x) - x) and conv MLP, each layer-scaled and residual. */
    static final class MetaBlock2d extends Module {
        MetaBlock2d(int dim, double mlpRatio, float drop, double dropPath, float lsInit) {
            register("token_mixer", new Pooling());
            register("ls1", new LayerScale2d(dim, lsInit));
            register("drop_path1", DropPath.orIdentity(dropPath));
            register("mlp", new ConvMlp(dim, (int) (dim * mlpRatio), drop));
            register("ls2", new LayerScale2d(dim, lsInit));
            register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray mixed = child("token_mixer").forward(x);
            x = x.add(child("drop_path1").forward(child("ls1").forward(mixed)));
            return x.add(child("drop_path2")
                    .forward(child("ls2").forward(child("mlp").forward(x))));
        }
    }

    /** timm's MetaBlock1d: pre-norm attention and MLP on tokens, each layer-scaled and residual. */
    static final class MetaBlock1d extends Module {
        MetaBlock1d(int dim, double mlpRatio, float drop, double dropPath, float lsInit) {
            register("norm1", new LayerNorm(dim, 1e-5f));
            register("token_mixer", new Attention(dim));
            register("ls1", new LayerScale(dim, lsInit));
            register("drop_path1", DropPath.orIdentity(dropPath));
            register("norm2", new LayerNorm(dim, 1e-5f));
            register("mlp", new Mlp(dim, (int) (dim * mlpRatio), dim, Activation.Kind.GELU, drop));
            register("ls2", new LayerScale(dim, lsInit));
            register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray a = child("token_mixer").forward(child("norm1").forward(x));
            x = x.add(child("drop_path1").forward(child("ls1").forward(a)));
            NDArray m = child("mlp").forward(child("norm2").forward(x));
            return x.add(child("drop_path2").forward(child("ls2").forward(m)));
        }
    }

    /** timm's EfficientFormerStage: downsampler (or identity), 2d blocks, Flat, then the attention blocks. */
    static final class Stage extends DownsampledStage {
        Stage(int in, int out, int depth, boolean downsample, int numVit, double[] dpr, float drop) {
            super(downsample ? new Downsample(in, out) : null, in, out);
            float ls = 1e-5f;
            Sequential blocks = new Sequential();
            if (numVit > 0 && numVit >= depth) {
                blocks.add(new Flat());
            }
            for (int i = 0; i < depth; i++) {
                int remain = depth - i - 1;
                if (numVit > 0 && numVit > remain) {
                    blocks.add(new MetaBlock1d(out, 4, drop, dpr[i], ls));
                } else {
                    blocks.add(new MetaBlock2d(out, 4, drop, dpr[i], ls));
                    if (numVit > 0 && numVit == remain) {
                        blocks.add(new Flat());
                    }
                }
            }
            blocks(blocks);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final List<Module> stages = new ArrayList<>();

    public EfficientFormer(Config cfg, ModelArgs args) {
        super(args, "EfficientFormer", "tokens");
        this.cfg = cfg;
        List<Integer> dims = cfg.embedDims();
        NamedSequential stem = new NamedSequential()
                .add(
                        "conv1",
                        new Conv2d(
                                inChans,
                                dims.get(0) / 2,
                                3,
                                Conv2d.Options.defaults().stride(2).padding(1)))
                .add("norm1", new BatchNorm2d(dims.get(0) / 2))
                .add("act1", new Activation(Activation.Kind.RELU))
                .add(
                        "conv2",
                        new Conv2d(
                                dims.get(0) / 2,
                                dims.get(0),
                                3,
                                Conv2d.Options.defaults().stride(2).padding(1)))
                .add("norm2", new BatchNorm2d(dims.get(0)))
                .add("act2", new Activation(Activation.Kind.RELU));
        register("stem", stem);
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential seq = register("stages", new Sequential());
        int prev = dims.get(0);
        for (int i = 0; i < 4; i++) {
            Stage stage =
                    new Stage(prev, dims.get(i), cfg.depths().get(i), i > 0, i == 3 ? cfg.numVit() : 0, dpr[i], 0f);
            seq.add(stage);
            stages.add(stage);
            prev = dims.get(i);
            addFeatureInfo(prev, 1 << (i + 2), "stages." + i, i);
        }
        registerNormAndHeads(prev, new LayerNorm(prev, 1e-5f));
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        Init.truncNormalLinears(this, random);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /**
     * The features: the last stage's tokens [B, N, C] after the final LayerNorm (or NCHW maps when the last stage has
     * no attention blocks).
     */
    @Override
    public NDArray forwardFeatures(NDArray x) {
        x = child("stem").forward(x);
        for (Module stage : stages) {
            x = stage.forward(x);
        }
        return child("norm").forward(x);
    }

    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        int[] take = resolveIndices(indices);
        int last = deepest(take);
        x = child("stem").forward(x);
        List<NDArray> all = new ArrayList<>();
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        for (int i = 0; i <= last; i++) {
            x = stages.get(i).forward(x);
            if (x.getShape().dimension() == 4) {
                h = x.getShape().get(2);
                w = x.getShape().get(3);
                all.add(x);
            } else {
                // the tokens of the last stage, on the grid its downsampling halved
                long b = x.getShape().get(0);
                all.add(x.reshape(b, (h + 1) / 2, (w + 1) / 2, -1).transpose(0, 3, 1, 2));
            }
        }
        return select(all, take);
    }

    @Override
    protected NDArray averagePool(NDArray features) {
        return features.mean(new int[] {1});
    }

    private static final Pattern STAGE_BLOCK = Pattern.compile("network\\.(\\d+)\\.(\\d+)");
    private static final Pattern STAGE_PROJ = Pattern.compile("network\\.(\\d+)\\.proj\\.weight");

    /**
     * timm's checkpoint_filter_fn: renames the original Snap checkpoints' keys ({@code patch_embed.*},
     * {@code network.N.*}, {@code layer_scale_N}, {@code dist_head}) to timm's; timm's own pass unchanged.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("stem.conv1.weight")) {
            return checkpoint;
        }
        // as timm counts them: each downsampling conv's weight opens the next stage, so the keys' order matters
        int[] stage = {0};
        return KeyMapping.renameEach(checkpoint, key -> {
            String k = key;
            if (k.startsWith("patch_embed")) {
                k = k.replace("patch_embed.0", "stem.conv1")
                        .replace("patch_embed.1", "stem.norm1")
                        .replace("patch_embed.3", "stem.conv2")
                        .replace("patch_embed.4", "stem.norm2");
            }
            if (STAGE_PROJ.matcher(k).matches()) {
                stage[0]++;
            }
            Matcher m = STAGE_BLOCK.matcher(k);
            k = m.replaceAll("stages." + stage[0] + ".blocks.$2");
            k = k.replaceAll("network\\.(\\d+)\\.proj", "stages." + stage[0] + ".downsample.conv");
            k = k.replaceAll("network\\.(\\d+)\\.norm", "stages." + stage[0] + ".downsample.norm");
            k = k.replaceAll("layer_scale_([0-9])", "ls$1.gamma");
            return k.replace("dist_head", "head_dist");
        });
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's efficientformer_l* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "efficientformer";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "efficientformer_l1", new Config(List.of(48, 96, 224, 448), List.of(3, 2, 6, 4), 1));
            add(m, "efficientformer_l3", new Config(List.of(64, 128, 320, 512), List.of(4, 4, 12, 6), 4));
            add(m, "efficientformer_l7", new Config(List.of(96, 192, 384, 768), List.of(6, 6, 18, 8), 8));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "efficientformer", args -> new EfficientFormer(c, args), IMG_SIZE, "stem.conv1", "head"));
        }
    }
}
