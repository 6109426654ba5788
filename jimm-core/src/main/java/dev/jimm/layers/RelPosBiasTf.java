package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code RelPosBiasTf}, the layout of the TensorFlow MaxViT checkpoints: a {@code relative_position_bias_table}
 * of [heads, 2H-1, 2W-1] where query q and key k read entry (kh - qh + H-1, kw - qw + W-1). timm reindexes it with
 * one-hot einsums; a gather of the same entries gives the same values and gradients.
 */
public class RelPosBiasTf extends RelativePositionBias {
    private final Parameter table;
    private final Buffer index;

    public RelPosBiasTf(int windowH, int windowW, int numHeads) {
        super(windowH, windowW, numHeads);
        table = parameter("relative_position_bias_table", numHeads, 2L * windowH - 1, 2L * windowW - 1);
        long n = (long) windowH * windowW;
        index = buffer("relative_position_index", DataType.INT64, false, n * n);
    }

    /** For query q and key k (row-major), the flat index of (kh - qh + H-1, kw - qw + W-1), row-major N x N. */
    public static long[] lookupIndex(int h, int w) {
        int n = h * w;
        long[] out = new long[n * n];
        for (int q = 0; q < n; q++) {
            for (int k = 0; k < n; k++) {
                out[q * n + k] = (long) (k / w - q / w + h - 1) * (2 * w - 1) + (k % w - q % w + w - 1);
            }
        }
        return out;
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.normal(table.getArray(), 0.02, random);
        fillLong(index.array(), lookupIndex(windowH, windowW));
    }

    @Override
    public NDArray getBias() {
        NDArray flat = table.getArray().reshape(numHeads, -1).transpose(1, 0);
        return gatherHeadsLast(flat, index.array());
    }

    @Override
    protected String extraRepr() {
        return "RelPosBiasTf(window=" + windowH + "x" + windowW + ", heads=" + numHeads + ")";
    }
}
