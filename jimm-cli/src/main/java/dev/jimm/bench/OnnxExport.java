package dev.jimm.bench;

import ai.djl.ndarray.NDArray;
import dev.jimm.JimmException;
import dev.jimm.JimmHome;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.models.ImageModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The ONNX file of a jimm model with its present weights, for {@code jimm bench --compare onnxruntime}: jimm writes the
 * state_dict as safetensors and {@code scripts/export_onnx.py} loads it strictly into torchvision's model of the same
 * name and exports it with {@code torch.onnx.export}. Files are cached under {@code $JIMM_HOME/bench/onnx}, named by
 * the model, the input size and a hash of the weights, so a later run with the same weights needs no Python.
 *
 * @param python the Python with torch and torchvision
 * @param script the export script
 * @param cache the folder of exported files
 */
public record OnnxExport(Path python, Path script, Path cache) {
    /** The script's exit status for a model it has no torchvision equivalent of. */
    static final int NO_EQUIVALENT = 3;

    /** The script's exit status when numpy, torch or torchvision cannot be imported. */
    static final int NO_TORCH = 4;

    private static final String INSTALL = "Debian: apt-get install python3-torch python3-torchvision";

    /** The script: ./scripts/export_onnx.py, else the checkout's beside the jar. */
    public static Path defaultScript() {
        return JimmHome.checkoutPath(OnnxExport.class, "scripts/export_onnx.py")
                .orElse(Path.of("scripts", "export_onnx.py"));
    }

    /** {@code $JIMM_HOME/bench/onnx}. */
    public static Path defaultCache() {
        return JimmHome.fromEnvironment().resolve("bench").resolve("onnx");
    }

    /**
     * The ONNX file of {@code model} with its weights at {@code imgSize}, exported unless cached; empty when the script
     * knows no torchvision equivalent of the model.
     *
     * @throws JimmException naming what is missing when Python, torch or the script is not there, or the export failed
     */
    public Optional<Path> export(ImageModel model, int imgSize) {
        Map<String, NDArray> state = model.stateDict();
        Path onnx = cache.resolve(fileName(model.name(), imgSize, weightsHash(state)));
        if (Files.isRegularFile(onnx)) {
            return Optional.of(onnx);
        }
        if (!Files.isRegularFile(script)) {
            throw new JimmException("the ONNX export script " + script
                    + " is not there (run from the jimm checkout or pass --onnx-export-script)");
        }
        Path weights = cache.resolve(onnx.getFileName().toString().replace(".onnx", ".safetensors"));
        try {
            Files.createDirectories(cache);
            SafetensorsWriter.write(weights, state, Map.of("format", "pt"));
            List<String> cmd = List.of(
                    python.toString(),
                    script.toString(),
                    "--model",
                    model.name(),
                    "--weights",
                    weights.toString(),
                    "--out",
                    onnx.toString(),
                    "--num-classes",
                    String.valueOf(model.numClasses()),
                    "--img-size",
                    String.valueOf(imgSize));
            PytorchReference.ScriptRun run;
            try {
                run = PytorchReference.ScriptRun.of(cmd, Runtime.getRuntime().availableProcessors(), python);
            } catch (JimmException e) {
                throw new JimmException(
                        "--compare onnxruntime exports each model with PyTorch, and " + e.getMessage() + " (" + INSTALL
                                + ")",
                        e);
            }
            return outcome(run, cmd, onnx);
        } catch (IOException e) {
            throw new JimmException("cannot write " + weights + ": " + e.getMessage(), e);
        } finally {
            try {
                Files.deleteIfExists(weights);
            } catch (IOException e) {
                // a left-over weights file in the cache is harmless; the next export overwrites it
            }
        }
    }

    /** What a finished run of the script means: the file, no equivalent (empty), or an error naming the cause. */
    static Optional<Path> outcome(PytorchReference.ScriptRun run, List<String> cmd, Path onnx) {
        String last = run.stderr().strip().isEmpty()
                ? "no output"
                : run.stderr().strip().lines().reduce((a, b) -> b).orElse("");
        if (run.status() == NO_EQUIVALENT) {
            return Optional.empty();
        }
        if (run.status() == NO_TORCH || last.contains("No module named")) {
            throw new JimmException("--compare onnxruntime exports each model with PyTorch, which " + cmd.get(0)
                    + " lacks: " + last + " (" + INSTALL + ", or pass --python PATH)");
        }
        if (run.status() != 0 || !Files.isRegularFile(onnx)) {
            throw new JimmException(String.join(" ", cmd) + " exited with status " + run.status() + ": " + last);
        }
        return Optional.of(onnx);
    }

    /** {@code tv/resnet18} at 224 with weights hash h: {@code tv_resnet18-224-h.onnx}. */
    static String fileName(String model, int imgSize, String hash) {
        return model.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + imgSize + "-" + hash + ".onnx";
    }

    /** The first 16 hex digits of a SHA-256 over every key, dtype, shape and byte of the state_dict, in order. */
    static String weightsHash(Map<String, NDArray> state) {
        MessageDigest d;
        try {
            d = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
        for (Map.Entry<String, NDArray> e : state.entrySet()) {
            NDArray a = e.getValue();
            d.update((e.getKey() + " " + a.getDataType() + " " + a.getShape() + "\n").getBytes(StandardCharsets.UTF_8));
            ByteBuffer b = a.toByteBuffer();
            d.update(b);
        }
        return HexFormat.of().formatHex(d.digest()).substring(0, 16);
    }
}
