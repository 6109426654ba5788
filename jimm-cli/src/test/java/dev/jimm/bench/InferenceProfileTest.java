package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.JimmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading both profilers' traces, and both sides profiled on a real model. */
class InferenceProfileTest {
    @Test
    void libtorchCountsOnlyTheOutermostCallsOfEachThread(@TempDir Path dir) throws IOException {
        // two forwards on thread 1: conv2d (holding convolution, holding mkldnn), then relu; a thread-2 event alone;
        // a TorchScript method (forward holding forward) that runs a packed convolution
        Path trace = Files.writeString(dir.resolve("t.json"), """
                [
                 {"name": "aten::conv2d", "ph": "X", "ts": 0, "dur": 100, "tid": 1},
                 {"name": "aten::convolution", "ph": "X", "ts": 1, "dur": 98, "tid": 1},
                 {"name": "aten::mkldnn_convolution", "ph": "X", "ts": 2, "dur": 90, "tid": 1},
                 {"name": "aten::relu", "ph": "X", "ts": 110, "dur": 10, "tid": 1},
                 {"name": "aten::conv2d", "ph": "X", "ts": 200, "dur": 300, "tid": 1},
                 {"name": "aten::convolution", "ph": "X", "ts": 200, "dur": 299, "tid": 1},
                 {"name": "aten::relu", "ph": "X", "ts": 500, "dur": 30, "tid": 1},
                 {"name": "aten::add", "ph": "X", "ts": 150, "dur": 40, "tid": 2},
                 {"name": "forward", "ph": "X", "ts": 600, "dur": 60, "tid": 1},
                 {"name": "forward", "ph": "X", "ts": 600, "dur": 59, "tid": 1},
                 {"name": "mkldnn_prepacked::conv2d_run", "ph": "X", "ts": 601, "dur": 58, "tid": 1},
                 {"name": "aten::empty", "ph": "X", "ts": 602, "dur": 1, "tid": 1},
                 {"name": "instant", "ph": "i", "ts": 5, "tid": 1}
                ]""");
        InferenceProfile p = InferenceProfile.ofLibtorch(trace, 2, 1.0);
        assertEquals(
                List.of("aten::conv2d", "script > mkldnn_prepacked::conv2d_run", "aten::relu", "aten::add"),
                p.ops().stream().map(InferenceProfile.OpTime::op).toList());
        InferenceProfile.OpTime conv = p.ops().get(0);
        assertEquals(1, conv.callsPerForward(), 0.0);
        assertEquals(0.2, conv.msPerForward(), 1e-12); // (100 + 300) us over 2 forwards
        assertEquals(0.03, p.ops().get(1).msPerForward(), 1e-12); // the script's 60 us, its calls inside it
        assertEquals(0.02, p.ops().get(2).msPerForward(), 1e-12);
        assertEquals(3, p.opsPerForward(), 0.0);
        assertEquals(0.5, p.msPerForward(), 0.0);
        assertEquals(0.5 - 0.27, p.msBetweenOps(), 1e-12);
    }

    @Test
    void onnxRuntimeLeavesTheWarmUpRunsOutAndGroupsKernelsByOperator(@TempDir Path dir) throws IOException {
        Path trace = Files.writeString(dir.resolve("o.json"), """
                [
                 {"cat": "Session", "name": "session_initialization", "ts": 0, "dur": 5000},
                 {"cat": "Session", "name": "model_run", "ts": 6000, "dur": 900},
                 {"cat": "Node", "name": "conv1_kernel_time", "ts": 6100, "dur": 800, "args": {"op_name": "FusedConv"}},
                 {"cat": "Session", "name": "model_run", "ts": 7000, "dur": 500},
                 {"cat": "Node", "name": "conv1_fence_before", "ts": 7010, "dur": 1, "args": {"op_name": "FusedConv"}},
                 {"cat": "Node", "name": "conv1_kernel_time", "ts": 7050, "dur": 300, "args": {"op_name": "FusedConv"}},
                 {"cat": "Node", "name": "pool_kernel_time", "ts": 7400, "dur": 50, "args": {"op_name": "MaxPool"}},
                 {"cat": "Session", "name": "model_run", "ts": 8000, "dur": 700},
                 {"cat": "Node", "name": "conv1_kernel_time", "ts": 8050, "dur": 500, "args": {"op_name": "FusedConv"}},
                 {"cat": "Node", "name": "pool_kernel_time", "ts": 8600, "dur": 70, "args": {"op_name": "MaxPool"}}
                ]""");
        InferenceProfile p = InferenceProfile.ofOnnxRuntime(trace, 1, 2);
        assertEquals(0.6, p.msPerForward(), 1e-12); // (500 + 700) us over 2 timed runs
        assertEquals("FusedConv", p.ops().get(0).op());
        assertEquals(0.4, p.ops().get(0).msPerForward(), 1e-12); // the warm-up's 800 us left out
        assertEquals(0.06, p.ops().get(1).msPerForward(), 1e-12);
        assertEquals(2, p.opsPerForward(), 0.0);
        JimmException e = assertThrows(JimmException.class, () -> InferenceProfile.ofOnnxRuntime(trace, 0, 2));
        assertTrue(e.getMessage().contains("expected 2 model_run events, found 3"), e.getMessage());
        Path junk = Files.writeString(dir.resolve("junk.json"), "{\"x\": 1}");
        JimmException notTrace = assertThrows(JimmException.class, () -> InferenceProfile.ofLibtorch(junk, 1, 1));
        assertTrue(notTrace.getMessage().startsWith(junk + ": not a Chrome trace"), notTrace.getMessage());
    }

    @Test
    void bothSidesOfARealModelAreProfiled(@TempDir Path dir) throws IOException {
        Path other = OnnxFiles.meanPixelLogits(dir.resolve("pool.onnx"));
        BenchOptions o = new BenchOptions(List.of("resnet10t"), 2, 16, 1, 2, 1, 3, Set.of("infer", "latency"), 3);
        List<OnnxComparison.ProfiledRow> rows =
                OnnxComparison.profile("resnet10t", o, 3, (model, size) -> Optional.of(other), dir.resolve("traces"));
        assertEquals(
                List.of("latency", "infer"),
                rows.stream().map(OnnxComparison.ProfiledRow::measure).toList());
        for (OnnxComparison.ProfiledRow r : rows) {
            InferenceProfile j = r.jimm();
            assertTrue(
                    j.ops().stream().anyMatch(op -> op.op().contains("conv")),
                    j.ops().toString());
            assertTrue(j.opsPerForward() >= 10, "resnet10t makes at least 10 calls: " + j.opsPerForward());
            assertTrue(j.msInOps() > 0 && j.msInOps() <= j.msPerForward() * 1.05, j.toString());
            InferenceProfile ort = r.onnxRuntime();
            assertEquals(
                    Set.of("GlobalAveragePool", "MatMul"),
                    ort.ops().stream()
                            .map(InferenceProfile.OpTime::op)
                            .filter(op -> !op.equals("Flatten") && !op.equals("Reshape"))
                            .collect(Collectors.toSet()),
                    ort.ops().toString());
            String table = InferenceProfile.table(r.model(), r.measure(), j, ort, 3);
            assertTrue(table.startsWith("resnet10t " + r.measure()), table);
        }
        assertTrue(Files.exists(dir.resolve("traces/resnet10t-latency-jimm.json")));
    }
}
