package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.JniUtils;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A 2-D (or, with {@link #conv1d}, 1-D) convolution with PyTorch's {@code nn.Conv2d} parameters ({@code weight} [out,
 * in/groups, kh, kw], optional {@code bias}).
 */
public class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final long[] kernel;
    private final long[] stride;
    private final long[] padding;
    private final long[] dilation;
    private final int groups;
    private Parameter weight;
    private Parameter bias;
    private boolean channelsLast = MemoryFormat.byDefault();
    // set by PrepackedConvolutions for a model that only predicts: oneDNN's packed weight
    private PrepackedConvolutions prepacked;
    private IValue packedWeight;

    /** Options of a convolution beyond its channel counts and kernel size. */
    public record Options(int stride, int padding, int dilation, int groups, boolean bias) {
        public static Options defaults() {
            return new Options(1, 0, 1, 1, true);
        }

        public Options stride(int s) {
            return new Options(s, padding, dilation, groups, bias);
        }

        public Options padding(int p) {
            return new Options(stride, p, dilation, groups, bias);
        }

        public Options dilation(int d) {
            return new Options(stride, padding, d, groups, bias);
        }

        public Options groups(int g) {
            return new Options(stride, padding, dilation, g, bias);
        }

        public Options bias(boolean b) {
            return new Options(stride, padding, dilation, groups, b);
        }
    }

    /** A square-kernel 2-D convolution. */
    public Conv2d(int inChannels, int outChannels, int kernelSize, Options o) {
        this(inChannels, outChannels, new long[] {kernelSize, kernelSize}, null, o);
    }

    /**
     * A 2-D convolution with a {@code kernelH x kernelW} kernel and per-axis padding, as PyTorch's
     * {@code nn.Conv2d(kernel_size=(kh, kw), padding=(ph, pw))} (Inception's 1x7 and 7x1 convs); {@code o.padding()} is
     * ignored in favour of {@code padH}, {@code padW}.
     */
    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, int padH, int padW, Options o) {
        this(inChannels, outChannels, new long[] {kernelH, kernelW}, new long[] {padH, padW}, o);
    }

    private Conv2d(int inChannels, int outChannels, long[] kernel, long[] pad, Options o) {
        if (inChannels % o.groups() != 0 || outChannels % o.groups() != 0) {
            throw new IllegalArgumentException("Conv2d channels "
                    + inChannels
                    + "->"
                    + outChannels
                    + " are not divisible by groups "
                    + o.groups());
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        int n = kernel.length;
        this.stride = fill(n, o.stride());
        this.padding = pad == null ? fill(n, o.padding()) : pad.clone();
        this.dilation = fill(n, o.dilation());
        this.groups = o.groups();
        long[] wShape = new long[n + 2];
        wShape[0] = outChannels;
        wShape[1] = inChannels / groups;
        System.arraycopy(kernel, 0, wShape, 2, n);
        this.weight = parameter("weight", wShape);
        this.bias = o.bias() ? parameter("bias", outChannels) : null;
    }

    /**
     * timm's {@code create_conv2d} with its default padding: symmetric, {@code ((stride - 1) + dilation (k - 1)) / 2}
     * (see {@link Conv2dSame#create} for TensorFlow's "same").
     */
    public static Conv2d symmetric(int in, int out, int kernel, int stride, int dilation, int groups, boolean bias) {
        Options o = new Options(stride, Layers.padding(kernel, stride, dilation), dilation, groups, bias);
        return new Conv2d(in, out, kernel, o);
    }

    /** A 1-D convolution (PyTorch's nn.Conv1d), used by ECA attention. */
    public static Conv2d conv1d(int inChannels, int outChannels, int kernelSize, Options o) {
        return new Conv2d(inChannels, outChannels, new long[] {kernelSize}, null, o);
    }

    private static long[] fill(int n, long v) {
        long[] a = new long[n];
        Arrays.fill(a, v);
        return a;
    }

    // whether a 2-D input is put in channels-last order first (Module#setChannelsLast); only the
    // first convolution of a network copies, later ones receive channels-last arrays
    void useChannelsLast(boolean on) {
        channelsLast = on;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray in = channelsLast ? MemoryFormat.channelsLast(x) : x;
        if (seesWholeInput(in.getShape())) {
            return asMatrixProduct(in);
        }
        if (packedWeight != null && in.getShape().dimension() == 4 && libtorchPicksOneDnn(in.getShape())) {
            return prepacked.run(in, packedWeight);
        }
        return in.getNDArrayInternal()
                .convolution(
                        in,
                        weight.getArray(),
                        bias == null ? null : bias.getArray(),
                        new Shape(stride),
                        new Shape(padding),
                        new Shape(dilation),
                        groups)
                .singletonOrThrow();
    }

    // a plain 2-D convolution in channels-last order (subclasses change the weight or the input first)
    boolean canPrepack() {
        return getClass() == Conv2d.class
                && channelsLast
                && kernel.length == 2
                && weight.getArray().getShape().dimension() == 4;
    }

    /**
     * Whether libtorch's convolution would run oneDNN on this float CPU input (its {@code use_mkldnn} rule), where the
     * packed weight saves the reorder. Otherwise libtorch runs its own kernel, which it picks as faster there: for an
     * unstrided 1x1 kernel on fewer than 16 images with one thread, or on a small input (at most 20,480 elements, a
     * single image and a 1x1 to 3x3 kernel without groups).
     */
    boolean libtorchPicksOneDnn(Shape in) {
        boolean pointwise = kernel[0] == 1
                && kernel[1] == 1
                && stride[0] == 1
                && stride[1] == 1
                && dilation[0] == 1
                && dilation[1] == 1;
        if (pointwise && in.get(0) < 16 && JniUtils.getNumThreads() <= 1) {
            return false;
        }
        return groups > 1 || (kernel[0] > 3 && kernel[1] > 3) || in.get(0) > 1 || in.size() > 20480;
    }

    // runs through oneDNN's packed weight from now on (null, null: libtorch's convolution again)
    void usePrepacked(PrepackedConvolutions owner, IValue packed) {
        prepacked = owner;
        packedWeight = packed;
    }

    /**
     * Whether this is a 2-D convolution with a kernel larger than 1x1 and one output pixel whose kernel window covers
     * the whole input, such as the last stage of a ResNet on 28- or 32-pixel images (3x3 kernels on 2x2 and 1x1 maps).
     * Such a convolution is a fully connected layer over the input's pixels. (A 1x1 kernel on a 1x1 map, as in
     * squeeze-excitation, is one already, and oneDNN runs it as such.)
     */
    boolean seesWholeInput(Shape inputShape) {
        if (kernel.length != 2
                || kernel[0] * kernel[1] == 1
                || groups != 1
                || dilation[0] != 1
                || dilation[1] != 1
                || inputShape.dimension() != 4) {
            return false;
        }
        long h = inputShape.get(2);
        long w = inputShape.get(3);
        return padding[0] + h <= kernel[0]
                && padding[1] + w <= kernel[1]
                && (h + 2 * padding[0] - kernel[0]) / stride[0] == 0
                && (w + 2 * padding[1] - kernel[1]) / stride[1] == 0;
    }

    // The window's kernel taps over the input as one matrix product: exact (the taps outside it only
    // ever meet padding, and their gradient is zero, as in the convolution), and on this project's
    // machine it took resnet10t's 28-pixel training step (batch 128) from 195-212 ms to 168-176 ms,
    // because oneDNN's backward-weights kernel spends 12 ms a step on a 3x3, 512-channel conv of 1x1 maps.
    private NDArray asMatrixProduct(NDArray in) {
        Shape s = in.getShape();
        long n = s.get(0);
        long h = s.get(2);
        long w = s.get(3);
        NDArray taps = weight.getArray();
        if (h != kernel[0] || w != kernel[1]) {
            taps = taps.get(new NDIndex(":, :, {}:{}, {}:{}", padding[0], padding[0] + h, padding[1], padding[1] + w));
        }
        // flatten pixels and channels in the input's memory order, so that only the weight is copied
        NDArray rows;
        NDArray cols;
        if (channelsLast && h * w > 1) {
            rows = in.transpose(0, 2, 3, 1).reshape(n, -1);
            cols = taps.transpose(0, 2, 3, 1).reshape(outChannels, -1);
        } else {
            rows = in.reshape(n, -1);
            cols = taps.reshape(outChannels, -1);
        }
        NDArray y = rows.dot(cols.transpose());
        if (bias != null) {
            y = y.add(bias.getArray());
        }
        return y.reshape(n, outChannels, 1, 1);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.torchDefault(weight.getArray(), bias == null ? null : bias.getArray(), random);
    }

    /**
     * Folds a per-output-channel affine map {@code y * scale + shift} that follows this convolution into its weight and
     * bias (adding a bias if it had none), in place: {@code w' = w * scale}, {@code b' = b * scale + shift}, computed
     * in double precision.
     */
    public void foldAffine(double[] scale, double[] shift) {
        if (scale.length != outChannels || shift.length != outChannels) {
            throw new IllegalArgumentException("folding into " + extraRepr() + ": " + scale.length + " scales and "
                    + shift.length + " shifts, expected " + outChannels);
        }
        NDArray w = weight.getArray();
        float[] wv = w.toFloatArray();
        int per = wv.length / outChannels;
        for (int o = 0; o < outChannels; o++) {
            for (int i = o * per; i < (o + 1) * per; i++) {
                wv[i] = (float) (wv[i] * scale[o]);
            }
        }
        assign(w, wv);
        float[] b = bias == null ? new float[outChannels] : bias.getArray().toFloatArray();
        for (int o = 0; o < outChannels; o++) {
            b[o] = (float) (b[o] * scale[o] + shift[o]);
        }
        if (bias == null) {
            bias = addParameter("bias", getManager().create(b));
        } else {
            assign(bias.getArray(), b);
        }
    }

    /**
     * Stores the weight in channels-last order when this convolution runs channels-last, for a model that only
     * predicts. libtorch otherwise copies the weight into the input's order on every call: at batch 1 those copies are
     * most of the work (resnet18 at 224 px: 56 ms a forward with them, 32 ms without). Values, shape and state_dict are
     * unchanged; the new weight takes no gradient.
     */
    public void storeWeightChannelsLast() {
        NDArray w = weight.getArray();
        if (!channelsLast || w.getShape().dimension() != 4 || !MemoryFormat.isContiguous(w)) {
            return;
        }
        NDArray packed;
        try (NoGrad g = NoGrad.enter()) {
            packed = MemoryFormat.channelsLast(w);
        }
        weight = replaceParameter("weight", packed);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    public int groups() {
        return groups;
    }

    public long[] kernelSize() {
        return kernel.clone();
    }

    public long[] stride() {
        return stride.clone();
    }

    public long[] padding() {
        return padding.clone();
    }

    public long[] dilation() {
        return dilation.clone();
    }

    @Override
    protected String extraRepr() {
        StringBuilder sb = new StringBuilder(kernel.length == 1 ? "Conv1d(" : "Conv2d(");
        sb.append(inChannels).append(", ").append(outChannels);
        sb.append(", kernel_size=").append(shapeString(kernel));
        sb.append(", stride=").append(shapeString(stride));
        if (Arrays.stream(padding).anyMatch(p -> p != 0)) {
            sb.append(", padding=").append(shapeString(padding));
        }
        if (dilation[0] != 1) {
            sb.append(", dilation=").append(shapeString(dilation));
        }
        if (groups != 1) {
            sb.append(", groups=").append(groups);
        }
        if (bias == null) {
            sb.append(", bias=False");
        }
        return sb.append(')').toString();
    }
}
