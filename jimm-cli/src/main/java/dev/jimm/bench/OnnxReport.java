package dev.jimm.bench;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.jimm.NativeAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The table (and JSON) of {@code jimm bench --compare onnxruntime}: per model, batch throughput and batch-1 latency of
 * jimm's inference path and of ONNX Runtime on the same exported weights, their ratio, and how far the two outputs are
 * apart; it ends with {@code min ratio R}.
 *
 * <p>The ratio is jimm/ONNX Runtime throughput; for latency, ONNX Runtime's ms over jimm's (above 1: jimm faster).
 */
public final class OnnxReport {
    /**
     * One line of the table.
     *
     * @param measure infer (images/s) or latency (ms at batch 1)
     * @param ratio jimm/ONNX Runtime as a throughput ratio
     * @param gflops jimm's achieved GFLOP/s (2 × MACs per image × images/s)
     */
    public record Row(
            String model, String measure, int batch, double jimm, double onnxRuntime, double ratio, double gflops) {}

    private final BenchOptions options;
    private final List<OnnxComparison.Result> results;

    public OnnxReport(BenchOptions options, List<OnnxComparison.Result> results) {
        this.options = options;
        this.results = List.copyOf(results);
    }

    /** The rows, in the order printed. */
    public List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        for (OnnxComparison.Result r : results) {
            double flops = 2.0 * r.forwardMacs();
            if (!Double.isNaN(r.jimmInferImgS())) {
                rows.add(new Row(
                        r.model(),
                        "infer",
                        options.batchSize(),
                        r.jimmInferImgS(),
                        r.onnxInferImgS(),
                        r.jimmInferImgS() / r.onnxInferImgS(),
                        flops * r.jimmInferImgS() / 1e9));
            }
            if (!Double.isNaN(r.jimmLatencyMs())) {
                rows.add(new Row(
                        r.model(),
                        "latency",
                        1,
                        r.jimmLatencyMs(),
                        r.onnxLatencyMs(),
                        r.onnxLatencyMs() / r.jimmLatencyMs(),
                        flops / r.jimmLatencyMs() / 1e6));
            }
        }
        return rows;
    }

    /** The smallest ratio, NaN when there is none. */
    public double minRatio() {
        return rows().stream()
                .mapToDouble(Row::ratio)
                .filter(r -> !Double.isNaN(r))
                .min()
                .orElse(Double.NaN);
    }

    /** The models whose two outputs differ by more than {@link OnnxComparison#MAX_RELATIVE_DIFFERENCE}. */
    public List<String> disagreeing() {
        return results.stream()
                .filter(r -> !(r.maxRelativeDifference() <= OnnxComparison.MAX_RELATIVE_DIFFERENCE))
                .map(r -> r.model() + " (max relative difference " + fmt("%.2e", r.maxRelativeDifference()) + ")")
                .toList();
    }

    /** The printed table, with a footer on what the columns mean. */
    public String table() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "jimm bench --compare onnxruntime: batch %d, %dx%d, %d threads, %d warm-up + %d timed runs, latency"
                        + " median of %d%n",
                options.batchSize(),
                options.imgSize(),
                options.imgSize(),
                options.threads(),
                options.warmup(),
                options.iters(),
                options.latencyIters()));
        String format = "%-24s %-8s %5s %10s %12s %8s %8s %13s%n";
        sb.append(String.format(
                Locale.ROOT,
                format,
                "model",
                "measure",
                "batch",
                "jimm",
                "ONNX Runtime",
                "ratio",
                "GFLOP/s",
                "max rel diff"));
        String previous = null;
        for (Row r : rows()) {
            String unit = r.measure().equals("latency") ? " ms" : " /s";
            // the difference is the model's, printed on its first row
            boolean first = !r.model().equals(previous);
            previous = r.model();
            OnnxComparison.Result res = results.stream()
                    .filter(x -> x.model().equals(r.model()))
                    .findFirst()
                    .orElseThrow();
            sb.append(String.format(
                    Locale.ROOT,
                    format,
                    r.model(),
                    r.measure(),
                    r.batch(),
                    fmt("%.2f", r.jimm()) + unit,
                    fmt("%.2f", r.onnxRuntime()) + unit,
                    fmt("%.3f", r.ratio()),
                    fmt("%.1f", r.gflops()),
                    first ? fmt("%.2e", res.maxRelativeDifference()) : ""));
        }
        sb.append("\nratio = jimm/ONNX Runtime images/s (latency: ONNX Runtime ms / jimm ms). max rel diff ="
                + " max|jimm - ONNX Runtime| / max|ONNX Runtime| over the logits of the batch.\n");
        sb.append(
                        "jimm: InferenceModel (BatchNorm folded, channels-last weights pre-packed for oneDNN, no autograd) on libtorch; malloc = ")
                .append(NativeAllocator.describe())
                .append('\n');
        results.stream()
                .map(OnnxComparison.Result::onnxRuntimeVersion)
                .distinct()
                .forEach(v -> sb.append("ONNX Runtime ")
                        .append(v)
                        .append(" (Java API, CPU): ALL_OPT, ")
                        .append(options.threads())
                        .append(" intra-op threads, 1 inter-op, denormals as zero;"
                                + " models exported by scripts/export_onnx.py (torch.onnx, opset 17)\n"));
        double min = minRatio();
        if (!Double.isNaN(min)) {
            sb.append(fmt("min ratio %.3f", min)).append('\n');
        }
        return sb.toString();
    }

    /** The same figures as JSON. */
    public String json() {
        JsonObject root = new JsonObject();
        root.addProperty("compare", "onnxruntime");
        JsonObject cfg = options.toJson();
        cfg.addProperty("jimm_malloc", NativeAllocator.describe());
        root.add("config", cfg);
        JsonArray models = new JsonArray();
        for (OnnxComparison.Result r : results) {
            JsonObject m = new JsonObject();
            m.addProperty("model", r.model());
            m.addProperty("params", r.params());
            m.addProperty("forward_gmacs", r.forwardMacs() / 1e9);
            m.addProperty("max_relative_difference", r.maxRelativeDifference());
            m.addProperty("onnxruntime_version", r.onnxRuntimeVersion());
            models.add(m);
        }
        root.add("models", models);
        JsonArray rows = new JsonArray();
        for (Row r : rows()) {
            JsonObject o = new JsonObject();
            o.addProperty("model", r.model());
            o.addProperty("measure", r.measure());
            o.addProperty("unit", r.measure().equals("latency") ? "ms" : "img/s");
            o.addProperty("batch", r.batch());
            o.addProperty("jimm", r.jimm());
            o.addProperty("onnxruntime", r.onnxRuntime());
            o.addProperty("ratio", r.ratio());
            o.addProperty("gflops", r.gflops());
            rows.add(o);
        }
        BenchReport.addRows(root, rows, minRatio());
        return BenchReport.pretty(root);
    }

    private static String fmt(String f, double v) {
        return String.format(Locale.ROOT, f, v);
    }
}
