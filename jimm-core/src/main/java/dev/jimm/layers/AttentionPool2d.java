package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code AttentionPool2d}, CLIP's attention pooling head for ResNets: the map's tokens, led by their mean, plus
 * a learned absolute position embedding ({@code pos_embed}, [H·W + 1, in]), pass one multi-head attention ({@code q},
 * {@code k}, {@code v} or a fused {@code qkv}), dropout and an output projection ({@code proj}); pooling
 * {@code "token"} keeps the mean token's output, {@code ""} the spatial tokens as an NCHW map.
 *
 * <p>The position embedding is made for one feature size; another size resamples it as timm does (bicubic with
 * antialiasing, the prefix token kept), so any input runs.
 */
public class AttentionPool2d extends Module {
    private final int inFeatures;
    private final int embedDim;
    private final int numHeads;
    private final float dropRate;
    private final int featH;
    private final int featW;
    private final Parameter posEmbed;
    private final Linear q;
    private final Linear k;
    private final Linear v;
    private final Linear qkv;
    private Module proj;
    private String poolType;
    private int outFeatures;

    /**
     * @param inFeatures channels of the input map
     * @param featSize side of the (square) map the position embedding is made for
     * @param outFeatures width of {@code proj} (the classes); 0 leaves the projection out
     * @param embedDim attention width, 0 for {@code inFeatures}
     * @param headDim channels per head (timm's default 64)
     * @param qkvSeparate separate {@code q}, {@code k}, {@code v} projections rather than one {@code qkv}
     * @param poolType "token" or "" (no pooling)
     * @param dropRate dropout before the projection (train mode only)
     */
    public AttentionPool2d(
            int inFeatures,
            int featSize,
            int outFeatures,
            int embedDim,
            int headDim,
            boolean qkvSeparate,
            String poolType,
            float dropRate) {
        this.inFeatures = inFeatures;
        this.embedDim = embedDim > 0 ? embedDim : inFeatures;
        if (headDim <= 0 || this.embedDim % headDim != 0) {
            throw new IllegalArgumentException(
                    "AttentionPool2d: embed dim " + this.embedDim + " is not divisible by head dim " + headDim);
        }
        if (featSize <= 0) {
            throw new IllegalArgumentException("AttentionPool2d needs the feature size, got " + featSize);
        }
        this.numHeads = this.embedDim / headDim;
        this.featH = featSize;
        this.featW = featSize;
        this.dropRate = dropRate;
        this.poolType = validatePool(poolType);
        posEmbed = parameter("pos_embed", (long) featSize * featSize + 1, inFeatures);
        if (qkvSeparate) {
            q = register("q", new Linear(inFeatures, this.embedDim));
            k = register("k", new Linear(inFeatures, this.embedDim));
            v = register("v", new Linear(inFeatures, this.embedDim));
            qkv = null;
        } else {
            q = null;
            k = null;
            v = null;
            qkv = register("qkv", new Linear(inFeatures, this.embedDim * 3));
        }
        register("drop", new Identity());
        this.outFeatures = outFeatures > 0 ? outFeatures : this.embedDim;
        proj = register("proj", Linear.classifier(this.embedDim, outFeatures));
    }

    /** Checks a pool type: "token" or "" (the attention head has no other pooling). */
    public static String validatePool(String poolType) {
        String p = poolType == null ? "token" : poolType;
        if (!p.equals("token") && !p.isEmpty()) {
            throw new IllegalArgumentException(
                    "globalPool '" + poolType + "' is not one of token or '' (no pooling) for an attention-pool head");
        }
        return p;
    }

    /** Width of the pooled features before the projection (timm's {@code embed_dim}). */
    public int embedDim() {
        return embedDim;
    }

    /** Width of the output: the classes, or {@link #embedDim()} without a projection. */
    public int outFeatures() {
        return outFeatures;
    }

    public int numHeads() {
        return numHeads;
    }

    public String poolType() {
        return poolType;
    }

    /** timm's {@code reset}: a new projection to {@code numClasses} (0: none) and pooling ("token" or ""). */
    public void reset(int numClasses, String newPoolType) {
        String p = validatePool(newPoolType);
        Module fresh = Linear.classifier(embedDim, numClasses);
        poolType = p;
        proj = register("proj", fresh);
        outFeatures = numClasses > 0 ? numClasses : embedDim;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return forward(x, false);
    }

