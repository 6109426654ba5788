package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * torchvision's {@code BasicConv2d} of GoogLeNet and Inception v3 (timm's {@code ConvNormAct} as its Inception v3 uses
 * it): a bias-free convolution {@code conv}, a BatchNorm {@code bn} and a ReLU. The state_dict keys are
 * {@code conv.weight} and {@code bn.*}.
 */
public class BasicConv2d extends Module {
    /** The BatchNorm eps both torchvision and timm use in these networks (TensorFlow's default). */
    public static final float EPS = 1e-3f;

    private final Conv2d conv;
    private final BatchNorm2d bn;

    /** A square {@code kernel} convolution with the given stride and padding. */
    public BasicConv2d(int in, int out, int kernel, int stride, int padding) {
        this(
                new Conv2d(
                        in,
                        out,
                        kernel,
                        Conv2d.Options.defaults()
                                .stride(stride)
                                .padding(padding)
                                .bias(false)),
                out);
    }

    /** A {@code kernelH x kernelW} convolution, stride 1, with per-axis padding. */
    public BasicConv2d(int in, int out, int kernelH, int kernelW, int padH, int padW) {
        this(
                new Conv2d(
                        in,
                        out,
                        kernelH,
                        kernelW,
                        padH,
                        padW,
                        Conv2d.Options.defaults().bias(false)),
                out);
    }

    /** An unpadded stride-1 square {@code kernel} convolution (the Inception families import these statically). */
    public static BasicConv2d conv(int in, int out, int kernel) {
        return new BasicConv2d(in, out, kernel, 1, 0);
    }

    /** A square {@code kernel} convolution with the given stride and padding. */
    public static BasicConv2d conv(int in, int out, int kernel, int stride, int padding) {
        return new BasicConv2d(in, out, kernel, stride, padding);
    }

    /** A 1 x {@code k} convolution, stride 1, padded along the width only so the size is kept. */
    public static BasicConv2d convRow(int in, int out, int k) {
        return new BasicConv2d(in, out, 1, k, 0, k / 2);
    }

    /** A {@code k} x 1 convolution, stride 1, padded along the height only so the size is kept. */
    public static BasicConv2d convCol(int in, int out, int k) {
        return new BasicConv2d(in, out, k, 1, k / 2, 0);
    }

    private BasicConv2d(Conv2d conv, int out) {
        this.conv = register("conv", conv);
        this.bn = register("bn", new BatchNorm2d(out, EPS, 0.1f));
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return Activation.apply(Activation.Kind.RELU, bn.forward(conv.forward(x)));
    }

    public Conv2d conv() {
        return conv;
    }

    public BatchNorm2d bn() {
        return bn;
    }
}
