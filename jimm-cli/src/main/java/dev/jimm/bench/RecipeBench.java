package dev.jimm.bench;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.JimmException;
import dev.jimm.train.Learner;
import dev.jimm.train.Recorder;
import dev.jimm.vision.TrainRecipe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Fashion-MNIST recipe's epoch time: the demo's job ({@code jimm train fashion-mnist-sample --model resnet10t},
 * batch 64, fit_one_cycle at lr 1e-3 instead of lr_find's pick) through {@link TrainRecipe}, loader, augmentation,
 * validation, logs and best-model saving included; and the same job in PyTorch through
 * {@code scripts/bench_pytorch_recipe.py}. The first epoch warms up.
 */
public final class RecipeBench {
    private RecipeBench() {}

    /** The model of the recipe. */
    public static final String MODEL = "resnet10t";

    /**
     * Epoch times of one side.
     *
     * @param params parameters of the trained model (body and fastai head)
     * @param epochSeconds every epoch's wall time
     */
    public record Result(long params, List<Double> epochSeconds) {
        /** The median epoch time after the first (or the only epoch). */
        public double medianSeconds() {
            List<Double> s = epochSeconds.size() > 1 ? epochSeconds.subList(1, epochSeconds.size()) : epochSeconds;
            double[] a = s.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
        }
    }

    /** Runs the recipe for {@code epochs} with {@code threads} loader threads, in a temporary run folder. */
    public static Result runJimm(int epochs, int threads, int batchSize) {
        Path runDir;
        try {
            runDir = Files.createTempDirectory("jimm-bench-recipe");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temporary run folder", e);
        }
        try {
            TrainRecipe.Config c = TrainRecipe.Config.builder("fashion-mnist-sample")
                    .model(MODEL)
                    .epochs(epochs)
                    .lr(1e-3)
                    .freezeEpochs(0)
                    .batchSize(batchSize)
                    .seed(42)
                    .out(runDir)
                    .threads(threads)
                    .build();
            try (NDManager manager = NDManager.newBaseManager()) {
                TrainRecipe.Data data = TrainRecipe.prepareData(c, manager);
                try (Learner learner = TrainRecipe.learner(c, data, runDir, List.of())) {
                    learner.fitOneCycle(epochs, 1e-3);
                    List<Double> secs = new ArrayList<>();
                    for (Recorder.EpochRow r : learner.recorder().epochs()) {
                        secs.add(r.seconds());
                    }
                    return new Result(learner.model().numParameters(), secs);
                }
            }
        } finally {
            deleteTree(runDir);
        }
    }

    /** Runs scripts/bench_pytorch_recipe.py (beside {@code pytorchScript}) on the bundled samples. */
    public static Result runPytorch(Path python, Path pytorchScript, int epochs, int threads, int batchSize) {
        return runPytorch(python, pytorchScript, epochs, threads, batchSize, null);
    }

    /** As {@link #runPytorch(Path, Path, int, int, int)}, with {@code malloc} preloaded (null: the default). */
    public static Result runPytorch(
            Path python, Path pytorchScript, int epochs, int threads, int batchSize, String malloc) {
        Path script = pytorchScript.resolveSibling("bench_pytorch_recipe.py");
        if (!Files.isRegularFile(script)) {
            throw new JimmException(
                    "the PyTorch recipe script " + script + " is not there (run from the jimm checkout)");
        }
        Path samples = TrainRecipe.samplesDir().resolve("fashion-mnist");
        List<String> cmd = List.of(
                python.toString(),
                script.toString(),
                "--samples",
                samples.toString(),
                "--epochs",
                String.valueOf(epochs),
                "--threads",
                String.valueOf(threads),
                "--batch-size",
                String.valueOf(batchSize));
        PytorchReference.ScriptRun run = PytorchReference.ScriptRun.of(cmd, threads, python, malloc);
        String out = run.stdout();
        String err = run.stderr();
        int status = run.status();
        String line = out.strip().lines().reduce((a, b) -> b).orElse("");
        if (status != 0 || !line.startsWith("{")) {
            String last = err.strip().lines().reduce((a, b) -> b).orElse("no output");
            throw new JimmException(String.join(" ", cmd) + " failed (status " + status + "): " + last);
        }
        JsonObject j = JsonParser.parseString(line).getAsJsonObject();
        List<Double> secs = new ArrayList<>();
        j.getAsJsonArray("epoch_seconds").forEach(e -> secs.add(e.getAsDouble()));
        return new Result(j.get("params").getAsLong(), secs);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a left-over temporary folder is harmless
        }
    }

    static String describe(List<Double> secs) {
        return Arrays.toString(
                secs.stream().mapToDouble(d -> Math.round(d * 100) / 100.0).toArray());
    }
}
