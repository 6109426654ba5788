package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One model through both sides, with a stand-in export, and the weights the comparison gives a fresh model. */
class OnnxComparisonTest {
    @Test
    void bothSidesRunAndAnExportOfAnotherFunctionIsCaught(@TempDir Path dir) throws IOException {
        // not resnet10t: pooled pixels times a 3x3 matrix, so the two outputs have the same shape and differ
        Path other = OnnxFiles.meanPixelLogits(dir.resolve("other.onnx"));
        BenchOptions o = new BenchOptions(List.of("resnet10t"), 2, 16, 1, 2, 1, 3, Set.of("infer", "latency"), 3);
        List<String> exported = new ArrayList<>();
        StringWriter log = new StringWriter();
        OnnxComparison.Result r = OnnxComparison.run(
                        "resnet10t",
                        o,
                        2,
                        (model, size) -> {
                            exported.add(model.name() + "@" + size);
                            return Optional.of(other);
                        },
                        new PrintWriter(log, true))
                .orElseThrow();
        assertEquals(List.of("resnet10t@16"), exported);
        for (double v : new double[] {r.jimmInferImgS(), r.jimmLatencyMs(), r.onnxInferImgS(), r.onnxLatencyMs()}) {
            assertTrue(v > 0 && Double.isFinite(v), r.toString());
        }
        assertTrue(r.maxRelativeDifference() > OnnxComparison.MAX_RELATIVE_DIFFERENCE, r.toString());
        assertEquals(1, new OnnxReport(o, List.of(r)).disagreeing().size());
        assertTrue(log.toString().contains("resnet10t (ONNX Runtime) round 2/2"), log.toString());
        assertTrue(
                OnnxComparison.run("resnet10t", o, 1, (model, size) -> Optional.empty(), new PrintWriter(log))
                        .isEmpty(),
                "no equivalent: not compared");
    }

    @Test
    void aFreshModelGetsDrawnStatisticsAndNoAllZeroTensorTheSameEachTime() {
        try (ImageModel a = Models.createModel(
                        "resnet10t", ModelOptions.builder().numClasses(3).build());
                ImageModel b = Models.createModel(
                        "resnet10t", ModelOptions.builder().numClasses(3).build())) {
            // timm zero-initialises the last norm's weight of each residual block
            assertTrue(
                    a.stateDict().values().stream().anyMatch(v -> v.getDataType() == DataType.FLOAT32 && isAllZero(v)));
            OnnxComparison.randomizeStatistics(a, 0);
            OnnxComparison.randomizeStatistics(b, 0);
            for (Map.Entry<String, NDArray> e : a.stateDict().entrySet()) {
                NDArray v = e.getValue();
                if (v.getDataType() != DataType.FLOAT32) {
                    continue;
                }
                float[] x = v.toFloatArray();
                assertFalse(isAllZero(v), e.getKey());
                assertTrue(Arrays.equals(x, b.stateDict().get(e.getKey()).toFloatArray()), e.getKey());
                if (e.getKey().endsWith("running_var")) {
                    for (float f : x) {
                        assertTrue(f >= 0.5f && f < 1.5f, e.getKey() + " " + f);
                    }
                }
                if (e.getKey().endsWith("running_mean")) {
                    assertTrue(x.length < 2 || x[0] != x[1], e.getKey());
                }
            }
        }
    }

    private static boolean isAllZero(NDArray a) {
        for (float f : a.toFloatArray()) {
            if (f != 0) {
                return false;
            }
        }
        return true;
    }
}
