package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import dev.jimm.hub.Checkpoints;
import dev.jimm.hub.WeightHub;
import dev.jimm.layers.StateDictException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.LoggerFactory;

/**
 * Creating models by name, as timm's {@code create_model} and {@code list_models}.
 *
 * <pre>{@code
 * try (ImageModel m = Models.createModel("resnet18d", ModelOptions.builder().numClasses(10).build())) {
 *     NDArray logits = m.forward(images);
 * }
 * }</pre>
 */
public final class Models {
    private Models() {}

    /** A model with its default head, randomly initialized. */
    public static ImageModel createModel(String name) {
        return createModel(name, ModelOptions.defaults());
    }

    /** timm's {@code create_model(name, pretrained, num_classes, global_pool)}. */
    public static ImageModel createModel(String name, boolean pretrained, int numClasses, String globalPool) {
        return createModel(
                name,
                ModelOptions.builder()
                        .pretrained(pretrained)
                        .numClasses(numClasses)
                        .globalPool(globalPool)
                        .build());
    }

    /** A model by name ({@code name} or {@code name.tag}) with the given options. */
    public static ImageModel createModel(String name, ModelOptions options) {
        return createModel(ModelRegistry.builtIn(), name, options);
    }

    /** As {@link #createModel(String, ModelOptions)}, from a given registry. */
    public static ImageModel createModel(ModelRegistry registry, String name, ModelOptions options) {
        if (options.featuresOnly()) {
            throw new IllegalArgumentException("featuresOnly models come from createFeatureExtractor");
        }
        String base = ModelRegistry.baseName(name);
        ModelEntry entry = registry.entry(base);
        PretrainedCfg cfg = registry.config(name);
        Integer imgSize = null;
        if (entry.takesImgSize()) {
            // timm passes the pretrained config's input size as img_size to models of a fixed input size
            imgSize = options.imgSize() != null
                    ? options.imgSize()
                    : cfg.inputSize().get(2);
            if (options.imgSize() != null) {
                cfg = cfg.withInputSize(options.imgSize());
            }
        } else if (options.imgSize() != null) {
            throw new JimmException("cannot build " + base + " with imgSize " + options.imgSize()
                    + ": it is not built for one input size (as timm's img_size) and runs at any size;"
                    + " resize the images instead (its pretrained config says "
                    + cfg.inputSize().get(2) + ")");
        }
        ModelArgs args = new ModelArgs(
                options.numClasses() == null ? cfg.numClasses() : options.numClasses(),
                options.inChans(),
                options.globalPool() == null ? entry.defaultGlobalPool() : options.globalPool(),
                options.dropRate(),
                options.dropPathRate(),
                options.zeroInitLast(),
                imgSize,
                options.outputStride());
        ImageModel model;
        try {
            model = entry.factory().apply(args);
        } catch (IllegalArgumentException e) {
            throw new JimmException("cannot build " + base + ": " + e.getMessage(), e);
        }
        requireOutputStride(base, model, args.outputStride());
        model.setIdentity(base, cfg);
        NDManager manager = NDManager.newBaseManager();
        model.setOwnedManager(manager);
        model.materialize(manager);
        model.initialize(new SplittableRandom(options.seed()));
        model.eval();
        if (options.pretrained()) {
            try {
                loadPretrained(model, registry, name, options);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
        return model;
    }

    /**
     * A family that ignores {@code outputStride} (timm's would refuse the keyword) is caught here: the deepest feature
     * level must be at the asked stride.
     */
    private static void requireOutputStride(String name, ImageModel model, int outputStride) {
        if (outputStride == ModelArgs.DEFAULT_OUTPUT_STRIDE) {
            return;
        }
        List<FeatureInfo> levels = model.featureInfo();
        int reached = levels.isEmpty() ? -1 : levels.get(levels.size() - 1).reduction();
        if (reached != outputStride) {
            throw new JimmException("cannot build " + name + " with outputStride " + outputStride
                    + ": its features reach" + " stride " + reached + " (its family does not take output_stride)");
        }
    }

    private static void loadPretrained(ImageModel model, ModelRegistry registry, String name, ModelOptions options) {
        Path file = options.pretrainedFile();
        String base = ModelRegistry.baseName(name);
        if (file == null) {
            List<PretrainedCfg> tags = registry.pretrainedTags(base);
            if (tags.isEmpty()) {
                String stem = base.replaceAll("[0-9_].*$", "");
                List<String> like = registry.list((stem.isEmpty() ? base : stem) + "*", true);
                throw new JimmException("model " + base + " has no pretrained weights"
                        + (like.isEmpty()
                                ? ""
                                : "; names like it that have some: "
                                        + String.join(", ", like.subList(0, Math.min(8, like.size())))
                                        + (like.size() > 8 ? ", …" : ""))
                        + "; or pass a local checkpoint with pretrainedFile");
            }
            WeightHub hub = options.hub() != null ? options.hub() : WeightHub.fromEnvironment();
            file = hub.fetch(model.pretrainedCfg()).file();
        }
        try (NDManager scratch = model.getManager().newSubManager()) {
            Map<String, NDArray> sd = Checkpoints.load(file, scratch, options.keyMapping());
            PretrainedLoader.Report r;
            try {
                r = PretrainedLoader.load(model, sd);
            } catch (StateDictException e) {
                throw withArchitectureHint(e, file, sd, model, registry);
            }
            if (!r.keptAtInit().isEmpty()) {
                LoggerFactory.getLogger(Models.class)
                        .info(
                                "{}: the checkpoint's {} differ in size; left at init: {}",
                                model.name(),
                                r.keptAtInit().size() == 1 ? "key" : "keys",
                                String.join(", ", r.keptAtInit()));
            }
        }
    }

    /**
     * A load error naming the file, with what to do when most keys do not fit: strip a wrapping prefix, or build the
     * architecture the checkpoint's keys belong to.
     */
    private static StateDictException withArchitectureHint(
            StateDictException e, Path file, Map<String, NDArray> sd, ImageModel model, ModelRegistry registry) {
        int wrong = e.missingKeys().size()
                + e.unexpectedKeys().size()
                + e.mismatchedKeys().size();
        StateDictException named = e.withHint("file " + file);
        if (wrong * 4 < sd.size()) {
            return named;
        }
        Map<String, Shape> shapes = new LinkedHashMap<>();
        sd.forEach((k, v) -> shapes.put(k, v.getShape()));
        return ArchitectureGuess.hint(shapes, model, registry)
                .map(named::withHint)
                .orElse(named);
    }

    /** A features-only model returning the maps of {@code options.outIndices()} (all by default). */
    public static FeatureExtractor createFeatureExtractor(String name, ModelOptions options) {
        ModelOptions.Builder b = ModelOptions.builder()
                .pretrained(options.pretrained() && options.pretrainedFile() == null)
                .inChans(options.inChans())
                .outputStride(options.outputStride())
                .seed(options.seed());
        if (options.dropPathRate() != null) {
            b.dropPathRate(options.dropPathRate());
        }
        if (options.imgSize() != null) {
            b.imgSize(options.imgSize());
        }
        if (options.pretrainedFile() != null) {
            b.pretrainedFile(options.pretrainedFile());
        }
        b.hub(options.hub());
        b.keyMapping(options.keyMapping());
        ImageModel model = createModel(name, b.build());
        return new FeatureExtractor(model, options.outIndices());
    }

    /** Registered names matching a wildcard pattern such as {@code resnet*}. */
    public static List<String> listModels(String pattern) {
        return ModelRegistry.builtIn().list(pattern);
    }

    /**
     * Pretrained weights as {@code name.tag} whose name (or {@code name.tag}) matches the pattern, as timm's
     * {@code list_pretrained}: {@code listPretrained("resnet50")} gives {@code resnet50.a1_in1k},
     * {@code resnet50.a1h_in1k}, ...
     */
    public static List<String> listPretrained(String pattern) {
        return ModelRegistry.builtIn().listPretrained(pattern);
    }
}
