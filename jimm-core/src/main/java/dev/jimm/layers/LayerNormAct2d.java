package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code LayerNormAct2d}: layer norm over the channels of NCHW maps (timm's {@code LayerNorm2d}), then an
 * activation, with the norm's own keys ({@code weight}, {@code bias}).
 */
public class LayerNormAct2d extends LayerNorm {
    private final Activation.Kind act;

    public LayerNormAct2d(int channels, float eps, Activation.Kind act) {
        super(channels, eps, true, true);
        this.act = act;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return Activation.apply(act, super.forwardImpl(x));
    }

    @Override
    protected String extraRepr() {
        return repr("LayerNormAct2d", ", act=" + act);
    }
}
