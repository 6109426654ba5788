package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * timm's {@code BlurPool2d}: reflect padding, then a depthwise binomial blur with stride, for anti-aliased
 * downsampling. Its filter is a non-persistent buffer, as in timm.
 */
public class BlurPool2d extends Module {
    private final int channels;
    private final int stride;
    private final int filtSize;
    private final int pad;
    private final Buffer filt;

    public BlurPool2d(int channels, int stride) {
        this(channels, stride, 3);
    }

    public BlurPool2d(int channels, int stride, int filtSize) {
        this.channels = channels;
        this.stride = stride;
        this.filtSize = filtSize;
        this.pad = Layers.padding(filtSize, stride, 1);
        this.filt = buffer("filt", DataType.FLOAT32, false, channels, 1, filtSize, filtSize);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        double[] coeffs = new double[filtSize];
        double norm = Math.pow(2, filtSize - 1);
        for (int k = 0; k < filtSize; k++) {
            coeffs[k] = binomial(filtSize - 1, k) / norm;
        }
        float[] v = new float[channels * filtSize * filtSize];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < filtSize; i++) {
                for (int j = 0; j < filtSize; j++) {
                    v[(c * filtSize + i) * filtSize + j] = (float) (coeffs[i] * coeffs[j]);
                }
            }
        }
        Module.assign(filt.array(), v);
    }

    private static double binomial(int n, int k) {
        double r = 1;
        for (int i = 1; i <= k; i++) {
            r = r * (n - k + i) / i;
        }
        return r;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray padded = reflectPad(reflectPad(x, 3), 2);
        return padded.getNDArrayInternal()
                .convolution(
                        padded,
                        filt.array(),
                        null,
                        new Shape(stride, stride),
                        new Shape(0, 0),
                        new Shape(1, 1),
                        channels)
                .singletonOrThrow();
    }

    private NDArray reflectPad(NDArray x, int axis) {
        if (pad == 0) {
            return x;
        }
        long n = x.getShape().get(axis);
        String prefix = ":, ".repeat(axis);
        NDArray left = x.get(prefix + "1:" + (pad + 1)).flip(axis);
        NDArray right = x.get(prefix + (n - pad - 1) + ":" + (n - 1)).flip(axis);
        return NDArrays.concat(new NDList(left, x, right), axis);
    }

    @Override
    protected String extraRepr() {
        return "BlurPool2d(channels=" + channels + ", stride=" + stride + ")";
    }
}
