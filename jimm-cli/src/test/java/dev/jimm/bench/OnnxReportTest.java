package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The ONNX Runtime comparison's rows, ratios, min ratio and agreement check. */
class OnnxReportTest {
    private static final BenchOptions OPTS =
            new BenchOptions(List.of("a", "b"), 32, 224, 2, 5, 2, 20, Set.of("infer", "latency"), 1000);

    private static OnnxReport report() {
        // a: 1 GMAC, jimm 40 img/s and 20 ms, ONNX Runtime 50 img/s and 25 ms; b: jimm 10 img/s, 100 ms against 8, 90
        return new OnnxReport(
                OPTS,
                List.of(
                        new OnnxComparison.Result("a", 100, 1_000_000_000L, 40, 20, 50, 25, 2e-7, "1.23.2"),
                        new OnnxComparison.Result("b", 7, 500_000_000L, 10, 100, 8, 90, 0.5, "1.23.2")));
    }

    @Test
    void ratiosAreThroughputRatiosAndLatencyIsInverted() {
        List<OnnxReport.Row> rows = report().rows();
        assertEquals(
                List.of("a/infer/32", "a/latency/1", "b/infer/32", "b/latency/1"),
                rows.stream()
                        .map(r -> r.model() + "/" + r.measure() + "/" + r.batch())
                        .toList());
        assertEquals(40.0 / 50, rows.get(0).ratio(), 1e-12);
        assertEquals(25.0 / 20, rows.get(1).ratio(), 1e-12);
        assertEquals(10.0 / 8, rows.get(2).ratio(), 1e-12);
        assertEquals(90.0 / 100, rows.get(3).ratio(), 1e-12);
        // 2 GFLOP per image at 40 images/s; 2 GFLOP in 20 ms
        assertEquals(80.0, rows.get(0).gflops(), 1e-9);
        assertEquals(100.0, rows.get(1).gflops(), 1e-9);
        assertEquals(0.8, report().minRatio(), 1e-12);
    }

    @Test
    void tableEndsWithTheMinRatioAndFlagsOutputsThatDisagree() {
        String t = report().table();
        List<String> lines = t.strip().lines().toList();
        assertEquals("min ratio 0.800", lines.get(lines.size() - 1));
        assertTrue(t.lines().anyMatch(l -> l.startsWith("a ") && l.contains("infer") && l.endsWith("2.00e-07")), t);
        assertTrue(t.contains("ONNX Runtime 1.23.2 (Java API, CPU): ALL_OPT, 2 intra-op threads"), t);
        assertEquals(List.of("b (max relative difference 5.00e-01)"), report().disagreeing());
        OnnxReport nan =
                new OnnxReport(OPTS, List.of(new OnnxComparison.Result("c", 1, 1, 1, 1, 1, 1, Double.NaN, "1.23.2")));
        assertEquals(1, nan.disagreeing().size(), "an output that could not be compared is not an agreement");
    }

    @Test
    void jsonHasRowsAndMinRatio() {
        JsonObject j = JsonParser.parseString(report().json()).getAsJsonObject();
        assertEquals("onnxruntime", j.get("compare").getAsString());
        assertEquals(4, j.getAsJsonArray("rows").size());
        JsonObject lat = j.getAsJsonArray("rows").get(1).getAsJsonObject();
        assertEquals("ms", lat.get("unit").getAsString());
        assertEquals(25.0, lat.get("onnxruntime").getAsDouble(), 1e-12);
        assertEquals(1.25, lat.get("ratio").getAsDouble(), 1e-12);
        assertEquals(
                0.5,
                j.getAsJsonArray("models")
                        .get(1)
                        .getAsJsonObject()
                        .get("max_relative_difference")
                        .getAsDouble());
        assertEquals(0.8, j.get("min_ratio").getAsDouble(), 1e-12);
    }

    @Test
    void maxRelativeDifferenceIsScaledByTheReferencesLargestValue() {
        // |1.1 - 1| and |-2 - -2.2| over max |b| = 4
        assertEquals(
                0.2 / 4,
                OnnxComparison.maxRelativeDifference(new float[] {1.1f, -2f, 4f}, new float[] {1f, -2.2f, 4f}),
                1e-6);
        assertTrue(Double.isNaN(OnnxComparison.maxRelativeDifference(new float[] {1}, new float[] {0})));
        assertTrue(Double.isNaN(OnnxComparison.maxRelativeDifference(new float[] {1}, new float[] {1, 2})));
        assertTrue(Double.isNaN(OnnxComparison.maxRelativeDifference(new float[] {Float.NaN}, new float[] {1})));
    }
}
