package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import dev.jimm.data.Batch;
import dev.jimm.data.BatchSource;
import dev.jimm.data.DataLoaders;
import dev.jimm.hub.WeightHub;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.GroupNorm;
import dev.jimm.layers.Module;
import dev.jimm.models.FeatureInfo;
import dev.jimm.models.ImageModel;
import dev.jimm.models.InitFromData;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.Models;
import dev.jimm.train.Learner;
import dev.jimm.train.Loss;
import dev.jimm.train.Metric;
import dev.jimm.train.ParamGroup;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * fastai's vision_learner: a registered backbone cut at its pooling, a new head for the data's classes, and parameter
 * groups (early body, late body, head) for freezing and discriminative learning rates. Pretrained weights come from the
 * hub, a file, or the body of a jimm export.
 *
 * <pre>{@code
 * // from a folder with one subfolder per class, with jimm train's defaults
 * try (Learner learn = VisionLearner.fromFolder(Path.of("letters"), "resnet18")) {
 *     learn.fitOneCycle(5, 1e-3);
 *     learn.export(Path.of("letters.safetensors"));
 * }
 * // or over loaders of your own (their preprocessing recorded for the export)
 * Learner learn = VisionLearner.create(dls.withPreprocessing(pre),
 *         VisionLearner.Options.of("resnet50").pretrained(true), b -> b.metrics(Metric.accuracy()));
 * }</pre>
 */
public final class VisionLearner {
    private VisionLearner() {}

    /**
     * How to build the model.
     *
     * @param weights a checkpoint of the backbone, or a jimm export (its body), or null
     * @param pretrained whether the body comes from the hub's default (or {@code arch.tag}) weights
     * @param hub where those are fetched and cached (null: {@link WeightHub#fromEnvironment()})
     * @param imgSize the input size of the data, given to architectures built for one size (ViT, Swin: timm's
     *     {@code img_size}; their position tables are then made, or resampled from the weights, for it), or null for
     *     the architecture's own; other architectures run at any size and ignore it
     */
    public record Options(
            String arch,
            Path weights,
            FastaiHead head,
            int inChans,
            long seed,
            double dropPathRate,
            boolean pretrained,
            WeightHub hub,
            boolean zeroInitLast,
            Integer imgSize) {
        public Options {
            if (pretrained && weights != null) {
                throw new IllegalArgumentException("VisionLearner.Options: pretrained(true) and weights(" + weights
                        + ") both name the starting weights; give one");
            }
        }

        public static Options of(String arch) {
            return new Options(arch, null, FastaiHead.defaults(), 3, 0, 0, false, null, true, null);
        }

        /** Weights for the body: a checkpoint of the backbone, or a jimm export (its body is used). */
        public Options weights(Path file) {
            return with(b -> b.weights = file);
        }

        /** The body from the hub's pretrained weights of {@code arch} (the head is new). */
        public Options pretrained(boolean value) {
            return with(b -> b.pretrained = value);
        }

        public Options hub(WeightHub value) {
            return with(b -> b.hub = value);
        }

        public Options head(FastaiHead h) {
            return with(b -> b.head = h);
        }

        /** The data's input size, for architectures built for one size (see the record's {@code imgSize}). */
        public Options imgSize(int size) {
            return with(b -> b.imgSize = size);
        }

        public Options inChans(int c) {
            return with(b -> b.inChans = c);
        }

        public Options seed(long s) {
            return with(b -> b.seed = s);
        }

        public Options dropPathRate(double r) {
            return with(b -> b.dropPathRate = r);
        }

        /**
         * timm's zero_init_last for a body trained from scratch (ResNet, RegNet); off starts blocks as torchvision's.
         */
        public Options zeroInitLast(boolean value) {
            return with(b -> b.zeroInitLast = value);
        }

        /** These options with one field changed: the record's fields as mutable copies, set by {@code change}. */
        private Options with(Consumer<Fields> change) {
            Fields f = new Fields(this);
            change.accept(f);
            return new Options(
                    f.arch,
                    f.weights,
                    f.head,
                    f.inChans,
                    f.seed,
                    f.dropPathRate,
                    f.pretrained,
                    f.hub,
                    f.zeroInitLast,
                    f.imgSize);
        }

        /** The fields of an {@link Options}, mutable. */
        private static final class Fields {
            String arch;
            Path weights;
            FastaiHead head;
            int inChans;
            long seed;
            double dropPathRate;
            boolean pretrained;
            WeightHub hub;
            boolean zeroInitLast;
            Integer imgSize;

            Fields(Options o) {
                arch = o.arch;
                weights = o.weights;
                head = o.head;
                inChans = o.inChans;
                seed = o.seed;
                dropPathRate = o.dropPathRate;
                pretrained = o.pretrained;
                hub = o.hub;
                zeroInitLast = o.zeroInitLast;
                imgSize = o.imgSize;
            }
        }

        /** Whether the body starts from trained weights (then fastai trains with fine_tune). */
        public boolean startsTrained() {
            return pretrained || weights != null;
        }
    }

