package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code AttentionPoolLatent} (multi-head attention pooling, "map"): a learned latent query attends over the
 * tokens, then a projection and a residual MLP; one latent, pooled by taking it. Keys {@code latent}, {@code q},
 * {@code kv}, {@code proj}, {@code norm}, {@code mlp.fc1/fc2}.
 */
public class AttentionPoolLatent extends Module {
    private final int dim;
    private final int numHeads;
    private final Parameter latent;
    private final Linear q;
    private final Linear kv;
    private final Linear proj;
    private final Module norm;
    private final Module mlp;

    /**
     * @param dim token width (in, embed and out width alike, as ViT builds it)
     * @param numHeads attention heads
     * @param mlpRatio MLP hidden width over {@code dim}
     * @param norm the norm before the MLP
     * @param act the MLP activation
     */
    public AttentionPoolLatent(int dim, int numHeads, double mlpRatio, Module norm, Activation.Kind act) {
        if (dim % numHeads != 0) {
            throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
        }
        this.dim = dim;
        this.numHeads = numHeads;
        latent = parameter("latent", 1, 1, dim);
        q = register("q", new Linear(dim, dim));
        kv = register("kv", new Linear(dim, dim * 2));
        register("q_norm", new Identity());
        register("k_norm", new Identity());
        proj = register("proj", new Linear(dim, dim));
        register("proj_drop", new Dropout(0f));
        this.norm = register("norm", norm);
        mlp = register("mlp", new Mlp(dim, (int) (dim * mlpRatio), dim, act, 0f));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        // trunc_normal_tf_: a standard normal cut at ±2, then scaled by std
        Init.truncNormal(latent.getArray(), 1.0 / Math.sqrt(dim), random);
    }

    /** Re-draws the latent as timm's init_weights does (after a model-wide Linear init). */
    public void initLatent(SplittableRandom random) {
        resetParameters(random);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        long b = x.getShape().get(0);
        long n = x.getShape().get(1);
        long d = dim / numHeads;
        NDArray query = q.forward(latent.getArray().broadcast(new Shape(b, 1, dim)))
                .reshape(b, 1, numHeads, d)
                .transpose(0, 2, 1, 3);
        NDArray keyValue = kv.forward(x).reshape(b, n, 2, numHeads, d).transpose(2, 0, 3, 1, 4);
        NDArray out = Attention.scaledDotProduct(query, keyValue.get(0), keyValue.get(1), 0f, false)
                .transpose(0, 2, 1, 3)
                .reshape(b, 1, dim);
        out = proj.forward(out);
        out = out.add(mlp.forward(norm.forward(out)));
        return out.get(":, 0");
    }

    @Override
    protected String extraRepr() {
        return "AttentionPoolLatent(dim=" + dim + ", num_heads=" + numHeads + ")";
    }
}
