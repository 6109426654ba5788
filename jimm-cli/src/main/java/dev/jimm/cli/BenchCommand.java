package dev.jimm.cli;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.jimm.JimmException;
import dev.jimm.NativeAllocator;
import dev.jimm.bench.BenchOptions;
import dev.jimm.bench.BenchReport;
import dev.jimm.bench.InferenceProfile;
import dev.jimm.bench.LoaderBench;
import dev.jimm.bench.ModelBench;
import dev.jimm.bench.OnnxComparison;
import dev.jimm.bench.OnnxExport;
import dev.jimm.bench.OnnxReport;
import dev.jimm.bench.PytorchReference;
import dev.jimm.bench.RecipeBench;
import dev.jimm.bench.Rounds;
import dev.jimm.bench.SystemInfo;
import dev.jimm.models.ModelRegistry;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jimm bench}: training and inference throughput, batch-1 latency, GFLOP/s and memory of chosen models,
 * optionally side by side with PyTorch ({@code --compare pytorch}, which runs scripts/bench_pytorch.py per model in the
 * same invocation, on PyTorch's default malloc and again with jimm's allocator preloaded, and ends with {@code min
 * ratio R}) or with ONNX Runtime ({@code --compare onnxruntime}: inference of the same weights exported to ONNX, run in
 * this JVM). {@code jimm bench data DIR} measures the training data pipeline.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        subcommands = BenchCommand.Data.class,
        description = {
            "Measure training/inference throughput, latency, GFLOP/s and memory; optionally against PyTorch.",
            "Example: jimm bench --models resnet18,resnet50 --batch-size 32 --compare pytorch",
            "         jimm bench --compare onnxruntime --threads 2",
            "         jimm bench data DIR --compare torchvision"
        })
final class BenchCommand extends JimmCommand {
    private static final String ONNX = "onnxruntime";

    @Option(
            names = "--models",
            paramLabel = "A,B",
            split = ",",
            description =
                    "Models, or none for the recipe only (default: resnet18, resnet50, mobilenetv3_large_100, convnext_tiny, vit_small_patch16_224; with --compare onnxruntime tv/resnet18, tv/resnet50, tv/mobilenet_v3_large, tv/convnext_tiny, tv/vit_b_16).")
    List<String> models;

    @Mixin
    BenchSizeOptions size;

    @Option(names = "--threads", paramLabel = "N", description = "libtorch/PyTorch threads (default: one per core).")
    Integer threads;

    @Option(
            names = "--iters",
            paramLabel = "N",
            defaultValue = "5",
            description = "Timed steps per throughput row (default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(
            names = "--warmup",
            paramLabel = "N",
            defaultValue = "2",
            description = "Untimed steps first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(
            names = "--latency-iters",
            paramLabel = "N",
            defaultValue = "20",
            description = "Batch-1 calls for the median latency (default: ${DEFAULT-VALUE}).")
    int latencyIters;

    @Option(
            names = "--mode",
            paramLabel = "M,N",
            split = ",",
            description =
                    "Any of train, bare, infer, latency (default: all; with --compare onnxruntime infer,latency).")
    List<String> modes;

