package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code DiffAttention} (Differential Transformer): queries and keys split into two groups of half-width heads;
 * the attention is softmax(q1·k1ᵀ) − λ·softmax(q2·k2ᵀ) over full-width values, then a per-head RmsNorm
 * ({@code sub_norm}) scaled by 1 − λ_init. λ comes from the learned {@code lambda_q1/k1/q2/k2} vectors and the block
 * depth.
 */
public class DiffAttention extends Module {
    private final int dim;
    private final int numHeads;
    private final int headDim;
    private final double lambdaInit;
    private final Linear qkv;
    private final Module norm;
    private final Linear proj;
    private final Module subNorm;
    private final Parameter lambdaQ1;
    private final Parameter lambdaK1;
    private final Parameter lambdaQ2;
    private final Parameter lambdaK2;

    /**
     * @param dim token width
     * @param numHeads heads; each has half-width query / key groups
     * @param qkvBias bias on the qkv projection
     * @param projBias bias on the output projection
     * @param scaleNorm a norm before the output projection, or null
     * @param depth the block's index (λ_init = 0.8 − 0.6·exp(−0.3·depth))
     */
    public DiffAttention(int dim, int numHeads, boolean qkvBias, boolean projBias, Module scaleNorm, int depth) {
        if (numHeads < 1 || dim % (2 * numHeads) != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not divisible by 2 * numHeads " + numHeads);
        }
        this.dim = dim;
        this.numHeads = numHeads;
        this.headDim = dim / numHeads / 2;
        this.lambdaInit = 0.8 - 0.6 * Math.exp(-0.3 * depth);
        qkv = register("qkv", new Linear(dim, dim * 3, qkvBias));
        register("q_norm", new Identity());
        register("k_norm", new Identity());
        register("attn_drop", new Dropout(0f));
        norm = register("norm", scaleNorm == null ? new Identity() : scaleNorm);
        proj = register("proj", new Linear(dim, dim, projBias));
        register("proj_drop", new Dropout(0f));
        lambdaQ1 = parameter("lambda_q1", headDim);
        lambdaK1 = parameter("lambda_k1", headDim);
        lambdaQ2 = parameter("lambda_q2", headDim);
        lambdaK2 = parameter("lambda_k2", headDim);
        subNorm = register("sub_norm", new RmsNorm(2 * headDim, 1e-5f));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.normal(lambdaQ1.getArray(), 0.1, random);
        Init.normal(lambdaK1.getArray(), 0.1, random);
        Init.normal(lambdaQ2.getArray(), 0.1, random);
        Init.normal(lambdaK2.getArray(), 0.1, random);
    }

    /** λ = exp(Σ q1·k1) − exp(Σ q2·k2) + λ_init, a scalar array. */
    public NDArray lambda() {
        NDArray l1 = lambdaQ1.getArray().mul(lambdaK1.getArray()).sum().exp();
        NDArray l2 = lambdaQ2.getArray().mul(lambdaK2.getArray()).sum().exp();
        return l1.sub(l2).add((float) lambdaInit);
    }

    public double lambdaInit() {
        return lambdaInit;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        long b = x.getShape().get(0);
        long n = x.getShape().get(1);
        NDArray packed = qkv.forward(x);
        NDArray q = packed.get(":, :, 0:" + dim)
                .reshape(b, n, 2L * numHeads, headDim)
                .transpose(0, 2, 1, 3);
        NDArray k = packed.get(":, :, " + dim + ":" + 2 * dim)
                .reshape(b, n, 2L * numHeads, headDim)
                .transpose(0, 2, 1, 3);
        NDArray v = packed.get(":, :, " + 2 * dim + ":")
                .reshape(b, n, numHeads, 2L * headDim)
                .transpose(0, 2, 1, 3);
        return proj.forward(norm.forward(merge(differential(q, k, v, lambda(), headDim, numHeads), b, n)));
    }

    /** softmax(q1·k1ᵀ/√d) − λ·softmax(q2·k2ᵀ/√d), applied to v: q, k [B, 2H, N, d], v [B, H, N, 2d]. */
    public static NDArray differential(NDArray q, NDArray k, NDArray v, NDArray lambda, int headDim, int numHeads) {
        long b = q.getShape().get(0);
        long n = q.getShape().get(2);
        float scale = (float) (1.0 / Math.sqrt(headDim));
        NDArray attn =
                Scalars.mul(q, scale).matMul(k.swapAxes(-1, -2)).softmax(-1).reshape(b, numHeads, 2, n, n);
        NDArray diff = attn.get(":, :, 0").sub(attn.get(":, :, 1").mul(lambda));
        return diff.matMul(v);
    }

    /** sub_norm, the (1 − λ_init) scale and the heads merged to [B, N, C]. */
    private NDArray merge(NDArray heads, long b, long n) {
        return Scalars.mul(subNorm.forward(heads), 1 - lambdaInit)
                .transpose(0, 2, 1, 3)
                .reshape(b, n, dim);
    }

    @Override
    protected String extraRepr() {
        return "DiffAttention(dim=" + dim + ", num_heads=" + numHeads + ")";
    }
}
