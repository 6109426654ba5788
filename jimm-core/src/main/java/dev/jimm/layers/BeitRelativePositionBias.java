package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * BEiT's relative position bias (timm's {@code beit.BeitRelativePositionBias}): a learned table of {@code (2h - 1)(2w -
 * 1) + 3} rows by heads, read through a fixed index of every token pair of an {@code h x w} grid with a class token in
 * front (three extra rows: class to patch, patch to class, class to class). The forward gives the bias [heads, N, N], N
 * = h·w + 1, added to the attention logits. The static helpers serve attentions that hold the table themselves (BEiT's
 * per-block bias).
 */
public class BeitRelativePositionBias extends Module {
    private final int windowH;
    private final int windowW;
    private final int numHeads;
    private final Parameter table;
    private final Buffer index;

    public BeitRelativePositionBias(int windowH, int windowW, int numHeads) {
        this.windowH = windowH;
        this.windowW = windowW;
        this.numHeads = numHeads;
        table = parameter("relative_position_bias_table", numRelativeDistance(windowH, windowW), numHeads);
        int n = windowH * windowW + 1;
        index = buffer("relative_position_index", DataType.INT64, false, n, n);
    }

    /** Rows of the table: {@code (2h - 1)(2w - 1) + 3}. */
    public static int numRelativeDistance(int h, int w) {
        return (2 * h - 1) * (2 * w - 1) + 3;
    }

    /**
     * timm's {@code gen_relative_position_index}: row-major (h·w + 1)² table rows; patch pairs by their offset, the
     * class token's row and column and its self pair at the last three rows.
     */
    public static long[] index(int h, int w) {
        int area = h * w;
        int n = area + 1;
        long num = numRelativeDistance(h, w);
        long[] out = new long[n * n];
        for (int i = 0; i < area; i++) {
            for (int j = 0; j < area; j++) {
                long dh = i / w - j / w + h - 1;
                long dw = i % w - j % w + w - 1;
                out[(i + 1) * n + j + 1] = dh * (2L * w - 1) + dw;
            }
        }
        for (int j = 0; j < n; j++) {
            out[j] = num - 3;
        }
        for (int i = 0; i < n; i++) {
            out[i * n] = num - 2;
        }
        out[0] = num - 1;
        return out;
    }

    /** Fills an index buffer with {@link #index}. */
    public static void fillIndex(NDArray dst, int h, int w) {
        try (NDArray tmp = dst.getManager().create(index(h, w), dst.getShape())) {
            copyInto(dst, tmp);
        }
    }

    /** table[index] as [heads, N, N] from a [rows, heads] table and an N x N index. */
    public static NDArray gather(NDArray table, NDArray index) {
        long n = index.getShape().get(0);
        NDArray rows = table.get(new NDIndex("{}", index.reshape(-1)));
        return rows.reshape(n, n, -1).transpose(2, 0, 1);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(table.getArray(), 0f);
        fillIndex(index.array(), windowH, windowW);
    }

    /** The bias [heads, N, N]; the input is not used. */
    @Override
    protected NDArray forwardImpl(NDArray x) {
        return bias();
    }

    /** The bias [heads, N, N]. */
    public NDArray bias() {
        return gather(table.getArray(), index.array());
    }

    public Parameter table() {
        return table;
    }

    @Override
    protected String extraRepr() {
        return "BeitRelativePositionBias(window=" + windowH + "x" + windowW + ", num_heads=" + numHeads + ")";
    }
}