    @Option(
            names = "--num-classes",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Classifier outputs (default: ${DEFAULT-VALUE}).")
    int numClasses;

    @Option(
            names = "--compare",
            paramLabel = "WHAT",
            description = "pytorch: run scripts/bench_pytorch.py per model and print the ratios;"
                    + " onnxruntime: export each model to ONNX and run it in ONNX Runtime beside jimm.")
    String compare;

    @Option(
            names = "--same-malloc",
            negatable = true,
            defaultValue = "true",
            fallbackValue = "true",
            description =
                    "With --compare pytorch: run PyTorch a second time with jimm's allocator (the launcher's"
                            + " tcmalloc) preloaded, for the PyTorch* and ratio* columns (default: on; --no-same-malloc skips it).")
    boolean sameMalloc;

    @Option(
            names = "--onnx-export-script",
            paramLabel = "FILE",
            description = "With --compare onnxruntime: the export script (default: scripts/export_onnx.py).")
    Path onnxScript;

    @Option(
            names = "--profile",
            paramLabel = "DIR",
            description =
                    "With --compare onnxruntime: after the rounds, profile each row on both sides (libtorch's and"
                            + " ONNX Runtime's profilers, traces written to DIR) and print where a forward pass spends its time.")
    Path profileDir;

    @Mixin
    PythonOption python;

    @Option(
            names = "--pytorch-script",
            paramLabel = "FILE",
            description = "The comparison script (default: scripts/bench_pytorch.py).")
    Path script;

    @Option(
            names = "--recipe",
            description = "Add the Fashion-MNIST recipe's epoch time (resnet10t, batch 64, on the bundled sample).")
    boolean recipe;

    @Option(
            names = "--recipe-epochs",
            paramLabel = "N",
            defaultValue = "3",
            description = "Recipe epochs; the first warms up (default: ${DEFAULT-VALUE}).")
    int recipeEpochs;

    @Option(names = "--json", description = "Print JSON instead of the table (the min ratio line goes to stderr).")
    boolean json;

    @Option(
            names = "--rounds",
            paramLabel = "N",
            defaultValue = "1",
            description =
                    "Run each model's jimm and PyTorch sides N times, alternating, and report the medians (default: ${DEFAULT-VALUE}).")
    int rounds;

    /** The options as parsed, checked; the model names must exist. */
    BenchOptions options() {
        if (compare != null && !compare.equals("pytorch") && !compare.equals(ONNX)) {
            throw new IllegalArgumentException("--compare '" + compare
                    + "': only 'pytorch' and 'onnxruntime' are known here (for the loader: jimm bench data DIR"
                    + " --compare torchvision)");
        }
        boolean onnx = ONNX.equals(compare);
        List<String> defaults = onnx ? OnnxComparison.DEFAULT_MODELS : BenchOptions.DEFAULT_MODELS;
        List<String> names = models == null ? defaults : models.equals(List.of("none")) ? List.of() : models;
        if (names.isEmpty() && !recipe) {
            throw new IllegalArgumentException("--models none measures nothing without --recipe");
        }
        for (String n : names) {
            ModelRegistry.builtIn().config(n);
        }
        Set<String> m =
                new LinkedHashSet<>(modes != null ? modes : onnx ? List.of("infer", "latency") : BenchOptions.MODES);
        if (profileDir != null && !onnx) {
            throw new IllegalArgumentException("--profile belongs to --compare onnxruntime");
        }
        if (onnx && (m.contains("train") || m.contains("bare") || recipe)) {
            throw new IllegalArgumentException("--compare onnxruntime measures inference only: --mode infer,latency"
                    + " and no --recipe (training is compared with --compare pytorch)");
        }
        return new BenchOptions(
                names,
                size.batchSize,
                size.imgSize,
                threads == null ? Runtime.getRuntime().availableProcessors() : threads,
                iters,
                warmup,
                latencyIters,
                m,
                numClasses);
    }

    @Override
    public Integer call() {
        BenchOptions o = options();
        requireAtLeast("--recipe-epochs", recipeEpochs, 1);
        requireAtLeast("--rounds", rounds, 1);
        PrintWriter out = out();
        PrintWriter err = err();
        int threadsBefore = setThreads(o.threads());
        try {
            return run(o, out, err);
        } finally {
            JniUtils.setNumThreads(threadsBefore);
        }
    }

    private int run(BenchOptions o, PrintWriter out, PrintWriter err) {
        if (ONNX.equals(compare)) {
            return runOnnx(o, out, err);
        }
        Path pyScript = script != null ? script : PytorchReference.defaultScript();
        String malloc = compare != null && sameMalloc ? sameMallocLibrary(err) : null;
        List<BenchReport.Entry> entries = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (String name : o.models()) {
            // jimm then PyTorch per model, so both see the same machine state; with --rounds the
            // pair repeats, so that a slow phase of the machine cannot land on one side only
            List<ModelBench.Result> js = new ArrayList<>();
            List<PytorchReference.Result> ps = new ArrayList<>();
            List<PytorchReference.Result> pss = new ArrayList<>();
            boolean measured = true;
            for (int round = 1; round <= rounds && measured; round++) {
                String tag = rounds > 1 ? " round " + round + "/" + rounds : "";
                measured = runRound(name, tag, o, pyScript, malloc, js, ps, pss, failures, err);
            }
            if (js.isEmpty()) {
                continue;
            }
            ModelBench.Result j = Rounds.medianOf(js);
            PytorchReference.Result p = ps.isEmpty() ? null : Rounds.medianOfPytorch(ps);
            PytorchReference.Result psame = pss.isEmpty() ? null : Rounds.medianOfPytorch(pss);
            if (p != null && p.params() != j.params()) {
                err.println("jimm bench: warning: " + name + " has " + j.params() + " parameters in jimm, " + p.params()
                        + " in PyTorch");
            }
            entries.add(new BenchReport.Entry(j, p, psame));
        }
        BenchReport.RecipeEntry recipeEntry = null;
        if (recipe) {
            err.println("jimm bench: fashion-mnist recipe (jimm)");
            err.flush();
            RecipeBench.Result j = RecipeBench.runJimm(recipeEpochs, o.threads(), 64);
            RecipeBench.Result p = null;
            RecipeBench.Result psame = null;
            if (compare != null) {
                err.println("jimm bench: fashion-mnist recipe (PyTorch)");
                err.flush();
                p = RecipeBench.runPytorch(python.path, pyScript, recipeEpochs, o.threads(), 64);
                if (malloc != null) {
                    err.println("jimm bench: fashion-mnist recipe (PyTorch, " + malloc + " preloaded)");
                    err.flush();
                    psame = RecipeBench.runPytorch(python.path, pyScript, recipeEpochs, o.threads(), 64, malloc);
                }
            }
            recipeEntry = new BenchReport.RecipeEntry(64, j, p, psame);
        }
        BenchReport report = new BenchReport(o, SystemInfo.cpuPeak().withCores(o.threads()), entries, recipeEntry);
        if (json) {
            out.println(report.json());
            if (compare != null) {
                if (!Double.isNaN(report.minRatioSameMalloc())) {
                    err.printf(
                            Locale.ROOT,
                            "min ratio* %.3f (the same allocator on both sides)%n",
                            report.minRatioSameMalloc());
                }
                err.printf(Locale.ROOT, "min ratio %.3f%n", report.minRatio());
            }
        } else {
            if (rounds > 1) {
                out.println("each figure: the median of " + rounds + " rounds, jimm and PyTorch alternating");
            }
            out.print(report.table());
        }
        out.flush();
        if (!failures.isEmpty()) {
            err.println("jimm bench: not measured: " + String.join("; ", failures));
            return 1;
        }
        return 0;
    }

    /**
     * {@code --compare onnxruntime}: per model, the weights exported to ONNX (cached), then jimm's and ONNX Runtime's
     * inference alternating over the rounds; the table ends with {@code min ratio R}. Exits 1 when a model could not be
     * measured or the two outputs disagree.
     */
    private int runOnnx(BenchOptions o, PrintWriter out, PrintWriter err) {
        OnnxExport exporter = new OnnxExport(
                python.path, onnxScript != null ? onnxScript : OnnxExport.defaultScript(), OnnxExport.defaultCache());
        List<OnnxComparison.Result> results = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (String name : o.models()) {
            err.println("jimm bench: " + name + " (exporting to ONNX unless cached in " + exporter.cache() + ")");
            err.flush();
            try {
                OnnxComparison.run(name, o, rounds, exporter::export, err)
                        .ifPresentOrElse(
                                results::add,
                                () -> err.println("jimm bench: " + name + " has no torchvision equivalent in "
                                        + exporter.script() + "; not compared"));
            } catch (JimmException e) {
                if (results.isEmpty() && failures.isEmpty()) {
                    // Python, torch or the script missing: every model would fail the same way
                    throw e;
                }
                failures.add(name + ": " + Main.oneLine(e));
                err.println("jimm bench: " + name + " failed: " + Main.oneLine(e));
            } catch (RuntimeException e) {
                failures.add(name + ": " + Main.oneLine(e));
                err.println("jimm bench: " + name + " failed: " + Main.oneLine(e));
            }
        }
        OnnxReport report = new OnnxReport(o, results);
        if (json) {
            out.println(report.json());
            err.printf(Locale.ROOT, "min ratio %.3f%n", report.minRatio());
        } else {
            if (rounds > 1) {
                out.println("each figure: the median of " + rounds + " rounds, jimm and ONNX Runtime alternating");
            }
            out.print(report.table());
        }
        out.flush();
        if (profileDir != null) {
            profile(o, exporter, out, err, failures);
        }
        List<String> disagree = report.disagreeing();
        if (!disagree.isEmpty()) {
            err.println("jimm bench: the two sides' outputs differ beyond " + OnnxComparison.MAX_RELATIVE_DIFFERENCE
                    + ": " + String.join("; ", disagree));
        }
        if (!failures.isEmpty()) {
            err.println("jimm bench: not measured: " + String.join("; ", failures));
        }
        return failures.isEmpty() && disagree.isEmpty() ? 0 : 1;
    }

    /** Forward passes under each profiler per row: enough for stable per-op means at batch 1 and batch 32. */
    private static final int PROFILED_FORWARDS = 10;

    /** {@code --profile}: each model's rows under both profilers, printed as two lists of the most expensive ops. */
    private void profile(BenchOptions o, OnnxExport exporter, PrintWriter out, PrintWriter err, List<String> failures) {
        out.println();
        out.println("where a forward pass spends its time (" + PROFILED_FORWARDS + " profiled passes after "
                + o.warmup() + " warm-up ones; jimm: calls into libtorch, ONNX Runtime: kernels by operator;"
                + " traces in " + profileDir + ")");
        for (String name : o.models()) {
            err.println("jimm bench: " + name + " (profiling)");
            err.flush();
            try {
                for (OnnxComparison.ProfiledRow r :
                        OnnxComparison.profile(name, o, PROFILED_FORWARDS, exporter::export, profileDir)) {
                    out.print(InferenceProfile.table(r.model(), r.measure(), r.jimm(), r.onnxRuntime(), 8));
                }
            } catch (RuntimeException e) {
                failures.add(name + " (profile): " + Main.oneLine(e));
                err.println("jimm bench: " + name + " profile failed: " + Main.oneLine(e));
            }
            out.flush();
        }
    }

    /**
     * The allocator library to preload into PyTorch's second run: the one this JVM runs on (the launcher's tcmalloc),
     * or null under glibc's malloc, where the default run is already like for like.
     */
    private static String sameMallocLibrary(PrintWriter err) {
        Optional<String> lib = NativeAllocator.library();
        if (lib.isEmpty()) {
            err.println("jimm bench: jimm runs on glibc's malloc, as PyTorch does by default: no second PyTorch run");
        }
        return lib.orElse(null);
    }

    /**
     * One round of a model: jimm, then PyTorch with --compare (and again with {@code malloc} preloaded unless null);
     * adds what was measured and returns whether another round makes sense (false when a side failed or has no PyTorch
     * equivalent).
     */
    private boolean runRound(
            String name,
            String tag,
            BenchOptions o,
            Path pyScript,
            String malloc,
            List<ModelBench.Result> js,
            List<PytorchReference.Result> ps,
            List<PytorchReference.Result> pss,
            List<String> failures,
            PrintWriter err) {
        err.println("jimm bench: " + name + " (jimm)" + tag);
        err.flush();
        try {
            js.add(ModelBench.run(name, o));
        } catch (RuntimeException e) {
            // one model that cannot run at these settings should not lose the others' figures
            failures.add(name + ": " + Main.oneLine(e));
            err.println("jimm bench: " + name + " failed: " + Main.oneLine(e));
            return false;
        }
        if (compare == null) {
            roundSummary(name, tag, js.get(js.size() - 1), new ArrayList<>(), err);
            return true;
        }
        err.println("jimm bench: " + name + " (PyTorch)" + tag);
        err.flush();
        PytorchReference.Result p;
        try {
            p = PytorchReference.run(python.path, pyScript, name, o);
        } catch (JimmException e) {
            if (!Files.isRegularFile(pyScript)) {
                throw e;
            }
            failures.add(name + " in PyTorch: " + Main.oneLine(e));
            err.println("jimm bench: " + name + " failed in PyTorch: " + Main.oneLine(e));
            return false;
        }
        if (p == null) {
            err.println(
                    "jimm bench: " + name + " has no PyTorch equivalent in " + pyScript + "; its rows have no ratio");
            return false;
        }
        ps.add(p);
        PytorchReference.Result psame = null;
        if (malloc != null) {
            err.println("jimm bench: " + name + " (PyTorch, " + malloc + " preloaded)" + tag);
            err.flush();
            try {
                psame = PytorchReference.run(python.path, pyScript, name, o, malloc);
            } catch (JimmException e) {
                failures.add(name + " in PyTorch with " + malloc + ": " + Main.oneLine(e));
                err.println("jimm bench: " + name + " failed in PyTorch with " + malloc + ": " + Main.oneLine(e));
                return false;
            }
            pss.add(psame);
        }
        if (!tag.isEmpty()) {
            // the table's own rows for this round, so the ratios are computed as the table does
            List<String> ratios = new ArrayList<>();
            for (BenchReport.Row r :
                    new BenchReport(o, null, List.of(new BenchReport.Entry(js.get(js.size() - 1), p, psame))).rows()) {
                if (!Double.isNaN(r.ratio())) {
                    ratios.add(String.format(Locale.ROOT, "%s %.3f", r.measure(), r.ratio()));
                }
                if (!Double.isNaN(r.ratioSameMalloc())) {
                    ratios.add(String.format(Locale.ROOT, "%s* %.3f", r.measure(), r.ratioSameMalloc()));
                }
            }
            roundSummary(name, tag, js.get(js.size() - 1), ratios, err);
        }
        return true;
    }

    // one round's ratios and the Learner's cost over the bare loop, on stderr; the table gives the medians
    private static void roundSummary(
            String name, String tag, ModelBench.Result j, List<String> ratios, PrintWriter err) {
        if (tag.isEmpty()) {
            return;
        }
        String vsBare = BenchReport.vsBare(j);
        if (!vsBare.isEmpty()) {
            ratios.add("vs bare " + vsBare);
        }
        if (!ratios.isEmpty()) {
            err.println("jimm bench: " + name + tag + " ratios: " + String.join(", ", ratios));
        }
    }

    /** Sets libtorch's intra-op threads; returns the previous count, to restore. */
    static int setThreads(int n) {
        Engine.getEngine("PyTorch");
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(n);
        return before;
    }

    /** {@code jimm bench data DIR}: the training data pipeline, optionally against torchvision's DataLoader. */
    @Command(
            name = "data",
            mixinStandardHelpOptions = true,
            description = {
                "Images/s of the training data pipeline over an image folder (one subfolder per class).",
                "Example: jimm bench data ~/data/imagenette/train --threads 2 --compare torchvision"
            })
    static final class Data extends JimmCommand {
        @Parameters(paramLabel = "DIR", description = "Image folder.")
        Path dir;

        @Mixin
        BenchSizeOptions size;

        @Option(
                names = "--threads",
                paramLabel = "N",
                description = "Loader threads / torchvision workers (default: one per core).")
        Integer threads;

        @Option(
                names = "--epochs",
                paramLabel = "N",
                defaultValue = "3",
                description = "Passes; the first warms up (default: ${DEFAULT-VALUE}).")
        int epochs;

        @Option(
                names = "--compare",
                paramLabel = "WHAT",
                description = "torchvision: run scripts/bench_torchvision_loader.py and print the ratio.")
        String compare;

        @Mixin
        PythonOption python;

        @Option(
                names = "--rounds",
                paramLabel = "N",
                defaultValue = "1",
                description =
                        "With --compare: alternate jimm and torchvision N times and end with the median ratio (default: ${DEFAULT-VALUE}).")
        int rounds;

        @Override
        public Integer call() {
            if (!Files.isDirectory(dir)) {
                throw new IllegalArgumentException("DIR " + dir + " is not a folder");
            }
            if (compare != null && !compare.equals("torchvision")) {
                throw new IllegalArgumentException(
                        "--compare '" + compare + "': only 'torchvision' is known for the data benchmark");
            }
            if (size.imgSize < 8
                    || size.batchSize < 1
                    || epochs < 1
                    || rounds < 1
                    || (threads != null && threads < 1)) {
                throw new IllegalArgumentException(
                        "--img-size must be >= 8, --batch-size, --epochs, --rounds and --threads >= 1");
            }
            if (rounds > 1 && compare == null) {
                throw new IllegalArgumentException("--rounds " + rounds + " needs --compare torchvision");
            }
            int n = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
            PrintWriter out = out();
            // alternating the two loaders spreads this machine's drift over both instead of
            // letting a slow phase land on one side
            double[] ratios = new double[rounds];
            for (int round = 0; round < rounds; round++) {
                String tag = rounds > 1 ? "round " + (round + 1) + ": " : "";
                LoaderBench.Result r =
                        LoaderBench.run(new LoaderBench.Options(dir, size.imgSize, size.batchSize, n, epochs));
                out.printf(
                        Locale.ROOT,
                        "%sjimm loader: %d images in %.2f s = %.1f images/s (%d threads, batch %d, size %d)%n",
                        tag,
                        r.images(),
                        r.seconds(),
                        r.imagesPerSecond(),
                        n,
                        size.batchSize,
                        size.imgSize);
                out.flush();
                if (compare != null) {
                    double tv = torchvision(n);
                    ratios[round] = r.imagesPerSecond() / tv;
                    out.printf(
                            Locale.ROOT,
                            "%storchvision loader: %.1f images/s%n%sratio %.3f%n",
                            tag,
                            tv,
                            tag,
                            ratios[round]);
                    out.flush();
                }
            }
            if (rounds > 1) {
                double[] sorted = ratios.clone();
                Arrays.sort(sorted);
                out.printf(
                        Locale.ROOT,
                        "median ratio %.3f over %d rounds (min %.3f, max %.3f)%n",
                        Rounds.median(ratios),
                        rounds,
                        sorted[0],
                        sorted[rounds - 1]);
            }
            out.flush();
            return 0;
        }

        private double torchvision(int workers) {
            Path script = PytorchReference.defaultScript().resolveSibling("bench_torchvision_loader.py");
            List<String> cmd = List.of(
                    python.path.toString(),
                    script.toString(),
                    dir.toString(),
                    String.valueOf(size.imgSize),
                    String.valueOf(size.batchSize),
                    String.valueOf(workers),
                    String.valueOf(epochs));
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
                NativeAllocator.removeLauncherPreload(pb.environment());
                Process p = pb.start();
                p.getOutputStream().close();
                String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int status = p.waitFor();
                Matcher m = Pattern.compile("= ([0-9.]+) images/s").matcher(text);
                if (status != 0 || !m.find()) {
                    String last = text.strip().lines().reduce((a, b) -> b).orElse("no output");
                    throw new JimmException(String.join(" ", cmd) + " failed (status " + status + "): " + last);
                }
                return Double.parseDouble(m.group(1));
            } catch (IOException e) {
                throw new JimmException("cannot run " + python.path + " (" + e.getMessage() + ")", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new JimmException("interrupted while running " + String.join(" ", cmd), e);
            }
        }
    }
}
