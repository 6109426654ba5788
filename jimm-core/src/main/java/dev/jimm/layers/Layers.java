package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/** Small helpers shared by model definitions. */
public final class Layers {
    private Layers() {}

    /** timm's make_divisible: round to a multiple of divisor, never below roundLimit of v. */
    public static int makeDivisible(double v, int divisor, double roundLimit) {
        int newV = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
        if (newV < roundLimit * v) {
            newV += divisor;
        }
        return newV;
    }

    /** timm's make_divisible with its default round limit 0.9. */
    public static int makeDivisible(double v, int divisor) {
        return makeDivisible(v, divisor, 0.9);
    }

    /** Mean over the spatial axes (2, 3) of NCHW, kept as [N, C, 1, 1] or flattened to [N, C]. */
    public static NDArray spatialMean(NDArray x, boolean keepDims) {
        // libtorch's mean takes one axis through DJL; a sum over both axes divided is the same
        long hw = x.getShape().get(2) * x.getShape().get(3);
        return Scalars.div(x.sum(new int[] {2, 3}, keepDims), hw);
    }

    /** Symmetric padding of a convolution: ((stride - 1) + dilation (k - 1)) / 2. */
    public static int padding(int kernel, int stride, int dilation) {
        return ((stride - 1) + dilation * (kernel - 1)) / 2;
    }
}
