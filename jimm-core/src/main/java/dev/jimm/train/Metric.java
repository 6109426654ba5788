package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * A validation metric accumulated over batches (fastai's AccumMetric): reset, accumulate each batch's predictions and
 * targets, then read the value.
 */
public interface Metric {
    String name();

    void reset();

    void accumulate(NDArray logits, NDArray targets);

    double value();

    /** Whether a larger value is better (for early stopping and best-model saving). */
    default boolean higherIsBetter() {
        return true;
    }

    /** Class indices from targets that may be one-hot or soft. */
    static long[] targetClasses(NDArray targets) {
        NDArray t = targets.getShape().dimension() == 2 ? targets.argMax(1) : targets;
        return t.toType(DataType.INT64, false).toLongArray();
    }

    static Metric accuracy() {
        return new Metrics.Accuracy(1);
    }

    static Metric topK(int k) {
        return new Metrics.Accuracy(k);
    }

    static Metric errorRate() {
        return new Metrics.ErrorRate();
    }

    /** Macro-averaged precision, recall or F1 over {@code numClasses} classes. */
    static Metric precision(int numClasses) {
        return new Metrics.Macro("precision", numClasses, Metrics.ConfusionMatrix::macroPrecision);
    }

    static Metric recall(int numClasses) {
        return new Metrics.Macro("recall", numClasses, Metrics.ConfusionMatrix::macroRecall);
    }

    static Metric f1(int numClasses) {
        return new Metrics.Macro("f1", numClasses, Metrics.ConfusionMatrix::macroF1);
    }
}
