package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jimm.JimmException;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The export's protocol with its script, its cache key, and what it says when Python or torch is missing. Stand-in
 * shell scripts play the Python; the real export runs only in the benchmark.
 */
class OnnxExportTest {
    private static ImageModel tiny() {
        return Models.createModel(
                "resnet10t", ModelOptions.builder().numClasses(3).build());
    }

    private static Path executable(Path dir, String name, String body) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        return p;
    }

    private static List<Path> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.toList();
        }
    }

    @Test
    void theCacheKeyIsTheModelSizeAndEveryByteOfTheWeights() {
        assertEquals("tv_resnet18-224-00ff.onnx", OnnxExport.fileName("tv/resnet18", 224, "00ff"));
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> a = new LinkedHashMap<>(Map.of("w", m.create(new float[] {1, 2, 3})));
            Map<String, NDArray> same = new LinkedHashMap<>(Map.of("w", m.create(new float[] {1, 2, 3})));
            Map<String, NDArray> value = new LinkedHashMap<>(Map.of("w", m.create(new float[] {1, 2, 3.0001f})));
            Map<String, NDArray> key = new LinkedHashMap<>(Map.of("v", m.create(new float[] {1, 2, 3})));
            Map<String, NDArray> shape = new LinkedHashMap<>(
                    Map.of("w", m.create(new float[] {1, 2, 3}).reshape(3, 1)));
            String h = OnnxExport.weightsHash(a);
            assertEquals(16, h.length());
            assertEquals(h, OnnxExport.weightsHash(same));
            assertNotEquals(h, OnnxExport.weightsHash(value));
            assertNotEquals(h, OnnxExport.weightsHash(key));
            assertNotEquals(h, OnnxExport.weightsHash(shape));
        }
    }

    @Test
    void theScriptGetsTheWeightsAndWritesTheFileWhichIsThenCached(@TempDir Path dir) throws IOException {
        Path cache = dir.resolve("cache");
        Path args = dir.resolve("args.txt");
        // a stand-in for python3 + export_onnx.py: records its arguments, checks the weights are a safetensors file
        // (8-byte header length, then a JSON header), and writes the output file it was given
        Path python = executable(
                dir,
                "python",
                "echo \"$@\" > " + args + "\n"
                        + "while [ $# -gt 0 ]; do case $1 in --weights) w=$2;; --out) o=$2;; esac; shift; done\n"
                        + "head -c 9 \"$w\" | tail -c 1 | grep -q '{' || exit 9\n"
                        + "echo onnx > \"$o\"");
        Path script = Files.writeString(dir.resolve("export_onnx.py"), "");
        try (ImageModel model = tiny()) {
            OnnxExport export = new OnnxExport(python, script, cache);
            Path onnx = export.export(model, 32).orElseThrow();
            assertEquals(cache, onnx.getParent());
            assertTrue(onnx.getFileName().toString().matches("resnet10t-32-[0-9a-f]{16}\\.onnx"), onnx.toString());
            String passed = Files.readString(args).strip();
            assertTrue(passed.startsWith(script + " --model resnet10t --weights " + cache), passed);
            assertTrue(passed.endsWith("--out " + onnx + " --num-classes 3 --img-size 32"), passed);
            assertEquals(List.of(onnx), files(cache), "the weights file is removed after the export");
            // the same weights again: the cached file, without running the script
            Files.delete(args);
            assertEquals(
                    onnx,
                    new OnnxExport(dir.resolve("no-python"), script, cache)
                            .export(model, 32)
                            .orElseThrow());
            assertFalse(Files.exists(args));
        }
    }

    @Test
    void missingPythonTorchOrScriptIsExplained(@TempDir Path dir) throws IOException {
        Path script = Files.writeString(dir.resolve("export_onnx.py"), "");
        Path cache = dir.resolve("cache");
        try (ImageModel model = tiny()) {
            JimmException e = assertThrows(
                    JimmException.class,
                    () -> new OnnxExport(dir.resolve("no/python3"), script, cache).export(model, 32));
            assertTrue(e.getMessage().contains("exports each model with PyTorch"), e.getMessage());
            assertTrue(e.getMessage().contains("cannot run " + dir.resolve("no/python3")), e.getMessage());
            assertTrue(e.getMessage().contains("python3-torch python3-torchvision"), e.getMessage());
            assertEquals(List.of(), files(cache), "no weights file left behind");

            Path noTorch =
                    executable(dir, "python", "echo \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1");
            e = assertThrows(JimmException.class, () -> new OnnxExport(noTorch, script, cache).export(model, 32));
            assertTrue(
                    e.getMessage().contains(noTorch + " lacks: ModuleNotFoundError: No module named 'torch'"),
                    e.getMessage());
            assertTrue(e.getMessage().contains("apt-get install python3-torch"), e.getMessage());

            e = assertThrows(
                    JimmException.class,
                    () -> new OnnxExport(noTorch, dir.resolve("missing.py"), cache).export(model, 32));
            assertTrue(e.getMessage().contains("missing.py is not there"), e.getMessage());
        }
    }

    @Test
    void theScriptsStatusesMeanNoEquivalentNoTorchOrAFailure(@TempDir Path dir) {
        List<String> cmd = List.of("/usr/bin/python3", "export_onnx.py", "--model", "x");
        Path onnx = dir.resolve("x.onnx");
        assertEquals(
                Optional.empty(),
                OnnxExport.outcome(new PytorchReference.ScriptRun("", "no torchvision equivalent", 3), cmd, onnx));
        JimmException e = assertThrows(
                JimmException.class,
                () -> OnnxExport.outcome(
                        new PytorchReference.ScriptRun("", "export_onnx.py: No module named 'torchvision'", 4),
                        cmd,
                        onnx));
        assertTrue(e.getMessage().contains("which /usr/bin/python3 lacks"), e.getMessage());
        e = assertThrows(
                JimmException.class,
                () -> OnnxExport.outcome(
                        new PytorchReference.ScriptRun("", "Traceback\nRuntimeError: bad key conv1.weight", 1),
                        cmd,
                        onnx));
        assertEquals(
                "/usr/bin/python3 export_onnx.py --model x exited with status 1: RuntimeError: bad key conv1.weight",
                e.getMessage());
        e = assertThrows(
                JimmException.class, () -> OnnxExport.outcome(new PytorchReference.ScriptRun("{}", "", 0), cmd, onnx));
        assertTrue(e.getMessage().endsWith("exited with status 0: no output"), "status 0 but no file: " + e);
    }
}
