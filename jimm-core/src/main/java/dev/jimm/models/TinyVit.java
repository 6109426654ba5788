package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.AttentionPool2d;
import dev.jimm.layers.ConvNorm;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NormMlpClassifierHead;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import dev.jimm.models.SwinTransformer.Windows;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * TinyViT, as timm's {@code models/tiny_vit.py} builds it: a stem of two stride-2 conv-BN layers, a first stage of
 * MBConv blocks, then stages that merge patches (1x1, strided depthwise 3x3, 1x1 conv-BN) and run windowed attention
 * blocks with LeViT-style attention biases (one learned value per head and absolute offset), a depthwise conv-BN
 * between the attention and the MLP; timm's NormMlpClassifierHead. Checkpoints made for another window size have their
 * biases resampled on load, as timm's checkpoint filter does.
 */
public final class TinyVit extends ImageModel {

    /**
     * A TinyViT variant, as timm's keyword arguments.
     *
     * @param embedDims widths per stage
     * @param depths blocks per stage
     * @param numHeads attention heads per stage (the first, convolutional, stage has none)
     * @param windowSizes attention window side per stage
     * @param mlpRatio MLP expansion
     * @param mbconvExpandRatio the first stage's MBConv expansion
     * @param localConvSize the depthwise conv between attention and MLP
     */
    public record Config(
            List<Integer> embedDims,
            List<Integer> depths,
            List<Integer> numHeads,
            List<Integer> windowSizes,
            double mlpRatio,
            double mbconvExpandRatio,
            int localConvSize) {
        public Config {
            embedDims = List.copyOf(embedDims);
            depths = List.copyOf(depths);
            numHeads = List.copyOf(numHeads);
            windowSizes = List.copyOf(windowSizes);
            int n = depths.size();
            if (embedDims.size() != n || numHeads.size() != n || windowSizes.size() != n) {
                throw new IllegalArgumentException("TinyViT needs one entry per stage: embedDims " + embedDims
                        + ", depths " + depths + ", numHeads " + numHeads + ", windowSizes " + windowSizes);
            }
            if (localConvSize % 2 != 1) {
                // timm pads it by k // 2 and views the result back to the token count, which only an odd k keeps
                throw new IllegalArgumentException("localConvSize " + localConvSize + " must be odd");
            }
        }

        /** timm's defaults (MLP and MBConv expansion 4, 3x3 local conv) with these widths, heads and windows. */
        public static Config of(List<Integer> embedDims, List<Integer> numHeads, List<Integer> windowSizes) {
            return new Config(embedDims, List.of(2, 2, 6, 2), numHeads, windowSizes, 4, 4, 3);
        }
    }

    private static final float EPS = 1e-5f;
    private static final Activation.Kind ACT = Activation.Kind.GELU;

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's PatchEmbed: two stride-2 3x3 conv-BN layers with GELU between (stride 4). */
    static final class PatchEmbed extends Module {
        private final Module conv1;
        private final Module conv2;

