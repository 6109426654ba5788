package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * Layer normalization over the last dimension, PyTorch's {@code nn.LayerNorm(dim)}; with {@link #channelsFirst} it
 * normalizes the channel dimension of an NCHW map instead, timm's {@code LayerNorm2d} (the same {@code weight} and
 * {@code bias} keys).
 */
public class LayerNorm extends Module {
    private final int dim;
    private final float eps;
    private final boolean channelsFirst;
    private final Parameter weight;
    private final Parameter bias;

    /** The general form, for subclasses that add to the norm (timm's {@code LayerNormAct2d}). */
    protected LayerNorm(int dim, float eps, boolean channelsFirst, boolean affine) {
        this.dim = dim;
        this.eps = eps;
        this.channelsFirst = channelsFirst;
        weight = affine ? parameter("weight", dim) : null;
        bias = affine ? parameter("bias", dim) : null;
    }

    /** {@code nn.LayerNorm(dim, eps)} over the last dimension. */
    public LayerNorm(int dim, float eps) {
        this(dim, eps, false, true);
    }

    /** {@code nn.LayerNorm(dim)} with PyTorch's eps of 1e-5. */
    public LayerNorm(int dim) {
        this(dim, 1e-5f);
    }

    /** timm's {@code LayerNorm2d}: normalizes the channels of an NCHW tensor. */
    public static LayerNorm channelsFirst(int channels, float eps) {
        return new LayerNorm(channels, eps, true, true);
    }

    /** Without learnable weight and bias ({@code elementwise_affine=False}). */
    public static LayerNorm withoutAffine(int dim, float eps) {
        return new LayerNorm(dim, eps, false, false);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        if (channelsFirst) {
            return normalizeLast(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2);
        }
        return normalizeLast(x);
    }

    private NDArray normalizeLast(NDArray x) {
        NDArray gamma = weight == null ? x.getManager().ones(new Shape(dim)) : weight.getArray();
        NDArray beta = bias == null ? x.getManager().zeros(new Shape(dim)) : bias.getArray();
        return x.getNDArrayInternal()
                .layerNorm(x, new Shape(dim), gamma, beta, eps)
                .singletonOrThrow();
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        if (weight != null) {
            Init.constant(weight.getArray(), 1f);
            Init.constant(bias.getArray(), 0f);
        }
    }

    public int dim() {
        return dim;
    }

    @Override
    protected String extraRepr() {
        return repr(channelsFirst ? "LayerNorm2d" : "LayerNorm", "");
    }

    /** PyTorch's repr of a layer norm: {@code NAME((dim,), eps=E...)}, with {@code more} before the parenthesis. */
    protected final String repr(String name, String more) {
        return name + "((" + dim + ",), eps=" + eps + more + ")";
    }
}
