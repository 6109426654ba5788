package dev.jimm.bench;

import com.google.gson.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * What {@code jimm bench} measures.
 *
 * @param models model names (none: only the recipe, if asked)
 * @param batchSize batch of the training and throughput rows
 * @param imgSize square input size
 * @param threads intra-op threads of libtorch (and of PyTorch in the comparison)
 * @param iters timed steps per throughput row
 * @param warmup untimed steps before them
 * @param latencyIters timed batch-1 calls (the median is reported)
 * @param modes any of train, bare, infer, latency
 * @param numClasses classifier outputs
 */
public record BenchOptions(
        List<String> models,
        int batchSize,
        int imgSize,
        int threads,
        int iters,
        int warmup,
        int latencyIters,
        Set<String> modes,
        int numClasses) {
    /** Every mode, in the order rows are printed. */
    public static final List<String> MODES = List.of("train", "bare", "infer", "latency");

    /** The five models. */
    public static final List<String> DEFAULT_MODELS =
            List.of("resnet18", "resnet50", "mobilenetv3_large_100", "convnext_tiny", "vit_small_patch16_224");

    public BenchOptions {
        models = List.copyOf(models);
        modes = Set.copyOf(modes);
        check("--batch-size", batchSize, 1);
        check("--img-size", imgSize, 8);
        check("--threads", threads, 1);
        check("--iters", iters, 1);
        check("--warmup", warmup, 0);
        check("--latency-iters", latencyIters, 1);
        check("--num-classes", numClasses, 1);
        for (String m : modes) {
            if (!MODES.contains(m)) {
                throw new IllegalArgumentException("--mode '" + m + "' is not one of " + String.join(", ", MODES));
            }
        }
        if (modes.isEmpty()) {
            throw new IllegalArgumentException("--mode needs at least one of " + String.join(", ", MODES));
        }
    }

    private static void check(String name, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
        }
    }

    /** The settings every report prints in its JSON {@code config}: batch, size, threads and run counts. */
    public JsonObject toJson() {
        JsonObject cfg = new JsonObject();
        cfg.addProperty("batch_size", batchSize());
        cfg.addProperty("img_size", imgSize());
        cfg.addProperty("threads", threads());
        cfg.addProperty("iters", iters());
        cfg.addProperty("warmup", warmup());
        cfg.addProperty("latency_iters", latencyIters());
        return cfg;
    }
}