        PatchEmbed(int in, int out) {
            this.conv1 = register("conv1", new ConvNorm(in, out / 2, 3, 2, 1));
            register("act", new Activation(ACT));
            this.conv2 = register("conv2", new ConvNorm(out / 2, out, 3, 2, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return conv2.forward(Activation.apply(ACT, conv1.forward(x)));
        }
    }

    /** timm's MBConv: 1x1 expand, depthwise 3x3, 1x1 project (conv-BN, GELU between), residual, GELU. */
    static final class MBConv extends Module {
        private final Module conv1;
        private final Module conv2;
        private final Module conv3;
        private final Module dropPath;

        MBConv(int dim, double expandRatio, double dpr) {
            int mid = (int) (dim * expandRatio);
            this.conv1 = register("conv1", new ConvNorm(dim, mid, 1, 1, 1));
            register("act1", new Activation(ACT));
            this.conv2 = register("conv2", new ConvNorm(mid, mid, 3, 1, mid));
            register("act2", new Activation(ACT));
            this.conv3 = register("conv3", new ConvNorm(mid, dim, 1, 1, 1));
            register("act3", new Activation(ACT));
            this.dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            // timm's bn_weight_init=0 on the last conv-BN: each block starts as the identity before its GELU
            Init.constant(conv3.child("bn").directParameters().get("weight").getArray(), 0f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = Activation.apply(ACT, conv1.forward(x));
            y = Activation.apply(ACT, conv2.forward(y));
            y = dropPath.forward(conv3.forward(y));
            return Activation.apply(ACT, y.add(x));
        }
    }

    /** timm's PatchMerging: 1x1 conv-BN, GELU, stride-2 depthwise 3x3 conv-BN, GELU, 1x1 conv-BN. */
    static final class PatchMerging extends Module {
        private final Module conv1;
        private final Module conv2;
        private final Module conv3;

        PatchMerging(int dim, int out) {
            this.conv1 = register("conv1", new ConvNorm(dim, out, 1, 1, 1));
            register("act1", new Activation(ACT));
            this.conv2 = register("conv2", new ConvNorm(out, out, 3, 2, out));
            register("act2", new Activation(ACT));
            this.conv3 = register("conv3", new ConvNorm(out, out, 1, 1, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Activation.apply(ACT, conv1.forward(x));
            x = Activation.apply(ACT, conv2.forward(x));
            return conv3.forward(x);
        }
    }

    /** timm's NormMlp: LayerNorm, fc1, GELU, fc2. */
    static final class NormMlp extends Module {
        private final Module norm;
        private final Module fc1;
        private final Module fc2;

        NormMlp(int dim, int hidden) {
            this.norm = register("norm", new LayerNorm(dim, EPS));
            this.fc1 = register("fc1", new Linear(dim, hidden));
            this.fc2 = register("fc2", new Linear(hidden, dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return fc2.forward(Activation.apply(ACT, fc1.forward(norm.forward(x))));
        }
    }

    /**
     * timm's TinyViT Attention on the tokens of one window: LayerNorm, qkv (per head q, k, v of the head width), and a
     * learned bias per head and absolute offset between two tokens ({@code attention_biases} [heads, window²], read
     * through the non-persistent {@code attention_bias_idxs} [N, N]).
     */
    static final class Attention extends Module {
        private final int numHeads;
        private final int keyDim;
        private final int window;
        private final Parameter attentionBiases;
        private final Buffer biasIdxs;
        private final Module norm;
        private final Module qkv;
        private final Module proj;

        Attention(int dim, int numHeads, int window) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.numHeads = numHeads;
            this.keyDim = dim / numHeads;
            this.window = window;
            int n = window * window;
            this.norm = register("norm", new LayerNorm(dim, EPS));
            this.qkv = register("qkv", new Linear(dim, numHeads * 3 * keyDim));
            this.proj = register("proj", new Linear(dim, dim));
            this.attentionBiases = parameter("attention_biases", numHeads, n);
            this.biasIdxs = buffer("attention_bias_idxs", DataType.INT64, false, n, n);
        }

        /**
         * timm's offsets: for every pair of window positions (row-major), the index of their absolute offset (|dy|,
         * |dx|) in first-seen order; an N x N table, row-major.
         */
        static long[] biasIndex(int window) {
            int n = window * window;
            Map<Integer, Integer> offsets = new HashMap<>();
            long[] idxs = new long[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    int key = Math.abs(i / window - j / window) * window + Math.abs(i % window - j % window);
                    idxs[i * n + j] = offsets.computeIfAbsent(key, k -> offsets.size());
                }
            }
            return idxs;
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(attentionBiases.getArray(), 0f);
            Windows.fillLong(biasIdxs.array(), biasIndex(window));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long n = s.get(1);
            NDArray t = qkv.forward(norm.forward(x))
                    .reshape(b, n, numHeads, 3L * keyDim)
                    .transpose(0, 2, 1, 3);
            NDArray q = t.get(new NDIndex(":, :, :, :" + keyDim));
            NDArray k = t.get(new NDIndex(":, :, :, " + keyDim + ":" + 2 * keyDim));
            NDArray v = t.get(new NDIndex(":, :, :, " + 2 * keyDim + ":"));
            NDArray bias = Windows.gatherBias(attentionBiases.getArray().transpose(), biasIdxs.array(), (int) n);
            NDArray attn = Scalars.mul(q, Math.pow(keyDim, -0.5))
                    .matMul(k.swapAxes(-2, -1))
                    .add(bias)
                    .softmax(-1);
            return proj.forward(attn.matMul(v).transpose(0, 2, 1, 3).reshape(b, n, -1));
        }
    }

    /**
     * timm's TinyVitBlock on NHWC maps: residual window attention (zero-padded at the bottom and right to whole
     * windows, cropped back), a depthwise conv-BN, residual NormMlp.
     */
    static final class Block extends Module {
        private final int window;
        private final Module attn;
        private final Module dropPath1;
        private final Module mlp;
        private final Module dropPath2;
        private final Module localConv;

        Block(int dim, int numHeads, int window, double mlpRatio, int localConvSize, double dpr) {
            this.window = window;
            this.attn = register("attn", new Attention(dim, numHeads, window));
            this.dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            this.mlp = register("mlp", new NormMlp(dim, (int) (dim * mlpRatio)));
            this.dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
            this.localConv = register("local_conv", new ConvNorm(dim, dim, localConvSize, 1, dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long h = s.get(1);
            long w = s.get(2);
            long c = s.get(3);
            int padB = (int) ((window - h % window) % window);
            int padR = (int) ((window - w % window) % window);
            NDArray t = Windows.padBottomRight(x, padB, padR);
            t = attn.forward(Windows.partition(t, window, window));
            t = Windows.reverse(t, window, window, h + padB, w + padR);
            if (padB > 0 || padR > 0) {
                t = t.get(":, :" + h + ", :" + w + ", :");
            }
            x = x.add(dropPath1.forward(t));
            x = localConv.forward(x.transpose(0, 3, 1, 2)).reshape(b, c, h * w).transpose(0, 2, 1);
            x = x.add(dropPath2.forward(mlp.forward(x)));
            return x.reshape(b, h, w, c);
        }
    }

    /** timm's ConvLayer, the first stage: MBConv blocks. */
    static final class ConvLayer extends Module {
        private final Module blocks;

        ConvLayer(int dim, int depth, double expandRatio, double[] dpr) {
            Sequential list = new Sequential();
            for (int i = 0; i < depth; i++) {
                list.add(new MBConv(dim, expandRatio, dpr[i]));
            }
            this.blocks = register("blocks", list);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(x);
        }
    }

    /** timm's TinyVitStage: patch merging on NCHW, then the attention blocks on NHWC; NCHW out. */
    static final class Stage extends Module {
        private final Module downsample;
        private final Module blocks;

        Stage(Config cfg, int i, double[] dpr) {
            int dim = cfg.embedDims().get(i - 1);
            int out = cfg.embedDims().get(i);
            this.downsample = register("downsample", new PatchMerging(dim, out));
            Sequential list = new Sequential();
            for (int j = 0; j < cfg.depths().get(i); j++) {
                list.add(new Block(
                        out,
                        cfg.numHeads().get(i),
                        cfg.windowSizes().get(i),
                        cfg.mlpRatio(),
                        cfg.localConvSize(),
                        dpr[j]));
            }
            this.blocks = register("blocks", list);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = downsample.forward(x).transpose(0, 2, 3, 1);
            return blocks.forward(x).transpose(0, 3, 1, 2);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final NormMlpClassifierHead head;

    public TinyVit(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.embedDims();
        addTrunkStep(register("patch_embed", new PatchEmbed(inChans, dims.get(0))));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int stride = 4;
        for (int i = 0; i < dims.size(); i++) {
            if (i == 0) {
                stages.add(
                        addTrunkStep(new ConvLayer(dims.get(0), cfg.depths().get(0), cfg.mbconvExpandRatio(), dpr[0])));
            } else {
                stages.add(addTrunkStep(new Stage(cfg, i, dpr[i])));
                stride *= 2;
            }
            addFeatureInfo(dims.get(i), stride, "stages." + i);
        }
        int numFeatures = dims.get(dims.size() - 1);
        setNumFeatures(numFeatures);
        head = registerHead("head", DaViT.normMlpHead(numFeatures, numClasses, globalPool, dropRate, EPS));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's _init_weights: trunc_normal(.02) linears with zero bias; the rest keep their defaults
        TimmInit.normalLinears(this, 0.02, random);
    }

    /**
     * timm's {@code checkpoint_filter_fn}: drops {@code attention_bias_idxs} (rebuilt here) and resamples each
     * {@code attention_biases} made for another window (bicubic with antialiasing over the S x S grid of offsets, as
     * timm's {@code resize_rel_pos_bias_table_levit}); a checkpoint wrapped under {@code model} was unwrapped by the
     * loader.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, Shape> shapes = stateDictShapes();
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            if (k.endsWith("attention_bias_idxs")) {
                continue;
            }
            NDArray v = e.getValue();
            if (k.contains("attention_biases") && shapes.containsKey(k)) {
                v = resizeBiases(v, shapes.get(k));
            }
            out.put(k, v);
        }
        return out;
    }

    /** Attention biases [heads, S1²] resampled to {@code target} [heads, S2²] (unchanged when the sizes agree). */
    static NDArray resizeBiases(NDArray biases, Shape target) {
        Shape s = biases.getShape();
        if (s.equals(target)) {
            return biases;
        }
        if (s.dimension() != 2 || s.get(0) != target.get(0)) {
            throw new IllegalArgumentException(
                    "attention_biases " + s + " cannot become " + target + ": the head counts (first axis) must agree");
        }
        int s1 = (int) Math.sqrt(s.get(1));
        int s2 = (int) Math.sqrt(target.get(1));
        long heads = s.get(0);
        NDArray grid = biases.toType(DataType.FLOAT32, false).reshape(heads, s1, s1);
        NDArray wRows = biases.getManager().create(AttentionPool2d.bicubicAntialiasWeights(s1, s2), new Shape(s2, s1));
        // [S2, S1] x [heads, S1, S1] x [S1, S2]
        NDArray resized = wRows.matMul(grid).matMul(wRows.transpose());
        return resized.reshape(heads, (long) s2 * s2);
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's tiny_vit_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "tiny_vit";
        }

        @Override
        public List<ModelEntry> models() {
            List<Integer> dims21 = List.of(96, 192, 384, 576);
            List<Integer> heads21 = List.of(3, 6, 12, 18);
            List<ModelEntry> m = new ArrayList<>();
            add(m, "tiny_vit_5m_224", Config.of(List.of(64, 128, 160, 320), List.of(2, 4, 5, 10), windows(7)), 224);
            add(m, "tiny_vit_11m_224", Config.of(List.of(64, 128, 256, 448), List.of(2, 4, 8, 14), windows(7)), 224);
            add(m, "tiny_vit_21m_224", Config.of(dims21, heads21, windows(7)), 224);
            add(m, "tiny_vit_21m_384", Config.of(dims21, heads21, windows(12)), 384);
            add(m, "tiny_vit_21m_512", Config.of(dims21, heads21, windows(16)), 512);
            return m;
        }

        // timm's windows: the third stage's twice the others'
        private static List<Integer> windows(int w) {
            return List.of(w, w, 2 * w, w);
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            m.add(ModelEntry.untrained(
                    name, "tiny_vit", args -> new TinyVit(c, args), size, "patch_embed.conv1.conv", "head.fc"));
        }
    }
}
