package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code LayerNormAct2d}: layer norm over the channels of NCHW maps, then an activation,
 * with the norm's own keys ({@code weight}, {@code bias}).
 */
public class LayerNormAct2d extends Module {
    private final int channels;
    private final float eps;
    private final Activation.Kind act;
    private final Parameter weight;
    private final Parameter bias;

    public LayerNormAct2d(int channels, float eps, Activation.Kind act) {
        this.channels = channels;
        this.eps = eps;
        this.act = act;
        weight = parameter("weight", channels);
        bias = parameter("bias", channels);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray nhwc = x.transpose(0, 2, 3, 1);
        NDArray y = nhwc.getNDArrayInternal()
                .layerNorm(nhwc, new Shape(channels), weight.getArray(), bias.getArray(), eps)
                .singletonOrThrow();
        return Activation.apply(act, y.transpose(0, 3, 1, 2));
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(weight.getArray(), 1f);
        Init.constant(bias.getArray(), 0f);
    }

    @Override
    protected String extraRepr() {
        return "LayerNormAct2d((" + channels + ",), eps=" + eps + ", act=" + act + ")";
    }
}
