package dev.jimm.bench;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.jimm.JimmException;
import dev.jimm.layers.Init;
import dev.jimm.layers.Module;
import dev.jimm.models.ImageModel;
import dev.jimm.models.InferenceModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * {@code jimm bench --compare onnxruntime} for one model: the same network with the same weights in jimm's inference
 * path ({@link ImageModel#optimizeForInference}: BatchNorm folded, pre-packed convolutions, no autograd) and in ONNX
 * Runtime's Java API ({@link OnnxRuntimeSide}), on the same random batch, in the same JVM with the same thread count.
 * Both outputs of that batch are compared first, so that the figures are of one function; then each round measures
 * jimm's throughput and batch-1 latency and then ONNX Runtime's, and the medians over rounds are reported.
 */
public final class OnnxComparison {
    private OnnxComparison() {}

    /**
     * torchvision's builds of the bench's five architectures, whose state_dict keys jimm's {@code tv/} models carry.
     */
    public static final List<String> DEFAULT_MODELS =
            List.of("tv/resnet18", "tv/resnet50", "tv/mobilenet_v3_large", "tv/convnext_tiny", "tv/vit_b_16");

    /** Largest max|jimm - ONNX Runtime| / max|ONNX Runtime| of two float32 runs of one function. */
    public static final double MAX_RELATIVE_DIFFERENCE = 1e-3;

    /** Exports a model with its present weights to an ONNX file; empty when it has no equivalent to export. */
    @FunctionalInterface
    public interface Exporter {
        /** The ONNX file of {@code model} at {@code imgSize}, or empty. */
        Optional<Path> export(ImageModel model, int imgSize);
    }

    /**
     * One model's medians (NaN where a mode was not measured) and how far the two outputs of the batch are apart.
     *
     * @param maxRelativeDifference max|jimm - ONNX Runtime| / max|ONNX Runtime| over the batch's logits
     * @param onnxRuntimeVersion the ONNX Runtime that ran
     */
    public record Result(
            String model,
            long params,
            long forwardMacs,
            double jimmInferImgS,
            double jimmLatencyMs,
            double onnxInferImgS,
            double onnxLatencyMs,
            double maxRelativeDifference,
            String onnxRuntimeVersion) {}

    /**
     * Measures {@code name} as {@code o} asks (its infer and latency modes) over {@code rounds} alternating rounds;
     * empty when the exporter has no equivalent of the model. libtorch's thread count must be set by the caller.
     */
    public static Optional<Result> run(String name, BenchOptions o, int rounds, Exporter exporter, PrintWriter err) {
        try (ImageModel model = Models.createModel(
                name, ModelOptions.builder().numClasses(o.numClasses()).build())) {
            randomizeStatistics(model, 0);
            Optional<Path> onnx = exporter.export(model, o.imgSize());
            if (onnx.isEmpty()) {
                return Optional.empty();
            }
            long macs = FlopCounter.forwardMacs(model, new Shape(1, model.inChans(), o.imgSize(), o.imgSize()));
            long[] shape = {o.batchSize(), model.inChans(), o.imgSize(), o.imgSize()};
            long[] shape1 = {1, shape[1], shape[2], shape[3]};
            float[] xs = input(shape);
            float[] x1s = new float[xs.length / o.batchSize()];
            System.arraycopy(xs, 0, x1s, 0, x1s.length);
            try (InferenceModel fast = model.optimizeForInference();
                    OnnxRuntimeSide ort = new OnnxRuntimeSide(onnx.get(), o.threads());
                    NDManager data = NDManager.newBaseManager()) {
                NDArray x = data.create(xs, new Shape(shape));
                NDArray x1 = data.create(x1s, new Shape(shape1));
                double diff = maxRelativeDifference(jimmOutput(fast, x), ort.forward(xs, shape));
                List<double[]> figures = new ArrayList<>();
                for (int round = 1; round <= rounds; round++) {
                    String tag = rounds > 1 ? " round " + round + "/" + rounds : "";
                    double[] f = {Double.NaN, Double.NaN, Double.NaN, Double.NaN};
                    err.println("jimm bench: " + name + " (jimm)" + tag);
                    err.flush();
                    if (o.modes().contains("infer")) {
                        f[0] = ModelBench.inferThroughput(fast, x, o.warmup(), o.iters());
                    }
                    if (o.modes().contains("latency")) {
                        f[1] = ModelBench.latencyMs(fast, x1, o.warmup(), o.latencyIters());
                    }
                    err.println("jimm bench: " + name + " (ONNX Runtime)" + tag);
                    err.flush();
                    if (o.modes().contains("infer")) {
                        f[2] = ort.inferThroughput(xs, shape, o.warmup(), o.iters());
                    }
                    if (o.modes().contains("latency")) {
                        f[3] = ort.latencyMs(x1s, shape1, o.warmup(), o.latencyIters());
                    }
                    figures.add(f);
                }
                return Optional.of(new Result(
                        name,
                        model.numParameters(),
                        macs,
                        median(figures, 0),
                        median(figures, 1),
                        median(figures, 2),
                        median(figures, 3),
                        diff,
                        ort.version()));
            }
        }
    }

    /** The benchmark's input of {@code shape}: standard normal values from seed 0. */
    private static float[] input(long[] shape) {
        float[] xs = new float[Math.toIntExact(shape[0] * shape[1] * shape[2] * shape[3])];
        Random r = new Random(0);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) r.nextGaussian();
        }
        return xs;
    }

    /**
     * One row's two profiles: the model, "latency" (batch 1) or "infer" (the bench's batch), jimm's, ONNX Runtime's.
     */
    public record ProfiledRow(String model, String measure, InferenceProfile jimm, InferenceProfile onnxRuntime) {}

    /**
     * Profiles {@code name} as {@link #run} measures it, once per mode {@code o} asks for (batch 1 for latency, the
     * bench's batch for infer): {@code forwards} passes after {@code o.warmup()} on each side, under libtorch's
     * profiler and under ONNX Runtime's, whose traces are written to {@code dir}. Empty when the exporter has no
     * equivalent.
     */
    public static List<ProfiledRow> profile(String name, BenchOptions o, int forwards, Exporter exporter, Path dir) {
        List<ProfiledRow> rows = new ArrayList<>();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new JimmException(dir + ": cannot create the profile folder: " + e.getMessage(), e);
        }
        try (ImageModel model = Models.createModel(
                name, ModelOptions.builder().numClasses(o.numClasses()).build())) {
            randomizeStatistics(model, 0);
            Optional<Path> onnx = exporter.export(model, o.imgSize());
            if (onnx.isEmpty()) {
                return rows;
            }
            try (InferenceModel fast = model.optimizeForInference();
                    NDManager data = NDManager.newBaseManager()) {
                for (String measure : List.of("latency", "infer")) {
                    if (!o.modes().contains(measure)) {
                        continue;
                    }
                    long[] shape = {
                        measure.equals("latency") ? 1 : o.batchSize(), model.inChans(), o.imgSize(), o.imgSize()
                    };
                    float[] xs = input(shape);
                    String file = name.replaceAll("[^A-Za-z0-9_.-]", "_") + "-" + measure;
                    InferenceProfile jimm = profileJimm(
                            fast,
                            data.create(xs, new Shape(shape)),
                            o.warmup(),
                            forwards,
                            dir.resolve(file + "-jimm.json"));
                    InferenceProfile ort = OnnxRuntimeSide.profile(
                            onnx.get(), o.threads(), xs, shape, o.warmup(), forwards, dir.resolve(file + "-ort"));
                    rows.add(new ProfiledRow(name, measure, jimm, ort));
                }
            }
        }
        return rows;
    }

    /** libtorch's profile of {@code forwards} passes of {@code x} after {@code warmup} unprofiled ones. */
    static InferenceProfile profileJimm(InferenceModel model, NDArray x, int warmup, int forwards, Path trace) {
        for (int i = 0; i < warmup; i++) {
            jimmOutput(model, x);
        }
        JniUtils.startProfile(false, false, false);
        long t0 = System.nanoTime();
        try {
            for (int i = 0; i < forwards; i++) {
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    model.forward(x);
                }
            }
        } finally {
            JniUtils.stopProfile(trace.toString());
        }
        return InferenceProfile.ofLibtorch(trace, forwards, (System.nanoTime() - t0) / 1e6);
    }

    private static float[] jimmOutput(InferenceModel model, NDArray x) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return model.forward(x).toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    private static double median(List<double[]> figures, int i) {
        return Rounds.median(figures.stream().mapToDouble(f -> f[i]).toArray());
    }

    /** max|a - b| / max|b| over two outputs of the same shape (NaN when b is all zeros or they differ in length). */
    public static double maxRelativeDifference(float[] a, float[] b) {
        if (a.length != b.length) {
            return Double.NaN;
        }
        double diff = 0;
        double scale = 0;
        for (int i = 0; i < a.length; i++) {
            diff = Math.max(diff, Math.abs((double) a[i] - b[i]));
            scale = Math.max(scale, Math.abs((double) b[i]));
            if (Double.isNaN(a[i]) || Double.isNaN(b[i])) {
                return Double.NaN;
            }
        }
        return scale == 0 ? Double.NaN : diff / scale;
    }

    /**
     * Gives a freshly built model's BatchNorm running statistics random values (means N(0, 0.1²), variances in [0.5,
     * 1.5)) and every all-zero floating-point tensor N(0, 0.02²) values, drawn from {@code seed} and each key, so that
     * the folding and every output logit are exercised when two runtimes' outputs are compared: torchvision initialises
     * ViT's head to zeros, which would make both outputs all zero.
     */
    static void randomizeStatistics(ImageModel model, long seed) {
        for (Map.Entry<String, NDArray> e : model.stateDict().entrySet()) {
            NDArray a = e.getValue();
            if (a.getDataType() != DataType.FLOAT32) {
                continue;
            }
            SplittableRandom r = new SplittableRandom(seed ^ e.getKey().hashCode());
            if (e.getKey().endsWith("running_mean")) {
                Init.normal(a, 0.1, r);
            } else if (e.getKey().endsWith("running_var")) {
                float[] v = new float[Math.toIntExact(a.size())];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (0.5 + r.nextDouble());
                }
                Module.assign(a, v);
            } else if (isAllZero(a)) {
                Init.normal(a, 0.02, r);
            }
        }
    }

    private static boolean isAllZero(NDArray a) {
        try (NDScope scope = new NDScope()) {
            scope.suppressNotUsedWarning();
            return a.size() > 0 && a.abs().max().getFloat() == 0f;
        }
    }
}
