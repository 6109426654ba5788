package dev.jimm.layers;

/**
 * torchvision's {@code Conv2dNormActivation}: a bias-free convolution ({@code 0}) with "same" padding {@code (k - 1) /
 * 2 * dilation}, a norm ({@code 1}) and an optional activation ({@code 2}), as a {@link Sequential} so that its keys
 * are torchvision's.
 */
public class ConvNormActivation extends Sequential {
    private final int outChannels;

    /**
     * @param inChannels input channels
     * @param outChannels output channels
     * @param kernel square kernel size
     * @param stride stride
     * @param groups conv groups (inChannels for a depthwise conv)
     * @param norm the norm module, usually a {@link BatchNorm2d} of outChannels
     * @param act the activation, or null for none (torchvision's {@code activation_layer=None})
     */
    public ConvNormActivation(
            int inChannels, int outChannels, int kernel, int stride, int groups, Module norm, Activation.Kind act) {
        this(inChannels, outChannels, kernel, stride, groups, norm, act == null ? null : new Activation(act), true);
    }

    /** As the constructor, with the activation given as a module (null for none). */
    public static ConvNormActivation withActivation(
            int inChannels, int outChannels, int kernel, int stride, int groups, Module norm, Module act) {
        return new ConvNormActivation(inChannels, outChannels, kernel, stride, groups, norm, act, true);
    }

    private ConvNormActivation(
            int inChannels,
            int outChannels,
            int kernel,
            int stride,
            int groups,
            Module norm,
            Module act,
            boolean unused) {
        if (kernel < 1 || stride < 1 || groups < 1) {
            throw new IllegalArgumentException(
                    "kernel " + kernel + ", stride " + stride + " and groups " + groups + " must be positive");
        }
        this.outChannels = outChannels;
        add(new Conv2d(
                inChannels,
                outChannels,
                kernel,
                Conv2d.Options.defaults()
                        .stride(stride)
                        .padding((kernel - 1) / 2)
                        .groups(groups)
                        .bias(false)));
        add(norm);
        if (act != null) {
            add(act);
        }
    }

    public int outChannels() {
        return outChannels;
    }

    @Override
    protected String extraRepr() {
        return "Conv2dNormActivation";
    }
}
