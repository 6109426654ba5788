package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/** Max or average pooling with PyTorch's arguments ({@code nn.MaxPool2d}, {@code nn.AvgPool2d}). */
public class Pool2d extends Module {
    private final boolean max;
    private final int kernel;
    private final int stride;
    private final int padding;
    private final boolean ceilMode;
    private final boolean countIncludePad;

    private Pool2d(boolean max, int kernel, int stride, int padding, boolean ceilMode, boolean countIncludePad) {
        this.max = max;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
    }

    public static Pool2d max(int kernel, int stride, int padding) {
        return new Pool2d(true, kernel, stride, padding, false, true);
    }

    public static Pool2d max(int kernel, int stride, int padding, boolean ceilMode) {
        return new Pool2d(true, kernel, stride, padding, ceilMode, true);
    }

    public static Pool2d avg(int kernel, int stride, int padding, boolean ceilMode, boolean countIncludePad) {
        return new Pool2d(false, kernel, stride, padding, ceilMode, countIncludePad);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        Shape k = new Shape(kernel, kernel);
        Shape s = new Shape(stride, stride);
        Shape p = new Shape(padding, padding);
        if (max) {
            return x.getNDArrayInternal().maxPool(k, s, p, ceilMode);
        }
        NDArray avg = x.getNDArrayInternal().avgPool(k, s, p, ceilMode, true);
        if (countIncludePad || padding == 0) {
            // without padding both countings divide by the same window (ceil-mode overhang is clipped either way)
            return avg;
        }
        // DJL's PyTorch engine (0.35) pools as count_include_pad=True whatever the flag says; dividing by the pooled
        // ones (the share of each window inside the input, over the same divisor) leaves the padding out of the count
        try (NDArray ones = x.getManager()
                        .ones(new Shape(1, 1, x.getShape().get(2), x.getShape().get(3)), x.getDataType());
                NDArray share = ones.getNDArrayInternal().avgPool(k, s, p, ceilMode, true)) {
            return avg.div(share);
        }
    }

    @Override
    protected String extraRepr() {
        return (max ? "MaxPool2d" : "AvgPool2d")
                + "(kernel_size="
                + kernel
                + ", stride="
                + stride
                + ", padding="
                + padding
                + (ceilMode ? ", ceil_mode=True" : "")
                + ")";
    }
}
