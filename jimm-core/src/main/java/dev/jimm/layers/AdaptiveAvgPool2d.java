package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * PyTorch's {@code nn.AdaptiveAvgPool2d}: NCHW maps averaged to a fixed output size, output cell {@code i} covering
 * input rows {@code [floor(i H / oh), ceil((i + 1) H / oh))} (and the same for columns), so that it also enlarges an
 * input smaller than the output by repeating cells.
 */
public class AdaptiveAvgPool2d extends Module {
    private final int outH;
    private final int outW;

    public AdaptiveAvgPool2d(int outH, int outW) {
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException(
                    "AdaptiveAvgPool2d output size " + outH + "x" + outW + " must be positive");
        }
        this.outH = outH;
        this.outW = outW;
    }

    /** A square output size. */
    public AdaptiveAvgPool2d(int size) {
        this(size, size);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return apply(x, outH, outW);
    }

    /** Functional form (PyTorch's {@code F.adaptive_avg_pool2d}). */
    public static NDArray apply(NDArray x, int outH, int outW) {
        Shape s = x.getShape();
        if (s.dimension() != 4) {
            throw new IllegalArgumentException("adaptive_avg_pool2d expects NCHW input, got shape " + s);
        }
        int h = Math.toIntExact(s.get(2));
        int w = Math.toIntExact(s.get(3));
        if (h == outH && w == outW) {
            return x;
        }
        if (outH == 1 && outW == 1) {
            return Layers.spatialMean(x, true); // keeps a channels-last gradient (GlobalPool)
        }
        if (h % outH == 0 && w % outW == 0) {
            // equal bins: a plain average pool is the same cells
            Shape k = new Shape(h / outH, w / outW);
            return x.getNDArrayInternal().avgPool(k, k, new Shape(0, 0), false, true);
        }
        // a mean over a rectangle of rows x columns is a mean over rows of means over columns, so
        // the pooling is two small matrix products: rowsMatrix @ x @ colsMatrix^T
        NDManager m = x.getManager();
        NDArray rows = binMatrix(m, outH, h, x.getDataType());
        NDArray cols = binMatrix(m, outW, w, x.getDataType()).transpose();
        return rows.matMul(x.matMul(cols));
    }

    /** [out, in]: row i holds 1/len over input cells of bin i, 0 elsewhere. */
    private static NDArray binMatrix(NDManager m, int out, int in, DataType dataType) {
        float[] v = new float[out * in];
        for (int i = 0; i < out; i++) {
            int start = Math.floorDiv(i * in, out);
            int end = -Math.floorDiv(-(i + 1) * in, out);
            float inv = 1f / (end - start);
            for (int j = start; j < end; j++) {
                v[i * in + j] = inv;
            }
        }
        NDArray a = OwnedArrays.of(m, v, new Shape(out, in));
        return dataType == DataType.FLOAT32 ? a : a.toType(dataType, false);
    }

    public int outH() {
        return outH;
    }

    public int outW() {
        return outW;
    }

    @Override
    protected String extraRepr() {
        return "AdaptiveAvgPool2d(output_size=(" + outH + ", " + outW + "))";
    }
}
