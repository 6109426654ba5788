package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code RelPosBias} (Swin-V1 style): a {@code relative_position_bias_table} of [(2H-1)(2W-1), heads] indexed by
 * each query-key offset (the index is rebuilt, not saved).
 */
public class RelPosBias extends RelativePositionBias {
    private final Parameter table;
    private final Buffer index;

    public RelPosBias(int windowH, int windowW, int numHeads) {
        super(windowH, windowW, numHeads);
        table = parameter("relative_position_bias_table", (2L * windowH - 1) * (2L * windowW - 1), numHeads);
        long n = (long) windowH * windowW;
        index = buffer("relative_position_index", DataType.INT64, false, n * n);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        // trunc_normal_(std=.02) cuts at +-2 absolute, never reached at this std
        Init.normal(table.getArray(), 0.02, random);
        fillLong(index.array(), relativePositionIndex(windowH, windowW));
    }

    @Override
    public NDArray getBias() {
        return gatherHeadsLast(table.getArray(), index.array());
    }

    @Override
    protected String extraRepr() {
        return "RelPosBias(window=" + windowH + "x" + windowW + ", heads=" + numHeads + ")";
    }
}
