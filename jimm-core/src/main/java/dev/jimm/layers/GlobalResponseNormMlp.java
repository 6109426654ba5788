package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code GlobalResponseNormMlp}, the ConvNeXt-V2 feed-forward: {@code fc1}, activation,
 * dropout, {@code grn} ({@link GlobalResponseNorm}), {@code fc2}, dropout. With {@code useConv} the
 * two projections are 1x1 convolutions over NCHW maps, otherwise linear layers over NHWC.
 */
public class GlobalResponseNormMlp extends Module {
    private final Module fc1;
    private final Activation.Kind act;
    private final float drop;
    private final Module grn;
    private final Module fc2;

    /**
     * @param inFeatures input (and output) width
     * @param hiddenFeatures hidden width
     * @param act activation after fc1
     * @param drop dropout after the activation and after fc2 (train mode only)
     * @param useConv 1x1 convolutions on NCHW instead of linear layers on NHWC
     */
    public GlobalResponseNormMlp(int inFeatures, int hiddenFeatures, Activation.Kind act, float drop, boolean useConv) {
        this.fc1 = register("fc1", useConv ? Mlp.pointwise(inFeatures, hiddenFeatures) : new Linear(inFeatures, hiddenFeatures));
        this.act = act;
        this.drop = drop;
        this.grn = register("grn", new GlobalResponseNorm(hiddenFeatures, !useConv));
        this.fc2 = register("fc2", useConv ? Mlp.pointwise(hiddenFeatures, inFeatures) : new Linear(hiddenFeatures, inFeatures));
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        x = Activation.apply(act, fc1.forward(x));
        x = Dropout.apply(x, drop, isTraining());
        x = fc2.forward(grn.forward(x));
        return Dropout.apply(x, drop, isTraining());
    }
}
