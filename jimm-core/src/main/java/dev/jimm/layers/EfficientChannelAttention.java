package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * ECA attention (timm's {@code EcaModule}): a 1-D convolution across the pooled channel vector, with the kernel size
 * derived from the channel count, then a sigmoid gate.
 */
public class EfficientChannelAttention extends Module {
    private final Conv2d conv;

    public EfficientChannelAttention(int channels) {
        this(channels, 2, 1);
    }

    public EfficientChannelAttention(int channels, double gamma, double beta) {
        int t = (int) (Math.abs(Math.log(channels) / Math.log(2) + beta) / gamma);
        int k = Math.max(t % 2 == 1 ? t : t + 1, 3);
        conv = register(
                "conv",
                Conv2d.conv1d(
                        1, 1, k, Conv2d.Options.defaults().padding((k - 1) / 2).bias(false)));
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        long n = x.getShape().get(0);
        NDArray y = Layers.spatialMean(x, false).reshape(n, 1, -1);
        y = conv.forward(y);
        y = Activation.apply(Activation.Kind.SIGMOID, y).reshape(n, -1, 1, 1);
        return x.mul(y);
    }

    @Override
    protected String extraRepr() {
        return "EcaModule";
    }
}
