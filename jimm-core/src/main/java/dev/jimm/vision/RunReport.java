package dev.jimm.vision;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jimm.AtomicFiles;
import dev.jimm.data.Batch;
import dev.jimm.data.BatchGrid;
import dev.jimm.data.BatchSource;
import dev.jimm.train.Charts;
import dev.jimm.train.Learner;
import dev.jimm.train.LrFinder;
import dev.jimm.train.Recorder;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The pictures and the {@code index.html} page of a training run: loss and metric curves, the lr_find curve with its
 * suggestions, the confusion matrix, the top losses and a batch of training inputs as the model saw them, with the
 * final metrics and the command that repeats the run.
 */
public final class RunReport {
    /** The file names a report writes into the run folder. */
    public static final List<String> PICTURES = List.of(
            "loss.png", "metrics.png", "lr_find.png", "confusion_matrix.png", "top_losses.png", "show_batch.png");

    private RunReport() {}

    /**
     * Writes every picture and the page. {@code lrFind} may be null (a fixed learning rate was given): the page then
     * says so instead of showing the curve. {@code dataDescription}, the data pipeline, is shown under the command
     * (empty: nothing).
     */
    public static void write(
            Path runDir,
            Learner learner,
            Preprocessing pre,
            LrFinder.Result lrFind,
            double lrUsed,
            Interpretation interp,
            Map<String, Double> finalMetrics,
            String command,
            String title,
            String dataDescription) {
        Recorder rec = learner.recorder();
        writeLossChart(rec, learner.dls().train().numBatches(), runDir.resolve("loss.png"));
        writeMetricsChart(rec, runDir.resolve("metrics.png"));
        if (lrFind != null) {
            writeLrFind(lrFind, runDir.resolve("lr_find.png"));
        }
        interp.writeConfusionMatrix(runDir.resolve("confusion_matrix.png"));
        interp.writeTopLosses(runDir.resolve("top_losses.png"), pre, 4);
        writeShowBatch(learner, pre, runDir.resolve("show_batch.png"), 16);
        AtomicFiles.writeString(
                runDir.resolve("index.html"),
                html(title, rec, lrFind, lrUsed, interp, finalMetrics, command, dataDescription));
    }

