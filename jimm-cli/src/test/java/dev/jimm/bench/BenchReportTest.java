package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.JimmException;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Ratios, the min ratio line, the JSON shape and the PyTorch script's output parsing. */
class BenchReportTest {
    private static final BenchOptions OPTS = new BenchOptions(
            List.of("a", "b"), 32, 224, 2, 5, 2, 20, Set.of("train", "bare", "infer", "latency"), 1000);
    private static final SystemInfo.CpuPeak PEAK = new SystemInfo.CpuPeak("test CPU", 2, 2.0, 2, 16);

    private static BenchReport report() {
        // model a: 1 GMAC, train 10 img/s (bare 10.4), infer 40 img/s, latency 20 ms; PyTorch 8, 50 img/s, 25 ms
        ModelBench.Result a =
                new ModelBench.Result("a", 100, 1_000_000_000L, 10, 10.4, 40, 20, 1L << 30, 1L << 29, null, null);
        PytorchReference.Result pa = new PytorchReference.Result(
                "a", 100, 8, 50, 25, 1L << 30, "torch x", new ModelBench.Phases(40, 80, 2, 3));
        ModelBench.Result b =
                new ModelBench.Result("b", 7, 500_000_000L, 4, Double.NaN, Double.NaN, Double.NaN, 0, 0, null, null);
        return new BenchReport(OPTS, PEAK, List.of(new BenchReport.Entry(a, pa), new BenchReport.Entry(b, null)));
    }

    @Test
    void peakIsCoresTimesClockTimesFmaUnitsTimesLanesTimesTwo() {
        assertEquals(2 * 2.0 * 2 * 16 * 2, PEAK.gflops(), 1e-9);
        assertEquals(128.0, PEAK.withCores(1).gflops(), 1e-9);
        assertEquals(256.0, PEAK.withCores(8).gflops(), 1e-9);
    }

    @Test
    void ratiosAreThroughputRatiosAndLatencyIsInverted() {
        List<BenchReport.Row> rows = report().rows();
        assertEquals(
                List.of("a/train", "a/bare", "a/infer", "a/latency", "b/train"),
                rows.stream().map(r -> r.model() + "/" + r.measure()).toList());
        assertEquals(10.0 / 8, rows.get(0).ratio(), 1e-12);
        assertEquals(40.0 / 50, rows.get(2).ratio(), 1e-12);
        assertEquals(25.0 / 20, rows.get(3).ratio(), 1e-12);
        assertTrue(Double.isNaN(rows.get(4).ratio()));
        // training: 3 × 2 × 1 GMAC × 10 img/s = 60 GFLOP/s; latency: 2 GFLOP in 20 ms = 100 GFLOP/s
        assertEquals(60.0, rows.get(0).gflops(), 1e-9);
        assertEquals(100.0, rows.get(3).gflops(), 1e-9);
        assertEquals(0.8, report().minRatio(), 1e-12);
    }

    @Test
    void tableEndsWithTheMinRatioAndShowsTheBareOverhead() {
        String t = report().table();
        List<String> lines = t.strip().lines().toList();
        assertEquals("min ratio 0.800", lines.get(lines.size() - 1));
        // bare 10.4 img/s vs 10: jimm's step is 4% longer
        assertTrue(t.lines().anyMatch(l -> l.startsWith("a ") && l.contains("train") && l.contains("+4.0%")), t);
        assertTrue(t.contains("= 256.0 GFLOP/s"), t);
        // 60 GFLOP/s of a 256 GFLOP/s peak
        assertTrue(t.lines().anyMatch(l -> l.startsWith("a ") && l.contains("train") && l.endsWith("23.4%")), t);
    }

    @Test
    void jsonHasMachineConfigModelsRowsAndMinRatio() {
        JsonObject j = JsonParser.parseString(report().json()).getAsJsonObject();
        assertEquals(256.0, j.getAsJsonObject("machine").get("peak_gflops").getAsDouble(), 1e-9);
        assertEquals(32, j.getAsJsonObject("config").get("batch_size").getAsInt());
        assertEquals(2, j.getAsJsonArray("models").size());
        assertEquals(
                1.0,
                j.getAsJsonArray("models")
                        .get(0)
                        .getAsJsonObject()
                        .get("forward_gmacs")
                        .getAsDouble(),
                1e-12);
        assertEquals(5, j.getAsJsonArray("rows").size());
        JsonObject lat = j.getAsJsonArray("rows").get(3).getAsJsonObject();
        assertEquals("ms", lat.get("unit").getAsString());
        assertEquals(1.25, lat.get("ratio").getAsDouble(), 1e-12);
        assertFalse(j.getAsJsonArray("rows").get(4).getAsJsonObject().has("ratio"));
        assertEquals(0.8, j.get("min_ratio").getAsDouble(), 1e-12);
    }

