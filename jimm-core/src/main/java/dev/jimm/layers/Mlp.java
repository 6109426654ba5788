package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code Mlp}: {@code fc1}, activation, dropout, optional norm, {@code fc2}, dropout; the feed-forward part of
 * ViT, Swin and ConvNeXt blocks (keys {@code fc1.*}, {@code fc2.*}). {@link #conv} gives timm's {@code use_conv=True}
 * form, 1x1 convolutions on NCHW maps.
 */
public class Mlp extends Module {
    private final Module fc1;
    private final Activation.Kind act;
    private final float drop;
    private final Module norm;
    private final Module fc2;

    /**
     * @param inFeatures input (and default output) width
     * @param hiddenFeatures hidden width
     * @param outFeatures output width
     * @param act activation after fc1
     * @param drop dropout after the activation and after fc2 (train mode only)
     */
    public Mlp(int inFeatures, int hiddenFeatures, int outFeatures, Activation.Kind act, float drop) {
        this(inFeatures, hiddenFeatures, outFeatures, act, drop, null, true);
    }

    /**
     * As above, with a norm on the hidden features (timm's {@code norm_layer}, null for none) and a bias choice for
     * both linears.
     */
    public Mlp(
            int inFeatures,
            int hiddenFeatures,
            int outFeatures,
            Activation.Kind act,
            float drop,
            Module norm,
            boolean bias) {
        this(inFeatures, hiddenFeatures, outFeatures, act, drop, "norm", norm, bias, false);
    }

    /**
     * The general form: the hidden norm is registered under {@code normName} (timm's GlobalResponseNormMlp calls it
     * {@code grn}), and {@code useConv} makes both projections 1x1 convolutions.
     */
    protected Mlp(
            int inFeatures,
            int hiddenFeatures,
            int outFeatures,
            Activation.Kind act,
            float drop,
            String normName,
            Module norm,
            boolean bias,
            boolean useConv) {
        this.fc1 = register(
                "fc1", useConv ? pointwise(inFeatures, hiddenFeatures) : new Linear(inFeatures, hiddenFeatures, bias));
        this.act = act;
        this.drop = drop;
        this.norm = register(normName, norm == null ? new Identity() : norm);
        this.fc2 = register(
                "fc2",
                useConv ? pointwise(hiddenFeatures, outFeatures) : new Linear(hiddenFeatures, outFeatures, bias));
    }

    /**
     * timm's {@code Mlp(use_conv=True)}: {@code fc1} and {@code fc2} are 1x1 convolutions with bias (weights [out, in,
     * 1, 1]) over NCHW maps, as in the small ConvNeXts' {@code conv_mlp}.
     */
    public static Mlp conv(int inFeatures, int hiddenFeatures, int outFeatures, Activation.Kind act, float drop) {
        return new Mlp(inFeatures, hiddenFeatures, outFeatures, act, drop, "norm", null, true, true);
    }

    static Conv2d pointwise(int in, int out) {
        return new Conv2d(in, out, 1, Conv2d.Options.defaults());
    }

    public Mlp(int inFeatures, int hiddenFeatures, Activation.Kind act) {
        this(inFeatures, hiddenFeatures, inFeatures, act, 0f);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        x = Activation.apply(act, fc1.forward(x));
        x = Dropout.apply(x, drop, isTraining());
        x = fc2.forward(norm.forward(x));
        return Dropout.apply(x, drop, isTraining());
    }
}
