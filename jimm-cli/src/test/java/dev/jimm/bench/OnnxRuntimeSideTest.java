package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.JimmException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ONNX Runtime's side on a hand-written model, y = x W + b: its outputs, timings and errors. */
class OnnxRuntimeSideTest {
    private static final float[] W = {1, 2, 3, -1, 0.5f, 0, 2, -2, 1, 0, 0, 4};
    private static final float[] B = {0.25f, -1, 3};

    static Path affine(Path dir) throws IOException {
        return OnnxFiles.write(
                dir.resolve("affine.onnx"),
                "x",
                new long[] {4},
                "y",
                new long[] {3},
                List.of(new OnnxFiles.Init("W", new long[] {4, 3}, W), new OnnxFiles.Init("B", new long[] {3}, B)),
                List.of(
                        new OnnxFiles.Node("MatMul", List.of("x", "W"), "xw"),
                        new OnnxFiles.Node("Add", List.of("xw", "B"), "y")));
    }

    @Test
    void runsTheModelOnAnyBatchAndTimesIt(@TempDir Path dir) throws IOException {
        float[] x = {1, 0, 0, 0, 0, 1, 2, -1};
        try (OnnxRuntimeSide ort = new OnnxRuntimeSide(affine(dir), 1)) {
            float[] y = ort.forward(x, new long[] {2, 4});
            float[] expected = new float[6];
            for (int n = 0; n < 2; n++) {
                for (int j = 0; j < 3; j++) {
                    float s = B[j];
                    for (int i = 0; i < 4; i++) {
                        s += x[n * 4 + i] * W[i * 3 + j];
                    }
                    expected[n * 3 + j] = s;
                }
            }
            assertArrayEquals(expected, y, 1e-6f);
            double imgS = ort.inferThroughput(x, new long[] {2, 4}, 1, 3);
            double ms = ort.latencyMs(new float[] {1, 2, 3, 4}, new long[] {1, 4}, 1, 3);
            assertTrue(imgS > 0 && Double.isFinite(imgS), "images/s " + imgS);
            assertTrue(ms > 0 && Double.isFinite(ms), "ms " + ms);
            assertTrue(ort.version().matches("\\d+\\.\\d+\\.\\d+.*"), ort.version());
        }
    }

    @Test
    void aWrongInputOrFileIsNamed(@TempDir Path dir) throws IOException {
        try (OnnxRuntimeSide ort = new OnnxRuntimeSide(affine(dir), 1)) {
            JimmException e = assertThrows(JimmException.class, () -> ort.forward(new float[5], new long[] {1, 5}));
            assertTrue(e.getMessage().contains("[1, 5]"), e.getMessage());
        }
        Path junk = Files.writeString(dir.resolve("junk.onnx"), "not a model");
        JimmException e = assertThrows(JimmException.class, () -> new OnnxRuntimeSide(junk, 1));
        assertTrue(e.getMessage().startsWith(junk + ": ONNX Runtime cannot open it"), e.getMessage());
    }
}