    @Test
    void theSameAllocatorRunGetsItsOwnColumnsAndMinRatio() {
        ModelBench.Result a =
                new ModelBench.Result("a", 100, 1_000_000_000L, 10, Double.NaN, 40, 20, 1L << 30, 1L << 29, null, null);
        PytorchReference.Result def = new PytorchReference.Result("a", 100, 8, 50, 25, 1L << 30, "torch x", null);
        // with tcmalloc PyTorch trains at 9.5 img/s and answers in 22 ms
        PytorchReference.Result same = new PytorchReference.Result(
                "a", 100, 9.5, 45, 22, 1L << 30, "torch x", new ModelBench.Phases(40, 60, 3, 1));
        BenchReport.RecipeEntry rc = new BenchReport.RecipeEntry(
                64,
                new RecipeBench.Result(10, List.of(9.0, 5.0)),
                new RecipeBench.Result(10, List.of(8.0, 6.0)),
                new RecipeBench.Result(10, List.of(8.0, 5.5)));
        BenchReport r = new BenchReport(OPTS, PEAK, List.of(new BenchReport.Entry(a, def, same)), rc);
        List<BenchReport.Row> rows = r.rows();
        assertEquals(10 / 9.5, rows.get(0).ratioSameMalloc(), 1e-12);
        assertEquals(40.0 / 45, rows.get(1).ratioSameMalloc(), 1e-12);
        assertEquals(22.0 / 20, rows.get(2).ratioSameMalloc(), 1e-12);
        assertEquals(5.5 / 5, rows.get(3).ratioSameMalloc(), 1e-12);
        assertEquals(40.0 / 50, r.minRatio(), 1e-12);
        assertEquals(40.0 / 45, r.minRatioSameMalloc(), 1e-12);
        String t = r.table();
        List<String> lines = t.strip().lines().toList();
        assertEquals("min ratio 0.800", lines.get(lines.size() - 1));
        assertEquals("min ratio* 0.889 (the same allocator on both sides)", lines.get(lines.size() - 2));
        assertTrue(
                t.lines()
                        .anyMatch(l -> l.matches(
                                "a\\s+train\\s+32\\s+10\\.00 /s\\s+8\\.00 /s\\s+1\\.250\\s+9\\.50 /s\\s+1\\.053.*")),
                t);
        assertTrue(
                t.lines().anyMatch(l -> l.matches("a\\s+PyTorch\\*\\s+40\\.0\\s+60\\.0\\s+3\\.0\\s+1\\.0\\s+104\\.0")),
                t);
        JsonObject j = JsonParser.parseString(r.json()).getAsJsonObject();
        assertEquals(40.0 / 45, j.get("min_ratio_same_malloc").getAsDouble(), 1e-12);
        assertEquals(
                9.5,
                j.getAsJsonArray("rows")
                        .get(0)
                        .getAsJsonObject()
                        .get("pytorch_same_malloc")
                        .getAsDouble());
        // without the second run the table has neither the columns nor the line
        String plain = new BenchReport(OPTS, PEAK, List.of(new BenchReport.Entry(a, def))).table();
        assertFalse(plain.contains("PyTorch*") || plain.contains("min ratio*"), plain);
    }

    @Test
    void recipeRowComparesMedianEpochTimesAfterTheFirst() {
        // jimm epochs 9, 4, 6, 5 s: median of 4, 6, 5 = 5; PyTorch 8, 6, 6 s: median 6 -> ratio 6 / 5
        BenchReport.RecipeEntry rc = new BenchReport.RecipeEntry(
                64,
                new RecipeBench.Result(10, List.of(9.0, 4.0, 6.0, 5.0)),
                new RecipeBench.Result(10, List.of(8.0, 6.0, 6.0)));
        BenchReport r = new BenchReport(OPTS, PEAK, List.of(), rc);
        BenchReport.Row row = r.rows().get(0);
        assertEquals("epoch", row.measure());
        assertEquals(5.0, row.jimm(), 1e-12);
        assertEquals(6.0, row.pytorch(), 1e-12);
        assertEquals(1.2, r.minRatio(), 1e-12);
        assertTrue(r.table().strip().endsWith("min ratio 1.200"), r.table());
    }

    @Test
    void profileSectionShowsEachLoopsPhases() {
        ModelBench.Result a = new ModelBench.Result(
                "a",
                100,
                1_000_000_000L,
                10,
                10.4,
                40,
                20,
                1L << 30,
                1L << 29,
                new ModelBench.Phases(50, 100, 5, 2),
                new ModelBench.Phases(49, 99, 4, 1));
        String t = new BenchReport(OPTS, PEAK, List.of(new BenchReport.Entry(a, null))).table();
        assertTrue(
                t.lines().anyMatch(l -> l.matches("a\\s+jimm\\s+50\\.0\\s+100\\.0\\s+5\\.0\\s+2\\.0\\s+157\\.0")), t);
        assertTrue(t.lines().anyMatch(l -> l.matches("a\\s+bare\\s+49\\.0\\s+99\\.0\\s+4\\.0\\s+1\\.0\\s+153\\.0")), t);
    }

    @Test
    void pytorchOutputIsParsedFromItsLastLine() {
        PytorchReference.Result r = PytorchReference.parse(
                "resnet18",
                "a warning\n{\"model\": \"resnet18\", \"params\": 11689512,"
                        + " \"torch\": \"1.13.0\", \"torchvision\": \"0.14.1\", \"train_img_s\": 9.5, \"latency_ms\": 31.0, \"peak_rss_mb\": 512.0,"
                        + " \"train_phases_ms\": [10.0, 20.0, 3.0, 0.5]}\n");
        assertEquals(11689512, r.params());
        assertEquals(9.5, r.trainImgS());
        assertTrue(Double.isNaN(r.inferImgS()));
        assertEquals(31.0, r.latencyMs());
        assertEquals(512L << 20, r.peakRssBytes());
        assertEquals(33.5, r.trainPhases().total(), 1e-12);
        JimmException e = assertThrows(JimmException.class, () -> PytorchReference.parse("x", "Traceback ...\n"));
        assertTrue(e.getMessage().contains("printed no JSON object"), e.getMessage());
    }

    @Test
    void optionsNameTheBadArgument() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new BenchOptions(List.of("a"), 0, 224, 2, 5, 2, 20, Set.of("train"), 1000));
        assertEquals("--batch-size must be at least 1, got 0", e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new BenchOptions(List.of("a"), 1, 224, 2, 5, 2, 20, Set.of("fly"), 1000));
        assertEquals("--mode 'fly' is not one of train, bare, infer, latency", e.getMessage());
    }
}
