package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * A learned relative position bias of window attention (timm's {@code pos_embed_rel.py}): {@link #getBias()} gives the
 * [1, heads, N, N] term added to the attention logits of an N-token window; as a module it adds it to its input.
 */
public abstract class RelativePositionBias extends Module {
    /** Window height and width. */
    protected final int windowH;

    protected final int windowW;
    protected final int numHeads;

    protected RelativePositionBias(int windowH, int windowW, int numHeads) {
        if (windowH < 1 || windowW < 1 || numHeads < 1) {
            throw new IllegalArgumentException(
                    "window " + windowH + "x" + windowW + " and numHeads " + numHeads + " must be positive");
        }
        this.windowH = windowH;
        this.windowW = windowW;
        this.numHeads = numHeads;
    }

    /** The bias of every query-key pair: [1, heads, N, N], N = windowH * windowW. */
    public abstract NDArray getBias();

    /** {@code attn + getBias()}. */
    @Override
    protected NDArray forwardImpl(NDArray attn) {
        return attn.add(getBias());
    }

    public int windowH() {
        return windowH;
    }

    public int windowW() {
        return windowW;
    }

    /** Tokens per window. */
    public int windowArea() {
        return windowH * windowW;
    }

    /**
     * timm's gen_relative_position_index: for query q and key k (row-major in the window), the index of (qh - kh, qw -
     * kw) in a (2H-1) x (2W-1) table, row-major N x N.
     */
    public static long[] relativePositionIndex(int h, int w) {
        int n = h * w;
        long[] out = new long[n * n];
        for (int q = 0; q < n; q++) {
            for (int k = 0; k < n; k++) {
                out[q * n + k] = (long) (q / w - k / w + h - 1) * (2 * w - 1) + (q % w - k % w + w - 1);
            }
        }
        return out;
    }

    /** Rows of a [positions, heads] table picked by a flat N*N index, as [1, heads, N, N]. */
    protected NDArray gatherHeadsLast(NDArray table, NDArray index) {
        int n = windowArea();
        NDArray rows = table.get(new NDIndex("{}", index));
        return rows.reshape(n, n, numHeads).transpose(2, 0, 1).expandDims(0);
    }

    /** Writes long values into a buffer's array in place. */
    protected static void fillLong(NDArray dst, long[] values) {
        try (NDArray tmp = dst.getManager().create(values, dst.getShape())) {
            Module.copyInto(dst, tmp);
        }
    }
}
