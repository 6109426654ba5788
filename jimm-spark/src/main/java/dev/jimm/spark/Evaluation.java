package dev.jimm.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A model's scores on a labelled set, counted by Spark: the confusion matrix (rows: true class, columns: predicted
 * class, in the model's class order), top-k hits, and the rows that could not be scored (unreadable images, labels that
 * are not classes of the model). Accuracy is over the scored rows.
 *
 * @param classes the model's classes, in output order
 * @param confusion {@code confusion[t][p]}: rows of true class {@code t} predicted as {@code p}
 * @param topK the k of {@link #topKAccuracy()}
 * @param topKHits scored rows whose true class is among their top k
 * @param errors rows with an error (not scored)
 */
public record Evaluation(List<String> classes, long[][] confusion, int topK, long topKHits, long errors) {
    public Evaluation {
        classes = List.copyOf(classes);
        if (confusion.length != classes.size()) {
            throw new IllegalArgumentException(
                    "a confusion matrix of " + confusion.length + " rows for " + classes.size() + " classes");
        }
    }

    /** Rows scored (the sum of the confusion matrix). */
    public long scored() {
        long n = 0;
        for (long[] row : confusion) {
            for (long v : row) {
                n += v;
            }
        }
        return n;
    }

    /** Rows whose top class is their true class. */
    public long correct() {
        long n = 0;
        for (int i = 0; i < confusion.length; i++) {
            n += confusion[i][i];
        }
        return n;
    }

    /** Top-1 accuracy over the scored rows (NaN when none was). */
    public double accuracy() {
        return (double) correct() / scored();
    }

    /** Top-k accuracy over the scored rows. */
    public double topKAccuracy() {
        return (double) topKHits / scored();
    }

    /** Scored rows of class {@code c}. */
    public long support(int c) {
        long n = 0;
        for (long v : confusion[c]) {
            n += v;
        }
        return n;
    }

    /** Recall of class {@code c}: its rows predicted as it (NaN without rows). */
    public double recall(int c) {
        return (double) confusion[c][c] / support(c);
    }

    /** Precision of class {@code c}: the rows predicted as it that are it (NaN when never predicted). */
    public double precision(int c) {
        long predicted = 0;
        for (long[] row : confusion) {
            predicted += row[c];
        }
        return (double) confusion[c][c] / predicted;
    }

    /**
     * The figures as a JSON-ready map: totals, then one entry per class, then the matrix; a figure with nothing to
     * count (the precision of a class never predicted) is null.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rows", scored() + errors);
        m.put("scored", scored());
        m.put("errors", errors);
        m.put("accuracy", finiteOrNull(accuracy()));
        m.put("top" + topK + "_accuracy", finiteOrNull(topKAccuracy()));
        List<Map<String, Object>> perClass = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("class", classes.get(c));
            row.put("support", support(c));
            row.put("recall", finiteOrNull(recall(c)));
            row.put("precision", finiteOrNull(precision(c)));
            perClass.add(row);
        }
        m.put("classes", perClass);
        m.put("confusion", confusion);
        return m;
    }

    /** JSON has no NaN: a figure with nothing to count (a class never predicted) is null. */
    private static Double finiteOrNull(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** A few lines for a terminal: the totals and a per-class table. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "accuracy %.4f  top%d %.4f  (%d scored, %d errors)%n",
                accuracy(),
                topK,
                topKAccuracy(),
                scored(),
                errors));
        sb.append(String.format(Locale.ROOT, "%-16s %8s %8s %9s%n", "class", "support", "recall", "precision"));
        for (int c = 0; c < classes.size(); c++) {
            sb.append(String.format(
                    Locale.ROOT, "%-16s %8d %8.4f %9.4f%n", classes.get(c), support(c), recall(c), precision(c)));
        }
        return sb.toString();
    }
}
