package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.SplittableRandom;

/**
 * timm's {@code RelPosMlp} in its default 'cr' mode: a small MLP ({@code mlp.fc1}, ReLU, dropout 0.125,
 * {@code mlp.fc2}) maps the log-spaced offsets sign(d) log(1 + |d|) of a (2H-1) x (2W-1) grid to one bias per head,
 * gathered per query-key pair. Both the offsets and the index are rebuilt, not saved.
 */
public class RelPosMlp extends RelativePositionBias {
    private static final float HIDDEN_DROP = 0.125f;

    private final Module mlp;
    private final Linear fc1;
    private final Linear fc2;
    private final Buffer index;
    private final Buffer coords;

    public RelPosMlp(int windowH, int windowW, int numHeads, int hiddenDim) {
        super(windowH, windowW, numHeads);
        mlp = register("mlp", new NamedSequential());
        fc1 = new Linear(2, hiddenDim);
        fc2 = new Linear(hiddenDim, numHeads);
        ((NamedSequential) mlp).add("fc1", fc1).add("fc2", fc2);
        long n = (long) windowH * windowW;
        index = buffer("relative_position_index", DataType.INT64, false, n * n);
        coords = buffer("rel_coords_log", DataType.FLOAT32, false, 2L * windowH - 1, 2L * windowW - 1, 2);
    }

    /** timm's gen_relative_log_coords(mode='cr'): [2H-1, 2W-1, 2] of sign(d) log(1 + |d|) for (dh, dw). */
    public static float[] logCoords(int h, int w) {
        int rows = 2 * h - 1;
        int cols = 2 * w - 1;
        float[] out = new float[rows * cols * 2];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double dh = i - (h - 1);
                double dw = j - (w - 1);
                out[(i * cols + j) * 2] = (float) (Math.signum(dh) * Math.log1p(Math.abs(dh)));
                out[(i * cols + j) * 2 + 1] = (float) (Math.signum(dw) * Math.log1p(Math.abs(dw)));
            }
        }
        return out;
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        fillLong(index.array(), relativePositionIndex(windowH, windowW));
        Module.assign(coords.array(), logCoords(windowH, windowW));
    }

    @Override
    public NDArray getBias() {
        NDArray h = Activation.apply(Activation.Kind.RELU, fc1.forward(coords.array()));
        h = Dropout.apply(h, HIDDEN_DROP, isTraining());
        NDArray table = fc2.forward(h).reshape(-1, numHeads);
        return gatherHeadsLast(table, index.array());
    }

    @Override
    protected String extraRepr() {
        return "RelPosMlp(window=" + windowH + "x" + windowW + ", heads=" + numHeads + ")";
    }
}