    /** Builds the model: the body (pretrained if asked) and a freshly initialized head. */
    public static VisionModel buildModel(Options o, int numClasses) {
        ModelOptions.Builder mb = ModelOptions.builder()
                .numClasses(0)
                .globalPool("")
                .inChans(o.inChans())
                .seed(o.seed())
                .dropPathRate(o.dropPathRate())
                .zeroInitLast(o.zeroInitLast());
        if (o.imgSize() != null
                && ModelRegistry.builtIn()
                        .entry(ModelRegistry.baseName(o.arch()))
                        .takesImgSize()) {
            mb.imgSize(o.imgSize());
        }
        ImageModel body;
        if (o.weights() != null && Export.isExport(o.weights())) {
            body = Models.createModel(o.arch(), mb.build());
            Export.loadBodyInto(o.weights(), body);
        } else {
            if (o.weights() != null) {
                mb.pretrainedFile(o.weights());
            } else if (o.pretrained()) {
                mb.pretrained(true).hub(o.hub());
            }
            body = Models.createModel(o.arch(), mb.build());
        }
        Module head = o.head().build(body.numFeatures(), numClasses);
        VisionModel model = new VisionModel(body, head);
        model.materialize(body.getManager());
        head.initialize(new SplittableRandom(o.seed() ^ 0x5DEECE66DL));
        model.eval();
        return model;
    }

    /**
     * A learner over {@code dls} for the architecture in {@code o}; {@code configure} sets loss, metrics, optimizer,
     * callbacks… on the builder (the parameter groups are set here). The learner owns the model it builds and
     * {@link Learner#export exports} it with the data's class names and preprocessing.
     *
     * @throws IllegalArgumentException when the data's images have another channel count than {@code o.inChans()}
     */
    public static Learner create(DataLoaders dls, Options o, Consumer<Learner.Builder> configure) {
        Preprocessing pre = dls.preprocessing();
        if (pre != null && pre.channels() != o.inChans()) {
            throw new IllegalArgumentException("the data gives " + pre.channels() + "-channel images but " + o.arch()
                    + " would be built for " + o.inChans() + ": use VisionLearner.Options.of(\"" + o.arch()
                    + "\").inChans(" + pre.channels() + ")");
        }
        VisionModel model = buildModel(o, dls.numClasses());
        if (o.weights() == null && !o.pretrained() && model.body() instanceof InitFromData init) {
            initFromData(init, dls.train());
        }
        // the model is built here and reachable only through the learner, so closing the learner frees it
        Learner.Builder b = Learner.builder(model, dls)
                .seed(o.seed())
                .paramGroups(paramGroups(model), normParams(model))
                .closeModel(true)
                .exporter((learner, file) -> export(learner, o, file));
        configure.accept(b);
        return b.build();
    }

