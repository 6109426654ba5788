package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.SplittableRandom;

/**
 * A convolution, a BatchNorm {@code bn} (eps 1e-5) and an optional activation that adds no key: timm's
 * {@code ConvNormAct} as the hybrid families write it for themselves (the {@code ConvNorm} of levit, repvit, tiny_vit
 * and efficientformer_v2, fastvit's {@code conv_bn}). Only the convolution's key differs between them ({@code conv},
 * RepViT's {@code c}, LeViT's {@code linear}), so it is given.
 */
public class ConvNorm extends Module {
    private final Conv2d conv;
    private final BatchNorm2d bn;
    private final Activation.Kind act;
    private final float bnWeightInit;

    /**
     * @param convKey the convolution's name in the state_dict
     * @param conv the convolution
     * @param act the activation after the norm (IDENTITY for none)
     * @param bnWeightInit the norm's initial weight (timm's {@code bn_weight_init}; 1 is BatchNorm's own)
     */
    public ConvNorm(String convKey, Conv2d conv, Activation.Kind act, float bnWeightInit) {
        this.conv = register(convKey, conv);
        this.bn = register("bn", new BatchNorm2d(conv.outChannels()));
        this.act = act;
        this.bnWeightInit = bnWeightInit;
    }

    /** A bias-free, symmetrically padded convolution {@code conv} and its norm, without activation. */
    public ConvNorm(int in, int out, int kernel, int stride, int groups) {
        this("conv", Conv2d.symmetric(in, out, kernel, stride, 1, groups, false), Activation.Kind.IDENTITY, 1f);
    }

    public Conv2d conv() {
        return conv;
    }

    public BatchNorm2d bn() {
        return bn;
    }

    /** The convolution and its eval-mode norm as one kernel (timm's {@code _fuse_bn_tensor}). */
    public Reparameterization.Kernel kernel() {
        return Reparameterization.Kernel.of(conv, bn);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        // BatchNorm's own reset already gives weight 1
        if (bnWeightInit != 1f) {
            Init.constant(bn.weight().getArray(), bnWeightInit);
        }
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return Activation.apply(act, bn.forward(conv.forward(x)));
    }
}
