package dev.jimm.bench;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.jimm.NativeAllocator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The table (and JSON) of a benchmark run: per model, rows for Learner training, the bare DJL loop, inference
 * throughput and batch-1 latency, with PyTorch's figure and the ratio where compared, the achieved GFLOP/s against the
 * CPU's peak, and the peak memory.
 *
 * <p>The ratio is jimm/PyTorch throughput; for latency it is PyTorch's ms over jimm's (so above 1 is jimm faster
 * everywhere). {@link #minRatio()} is the smallest of them. When PyTorch also ran with jimm's allocator preloaded (the
 * launcher's tcmalloc), the columns PyTorch* and ratio* give that run and {@link #minRatioSameMalloc()} its smallest
 * ratio: the like-for-like figure beside the default-against-default one.
 */
public final class BenchReport {
    /**
     * One model's figures: jimm's, PyTorch's on its default malloc when compared (else null), and PyTorch's with jimm's
     * allocator preloaded when that ran too (else null).
     */
    public record Entry(
            ModelBench.Result jimm, PytorchReference.Result pytorch, PytorchReference.Result pytorchSameMalloc) {
        public Entry(ModelBench.Result jimm, PytorchReference.Result pytorch) {
            this(jimm, pytorch, null);
        }
    }

    /**
     * The Fashion-MNIST recipe's epoch times: jimm's, PyTorch's and PyTorch's with jimm's allocator (each nullable).
     */
    public record RecipeEntry(
            int batch, RecipeBench.Result jimm, RecipeBench.Result pytorch, RecipeBench.Result pytorchSameMalloc) {
        public RecipeEntry(int batch, RecipeBench.Result jimm, RecipeBench.Result pytorch) {
            this(batch, jimm, pytorch, null);
        }
    }

    /**
     * One line of the table.
     *
     * @param measure train, bare, infer or latency
     * @param jimm jimm's value (images/s, or ms for latency)
     * @param pytorch PyTorch's value, NaN when not compared
     * @param ratio jimm/PyTorch as a throughput ratio, NaN when not compared
     * @param gflops achieved GFLOP/s (training counts 3 × the forward)
     * @param pytorchSameMalloc PyTorch's value with jimm's allocator preloaded, NaN when not run
     * @param ratioSameMalloc jimm against that, NaN when not run
     */
    public record Row(
            String model,
            String measure,
            int batch,
            double jimm,
            double pytorch,
            double ratio,
            double gflops,
            double pytorchSameMalloc,
            double ratioSameMalloc) {
        Row(
                String model,
                String measure,
                int batch,
                double jimm,
                double pytorch,
                boolean time,
                double gflops,
                double same) {
            this(
                    model,
                    measure,
                    batch,
                    jimm,
                    pytorch,
                    ratio(jimm, pytorch, time),
                    gflops,
                    same,
                    ratio(jimm, same, time));
        }

        // throughputs: jimm / reference; times (latency, epoch): reference / jimm
        private static double ratio(double jimm, double reference, boolean time) {
            return time ? reference / jimm : jimm / reference;
        }
    }

    private final BenchOptions options;
    private final SystemInfo.CpuPeak peak;
    private final List<Entry> entries;
    private final RecipeEntry recipe;

    public BenchReport(BenchOptions options, SystemInfo.CpuPeak peak, List<Entry> entries) {
        this(options, peak, entries, null);
    }

    /** With the recipe's row at the end ({@code recipe} may be null). */
    public BenchReport(BenchOptions options, SystemInfo.CpuPeak peak, List<Entry> entries, RecipeEntry recipe) {
        this.options = options;
        this.peak = peak;
        this.entries = List.copyOf(entries);
        this.recipe = recipe;
    }

    /** The rows, in the order printed. */
    public List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (Entry e : entries) {
            ModelBench.Result j = e.jimm();
            PytorchReference.Result p = e.pytorch();
            PytorchReference.Result ps = e.pytorchSameMalloc();
            double flopsPerImage = 2.0 * j.forwardMacs();
            int b = options.batchSize();
            if (!Double.isNaN(j.trainImgS())) {
                rows.add(new Row(
                        j.model(),
                        "train",
                        b,
                        j.trainImgS(),
                        p == null ? Double.NaN : p.trainImgS(),
                        false,
                        3 * flopsPerImage * j.trainImgS() / 1e9,
                        ps == null ? Double.NaN : ps.trainImgS()));
            }
            if (!Double.isNaN(j.bareImgS())) {
                rows.add(new Row(
                        j.model(),
                        "bare",
                        b,
                        j.bareImgS(),
                        Double.NaN,
                        false,
                        3 * flopsPerImage * j.bareImgS() / 1e9,
                        Double.NaN));
            }
            if (!Double.isNaN(j.inferImgS())) {
                rows.add(new Row(
                        j.model(),
                        "infer",
                        b,
                        j.inferImgS(),
                        p == null ? Double.NaN : p.inferImgS(),
                        false,
                        flopsPerImage * j.inferImgS() / 1e9,
                        ps == null ? Double.NaN : ps.inferImgS()));
            }
            if (!Double.isNaN(j.latencyMs())) {
                rows.add(new Row(
                        j.model(),
                        "latency",
                        1,
                        j.latencyMs(),
                        p == null ? Double.NaN : p.latencyMs(),
                        true,
                        flopsPerImage / j.latencyMs() / 1e6,
                        ps == null ? Double.NaN : ps.latencyMs()));
            }
        }
        if (recipe != null) {
            rows.add(new Row(
                    "fashion-mnist recipe",
                    "epoch",
                    recipe.batch(),
                    recipe.jimm().medianSeconds(),
                    recipe.pytorch() == null ? Double.NaN : recipe.pytorch().medianSeconds(),
                    true,
                    Double.NaN,
                    recipe.pytorchSameMalloc() == null
                            ? Double.NaN
                            : recipe.pytorchSameMalloc().medianSeconds()));
        }
        return rows;
    }

    /** The smallest jimm/PyTorch ratio, NaN when nothing was compared. */
    public double minRatio() {
        return min(rows().stream().mapToDouble(Row::ratio).toArray());
    }

    /** The smallest ratio against PyTorch with jimm's allocator preloaded, NaN when that did not run. */
    public double minRatioSameMalloc() {
        return min(rows().stream().mapToDouble(Row::ratioSameMalloc).toArray());
    }

    private static double min(double[] ratios) {
        return Arrays.stream(ratios).filter(r -> !Double.isNaN(r)).min().orElse(Double.NaN);
    }

    private boolean sameMallocRan() {
        return rows().stream().anyMatch(r -> !Double.isNaN(r.pytorchSameMalloc()));
    }

    /** The printed table, with a footer on what the columns mean. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "jimm bench: batch %d, %dx%d, %d threads, %d warm-up + %d timed steps, latency median of %d%n",
                options.batchSize(),
                options.imgSize(),
                options.imgSize(),
                options.threads(),
                options.warmup(),
                options.iters(),
                options.latencyIters()));
        boolean same = sameMallocRan();
        sb.append(String.format(
                Locale.ROOT,
                "%-24s %-8s %5s %10s %10s %8s%s %9s %8s %6s%n",
                "model",
                "measure",
                "batch",
                "jimm",
                "PyTorch",
                "ratio",
                same ? String.format(Locale.ROOT, " %10s %8s", "PyTorch*", "ratio*") : "",
                "vs bare",
                "GFLOP/s",
                "%peak"));
        for (Row r : rows()) {
            String unit = r.measure().equals("latency") ? " ms" : r.measure().equals("epoch") ? " s" : " /s";
            String vsBare = "";
            if (r.measure().equals("train")) {
                ModelBench.Result j = find(r.model()).jimm();
                vsBare = vsBare(j);
            }
            sb.append(String.format(
                    Locale.ROOT,
                    "%-24s %-8s %5d %10s %10s %8s%s %9s %8s %6s%n",
                    r.model(),
                    r.measure(),
                    r.batch(),
                    fmt("%.2f", r.jimm()) + unit,
                    Double.isNaN(r.pytorch()) ? "-" : fmt("%.2f", r.pytorch()) + unit,
                    Double.isNaN(r.ratio()) ? "-" : fmt("%.3f", r.ratio()),
                    same
                            ? String.format(
                                    Locale.ROOT,
                                    " %10s %8s",
                                    Double.isNaN(r.pytorchSameMalloc())
                                            ? "-"
                                            : fmt("%.2f", r.pytorchSameMalloc()) + unit,
                                    Double.isNaN(r.ratioSameMalloc()) ? "-" : fmt("%.3f", r.ratioSameMalloc()))
                            : "",
                    vsBare,
                    Double.isNaN(r.gflops()) ? "-" : fmt("%.1f", r.gflops()),
                    Double.isNaN(r.gflops()) ? "-" : fmt("%.1f%%", 100 * r.gflops() / peak.gflops())));
        }
        sb.append(String.format(
                Locale.ROOT,
                "%n%-24s %10s %10s %12s %12s %s%n",
                "model",
                "params",
                "GMACs",
                "jimm RSS MB",
                "native MB",
                "PyTorch RSS MB"));
        for (Entry e : entries) {
            ModelBench.Result j = e.jimm();
            sb.append(String.format(
                    Locale.ROOT,
                    "%-24s %10d %10.3f %12.0f %12.0f %s%s%n",
                    j.model(),
                    j.params(),
                    j.forwardMacs() / 1e9,
                    j.peakRssBytes() / 1048576.0,
                    j.nativeBytes() / 1048576.0,
                    e.pytorch() == null ? "-" : fmt("%.0f", e.pytorch().peakRssBytes() / 1048576.0),
                    e.pytorch() != null && e.pytorch().params() != j.params()
                            ? "  (PyTorch model has " + e.pytorch().params() + " parameters)"
                            : ""));
        }
        if (recipe != null) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%-24s %10d %10s %12s %12s %s%n",
                    "recipe " + RecipeBench.MODEL,
                    recipe.jimm().params(),
                    "-",
                    "epochs (s)",
                    RecipeBench.describe(recipe.jimm().epochSeconds()),
                    recipe.pytorch() == null
                            ? ""
                            : "PyTorch " + RecipeBench.describe(recipe.pytorch().epochSeconds())
                                    + (recipe.pytorch().params()
                                                    != recipe.jimm().params()
                                            ? " (" + recipe.pytorch().params() + " parameters)"
                                            : "")));
        }
        boolean header = false;
        for (Entry e : entries) {
            ModelBench.Result j = e.jimm();
            List<String[]> lines = new ArrayList<>();
            if (j.trainPhases() != null) {
                lines.add(new String[] {"jimm", phaseLine(j.trainPhases())});
            }
            if (j.barePhases() != null) {
                lines.add(new String[] {"bare", phaseLine(j.barePhases())});
            }
            if (e.pytorch() != null && e.pytorch().trainPhases() != null) {
                lines.add(new String[] {"PyTorch", phaseLine(e.pytorch().trainPhases())});
            }
            if (e.pytorchSameMalloc() != null && e.pytorchSameMalloc().trainPhases() != null) {
                lines.add(new String[] {
                    "PyTorch*", phaseLine(e.pytorchSameMalloc().trainPhases())
                });
            }
            for (String[] l : lines) {
                if (!header) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "%n%-24s %-8s %10s %10s %10s %10s %10s%n",
                            "training step profile",
                            "loop",
                            "fwd+loss",
                            "backward",
                            "optimizer",
                            "other",
                            "total ms"));
                    header = true;
                }
                sb.append(String.format(Locale.ROOT, "%-24s %-8s %s%n", j.model(), l[0], l[1]));
            }
        }
        sb.append("\ntrain = Learner.fit on one pre-made batch (forward, cross-entropy, backward, fused AdamW step);"
                + " bare = the same jimm model in a minimal DJL loop (GradientCollector, DJL's softmax cross-entropy and Adam);"
                + " vs bare = how much longer jimm's step takes than the bare loop's.\n");
        sb.append(
                "ratio = jimm/PyTorch throughput (latency, epoch: PyTorch time / jimm time). GFLOP/s = 2 x MACs per image x images/s"
                        + " (x3 for training).\n");
        sb.append("peak: ").append(peak.derivation()).append('\n');
        sb.append("RSS = peak resident memory (VmHWM, reset per model); native = that minus the committed JVM heap.\n");
        sb.append("jimm: malloc = ").append(NativeAllocator.describe()).append('\n');
        if (same) {
            sb.append("PyTorch* / ratio* = PyTorch with jimm's allocator preloaded too (LD_PRELOAD); PyTorch / ratio ="
                    + " PyTorch on its default malloc, as a user's Python runs.\n");
        }
        entries.stream()
                .filter(e -> e.pytorch() != null)
                .map(e -> e.pytorch().version())
                .distinct()
                .forEach(v -> sb.append("PyTorch: ").append(v).append('\n'));
        double minSame = minRatioSameMalloc();
        if (!Double.isNaN(minSame)) {
            sb.append(fmt("min ratio* %.3f (the same allocator on both sides)", minSame))
                    .append('\n');
        }
        double min = minRatio();
        if (!Double.isNaN(min)) {
            sb.append(fmt("min ratio %.3f", min)).append('\n');
        }
        return sb.toString();
    }

    /**
     * How much longer jimm's training step took than the bare loop's, as "+4.2%", or "" when either was not measured.
     */
    public static String vsBare(ModelBench.Result j) {
        return Double.isNaN(j.bareImgS()) || Double.isNaN(j.trainImgS())
                ? ""
                : fmt("%+.1f%%", 100 * (j.bareImgS() / j.trainImgS() - 1));
    }

    /** The same figures as JSON. */
    public String json() {
        JsonObject root = new JsonObject();
        JsonObject machine = new JsonObject();
        machine.addProperty("cpu", peak.cpu());
        machine.addProperty("cores", peak.cores());
        machine.addProperty("ghz", peak.ghz());
        machine.addProperty("peak_gflops", peak.gflops());
        machine.addProperty("peak_derivation", peak.derivation());
        machine.addProperty("jimm_malloc", NativeAllocator.describe());
        root.add("machine", machine);
        JsonObject cfg = options.toJson();
        root.add("config", cfg);
        JsonArray models = new JsonArray();
        for (Entry e : entries) {
            JsonObject m = new JsonObject();
            ModelBench.Result j = e.jimm();
            m.addProperty("model", j.model());
            m.addProperty("params", j.params());
            m.addProperty("forward_gmacs", j.forwardMacs() / 1e9);
            m.addProperty("peak_rss_mb", j.peakRssBytes() / 1048576.0);
            m.addProperty("native_mb", j.nativeBytes() / 1048576.0);
            if (j.trainPhases() != null) {
                m.add("train_profile", phaseJson(j.trainPhases()));
            }
            if (j.barePhases() != null) {
                m.add("bare_profile", phaseJson(j.barePhases()));
            }
            if (e.pytorch() != null) {
                m.addProperty("pytorch_params", e.pytorch().params());
                m.addProperty("pytorch_peak_rss_mb", e.pytorch().peakRssBytes() / 1048576.0);
                m.addProperty("pytorch_version", e.pytorch().version());
                if (e.pytorch().trainPhases() != null) {
                    m.add("pytorch_train_profile", phaseJson(e.pytorch().trainPhases()));
                }
            }
            PytorchReference.Result ps = e.pytorchSameMalloc();
            if (ps != null) {
                m.addProperty("pytorch_same_malloc_peak_rss_mb", ps.peakRssBytes() / 1048576.0);
                if (ps.trainPhases() != null) {
                    m.add("pytorch_same_malloc_train_profile", phaseJson(ps.trainPhases()));
                }
            }
            models.add(m);
        }
        root.add("models", models);
        if (recipe != null) {
            JsonObject rc = new JsonObject();
            rc.addProperty("model", RecipeBench.MODEL);
            rc.addProperty("params", recipe.jimm().params());
            rc.add("epoch_seconds", new Gson().toJsonTree(recipe.jimm().epochSeconds()));
            if (recipe.pytorch() != null) {
                rc.addProperty("pytorch_params", recipe.pytorch().params());
                rc.add(
                        "pytorch_epoch_seconds",
                        new Gson().toJsonTree(recipe.pytorch().epochSeconds()));
            }
            if (recipe.pytorchSameMalloc() != null) {
                rc.add(
                        "pytorch_same_malloc_epoch_seconds",
                        new Gson().toJsonTree(recipe.pytorchSameMalloc().epochSeconds()));
            }
            root.add("recipe", rc);
        }
        JsonArray rows = new JsonArray();
        for (Row r : rows()) {
            JsonObject o = new JsonObject();
            o.addProperty("model", r.model());
            o.addProperty("measure", r.measure());
            o.addProperty(
                    "unit", r.measure().equals("latency") ? "ms" : r.measure().equals("epoch") ? "s" : "img/s");
            o.addProperty("batch", r.batch());
            o.addProperty("jimm", r.jimm());
            if (!Double.isNaN(r.pytorch())) {
                o.addProperty("pytorch", r.pytorch());
                o.addProperty("ratio", r.ratio());
            }
            if (!Double.isNaN(r.pytorchSameMalloc())) {
                o.addProperty("pytorch_same_malloc", r.pytorchSameMalloc());
                o.addProperty("ratio_same_malloc", r.ratioSameMalloc());
            }
            if (!Double.isNaN(r.gflops())) {
                o.addProperty("gflops", r.gflops());
                o.addProperty("pct_peak", 100 * r.gflops() / peak.gflops());
            }
            rows.add(o);
        }
        addRows(root, rows, minRatio());
        double minSame = minRatioSameMalloc();
        if (!Double.isNaN(minSame)) {
            root.addProperty("min_ratio_same_malloc", minSame);
        }
        return pretty(root);
    }

    /** Adds a report's rows and, when there is one, its smallest ratio to its JSON. */
    static void addRows(JsonObject root, JsonArray rows, double minRatio) {
        root.add("rows", rows);
        if (!Double.isNaN(minRatio)) {
            root.addProperty("min_ratio", minRatio);
        }
    }

    /** A report's JSON, pretty-printed, with NaN and infinities written as such. */
    static String pretty(JsonObject root) {
        return new GsonBuilder()
                .setPrettyPrinting()
                .serializeSpecialFloatingPointValues()
                .create()
                .toJson(root);
    }

    private static String phaseLine(ModelBench.Phases p) {
        return String.format(
                Locale.ROOT,
                "%10.1f %10.1f %10.1f %10.1f %10.1f",
                p.forward(),
                p.backward(),
                p.step(),
                p.other(),
                p.total());
    }

    private static JsonObject phaseJson(ModelBench.Phases p) {
        JsonObject o = new JsonObject();
        o.addProperty("forward_loss_ms", p.forward());
        o.addProperty("backward_ms", p.backward());
        o.addProperty("optimizer_ms", p.step());
        o.addProperty("other_ms", p.other());
        return o;
    }

    private Entry find(String model) {
        return entries.stream()
                .filter(e -> e.jimm().model().equals(model))
                .findFirst()
                .orElseThrow();
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
