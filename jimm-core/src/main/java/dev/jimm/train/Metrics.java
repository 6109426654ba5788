package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;
import java.util.function.ToDoubleFunction;

/** The built-in metrics (see {@link Metric}'s factories) and the confusion matrix. */
public final class Metrics {
    private Metrics() {}

    /** Top-k accuracy (k = 1: accuracy). */
    static final class Accuracy implements Metric {
        private final int k;
        private long correct;
        private long total;

        Accuracy(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("top-k needs k >= 1, got " + k);
            }
            this.k = k;
        }

        @Override
        public String name() {
            return k == 1 ? "accuracy" : "top" + k;
        }

        @Override
        public void reset() {
            correct = 0;
            total = 0;
        }

        @Override
        public void accumulate(NDArray logits, NDArray targets) {
            long[] t = Metric.targetClasses(targets);
            int c = (int) logits.getShape().get(1);
            float[] v = logits.toType(DataType.FLOAT32, false).toFloatArray();
            for (int i = 0; i < t.length; i++) {
                float target = v[i * c + (int) t[i]];
                int higher = 0;
                for (int j = 0; j < c; j++) {
                    if (v[i * c + j] > target) {
                        higher++;
                    }
                }
                if (higher < k) {
                    correct++;
                }
            }
            total += t.length;
        }

        @Override
        public double value() {
            return total == 0 ? Double.NaN : (double) correct / total;
        }
    }

    /** A metric computed from what another metric accumulates: reset and accumulate are the other's. */
    private abstract static class Derived implements Metric {
        private final String name;
        private final boolean higherIsBetter;
        protected final Metric base;

        Derived(String name, boolean higherIsBetter, Metric base) {
            this.name = name;
            this.higherIsBetter = higherIsBetter;
            this.base = base;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public void reset() {
            base.reset();
        }

        @Override
        public void accumulate(NDArray logits, NDArray targets) {
            base.accumulate(logits, targets);
        }

        @Override
        public boolean higherIsBetter() {
            return higherIsBetter;
        }
    }

    /** 1 − accuracy. */
    static final class ErrorRate extends Derived {
        ErrorRate() {
            super("error_rate", false, new Accuracy(1));
        }

        @Override
        public double value() {
            return 1 - base.value();
        }
    }

    /** Macro precision, recall or F1 from a confusion matrix. */
    static final class Macro extends Derived {
        private final ToDoubleFunction<ConfusionMatrix> value;

        Macro(String name, int numClasses, ToDoubleFunction<ConfusionMatrix> value) {
            super(name + "_macro", true, new ConfusionMatrix(numClasses));
            this.value = value;
        }

        @Override
        public double value() {
            return value.applyAsDouble((ConfusionMatrix) base);
        }
    }

    /** Counts of (actual, predicted) class pairs. */
    public static final class ConfusionMatrix implements Metric {
        private final long[][] counts;

        public ConfusionMatrix(int numClasses) {
            counts = new long[numClasses][numClasses];
        }

        @Override
        public String name() {
            return "confusion";
        }

        @Override
        public void reset() {
            for (long[] row : counts) {
                Arrays.fill(row, 0);
            }
        }

        @Override
        public void accumulate(NDArray logits, NDArray targets) {
            long[] t = Metric.targetClasses(targets);
            long[] p = logits.argMax(1).toType(DataType.INT64, false).toLongArray();
            for (int i = 0; i < t.length; i++) {
                counts[(int) t[i]][(int) p[i]]++;
            }
        }

        /** Accuracy. */
        @Override
        public double value() {
            long diag = 0;
            long all = 0;
            for (int i = 0; i < counts.length; i++) {
                for (int j = 0; j < counts.length; j++) {
                    all += counts[i][j];
                    if (i == j) {
                        diag += counts[i][j];
                    }
                }
            }
            return all == 0 ? Double.NaN : (double) diag / all;
        }

        /** counts[actual][predicted], a copy. */
        public long[][] counts() {
            long[][] c = new long[counts.length][];
            for (int i = 0; i < c.length; i++) {
                c[i] = counts[i].clone();
            }
            return c;
        }

        private double precision(int c) {
            long col = 0;
            for (long[] row : counts) {
                col += row[c];
            }
            return col == 0 ? 0 : (double) counts[c][c] / col;
        }

        private double recall(int c) {
            long row = 0;
            for (long v : counts[c]) {
                row += v;
            }
            return row == 0 ? 0 : (double) counts[c][c] / row;
        }

        public double macroPrecision() {
            double s = 0;
            for (int c = 0; c < counts.length; c++) {
                s += precision(c);
            }
            return s / counts.length;
        }

        public double macroRecall() {
            double s = 0;
            for (int c = 0; c < counts.length; c++) {
                s += recall(c);
            }
            return s / counts.length;
        }

        /** Mean over classes of each class's F1 (sklearn's f1_score average='macro'). */
        public double macroF1() {
            double s = 0;
            for (int c = 0; c < counts.length; c++) {
                double p = precision(c);
                double r = recall(c);
                s += p + r == 0 ? 0 : 2 * p * r / (p + r);
            }
            return s / counts.length;
        }
    }
}
