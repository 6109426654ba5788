package dev.jimm.bench;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.JimmException;
import dev.jimm.JimmHome;
import dev.jimm.NativeAllocator;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs {@code scripts/bench_pytorch.py} for one model with the same batch, size, threads and step counts, in a child
 * process of the running benchmark, and reads the JSON line it prints.
 */
public final class PytorchReference {
    private PytorchReference() {}

    /**
     * PyTorch's figures of one model (NaN where not measured).
     *
     * @param params parameter count of the PyTorch model
     * @param version torch and torchvision versions
     * @param trainPhases mean ms per training step in forward+loss, backward, step, other (null when not measured)
     */
    public record Result(
            String model,
            long params,
            double trainImgS,
            double inferImgS,
            double latencyMs,
            long peakRssBytes,
            String version,
            ModelBench.Phases trainPhases) {}

    /** The script: ./scripts/bench_pytorch.py, else the checkout's beside the jar. */
    public static Path defaultScript() {
        return JimmHome.checkoutPath(PytorchReference.class, "scripts/bench_pytorch.py")
                .orElse(Path.of("scripts", "bench_pytorch.py"));
    }

    /** The script's exit status for a model it has no PyTorch equivalent of. */
    static final int NO_EQUIVALENT = 3;

    /**
     * Runs the script for {@code model} on PyTorch's default malloc; null when the script has no PyTorch equivalent of
     * it. A failure names the command and the script's last error line.
     */
    public static Result run(Path python, Path script, String model, BenchOptions o) {
        return run(python, script, model, o, null);
    }

    /**
     * As {@link #run(Path, Path, String, BenchOptions)}, with {@code malloc} (the path of an allocator library)
     * preloaded into the script's process, or its default malloc when null.
     */
    public static Result run(Path python, Path script, String model, BenchOptions o, String malloc) {
        if (!Files.isRegularFile(script)) {
            throw new JimmException("the PyTorch benchmark script " + script
                    + " is not there (run from the jimm checkout or pass --pytorch-script)");
        }
        List<String> modes = new ArrayList<>();
        for (String m : List.of("train", "infer", "latency")) {
            if (o.modes().contains(m)) {
                modes.add(m);
            }
        }
        List<String> cmd = List.of(
                python.toString(),
                script.toString(),
                "--model",
                model,
                "--batch-size",
                String.valueOf(o.batchSize()),
                "--img-size",
                String.valueOf(o.imgSize()),
                "--threads",
                String.valueOf(o.threads()),
                "--iters",
                String.valueOf(o.iters()),
                "--warmup",
                String.valueOf(o.warmup()),
                "--latency-iters",
                String.valueOf(o.latencyIters()),
                "--num-classes",
                String.valueOf(o.numClasses()),
                "--modes",
                modes.isEmpty() ? "none" : String.join(",", modes));
        ScriptRun run = ScriptRun.of(cmd, o.threads(), python, malloc);
        String out = run.stdout();
        String err = run.stderr();
        int status = run.status();
        if (status == NO_EQUIVALENT) {
            return null;
        }
        if (status != 0) {
            String last = err.strip().isEmpty()
                    ? "no output"
                    : err.strip().lines().reduce((a, b) -> b).orElse("");
            throw new JimmException(String.join(" ", cmd) + " exited with status " + status + ": " + last);
        }
        return parse(model, out);
    }

    /** Reads the script's JSON object (the last line of its output). */
    static Result parse(String model, String stdout) {
        String line = stdout.strip().lines().reduce((a, b) -> b).orElse("");
        JsonObject j;
        try {
            j = JsonParser.parseString(line).getAsJsonObject();
        } catch (RuntimeException e) {
            throw new JimmException("bench_pytorch.py for " + model + " printed no JSON object: '" + line + "'", e);
        }
        return new Result(
                model,
                j.get("params").getAsLong(),
                num(j, "train_img_s"),
                num(j, "infer_img_s"),
                num(j, "latency_ms"),
                (long) (num(j, "peak_rss_mb") * 1024 * 1024),
                "torch " + j.get("torch").getAsString() + ", torchvision "
                        + j.get("torchvision").getAsString()
                        + (j.has("blas") ? ", " + j.get("blas").getAsString() : ""),
                phases(j));
    }

    private static ModelBench.Phases phases(JsonObject j) {
        if (!j.has("train_phases_ms")) {
            return null;
        }
        var a = j.getAsJsonArray("train_phases_ms");
        return new ModelBench.Phases(
                a.get(0).getAsDouble(),
                a.get(1).getAsDouble(),
                a.get(2).getAsDouble(),
                a.get(3).getAsDouble());
    }

    private static double num(JsonObject j, String key) {
        return j.has(key) ? j.get(key).getAsDouble() : Double.NaN;
    }

    /**
     * A Python script's output: stdout, stderr and exit status, run with OMP_NUM_THREADS = threads, on its default
     * malloc or with an allocator library preloaded.
     */
    record ScriptRun(String stdout, String stderr, int status) {
        static ScriptRun of(List<String> cmd, int threads, Path python) {
            return of(cmd, threads, python, null);
        }

        static ScriptRun of(List<String> cmd, int threads, Path python, String malloc) {
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd);
                pb.environment().put("OMP_NUM_THREADS", String.valueOf(threads));
                if (malloc == null) {
                    NativeAllocator.removeLauncherPreload(pb.environment());
                } else {
                    NativeAllocator.preload(pb.environment(), malloc);
                }
                Process p = pb.start();
                p.getOutputStream().close();
                // stderr is small (warnings); read it after stdout, which holds the result
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                return new ScriptRun(out, err, p.waitFor());
            } catch (IOException e) {
                throw new JimmException("cannot run " + python + " (" + e.getMessage() + "); pass --python PATH", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new JimmException("interrupted while running " + String.join(" ", cmd), e);
            }
        }
    }
}
