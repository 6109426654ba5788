package dev.jimm.train;

import java.util.function.DoubleUnaryOperator;

/**
 * Hyper-parameter schedules of a position in [0, 1] through training, with fastai's formulas
 * ({@code callback/schedule.py}): linear, cosine, exponential, constant, and their combination.
 */
public final class Schedules {
    private Schedules() {}

    /** start + pos (end − start). */
    public static DoubleUnaryOperator lin(double start, double end) {
        return pos -> start + pos * (end - start);
    }

    /** start + (1 + cos(π (1 − pos))) (end − start) / 2. */
    public static DoubleUnaryOperator cos(double start, double end) {
        return pos -> start + (1 + Math.cos(Math.PI * (1 - pos))) * (end - start) / 2;
    }

    /** start (end / start)^pos. */
    public static DoubleUnaryOperator exp(double start, double end) {
        return pos -> start * Math.pow(end / start, pos);
    }

    /** A constant. */
    public static DoubleUnaryOperator constant(double value) {
        return pos -> value;
    }

    /**
     * Runs each schedule over its share of the training, each seeing its own position in [0, 1] (fastai's
     * combine_scheds).
     */
    public static DoubleUnaryOperator combine(double[] pcts, DoubleUnaryOperator[] scheds) {
        if (pcts.length != scheds.length) {
            throw new IllegalArgumentException(pcts.length + " fractions for " + scheds.length + " schedules");
        }
        double[] cum = new double[pcts.length + 1];
        for (int i = 0; i < pcts.length; i++) {
            cum[i + 1] = cum[i] + pcts[i];
        }
        int limit = pcts.length - 1;
        return pos -> {
            int idx = 0;
            for (int i = 0; i < cum.length; i++) {
                if (pos >= cum[i]) {
                    idx = i;
                }
            }
            idx = Math.min(idx, limit);
            double actual = (pos - cum[idx]) / (cum[idx + 1] - cum[idx]);
            return scheds[idx].applyAsDouble(actual);
        };
    }

    /** Cosine from start to middle over {@code pct} of training, then cosine from middle to end. */
    public static DoubleUnaryOperator combinedCos(double pct, double start, double middle, double end) {
        return combine(new double[] {pct, 1 - pct}, new DoubleUnaryOperator[] {cos(start, middle), cos(middle, end)});
    }

    /**
     * fastai's one-cycle learning rate for a peak {@code lrMax}: warm up from lrMax/div over pctStart, anneal to
     * lrMax/divFinal.
     */
    public static DoubleUnaryOperator oneCycleLr(double lrMax, double div, double divFinal, double pctStart) {
        return combinedCos(pctStart, lrMax / div, lrMax, lrMax / divFinal);
    }

    /** fastai's one-cycle momentum: down from moms[0] to moms[1] while the lr rises, back to moms[2]. */
    public static DoubleUnaryOperator oneCycleMom(double pctStart, double[] moms) {
        return combinedCos(pctStart, moms[0], moms[1], moms[2]);
    }
}
