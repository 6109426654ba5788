package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code SEModule}: global average, 1x1 conv reduce ({@code fc1}), activation, 1x1 conv expand ({@code fc2}),
 * gate, rescale. Reduced channels follow timm's make_divisible.
 */
public class SqueezeExcite extends Module {
    private final Module fc1;
    private final Module bn;
    private final Activation.Kind act;
    private final Module fc2;
    private final Activation.Kind gate;

    /** timm's defaults: rd_ratio 1/16, divisor 8, ReLU, sigmoid gate. */
    public SqueezeExcite(int channels) {
        this(channels, 1.0 / 16, 8);
    }

    public SqueezeExcite(int channels, double rdRatio, int rdDivisor) {
        this(
                channels,
                Layers.makeDivisible(channels * rdRatio, rdDivisor, 0.0),
                Activation.Kind.RELU,
                Activation.Kind.SIGMOID);
    }

    public SqueezeExcite(int channels, int rdChannels, Activation.Kind act, Activation.Kind gate) {
        this.fc1 = register("fc1", new Conv2d(channels, rdChannels, 1, Conv2d.Options.defaults()));
        this.bn = register("bn", new Identity());
        this.act = act;
        this.fc2 = register("fc2", new Conv2d(rdChannels, channels, 1, Conv2d.Options.defaults()));
        this.gate = gate;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray s = Layers.spatialMean(x, true);
        s = Activation.apply(act, bn.forward(fc1.forward(s)));
        s = fc2.forward(s);
        return x.mul(Activation.apply(gate, s));
    }

    @Override
    protected String extraRepr() {
        return "SEModule";
    }
}
