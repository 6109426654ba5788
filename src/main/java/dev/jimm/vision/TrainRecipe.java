package dev.jimm.vision;

import ai.djl.ndarray.NDManager;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.jimm.JimmException;
import dev.jimm.JimmHome;
import dev.jimm.data.CifarDataset;
import dev.jimm.data.DatasetSources;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.Downloads;
import dev.jimm.data.ImageDataset;
import dev.jimm.data.ImageDecoder;
import dev.jimm.data.ImageFolderDataset;
import dev.jimm.data.Split;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.PretrainedCfg;
import dev.jimm.train.Callback;
import dev.jimm.train.Callbacks;
import dev.jimm.train.DataLoaders;
import dev.jimm.train.Learner;
import dev.jimm.train.Loss;
import dev.jimm.train.LrFinder;
import dev.jimm.train.Metric;
import dev.jimm.transforms.Interpolation;
import dev.jimm.transforms.PreprocessConfig;
import dev.jimm.transforms.RandomCrop;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import dev.jimm.transforms.Transforms;
import dev.jimm.transforms.Pipelines;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training job behind {@code jimm train} and {@code jimm demo}: data by folder or dataset name,
 * a vision learner, fine_tune (pretrained) or fit_one_cycle (from scratch), and a run folder with
 * the config, logs, checkpoints and the exported model.
 */
public final class TrainRecipe {
    /** Everything a training run is given. */
    public record Config(
            String data, Path dataRoot, String model, boolean pretrained, Path weights, int epochs, Double lr,
            int freezeEpochs, int batchSize, Integer imgSize, double validPct, long seed, Path out, int threads,
            boolean linearHead, String lrSuggestion, boolean skipBadImages, double labelSmoothing, boolean tta) {
        /** Plain cross-entropy, no test-time augmentation. */
        public Config(String data, Path dataRoot, String model, boolean pretrained, Path weights, int epochs, Double lr,
                      int freezeEpochs, int batchSize, Integer imgSize, double validPct, long seed, Path out, int threads,
                      boolean linearHead, String lrSuggestion, boolean skipBadImages) {
            this(data, dataRoot, model, pretrained, weights, epochs, lr, freezeEpochs, batchSize, imgSize, validPct, seed,
                    out, threads, linearHead, lrSuggestion, skipBadImages, 0, false);
        }

        /** Bad images are errors. */
        public Config(String data, Path dataRoot, String model, boolean pretrained, Path weights, int epochs, Double lr,
                      int freezeEpochs, int batchSize, Integer imgSize, double validPct, long seed, Path out, int threads,
                      boolean linearHead, String lrSuggestion) {
            this(data, dataRoot, model, pretrained, weights, epochs, lr, freezeEpochs, batchSize, imgSize, validPct, seed,
                    out, threads, linearHead, lrSuggestion, false);
        }

        /** With lr_find's valley when {@code lr} is null (fastai's default suggestion). */
        public Config(String data, Path dataRoot, String model, boolean pretrained, Path weights, int epochs, Double lr,
                      int freezeEpochs, int batchSize, Integer imgSize, double validPct, long seed, Path out, int threads,
                      boolean linearHead) {
            this(data, dataRoot, model, pretrained, weights, epochs, lr, freezeEpochs, batchSize, imgSize, validPct, seed,
                    out, threads, linearHead, "valley");
        }

        public Config {
            if (!List.of("valley", "minimum", "steep").contains(lrSuggestion)) {
                throw new IllegalArgumentException("the lr_find suggestion must be valley, minimum or steep, got '" + lrSuggestion + "'");
            }
            if (epochs < 1) {
                throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
            }
            if (lr != null && !(lr > 0 && Double.isFinite(lr))) {
                throw new IllegalArgumentException("--lr must be a positive number or 'auto', got " + lr);
            }
            if (!(validPct > 0 && validPct < 1)) {
                throw new IllegalArgumentException("--valid-pct must be in (0, 1), got " + validPct);
            }
            if (imgSize != null && imgSize < 8) {
                throw new IllegalArgumentException("--img-size must be at least 8, got " + imgSize);
            }
            if (freezeEpochs < 0) {
                throw new IllegalArgumentException("--freeze-epochs must be >= 0, got " + freezeEpochs);
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException("--label-smoothing must be in [0, 1), got " + labelSmoothing);
            }
        }
    }

