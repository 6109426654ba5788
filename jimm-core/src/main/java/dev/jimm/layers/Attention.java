package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's multi-head self-attention ({@code timm.layers.Attention}): a fused {@code qkv} projection, scaled dot-product
 * attention per head, and an output {@code proj}; on tokens [B, N, C].
 */
public class Attention extends Module {
    private final int dim;
    private final int numHeads;
    private final int headDim;
    private final float attnDrop;
    private final float projDrop;
    private final Linear qkv;
    private final Module norm;
    private final Linear proj;

    /**
     * @param dim token width
     * @param numHeads heads; must divide {@code dim}
     * @param qkvBias bias on the qkv projection
     * @param attnDrop dropout on the attention weights (train mode only)
     * @param projDrop dropout after the output projection (train mode only)
     */
    public Attention(int dim, int numHeads, boolean qkvBias, float attnDrop, float projDrop) {
        this(dim, numHeads, qkvBias, true, null, attnDrop, projDrop);
    }

    /**
     * As above, with a bias choice for the output projection and an optional norm between the attention and the
     * projection (timm's {@code scale_norm}, BEiT-3).
     */
    public Attention(
            int dim,
            int numHeads,
            boolean qkvBias,
            boolean projBias,
            Module scaleNorm,
            float attnDrop,
            float projDrop) {
        if (numHeads < 1 || dim % numHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
        }
        this.dim = dim;
        this.numHeads = numHeads;
        this.headDim = dim / numHeads;
        this.attnDrop = attnDrop;
        this.projDrop = projDrop;
        this.qkv = register("qkv", new Linear(dim, dim * 3, qkvBias));
        register("q_norm", new Identity());
        register("k_norm", new Identity());
        register("attn_drop", new Dropout(attnDrop));
        this.norm = register("norm", scaleNorm == null ? new Identity() : scaleNorm);
        this.proj = register("proj", new Linear(dim, dim, projBias));
        register("proj_drop", new Dropout(projDrop));
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray out = norm.forward(selfAttention(qkv.forward(x), numHeads, attnDrop, isTraining()));
        return Dropout.apply(proj.forward(out), projDrop, isTraining());
    }

    /**
     * Multi-head attention from packed projections [B, N, 3·C] (q, then k, then v, each split into heads as PyTorch's
     * reshape(B, N, 3, H, D) does) to the merged heads [B, N, C].
     */
    public static NDArray selfAttention(NDArray packedQkv, int numHeads, float attnDrop, boolean training) {
        long[] s = packedQkv.getShape().getShape();
        long b = s[0];
        long n = s[1];
        long c = s[2] / 3;
        long d = c / numHeads;
        NDArray qkv = packedQkv.reshape(b, n, 3, numHeads, d).transpose(2, 0, 3, 1, 4);
        NDArray q = qkv.get(0);
        NDArray k = qkv.get(1);
        NDArray v = qkv.get(2);
        return scaledDotProduct(q, k, v, attnDrop, training)
                .transpose(0, 2, 1, 3)
                .reshape(b, n, c);
    }

    /** softmax(q·kᵀ/√d)·v on [B, H, N, D] heads (PyTorch's scaled_dot_product_attention). */
    public static NDArray scaledDotProduct(NDArray q, NDArray k, NDArray v, float attnDrop, boolean training) {
        float scale = (float) (1.0 / Math.sqrt(q.getShape().get(q.getShape().dimension() - 1)));
        NDArray attn = Scalars.mul(q, scale).matMul(k.swapAxes(-1, -2)).softmax(-1);
        attn = Dropout.apply(attn, attnDrop, training);
        return attn.matMul(v);
    }

    public Linear qkv() {
        return qkv;
    }

    public Linear proj() {
        return proj;
    }

    public int numHeads() {
        return numHeads;
    }

    public int headDim() {
        return headDim;
    }

    @Override
    protected String extraRepr() {
        return "Attention(dim=" + dim + ", num_heads=" + numHeads + ")";
    }
}