    /** The head: pooled (or per-position) outputs, before the projection with {@code preLogits}. */
    public NDArray forward(NDArray x, boolean preLogits) {
        Shape s = x.getShape();
        long b = s.get(0);
        int h = (int) s.get(2);
        int w = (int) s.get(3);
        long n = (long) h * w + 1;
        NDArray tokens = x.reshape(b, s.get(1), (long) h * w).transpose(0, 2, 1);
        NDArray mean = tokens.mean(new int[] {1}, true);
        tokens = NDArrays.concat(new NDList(mean, tokens), 1);
        tokens = tokens.add(resampledPosEmbed(h, w).expandDims(0));
        long d = embedDim / numHeads;
        NDArray qh;
        NDArray kh;
        NDArray vh;
        if (qkv != null) {
            NDArray packed = qkv.forward(tokens).reshape(b, n, 3, numHeads, d).transpose(2, 0, 3, 1, 4);
            qh = packed.get(0);
            kh = packed.get(1);
            vh = packed.get(2);
        } else {
            qh = heads(q.forward(tokens), b, n, d);
            kh = heads(k.forward(tokens), b, n, d);
            vh = heads(v.forward(tokens), b, n, d);
        }
        NDArray out = Attention.scaledDotProduct(qh, kh, vh, 0f, false)
                .transpose(0, 2, 1, 3)
                .reshape(b, n, embedDim);
        out = Dropout.apply(out, dropRate, isTraining());
        if (!preLogits) {
            out = proj.forward(out);
        }
        return pool(out, h, w);
    }

    private NDArray heads(NDArray t, long b, long n, long d) {
        return t.reshape(b, n, numHeads, d).transpose(0, 2, 1, 3);
    }

    private NDArray pool(NDArray out, int h, int w) {
        if (poolType.equals("token")) {
            return out.get(":, 0");
        }
        long b = out.getShape().get(0);
        return out.get(":, 1:").reshape(b, h, w, -1).transpose(0, 3, 1, 2);
    }

    /**
     * The position embedding for an {@code h x w} map: as made when the token count matches and the map is square
     * (timm's test), else resampled.
     */
    NDArray resampledPosEmbed(int h, int w) {
        NDArray pe = posEmbed.getArray();
        long tokens = pe.getShape().get(0);
        if ((long) h * w + 1 == tokens && h == w) {
            return pe;
        }
        // timm assumes the stored grid is square
        int old = (int) Math.sqrt(tokens - 1);
        if ((long) old * old + 1 != tokens) {
            throw new IllegalStateException("AttentionPool2d: " + (tokens - 1) + " position tokens are not a square");
        }
        NDArray prefix = pe.get("0:1");
        NDArray grid = pe.get("1:").reshape(old, (long) old * inFeatures);
        NDArray wh = pe.getManager().create(bicubicAntialiasWeights(old, h), new Shape(h, old));
        NDArray ww = pe.getManager().create(bicubicAntialiasWeights(old, w), new Shape(w, old));
        // rows first: [h, old * C] -> [h, old, C]; then columns: [h, C, old] x [old, w] -> [h, C, w]
        NDArray rows = wh.matMul(grid).reshape(h, old, inFeatures).transpose(0, 2, 1);
        NDArray both = rows.matMul(ww.transpose()).transpose(0, 2, 1).reshape((long) h * w, inFeatures);
        return NDArrays.concat(new NDList(prefix, both), 0);
    }

    /**
     * PyTorch's {@code interpolate(mode='bicubic', antialias=True, align_corners=False)} along one axis as a [out, in]
     * matrix: Keys' cubic (a = -0.5) stretched by the scale when shrinking, each row normalized to sum 1.
     */
    public static float[] bicubicAntialiasWeights(int inSize, int outSize) {
        double scale = (double) inSize / outSize;
        double support = scale >= 1.0 ? 2.0 * scale : 2.0;
        double invScale = scale >= 1.0 ? 1.0 / scale : 1.0;
        float[] out = new float[outSize * inSize];
        double[] row = new double[inSize];
        for (int i = 0; i < outSize; i++) {
            double center = scale * (i + 0.5);
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize);
            double total = 0;
            for (int j = xmin; j < xmax; j++) {
                row[j] = cubic((j - center + 0.5) * invScale);
                total += row[j];
            }
            for (int j = xmin; j < xmax; j++) {
                out[i * inSize + j] = (float) (total != 0 ? row[j] / total : row[j]);
            }
        }
        return out;
    }

    private static double cubic(double x) {
        final double a = -0.5;
        x = Math.abs(x);
        if (x < 1.0) {
            return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0.0;
    }

    /**
     * timm's init_weights: the q, k, v (or qkv) weights and the position embedding normal with std {@code in^-0.5}
     * (timm's trunc_normal_ cuts at an absolute ±2, dozens of std away, so a plain normal draws the same), zero
     * projection biases; the output projection is left to the model's Linear init.
     */
    public void initWeights(SplittableRandom random) {
        double std = 1.0 / Math.sqrt(inFeatures);
        for (Linear l : qkv != null ? new Linear[] {qkv} : new Linear[] {q, k, v}) {
            Init.normal(l.weight().getArray(), std, random);
            Init.constant(l.bias().getArray(), 0f);
        }
        Init.normal(posEmbed.getArray(), std, random);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        initWeights(random);
    }

    @Override
    protected String extraRepr() {
        return "AttentionPool2d(in=" + inFeatures + ", embed_dim=" + embedDim + ", num_heads=" + numHeads
                + ", feat_size=" + featH + "x" + featW + ", pool_type=" + poolType + ")";
    }
}
