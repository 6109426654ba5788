package dev.jimm.layers;

/**
 * timm's {@code GlobalResponseNormMlp}, the ConvNeXt-V2 feed-forward: {@code fc1}, activation, dropout, {@code grn}
 * ({@link GlobalResponseNorm}), {@code fc2}, dropout. With {@code useConv} the two projections are 1x1 convolutions
 * over NCHW maps, otherwise linear layers over NHWC. It is timm's {@link Mlp} with the hidden norm named {@code grn}.
 */
public class GlobalResponseNormMlp extends Mlp {
    /**
     * @param inFeatures input (and output) width
     * @param hiddenFeatures hidden width
     * @param act activation after fc1
     * @param drop dropout after the activation and after fc2 (train mode only)
     * @param useConv 1x1 convolutions on NCHW instead of linear layers on NHWC
     */
    public GlobalResponseNormMlp(int inFeatures, int hiddenFeatures, Activation.Kind act, float drop, boolean useConv) {
        super(
                inFeatures,
                hiddenFeatures,
                inFeatures,
                act,
                drop,
                "grn",
                new GlobalResponseNorm(hiddenFeatures, !useConv),
                true,
                useConv);
    }
}