    /** Hands a model the first training images of epoch 0 (up to what it asks for) for its data-dependent start. */
    private static void initFromData(InitFromData init, BatchSource train) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDList parts = new NDList();
            long have = 0;
            Iterator<Batch> it = train.batches(0, m);
            try {
                while (have < init.initImages() && it.hasNext()) {
                    NDArray x = it.next().x();
                    parts.add(x);
                    have += x.getShape().get(0);
                }
            } finally {
                BatchSource.close(it);
            }
            if (parts.isEmpty()) {
                return;
            }
            NDArray all = NDArrays.concat(parts);
            init.initFromData(all.get(new NDIndex(":{}", Math.min(have, init.initImages()))));
        }
    }

    /**
     * fastai's {@code vision_learner(ImageDataLoaders.from_folder(folder), arch)} in one call, with the defaults of
     * {@code jimm train}: a seeded 20% validation split, the data pipeline chosen by the folder's kind of images, the
     * fastai head, AdamW, accuracy and error rate. Train it with {@link Learner#fineTune(int)} (from weights) or
     * {@link Learner#fitOneCycle(int, double)}; closing it frees the model and the data.
     *
     * <pre>{@code
     * try (Learner learn = VisionLearner.fromFolder(Path.of("letters"), "resnet18")) {
     *     learn.fitOneCycle(5, 1e-3);
     *     learn.export(Path.of("letters.safetensors"));      // then ImageClassifier.load
     * }
     * }</pre>
     */
    public static Learner fromFolder(Path folder, String arch) {
        return fromRecipe(
                TrainRecipe.Config.builder(folder.toString()).model(arch).build());
    }

    /**
     * As {@link #fromFolder}, with every choice of a recipe config (data folder or dataset name, model, weights, image
     * size, batch size, augmentation, seed...); the config's schedule (epochs, lr) is for {@link TrainRecipe#run} and
     * is not used here.
     */
    public static Learner fromRecipe(TrainRecipe.Config c) {
        NDManager data = NDManager.newBaseManager();
        try {
            TrainRecipe.Data d = TrainRecipe.prepareData(c, data);
            return create(
                    d.loaders(),
                    TrainRecipe.learnerOptions(c, d),
                    b -> b.metrics(Metric.accuracy(), Metric.errorRate())
                            .loss(Loss.crossEntropy(c.labelSmoothing()))
                            .closing(data));
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    private static void export(Learner learner, Options o, Path file) {
        DataLoaders dls = learner.dls();
        if (dls.preprocessing() == null) {
            throw new IllegalStateException("cannot export: the learner's data carry no eval preprocessing, so a"
                    + " classifier could not prepare images as training did; make the loaders with"
                    + " DataLoaders.withPreprocessing(...) or VisionLearner.fromFolder");
        }
        Export.write(
                file,
                (VisionModel) learner.model(),
                new Export.Spec(o.arch(), o.inChans(), o.head(), dls.classes(), dls.preprocessing()));
    }

    /**
     * fastai's split for a backbone with a head: the body up to its middle feature level, the rest of the body, the
     * head (for ResNets: stem to layer2, layer3–layer4, head).
     */
    public static List<ParamGroup> paramGroups(VisionModel model) {
        List<FeatureInfo> fi = model.body().featureInfo();
        String mid = fi.isEmpty() ? null : "0." + fi.get(fi.size() / 2).module();
        Map<String, Parameter> early = new LinkedHashMap<>();
        Map<String, Parameter> late = new LinkedHashMap<>();
        Map<String, Parameter> head = new LinkedHashMap<>();
        boolean pastMid = mid == null;
        boolean inMid = false;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            String k = e.getKey();
            if (k.startsWith("1.")) {
                head.put(k, e.getValue());
                continue;
            }
            boolean matches = mid != null && (k.equals(mid) || k.startsWith(mid + "."));
            if (inMid && !matches) {
                pastMid = true;
            }
            inMid = matches;
            (pastMid ? late : early).put(k, e.getValue());
        }
        List<ParamGroup> groups = new ArrayList<>();
        if (!early.isEmpty()) {
            groups.add(new ParamGroup("body_early", early));
        }
        if (!late.isEmpty()) {
            groups.add(new ParamGroup("body_late", late));
        }
        groups.add(new ParamGroup("head", head));
        return groups;
    }

    /** Names of the parameters of normalization layers (kept trainable when frozen). */
    public static Set<String> normParams(Module model) {
        Set<String> out = new HashSet<>();
        for (Map.Entry<String, Module> e : model.namedModules().entrySet()) {
            Module m = e.getValue();
            if (m instanceof BatchNorm2d
                    || m instanceof GroupNorm
                    || m.getClass().getSimpleName().contains("Norm")) {
                String prefix = e.getKey().isEmpty() ? "" : e.getKey() + ".";
                m.directParameters().keySet().forEach(p -> out.add(prefix + p));
            }
        }
        return out;
    }
}