    /** Training loss per batch (raw, faint, and smoothed) and validation loss at each epoch's end. */
    public static void writeLossChart(Recorder rec, int batchesPerEpoch, Path png) {
        List<Double> raw = rec.losses();
        double[] it = new double[raw.size()];
        double[] l = new double[raw.size()];
        double[] s = new double[raw.size()];
        for (int i = 0; i < it.length; i++) {
            it[i] = i + 1;
            l[i] = raw.get(i);
            s[i] = rec.smoothLosses().get(i);
        }
        List<Recorder.EpochRow> rows = rec.epochs();
        double[] ex = new double[rows.size()];
        double[] ev = new double[rows.size()];
        double[] et = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            ex[i] = Math.min(raw.size(), (long) (i + 1) * batchesPerEpoch);
            ev[i] = rows.get(i).validLoss();
            et[i] = rows.get(i).trainLoss();
        }
        Charts.line("Loss")
                .xLabel("batch")
                .yLabel("loss")
                .series("train (smoothed)", it, s, false)
                .series("valid", ex, ev, true)
                .series("train (epoch mean)", ex, et, true)
                .yRange(0, upper(s, ev))
                .writePng(png);
    }

    private static double upper(double[] a, double[] b) {
        double m = 0;
        for (double[] arr : List.of(a, b)) {
            for (double v : arr) {
                if (Double.isFinite(v)) {
                    m = Math.max(m, v);
                }
            }
        }
        return m == 0 ? 1 : m * 1.05;
    }

    /** Each metric per epoch; metrics in [0, 1] share an axis fixed to [0, 1]. */
    public static void writeMetricsChart(Recorder rec, Path png) {
        List<Recorder.EpochRow> rows = rec.epochs();
        Map<String, double[]> series = new LinkedHashMap<>();
        double[] ex = new double[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            ex[i] = i + 1;
            for (Map.Entry<String, Double> e : rows.get(i).metrics().entrySet()) {
                series.computeIfAbsent(e.getKey(), k -> new double[rows.size()])[i] = e.getValue();
            }
        }
        Charts.LineChart c = Charts.line("Validation metrics")
                .xLabel("epoch")
                .yLabel("value")
                .yRange(0, 1)
                .integerX();
        series.forEach((name, ys) -> c.series(name, ex, ys, true));
        c.writePng(png);
    }

    /** fastai's lr_find plot: smoothed loss against a log learning rate, with valley and steep marked. */
    public static void writeLrFind(LrFinder.Result r, Path png) {
        double[] x = r.lrs().stream().mapToDouble(Double::doubleValue).toArray();
        double[] y = r.losses().stream().mapToDouble(Double::doubleValue).toArray();
        double lo = Double.POSITIVE_INFINITY;
        for (double v : y) {
            if (Double.isFinite(v)) {
                lo = Math.min(lo, v);
            }
        }
        // fastai cuts the plot where the loss has blown up, so the useful part is readable
        double first = y.length > 0 && Double.isFinite(y[0]) ? y[0] : lo;
        double hi = Math.max(first, lo) + (Math.max(first, lo) - lo) * 0.6 + 1e-3;
        Charts.LineChart c = Charts.line("Learning rate finder")
                .xLabel("learning rate (log scale)")
                .yLabel("smoothed loss")
                .logX()
                .yRange(lo - (hi - lo) * 0.05, hi)
                .series("", x, y, false);
        c.marker(String.format(Locale.ROOT, "valley %.2e", r.valley()), r.valley(), lossAt(r, r.valley()));
        c.marker(String.format(Locale.ROOT, "steep %.2e", r.steep()), r.steep(), lossAt(r, r.steep()));
        c.marker(String.format(Locale.ROOT, "minimum/10 %.2e", r.minimum()), r.minimum(), lossAt(r, r.minimum()));
        c.writePng(png);
    }

    private static double lossAt(LrFinder.Result r, double lr) {
        int best = 0;
        for (int i = 0; i < r.lrs().size(); i++) {
            if (Math.abs(Math.log(r.lrs().get(i) / lr))
                    < Math.abs(Math.log(r.lrs().get(best) / lr))) {
                best = i;
            }
        }
        return r.losses().isEmpty() ? Double.NaN : r.losses().get(best);
    }

    /** A grid of the first training batch of epoch 0, augmented, as the model receives it. */
    public static void writeShowBatch(Learner learner, Preprocessing pre, Path png, int max) {
        try (NDManager m = NDManager.newBaseManager()) {
            Iterator<Batch> it = learner.dls().train().batches(0, m);
            try {
                if (!it.hasNext()) {
                    throw new IllegalStateException("the training set has no batch to show");
                }
                try (Batch b = it.next()) {
                    long[] s = b.x().getShape().getShape();
                    int n = (int) Math.min(max, s[0]);
                    float[] all = b.x().toFloatArray();
                    int plane = (int) (s[1] * s[2] * s[3]);
                    float[] data = new float[n * plane];
                    System.arraycopy(all, 0, data, 0, data.length);
                    long[] labels = b.y().toType(DataType.INT64, false).toLongArray();
                    List<String> captions = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        captions.add(learner.dls().classes().get((int) labels[i]));
                    }
                    BatchGrid.writePng(
                            BatchGrid.render(
                                    data,
                                    n,
                                    (int) s[1],
                                    (int) s[2],
                                    (int) s[3],
                                    captions,
                                    pre.meanArray(),
                                    pre.stdArray(),
                                    8),
                            png);
                }
            } finally {
                BatchSource.close(it);
            }
        }
    }

    static String html(
            String title,
            Recorder rec,
            LrFinder.Result lrFind,
            double lrUsed,
            Interpretation interp,
            Map<String, Double> metrics,
            String command,
            String dataDescription) {
        StringBuilder sb = new StringBuilder();
        sb.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
                .append(esc(title))
                .append("</title>\n<style>\n")
                .append(
                        "body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:2em auto;max-width:1100px;color:#222;padding:0 1em}\n")
                .append(
                        "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd;padding-bottom:.2em}\n")
                .append(
                        "table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{padding:.25em .8em;border-bottom:1px solid #eee;text-align:right}\n")
                .append(
                        "th:first-child,td:first-child{text-align:left}code,pre{background:#f5f5f5;padding:.2em .4em;border-radius:4px}\n")
                .append(
                        "pre{padding:.8em;overflow-x:auto}figure{margin:1em 0}img{width:100%;max-width:640px;border:1px solid #eee}\n")
                .append(".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:1em}\n")
                .append(
                        ".big{font-size:1.3em}.warn{background:#fee;border:1px solid #c33;padding:.5em}\n</style></head><body>\n");
        sb.append("<h1>").append(esc(title)).append("</h1>\n");
        sb.append("<p class=\"big\">");
        List<String> parts = new ArrayList<>();
        metrics.forEach((k, v) -> parts.add(esc(k) + " <b>" + fmt(v) + "</b>"));
        sb.append(String.join(" &middot; ", parts)).append("</p>\n");
        sb.append("<p>Repeat this run:</p>\n<pre>").append(esc(command)).append("</pre>\n");
        if (!dataDescription.isEmpty()) {
            sb.append("<p>The data pipeline, chosen by the data's regime unless the command chose:</p>\n<pre>")
                    .append(esc(dataDescription))
                    .append("</pre>\n");
        }

        sb.append("<h2>Epochs</h2>\n<table><tr><th>epoch</th><th>train_loss</th><th>valid_loss</th>");
        List<Recorder.EpochRow> rows = rec.epochs();
        if (!rows.isEmpty()) {
            rows.get(0)
                    .metrics()
                    .keySet()
                    .forEach(k -> sb.append("<th>").append(esc(k)).append("</th>"));
        }
        sb.append("<th>time</th></tr>\n");
        for (int i = 0; i < rows.size(); i++) {
            Recorder.EpochRow r = rows.get(i);
            sb.append("<tr><td>")
                    .append(i)
                    .append("</td><td>")
                    .append(fmt(r.shownTrainLoss()))
                    .append("</td><td>")
                    .append(fmt(r.validLoss()))
                    .append("</td>");
            r.metrics().values().forEach(v -> sb.append("<td>").append(fmt(v)).append("</td>"));
            sb.append("<td>")
                    .append(String.format(Locale.ROOT, "%.1f s", r.seconds()))
                    .append("</td></tr>\n");
        }
        sb.append("</table>\n");

        sb.append("<h2>Training curves</h2>\n<div class=\"grid\">\n")
                .append(figure("loss.png", "Training loss per batch and validation loss per epoch"))
                .append(figure("metrics.png", "Validation metrics per epoch"))
                .append("</div>\n");
        sb.append("<h2>Learning rate</h2>\n");
        if (lrFind != null) {
            sb.append(String.format(
                    Locale.ROOT,
                    "<p>lr_find suggested valley %.2e, steep %.2e and minimum/10 %.2e; training used %.2e.</p>%n",
                    lrFind.valley(),
                    lrFind.steep(),
                    lrFind.minimum(),
                    lrUsed));
            sb.append(figure("lr_find.png", "Smoothed loss against the learning rate (log scale)"));
        } else {
            sb.append(String.format(
                    Locale.ROOT,
                    "<p>A fixed learning rate of %.2e was given, so lr_find did not run "
                            + "(pass <code>--lr auto</code> to run it).</p>%n",
                    lrUsed));
        }
        sb.append("<h2>Errors</h2>\n<div class=\"grid\">\n")
                .append(figure("confusion_matrix.png", "Confusion matrix of the validation set"))
                .append(figure(
                        "top_losses.png", "Top losses: predicted / actual, loss / probability of the prediction"))
                .append("</div>\n");
        List<String> confused = interp.mostConfused(5);
        if (!confused.isEmpty()) {
            sb.append("<p>Most confused (actual → predicted): ")
                    .append(esc(String.join("; ", confused)))
                    .append("</p>\n");
        }
        sb.append("<h2>Inputs</h2>\n").append(figure("show_batch.png", "A training batch after augmentation"));
        // tells a reader (and scripts/check-report.sh) when a picture is missing instead of showing a broken icon
        sb.append("<script>\nwindow.addEventListener('load', function () {\n")
                .append("  var imgs = Array.prototype.slice.call(document.images);\n")
                .append("  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });\n")
                .append("  document.body.setAttribute('data-images', imgs.length);\n")
                .append("  document.body.setAttribute('data-broken', bad.length);\n")
                .append("  if (bad.length) {\n")
                .append("    var p = document.createElement('p'); p.className = 'warn';\n")
                .append("    p.textContent = bad.length + ' of ' + imgs.length + ' pictures did not load: ' +\n")
                .append("      bad.map(function (i) { return i.getAttribute('src'); }).join(', ');\n")
                .append("    document.body.insertBefore(p, document.body.firstChild);\n  }\n});\n</script>\n");
        sb.append("</body></html>\n");
        return sb.toString();
    }

    private static String figure(String file, String caption) {
        return "<figure><img src=\"" + file + "\" alt=\"" + esc(caption) + "\"><figcaption>" + esc(caption)
                + "</figcaption></figure>\n";
    }

    private static String fmt(double v) {
        // blank for an epoch without validation
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.4f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