    /** What a run produced. */
    public record Result(Path runDir, Map<String, Double> metrics, double validLoss, double seconds, Double lrUsed,
            LrFinder.Result lrFind, Learner.Validation validation) {}

    /** The prepared data: loaders, class names and the eval preprocessing to export. */
    public record Data(DataLoaders loaders, Preprocessing preprocessing, int inChans, ImageDataset valid) {}

    private TrainRecipe() {}

    static dev.jimm.data.BadImagePolicy badImages(boolean skip) {
        return skip ? dev.jimm.data.BadImagePolicy.SKIP : dev.jimm.data.BadImagePolicy.ERROR;
    }

    /** Fashion-MNIST's per-pixel mean and std on [0, 1]. */
    static final float[] FMNIST_MEAN = {0.2860f};
    static final float[] FMNIST_STD = {0.3530f};
    static final float[] MNIST_MEAN = {0.1307f};
    static final float[] MNIST_STD = {0.3081f};

    /** Resolves the data argument to datasets and transforms. */
    public static Data prepareData(Config c, NDManager manager) {
        String d = c.data();
        ImageDataset train;
        ImageDataset valid;
        PreprocessConfig pre;
        Transform<DecodedImage, TensorImage> trainTf;
        Transform<DecodedImage, TensorImage> validTf;
        boolean small = true;
        switch (d) {
            case "fashion-mnist", "mnist", "fashion-mnist-sample" -> {
                boolean fashion = !d.equals("mnist");
                train = namedDataset(d, c.dataRoot(), true);
                valid = namedDataset(d, c.dataRoot(), false);
                int size = c.imgSize() == null ? 28 : c.imgSize();
                pre = new PreprocessConfig(1, size, size, Interpolation.BILINEAR, 1.0,
                        fashion ? FMNIST_MEAN : MNIST_MEAN, fashion ? FMNIST_STD : MNIST_STD);
            }
            case "cifar10", "cifar100" -> {
                train = namedDataset(d, c.dataRoot(), true);
                valid = namedDataset(d, c.dataRoot(), false);
                int size = c.imgSize() == null ? 32 : c.imgSize();
                pre = new PreprocessConfig(3, size, size, Interpolation.BILINEAR, 1.0,
                        new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.2470f, 0.2435f, 0.2616f});
            }
            default -> {
                Path root = Path.of(d);
                if (!Files.isDirectory(root)) {
                    throw new JimmException("DATA '" + d + "' is neither a folder nor a dataset name (fashion-mnist, mnist, cifar10, cifar100, fashion-mnist-sample)");
                }
                Split split = ImageFolderDataset.load(root, c.validPct(), c.seed(), new ImageDecoder(), badImages(c.skipBadImages()),
                        System.err::println);
                if (split.train().classes().size() < 2) {
                    throw new JimmException("DATA folder " + root + " has " + split.train().classes().size()
                            + " class folder(s) " + split.train().classes() + "; a classifier needs at least two (one subfolder per class)");
                }
                train = split.train();
                valid = split.valid();
                pre = pretrainedPreprocessing(c);
                small = false;
            }
        }
        if (c.pretrained()) {
            // pretrained weights expect the preprocessing they were trained with: RGB, their mean/std, size, crop
            pre = pretrainedPreprocessing(c);
            small = false;
        }
        if (small) {
            SmallTransforms st = smallTransforms(pre, d.startsWith("cifar") ? 32 : 28);
            trainTf = st.train();
            validTf = st.valid();
        } else {
            trainTf = Pipelines.createTransform(pre, true, PreprocessConfig.Augment.flipOnly());
            validTf = Pipelines.createTransform(pre, false);
        }
        int threads = c.threads() > 0 ? c.threads() : Math.max(1, Runtime.getRuntime().availableProcessors());
        DataLoaders dls = ImageDataLoaders.of(train, valid, trainTf, validTf,
                new ImageDataLoaders.Settings(c.batchSize(), c.seed(), threads, 4, badImages(c.skipBadImages())), manager);
        List<Double> mean = new ArrayList<>();
        List<Double> std = new ArrayList<>();
        for (int i = 0; i < pre.channels(); i++) {
            mean.add((double) pre.mean()[i]);
            std.add((double) pre.std()[i]);
        }
        Preprocessing p = new Preprocessing(pre.channels(), pre.height(),
                pre.interpolation().name().toLowerCase(Locale.ROOT), small ? 1.0 : pre.cropPct(), mean, std);
        return new Data(dls, p, pre.channels(), valid);
    }

    /** RGB at the model's default (pretrained) config: its size unless --img-size, interpolation, crop, mean and std. */
    private static PreprocessConfig pretrainedPreprocessing(Config c) {
        PretrainedCfg cfg = ModelRegistry.builtIn().config(c.model());
        int size = c.imgSize() == null ? cfg.inputSize().get(1) : c.imgSize();
        return new PreprocessConfig(3, size, size, Interpolation.parse(cfg.interpolation()), cfg.cropPct(),
                Preprocessing.floats(cfg.mean()), Preprocessing.floats(cfg.std()));
    }

    /** The train (augmenting) and eval transforms of a small-image dataset. */
    record SmallTransforms(Transform<DecodedImage, TensorImage> train, Transform<DecodedImage, TensorImage> valid) {}

    /** Small images: pad-and-crop and flips instead of RandomResizedCrop, no eval crop. */
    static SmallTransforms smallTransforms(PreprocessConfig pre, int nativeSize) {
        Transform<DecodedImage, DecodedImage> px = Transforms.channels(pre.channels());
        if (pre.height() != nativeSize) {
            px = px.andThen(Transforms.resize(pre.height(), pre.width(), pre.interpolation()));
        }
        Transform<DecodedImage, DecodedImage> trainPx = px.andThen(new RandomCrop(pre.height(), pre.width(), pre.height() / 8))
                .andThen(Transforms.horizontalFlip(0.5));
        return new SmallTransforms(
                trainPx.andThen(Transforms.toTensor()).andThen(Transforms.normalize(pre.mean(), pre.std())),
                px.andThen(Transforms.toTensor()).andThen(Transforms.normalize(pre.mean(), pre.std())));
    }

    /**
     * The images to evaluate a trained model on: a named dataset's test split, or a folder's
     * {@code valid/} (else {@code test/}) subfolder, or the folder itself with one subfolder per class.
     */
    public static ImageDataset evalDataset(String data, Path dataRoot, int channels) {
        return evalDataset(data, dataRoot, channels, dev.jimm.data.BadImagePolicy.ERROR);
    }

    /** {@link #evalDataset(String, Path, int)} with a policy for empty class folders and unreadable entries. */
    public static ImageDataset evalDataset(String data, Path dataRoot, int channels, dev.jimm.data.BadImagePolicy policy) {
        switch (data) {
            case "fashion-mnist", "fashion-mnist-sample", "mnist", "cifar10", "cifar100" -> {
                return namedDataset(data, dataRoot, false);
            }
            default -> {
                Path root = Path.of(data);
                if (!Files.isDirectory(root)) {
                    throw new JimmException("DATA '" + data + "' is neither a folder nor a dataset name (fashion-mnist, mnist, cifar10, cifar100, fashion-mnist-sample)");
                }
                ImageDecoder decoder = new ImageDecoder(dev.jimm.data.DecodeOptions.builder().channels(channels).build());
                for (String sub : List.of("valid", "test")) {
                    if (Files.isDirectory(root.resolve(sub))) {
                        return ImageFolderDataset.of(root.resolve(sub), decoder, policy, System.err::println);
                    }
                }
                return ImageFolderDataset.of(root, decoder, policy, System.err::println);
            }
        }
    }

    /** A named dataset's training or test split, from its folder (downloaded there if missing). */
    static ImageDataset namedDataset(String name, Path dataRoot, boolean train) {
        Path dir = datasetDir(dataRoot, name);
        return switch (name) {
            case "fashion-mnist", "fashion-mnist-sample" -> DatasetSources.fashionMnist(dir, train, new Downloads());
            case "mnist" -> DatasetSources.mnist(dir, train, new Downloads());
            case "cifar10" -> DatasetSources.cifar10(dir, train, new Downloads());
            case "cifar100" -> DatasetSources.cifar100(dir, train, new Downloads());
            default -> throw new IllegalArgumentException("no dataset named '" + name + "'");
        };
    }

    private static Path datasetDir(Path dataRoot, String name) {
        if (name.equals("fashion-mnist-sample")) {
            return samplesDir().resolve("fashion-mnist");
        }
        if (dataRoot != null) {
            Path p = dataRoot.resolve(name);
            return Files.isDirectory(p) ? p : dataRoot;
        }
        return JimmHome.fromEnvironment().resolve("datasets").resolve(name);
    }

    /** The bundled samples: ./samples, or beside the jar's project folder. */
    public static Path samplesDir() {
        Path local = Path.of("samples");
        if (Files.isDirectory(local)) {
            return local;
        }
        try {
            Path jar = Path.of(TrainRecipe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path p = jar.getParent().getParent().resolve("samples");
            if (Files.isDirectory(p)) {
                return p;
            }
        } catch (java.net.URISyntaxException | RuntimeException e) {
            // fall through to the error below
        }
        throw new JimmException("the bundled samples folder is not found (run from the jimm checkout)");
    }

    /** A run folder name: runs/20261124-031500-resnet18. */
    public static Path defaultRunDir(String model) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        return Path.of("runs", stamp + "-" + model.replace('/', '_'));
    }

    /** Builds the learner for a config and prepared data, with the run folder's callbacks. */
    public static Learner learner(Config c, Data data, Path runDir, List<Callback> extra) {
        VisionLearner.Options o = VisionLearner.Options.of(c.model()).inChans(data.inChans()).seed(c.seed())
                .head(c.linearHead() ? FastaiHead.linear() : FastaiHead.defaults());
        if (c.weights() != null) {
            o = o.weights(c.weights());
        }
        if (c.pretrained()) {
            o = o.pretrained(true);
        }
        return VisionLearner.create(data.loaders(), o, b -> {
            int k = data.loaders().numClasses();
            List<Metric> metrics = new ArrayList<>(List.of(Metric.accuracy(), Metric.errorRate()));
            if (k > 5) {
                metrics.add(Metric.topK(5));
            }
            metrics.add(Metric.f1(k));
            b.metrics(metrics.toArray(Metric[]::new)).runDir(runDir).loss(Loss.crossEntropy(c.labelSmoothing()))
                    .callbacks(new Callbacks.CsvLogger(runDir.resolve("metrics.csv")),
                            new Callbacks.JsonLogger(runDir.resolve("metrics.jsonl")),
                            new Callbacks.SaveModel(runDir, "valid_loss", true));
            extra.forEach(b::callbacks);
        });
    }

    /** Runs a whole training job; progress goes to {@code extra} callbacks. */
    public static Result run(Config c, List<Callback> extra) {
        return run(c, extra, false);
    }

    /**
     * Continues the run in {@code runDir} from its last checkpoint (written after every epoch) with
     * the config it was started with, and finishes it exactly as the uninterrupted run would have.
     */
    public static Result resume(Path runDir, List<Callback> extra) {
        Path cfgFile = runDir.resolve("config.json");
        if (!Files.isRegularFile(cfgFile)) {
            throw new JimmException("--resume " + runDir + ": no config.json there (not a jimm run folder)");
        }
        if (!Files.isRegularFile(runDir.resolve("checkpoint.safetensors"))) {
            throw new JimmException("--resume " + runDir + ": no checkpoint.safetensors yet (the run stopped before its first epoch ended); start it again");
        }
        return run(readConfig(cfgFile, runDir), extra, true);
    }

    private static Result run(Config c, List<Callback> extra, boolean resume) {
        long t0 = System.nanoTime();
        Path runDir = c.out() != null ? c.out() : defaultRunDir(c.model());
        try (NDManager manager = NDManager.newBaseManager()) {
            Data data = prepareData(c, manager);
            if (!resume) {
                writeConfig(c, runDir, data);
            }
            try (Learner learner = learner(c, data, runDir, extra)) {
                LrFinder.Result found = null;
                double lr;
                if (resume) {
                    found = readLrFind(runDir.resolve("lr_find.json"));
                    learner.resume(runDir.resolve("checkpoint.safetensors"));
                    lr = learner.plan() == null ? Double.NaN : learner.plan().lrMax()[learner.plan().lrMax().length - 1];
                } else {
                    if (c.lr() == null) {
                        found = learner.lrFind();
                        lr = switch (c.lrSuggestion()) {
                            case "minimum" -> found.minimum();
                            case "steep" -> found.steep();
                            default -> found.valley();
                        };
                        if (!Double.isFinite(lr)) {
                            throw new JimmException("lr_find found no usable learning rate (the training set may be too small); pass --lr");
                        }
                        writeLrFind(found, runDir.resolve("lr_find.json"));
                    } else {
                        lr = c.lr();
                    }
                    if (c.weights() != null || c.pretrained()) {
                        learner.fineTune(c.epochs(), lr, c.freezeEpochs());
                    } else {
                        learner.fitOneCycle(c.epochs(), lr);
                    }
                }
                if (learner.diverged()) {
                    // export, report and charts would all be of the broken weights: write none of them
                    int good = learner.recorder().epochs().size();
                    throw new dev.jimm.train.TrainingDivergedException("training stopped: " + learner.stopReason() + "; "
                            + (good == 0 ? "no epoch completed, so there is no checkpoint"
                                    : runDir.resolve("checkpoint.safetensors") + " keeps epoch " + good
                                    + ", the last good one (continue with: jimm train --resume " + runDir + ")"));
                }
                if (learner.stopReason() != null && learner.recorder().epochs().isEmpty()) {
                    throw new JimmException("training stopped: " + learner.stopReason());
                }
                Learner.Validation v = learner.validate(c.tta());
                Export.write(runDir.resolve("model.safetensors"), (VisionModel) learner.model(),
                        new Export.Spec(c.model(), data.inChans(), c.linearHead() ? FastaiHead.linear() : FastaiHead.defaults(),
                                data.loaders().classes(), data.preprocessing()));
                Interpretation interp = Interpretation.of(learner, 16);
                Map<String, Double> shown = new LinkedHashMap<>();
                shown.put("valid_loss", v.loss());
                shown.putAll(v.metrics());
                RunReport.write(runDir, learner, data.preprocessing(), found, lr, interp, shown, commandLine(c),
                        "jimm run: " + c.model() + " on " + c.data());
                return new Result(runDir, v.metrics(), v.loss(), (System.nanoTime() - t0) / 1e9, lr, found, v);
            }
        }
    }

    private static void writeLrFind(LrFinder.Result r, Path file) {
        JsonObject o = new JsonObject();
        com.google.gson.Gson g = new com.google.gson.Gson();
        o.add("lrs", g.toJsonTree(r.lrs()));
        o.add("losses", g.toJsonTree(r.losses()));
        o.addProperty("valley", r.valley());
        o.addProperty("steep", r.steep());
        o.addProperty("minimum", r.minimum());
        dev.jimm.AtomicFiles.writeString(file, g.toJson(o));
    }

    private static LrFinder.Result readLrFind(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonObject o = com.google.gson.JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            List<Double> lrs = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            o.getAsJsonArray("lrs").forEach(e -> lrs.add(e.getAsDouble()));
            o.getAsJsonArray("losses").forEach(e -> losses.add(e.getAsDouble()));
            return new LrFinder.Result(lrs, losses, o.get("valley").getAsDouble(), o.get("steep").getAsDouble(),
                    o.get("minimum").getAsDouble());
        } catch (java.io.IOException | RuntimeException e) {
            throw new JimmException(file + ": unreadable lr_find record: " + e.getMessage(), e);
        }
    }

    /** The config a run was started with, from its config.json. */
    static Config readConfig(Path file, Path runDir) {
        try {
            JsonObject o = com.google.gson.JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            String lr = o.get("lr").getAsString();
            return new Config(o.get("data").getAsString(), optPath(o, "data_root"), o.get("model").getAsString(),
                    o.has("pretrained") && o.get("pretrained").getAsBoolean(),
                    optPath(o, "weights"), o.get("epochs").getAsInt(), lr.equals("auto") ? null : Double.parseDouble(lr),
                    o.get("freeze_epochs").getAsInt(), o.get("batch_size").getAsInt(),
                    o.has("img_size_arg") && !o.get("img_size_arg").isJsonNull() ? o.get("img_size_arg").getAsInt() : null,
                    o.get("valid_pct").getAsDouble(), o.get("seed").getAsLong(), runDir,
                    o.has("threads") ? o.get("threads").getAsInt() : 0, o.get("head").getAsString().equals("linear"),
                    o.has("lr_suggestion") ? o.get("lr_suggestion").getAsString() : "valley",
                    o.has("skip_bad_images") && o.get("skip_bad_images").getAsBoolean(),
                    o.has("label_smoothing") ? o.get("label_smoothing").getAsDouble() : 0,
                    o.has("tta") && o.get("tta").getAsBoolean());
        } catch (java.io.IOException | RuntimeException e) {
            throw new JimmException(file + ": not a readable run config: " + e.getMessage(), e);
        }
    }

    private static Path optPath(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? Path.of(o.get(key).getAsString()) : null;
    }

    private static void writeConfig(Config c, Path runDir, Data data) {
        JsonObject o = new JsonObject();
        o.addProperty("data", c.data());
        o.addProperty("data_root", c.dataRoot() == null ? null : c.dataRoot().toString());
        o.addProperty("model", c.model());
        o.addProperty("pretrained", c.pretrained());
        o.addProperty("weights", c.weights() == null ? null : c.weights().toString());
        o.addProperty("epochs", c.epochs());
        o.addProperty("lr", c.lr() == null ? "auto" : Double.toString(c.lr()));
        o.addProperty("lr_suggestion", c.lrSuggestion());
        o.addProperty("freeze_epochs", c.freezeEpochs());
        o.addProperty("batch_size", c.batchSize());
        o.addProperty("img_size", data.preprocessing().size());
        o.addProperty("img_size_arg", c.imgSize());
        o.addProperty("threads", c.threads());
        o.addProperty("valid_pct", c.validPct());
        o.addProperty("seed", c.seed());
        o.addProperty("head", c.linearHead() ? "linear" : "fastai");
        o.addProperty("skip_bad_images", c.skipBadImages());
        o.addProperty("label_smoothing", c.labelSmoothing());
        o.addProperty("tta", c.tta());
        o.addProperty("classes", String.join(",", data.loaders().classes()));
        o.addProperty("train_images", data.loaders().train().numSamples());
        o.addProperty("valid_images", data.valid().size());
        o.addProperty("command", commandLine(c));
        dev.jimm.AtomicFiles.writeString(runDir.resolve("config.json"), new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }

    /** The jimm command that repeats this run. */
    public static String commandLine(Config c) {
        StringBuilder sb = new StringBuilder("./jimm train ").append(c.data()).append(" --model ").append(c.model());
        if (c.dataRoot() != null) {
            sb.append(" --data-root ").append(c.dataRoot());
        }
        if (c.pretrained()) {
            sb.append(" --pretrained --freeze-epochs ").append(c.freezeEpochs());
        }
        if (c.weights() != null) {
            sb.append(" --weights ").append(c.weights()).append(" --freeze-epochs ").append(c.freezeEpochs());
        }
        sb.append(" --epochs ").append(c.epochs()).append(" --lr ")
                .append(c.lr() != null ? c.lr().toString() : c.lrSuggestion().equals("valley") ? "auto" : c.lrSuggestion())
                .append(" --batch-size ").append(c.batchSize());
        if (c.imgSize() != null) {
            sb.append(" --img-size ").append(c.imgSize());
        }
        sb.append(" --seed ").append(c.seed());
        if (c.linearHead()) {
            sb.append(" --head linear");
        }
        if (c.skipBadImages()) {
            sb.append(" --skip-bad-images");
        }
        if (c.labelSmoothing() > 0) {
            sb.append(" --label-smoothing ").append(c.labelSmoothing());
        }
        if (c.tta()) {
            sb.append(" --tta");
        }
        return sb.toString();
    }

    /** Final metrics as a JSON line. */
    public static String resultJson(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("run", r.runDir().toString());
        m.put("valid_loss", r.validLoss());
        m.putAll(r.metrics());
        m.put("lr", r.lrUsed());
        m.put("seconds", Math.round(r.seconds() * 10) / 10.0);
        return new com.google.gson.Gson().toJson(m);
    }
}
