package dev.jimm.vision;

import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.AtomicFiles;
import dev.jimm.JimmException;
import dev.jimm.JimmHome;
import dev.jimm.StoppedException;
import dev.jimm.data.BadImagePolicy;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.DecodeOptions;
import dev.jimm.data.ImageDataLoaders;
import dev.jimm.data.ImageDataset;
import dev.jimm.data.ImageDecoder;
import dev.jimm.data.ImageFolderDataset;
import dev.jimm.data.Split;
import dev.jimm.models.ModelRegistry;
import dev.jimm.models.PretrainedCfg;
import dev.jimm.train.Callback;
import dev.jimm.train.Callbacks;
import dev.jimm.train.Learner;
import dev.jimm.train.Lookahead;
import dev.jimm.train.Loss;
import dev.jimm.train.LrFinder;
import dev.jimm.train.Metric;
import dev.jimm.train.ProgressiveResize;
import dev.jimm.train.RunLock;
import dev.jimm.train.TrainingDivergedException;
import dev.jimm.train.Tta;
import dev.jimm.transforms.AugPolicy;
import dev.jimm.transforms.Preprocessing;
import dev.jimm.transforms.ResizeMethod;
import dev.jimm.transforms.TimmAugment;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The training job behind {@code jimm train} and {@code jimm demo}: data by folder or dataset name, a vision learner,
 * fine_tune (pretrained) or fit_one_cycle (from scratch), and a run folder with the config, logs, checkpoints and the
 * exported model.
 */
public final class TrainRecipe {
    /** fastai's default decoupled weight decay, {@code --wd}'s default. */
    public static final double DEFAULT_WD = 0.01;

    /**
     * Everything a training run is given; build one with {@link #builder(String)}.
     *
     * @param lr the peak learning rate, or null for {@code lrSuggestion}
     * @param lrSuggestion with no {@code lr}: fastai's default rate or an lr_find suggestion
     * @param imgSize the training size, or null for the data's regime
     * @param aug the augmentation policy, or null for the data's regime
     * @param flip flips on or off, or null for the data's regime
     * @param resize the item resize, or null for the data's regime
     * @param normalize whether to normalise with the data's own statistics from scratch (null: yes)
     * @param autoAugment the timm policy's automatic augmentation
     * @param reProb the RandomErasing probability of the timm or small policy
     * @param mixup Mixup/CutMix with timm's defaults
     * @param zeroInitLast timm's zero_init_last for a body trained from scratch (off by default: blocks start as in
     *     torchvision's ResNet, which fastai's vision_learner trains)
     * @param lookahead airbench's lookahead averaging of the weights ({@link Lookahead#airbench()})
     * @param cropPad the padding of the small policy's pad-and-crop, or null for 1/8 of the size
     * @param progressiveResize smaller training images in the first epochs ({@link ProgressiveResize}), or null
     * @param wd the optimizer's decoupled weight decay (fastai's {@code wd}; not applied to norms and biases)
     * @param alternatingFlip flips alternating by epoch instead of at random (airbench's;
     *     {@code Transforms.alternatingFlip()})
     * @param validateEvery validate after every n-th epoch and the last ({@code Learner.Builder.validateEvery})
     */
    public record Config(
            String data,
            Path dataRoot,
            String model,
            boolean pretrained,
            Path weights,
            int epochs,
            Double lr,
            LrSuggestion lrSuggestion,
            int freezeEpochs,
            int batchSize,
            Integer imgSize,
            double validPct,
            long seed,
            Path out,
            int threads,
            boolean linearHead,
            boolean skipBadImages,
            double labelSmoothing,
            Tta tta,
            AugPolicy aug,
            Boolean flip,
            ResizeMethod resize,
            Boolean normalize,
            AutoAugment autoAugment,
            double reProb,
            boolean mixup,
            boolean zeroInitLast,
            boolean lookahead,
            Integer cropPad,
            ProgressiveResize progressiveResize,
            double wd,
            boolean alternatingFlip,
            int validateEvery) {

        public Config {
            Objects.requireNonNull(lrSuggestion, "lrSuggestion");
            Objects.requireNonNull(autoAugment, "autoAugment");
            if (epochs < 1) {
                throw new IllegalArgumentException("epochs (--epochs) must be at least 1, got " + epochs);
            }
            if (batchSize < 1) {
                throw new IllegalArgumentException("batchSize (--batch-size) must be at least 1, got " + batchSize);
            }
            if (lr != null && !(lr > 0 && Double.isFinite(lr))) {
                throw new IllegalArgumentException("lr (--lr) must be a positive number or 'auto', got " + lr);
            }
            if (!(validPct > 0 && validPct < 1)) {
                throw new IllegalArgumentException("validPct (--valid-pct) must be in (0, 1), got " + validPct);
            }
            if (imgSize != null && imgSize < 8) {
                throw new IllegalArgumentException("imgSize (--img-size) must be at least 8, got " + imgSize);
            }
            if (validateEvery < 1) {
                throw new IllegalArgumentException(
                        "validateEvery (--validate-every) must be at least 1, got " + validateEvery);
            }
            if (freezeEpochs < 0) {
                throw new IllegalArgumentException("freezeEpochs (--freeze-epochs) must be >= 0, got " + freezeEpochs);
            }
            if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
                throw new IllegalArgumentException(
                        "labelSmoothing (--label-smoothing) must be in [0, 1), got " + labelSmoothing);
            }
            if (!(reProb >= 0 && reProb <= 1)) {
                throw new IllegalArgumentException("reProb (--reprob) must be in [0, 1], got " + reProb);
            }
            if (aug != AugPolicy.TIMM && autoAugment != AutoAugment.NONE) {
                throw new IllegalArgumentException(
                        "--auto-augment belongs to --aug timm, got --aug " + (aug == null ? "auto" : aug.cliName()));
            }
            // an explicit policy is checked here, one chosen by the data's regime when the pipeline is built
            if (aug != null && !aug.allowsRandomErasing() && reProb > 0) {
                throw new IllegalArgumentException(
                        "--reprob belongs to --aug timm or small, got --aug " + aug.cliName());
            }
            if (alternatingFlip && (Boolean.FALSE.equals(flip) || (aug != null && !aug.allowsAlternatingFlip()))) {
                throw new IllegalArgumentException("--alternating-flip needs flips and --aug small or none, got "
                        + (Boolean.FALSE.equals(flip) ? "--no-flip" : "--aug " + aug.cliName()));
            }
            Objects.requireNonNull(tta, "tta");
            if (!(wd >= 0 && wd < 1)) {
                throw new IllegalArgumentException("wd (--wd) must be in [0, 1), got " + wd);
            }
            if (progressiveResize != null && progressiveResize.rampEpochs() >= epochs) {
                throw new IllegalArgumentException("--progressive-resize " + progressiveResize + " leaves no epoch at "
                        + "the full size: it needs fewer than --epochs " + epochs + " epochs below it");
            }
        }

        /** Whether training starts from weights (fastai's fine_tune) rather than from scratch. */
        public boolean fromWeights() {
            return pretrained || weights != null;
        }

        /** The peak learning rate of {@code --lr default}: fastai's for the fit this config runs. */
        public double defaultLr() {
            return fromWeights() ? 2e-3 : 1e-3;
        }

        /** What the user asked of the data pipeline. */
        public DataPipeline.Request pipelineRequest() {
            TimmAugment t = TimmAugment.timmDefaults();
            t = new TimmAugment(
                    t.hflip(),
                    autoAugment == AutoAugment.NONE ? t.colorJitter() : 0,
                    autoAugment == AutoAugment.RA ? 2 : 0,
                    9,
                    autoAugment == AutoAugment.TA,
                    reProb);
            return new DataPipeline.Request(aug, flip, resize, imgSize, normalize, t, mixup, cropPad, alternatingFlip);
        }

        /** A builder with {@code jimm train}'s defaults for {@code data} (a folder or a dataset name). */
        public static Builder builder(String data) {
            return new Builder(data);
        }

        /** Builds a {@link Config}; every setter names one field, and {@link #build()} validates. */
        public static final class Builder {
            private final String data;
            private Path dataRoot;
            private String model = "resnet18";
            private boolean pretrained;
            private Path weights;
            private int epochs = 5;
            private Double lr;
            private LrSuggestion lrSuggestion = LrSuggestion.DEFAULT;
            private int freezeEpochs = 1;
            private int batchSize = 64;
            private Integer imgSize;
            private double validPct = 0.2;
            private long seed = 42;
            private Path out;
            private int threads;
            private boolean linearHead;
            private boolean skipBadImages;
            private double labelSmoothing;
            private Tta tta = Tta.NONE;
            private AugPolicy aug;
            private Boolean flip;
            private ResizeMethod resize;
            private Boolean normalize;
            private AutoAugment autoAugment = AutoAugment.NONE;
            private double reProb;
            private boolean mixup;
            private boolean zeroInitLast;
            private boolean lookahead;
            private Integer cropPad;
            private ProgressiveResize progressiveResize;
            private double wd = DEFAULT_WD;
            private boolean alternatingFlip;
            private int validateEvery = 1;

            private Builder(String data) {
                this.data = Objects.requireNonNull(data, "data");
            }

            /** Where named datasets are. */
            public Builder dataRoot(Path v) {
                dataRoot = v;
                return this;
            }
            /** The architecture (default resnet18). */
            public Builder model(String v) {
                model = v;
                return this;
            }
            /** Start from the architecture's pretrained weights. */
            public Builder pretrained(boolean v) {
                pretrained = v;
                return this;
            }
            /** Start from the weights in this file. */
            public Builder weights(Path v) {
                weights = v;
                return this;
            }
            /** Epochs (default 5; fine-tuning: the unfrozen ones). */
            public Builder epochs(int v) {
                epochs = v;
                return this;
            }
            /** A fixed peak learning rate. */
            public Builder lr(double v) {
                lr = v;
                return this;
            }
            /** No fixed rate: {@code default} or an lr_find suggestion. */
            public Builder lrSuggestion(LrSuggestion v) {
                lr = null;
                lrSuggestion = v;
                return this;
            }
            /** Frozen epochs when fine-tuning (default 1). */
            public Builder freezeEpochs(int v) {
                freezeEpochs = v;
                return this;
            }
            /** Batch size (default 64). */
            public Builder batchSize(int v) {
                batchSize = v;
                return this;
            }
            /** Training size (default: by regime). */
            public Builder imgSize(Integer v) {
                imgSize = v;
                return this;
            }
            /** Validation fraction of a folder without valid/ (default 0.2). */
            public Builder validPct(double v) {
                validPct = v;
                return this;
            }
            /** Seed of the split, order, init and augmentation (default 42). */
            public Builder seed(long v) {
                seed = v;
                return this;
            }
            /** Run folder (default runs/TIME-MODEL). */
            public Builder out(Path v) {
                out = v;
                return this;
            }
            /** Loader threads (0: one per core). */
            public Builder threads(int v) {
                threads = v;
                return this;
            }
            /** One linear layer as the new head instead of fastai's. */
            public Builder linearHead(boolean v) {
                linearHead = v;
                return this;
            }
            /** Leave out images that fail to decode, with a warning. */
            public Builder skipBadImages(boolean v) {
                skipBadImages = v;
                return this;
            }
            /** Label smoothing of the cross-entropy. */
            public Builder labelSmoothing(double v) {
                labelSmoothing = v;
                return this;
            }
            /** Test-time augmentation of the final score. */
            public Builder tta(Tta v) {
                tta = v;
                return this;
            }
            /** The augmentation policy (null: by regime). */
            public Builder aug(AugPolicy v) {
                aug = v;
                return this;
            }
            /** Flips on or off (null: by regime). */
            public Builder flip(Boolean v) {
                flip = v;
                return this;
            }
            /** The item resize (null: by regime). */
            public Builder resize(ResizeMethod v) {
                resize = v;
                return this;
            }
            /** Normalise with the data's statistics from scratch (null: yes). */
            public Builder normalize(Boolean v) {
                normalize = v;
                return this;
            }
            /** The timm policy's automatic augmentation (default none). */
            public Builder autoAugment(AutoAugment v) {
                autoAugment = v;
                return this;
            }
            /** The RandomErasing probability of the timm or small policy. */
            public Builder reProb(double v) {
                reProb = v;
                return this;
            }
            /** Mixup/CutMix with timm's defaults. */
            public Builder mixup(boolean v) {
                mixup = v;
                return this;
            }
            /** timm's zero_init_last from scratch (default off). */
            public Builder zeroInitLast(boolean v) {
                zeroInitLast = v;
                return this;
            }
            /** airbench's lookahead averaging of the weights (default off). */
            public Builder lookahead(boolean v) {
                lookahead = v;
                return this;
            }
            /** The small policy's pad-and-crop padding (null: 1/8 of the size). */
            public Builder cropPad(Integer v) {
                cropPad = v;
                return this;
            }

            /** Smaller training images in the first epochs (null: every epoch at the full size). */
            public Builder progressiveResize(ProgressiveResize v) {
                progressiveResize = v;
                return this;
            }

            /** The decoupled weight decay (default {@value TrainRecipe#DEFAULT_WD}, fastai's). */
            public Builder wd(double v) {
                wd = v;
                return this;
            }

            /** Flips alternating by epoch instead of at random (airbench's; default off). */
            public Builder alternatingFlip(boolean v) {
                alternatingFlip = v;
                return this;
            }

            /** Validate after every n-th epoch and the last (default 1: every epoch). */
            public Builder validateEvery(int v) {
                validateEvery = v;
                return this;
            }

            /** The validated config. */
            public Config build() {
                return new Config(
                        data,
                        dataRoot,
                        model,
                        pretrained,
                        weights,
                        epochs,
                        lr,
                        lrSuggestion,
                        freezeEpochs,
                        batchSize,
                        imgSize,
                        validPct,
                        seed,
                        out,
                        threads,
                        linearHead,
                        skipBadImages,
                        labelSmoothing,
                        tta,
                        aug,
                        flip,
                        resize,
                        normalize,
                        autoAugment,
                        reProb,
                        mixup,
                        zeroInitLast,
                        lookahead,
                        cropPad,
                        progressiveResize,
                        wd,
                        alternatingFlip,
                        validateEvery);
            }
        }
    }

    /** What a run produced. */
    public record Result(
            Path runDir,
            Map<String, Double> metrics,
            double validLoss,
            double seconds,
            Double lrUsed,
            LrFinder.Result lrFind,
            Learner.Validation validation) {}

    /** The prepared data: loaders, class names and the pipeline that feeds them. */
    public record Data(DataLoaders loaders, DataPipeline pipeline, ImageDataset valid) {
        /** The eval preprocessing to export. */
        public Preprocessing preprocessing() {
            return pipeline.preprocessing();
        }

        /** The model's input channels. */
        public int inChans() {
            return pipeline.channels();
        }
    }

    private TrainRecipe() {}

    static BadImagePolicy badImages(boolean skip) {
        return skip ? BadImagePolicy.SKIP : BadImagePolicy.ERROR;
    }

    /** Resolves the data argument to datasets, the data pipeline (by regime unless chosen) and loaders. */
    public static Data prepareData(Config c, NDManager manager) {
        String d = c.data();
        ImageDataset train;
        ImageDataset valid;
        DataPipeline.Request req = c.pipelineRequest();
        PretrainedCfg weightsCfg = c.fromWeights() ? ModelRegistry.builtIn().config(c.model()) : null;
        DataPipeline pipeline;
        switch (d) {
            case "fashion-mnist", "mnist", "fashion-mnist-sample", "cifar10", "cifar100" -> {
                NamedDataset named = NamedDataset.of(d, c.dataRoot());
                train = named.train();
                valid = named.test();
                pipeline = weightsCfg != null
                        ? DataPipeline.choose(req, train, c.seed(), weightsCfg)
                        : DataPipeline.named(req, named);
            }
            default -> {
                Path root = Path.of(d);
                if (!Files.isDirectory(root)) {
                    throw new JimmException(
                            "data '" + d
                                    + "' is neither a folder nor a dataset name (fashion-mnist, mnist, cifar10, cifar100, fashion-mnist-sample)");
                }
                Split split = ImageFolderDataset.load(
                        root,
                        c.validPct(),
                        c.seed(),
                        new ImageDecoder(),
                        badImages(c.skipBadImages()),
                        System.err::println);
                if (split.train().classes().size() < 2) {
                    throw new JimmException("the data folder " + root + " has "
                            + split.train().classes().size() + " class folder(s) "
                            + split.train().classes() + "; a classifier needs at least two (one subfolder per class)");
                }
                train = split.train();
                valid = split.valid();
                pipeline = DataPipeline.choose(req, train, c.seed(), weightsCfg);
            }
        }
        checkTta(c.tta(), pipeline);
        int threads =
                c.threads() > 0 ? c.threads() : Math.max(1, Runtime.getRuntime().availableProcessors());
        DataLoaders dls = ImageDataLoaders.of(
                train,
                valid,
                pipeline.trainTransform(),
                pipeline.validTransform(),
                pipeline.batchTransform(),
                new ImageDataLoaders.Settings(c.batchSize(), c.seed(), threads, 4, badImages(c.skipBadImages())),
                manager);
        return new Data(dls.withPreprocessing(pipeline.preprocessing()), pipeline, valid);
    }

    /** Refuses test-time augmentation that training did not use. */
    static void checkTta(Tta tta, DataPipeline p) {
        if ((tta == Tta.FLIP || tta == Tta.SHIFT) && !p.flip()) {
            throw new JimmException("--tta " + tta.cliName() + ": training used no flips (augmentation "
                    + p.aug().cliName()
                    + "), so the model never saw mirror images; train with --flip"
                    + (p.aug() == AugPolicy.NONE ? "" : ", or use --tta aug"));
        }
        if (tta == Tta.AUG && p.aug() == AugPolicy.NONE && !p.flip()) {
            throw new JimmException("--tta aug: training used no augmentation (--aug none), so augmented passes would "
                    + "equal the plain one; choose an --aug policy or leave out --tta");
        }
    }

    /**
     * The images to evaluate a trained model on: a named dataset's test split, or a folder's {@code valid/} (else
     * {@code test/}) subfolder, or the folder itself with one subfolder per class.
     */
    public static ImageDataset evalDataset(String data, Path dataRoot, int channels) {
        return evalDataset(data, dataRoot, channels, BadImagePolicy.ERROR);
    }

    /** {@link #evalDataset(String, Path, int)} with a policy for empty class folders and unreadable entries. */
    public static ImageDataset evalDataset(String data, Path dataRoot, int channels, BadImagePolicy policy) {
        switch (data) {
            case "fashion-mnist", "fashion-mnist-sample", "mnist", "cifar10", "cifar100" -> {
                return namedDataset(data, dataRoot, false);
            }
            default -> {
                Path root = Path.of(data);
                if (!Files.isDirectory(root)) {
                    throw new JimmException(
                            "DATA '" + data
                                    + "' is neither a folder nor a dataset name (fashion-mnist, mnist, cifar10, cifar100, fashion-mnist-sample)");
                }
                ImageDecoder decoder = new ImageDecoder(
                        DecodeOptions.builder().channels(channels).build());
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
        NamedDataset d = NamedDataset.of(name, dataRoot);
        return train ? d.train() : d.test();
    }

    /**
     * The bundled samples: {@code -Djimm.samples}, ./samples, or the nearest {@code samples} folder above the jar or
     * classes folder this class was loaded from (the checkout's, in a source build).
     */
    public static Path samplesDir() {
        String configured = System.getProperty("jimm.samples");
        if (configured != null) {
            return Path.of(configured);
        }
        return JimmHome.checkoutPath(TrainRecipe.class, "samples")
                .orElseThrow(() -> new JimmException(
                        "the bundled samples folder is not found (run from the jimm checkout or set -Djimm.samples)"));
    }

    /** A run folder name: runs/20261124-031500-resnet18. */
    public static Path defaultRunDir(String model) {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT));
        return Path.of("runs", stamp + "-" + model.replace('/', '_'));
    }

    /** The model options of a config for its prepared data. */
    static VisionLearner.Options learnerOptions(Config c, Data data) {
        VisionLearner.Options o = VisionLearner.Options.of(c.model())
                .inChans(data.inChans())
                .imgSize(data.pipeline().size())
                .seed(c.seed())
                .zeroInitLast(c.zeroInitLast())
                .head(c.linearHead() ? FastaiHead.linear() : FastaiHead.defaults());
        if (c.weights() != null) {
            o = o.weights(c.weights());
        }
        if (c.pretrained()) {
            o = o.pretrained(true);
        }
        return o;
    }

    /** Builds the learner for a config and prepared data, with the run folder's callbacks. */
    public static Learner learner(Config c, Data data, Path runDir, List<Callback> extra) {
        return VisionLearner.create(data.loaders(), learnerOptions(c, data), b -> {
            int k = data.loaders().numClasses();
            List<Metric> metrics = new ArrayList<>(List.of(Metric.accuracy(), Metric.errorRate()));
            if (k > 5) {
                metrics.add(Metric.topK(5));
            }
            metrics.add(Metric.f1(k));
            b.metrics(metrics.toArray(Metric[]::new))
                    .runDir(runDir)
                    .loss(Loss.crossEntropy(c.labelSmoothing()))
                    .weightDecay(c.wd())
                    .validateEvery(c.validateEvery());
            if (c.progressiveResize() != null) {
                b.callbacks(c.progressiveResize());
            }
            if (c.lookahead()) {
                // before SaveModel, which then saves the average
                b.callbacks(Lookahead.airbench());
            }
            b.callbacks(
                    new Callbacks.CsvLogger(runDir.resolve("metrics.csv")),
                    new Callbacks.JsonLogger(runDir.resolve("metrics.jsonl")),
                    new Callbacks.SaveModel(runDir, "valid_loss", true));
            extra.forEach(b::callbacks);
        });
    }

    /** Runs a whole training job; progress goes to {@code extra} callbacks. */
    public static Result run(Config c, List<Callback> extra) {
        return run(c, extra, line -> {});
    }

    /** As {@link #run(Config, List)}, saying what the data pipeline is (and why) to {@code log} first. */
    public static Result run(Config c, List<Callback> extra, Consumer<String> log) {
        return run(c, c.out() != null ? c.out() : defaultRunDir(c.model()), extra, null, log);
    }

    /**
     * Continues the run in {@code runDir} from its last checkpoint (written after every epoch, and where a stop request
     * ended the run) with the config it was started with, and finishes it exactly as the uninterrupted run would have.
     */
    public static Result resume(Path runDir, List<Callback> extra) {
        return resume(runDir, extra, line -> {});
    }

    /** As {@link #resume(Path, List)}, saying what the data pipeline is to {@code log} first. */
    public static Result resume(Path runDir, List<Callback> extra, Consumer<String> log) {
        Path cfgFile = runDir.resolve("config.json");
        if (!Files.isRegularFile(cfgFile)) {
            throw new JimmException("--resume " + runDir + ": no config.json there (not a jimm run folder)");
        }
        // locked before the checkpoint is looked for: a live run may not have written its first one yet
        try (RunLock lock = RunLock.acquire(runDir)) {
            if (!Files.isRegularFile(runDir.resolve("checkpoint.safetensors"))) {
                throw new JimmException(
                        "--resume " + runDir
                                + ": no checkpoint.safetensors yet (the run ended before its first checkpoint); start it again");
            }
            return run(readConfig(cfgFile, runDir), runDir, extra, lock, log);
        }
    }

    /**
     * The job, a new run or (with the {@code resumeLock} of its folder) a resumed one. A new run locks its folder
     * ({@link RunLock}) once its data is ready, before it writes there. A {@link dev.jimm.StopRequest} ends the job at
     * the next batch with a {@link StoppedException} whose message says what the run folder keeps and how to continue;
     * the checkpoint is written first, mid-epoch if need be.
     */
    private static Result run(Config c, Path runDir, List<Callback> extra, RunLock resumeLock, Consumer<String> log) {
        long t0 = System.nanoTime();
        boolean resume = resumeLock != null;
        try (NDManager manager = NDManager.newBaseManager()) {
            Data data = prepareData(c, manager);
            log.accept(data.pipeline().describe());
            // locked only now, so that a run refused for its data leaves no empty folder behind
            try (RunLock lock = resume ? null : RunLock.acquire(runDir)) {
                if (!resume) {
                    writeConfig(c, runDir, data);
                }
                try (Learner learner = learner(c, data, runDir, extra)) {
                    LrFinder.Result found = null;
                    double lr;
                    if (resume) {
                        found = readLrFind(runDir.resolve("lr_find.json"));
                        learner.resume(runDir.resolve("checkpoint.safetensors"));
                        lr = learner.plan() == null
                                ? Double.NaN
                                : learner.plan().lrMax()[learner.plan().lrMax().length - 1];
                    } else {
                        if (c.lr() == null && !c.lrSuggestion().needsLrFind()) {
                            lr = c.defaultLr();
                        } else if (c.lr() == null) {
                            try {
                                found = learner.lrFind();
                            } catch (StoppedException e) {
                                throw e.withState(
                                        "stopped in lr_find, before training; nothing to keep (start again with: "
                                                + commandLine(c) + ")");
                            }
                            lr = c.lrSuggestion().pick(found);
                            if (!Double.isFinite(lr)) {
                                throw new JimmException(
                                        "lr_find found no usable learning rate (the training set may be too small); pass --lr");
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
                    if (learner.interrupted()) {
                        throw learner.interruption().withState(stoppedAt(learner, c, runDir));
                    }
                    if (learner.diverged()) {
                        // export, report and charts would all be of the broken weights: write none of them
                        int good = learner.recorder().epochs().size();
                        throw new TrainingDivergedException("training stopped: " + learner.stopReason() + "; "
                                + (good == 0
                                        ? "no epoch completed, so there is no checkpoint"
                                        : runDir.resolve("checkpoint.safetensors") + " keeps epoch " + good
                                                + ", the last good one (continue with: jimm train --resume " + runDir
                                                + ")"));
                    }
                    if (learner.stopReason() != null
                            && learner.recorder().epochs().isEmpty()) {
                        throw new JimmException("training stopped: " + learner.stopReason());
                    }
                    try {
                        return finish(c, data, learner, runDir, found, lr, t0);
                    } catch (StoppedException e) {
                        throw e.withState(
                                "stopped after the training, before its final validation and report were done; "
                                        + runDir.resolve("checkpoint.safetensors")
                                        + " keeps the trained model (finish with: jimm train --resume " + runDir + ")");
                    }
                }
            }
        }
    }

    /** After the training: the final validation (with TTA if asked), the export and the run report. */
    private static Result finish(
            Config c, Data data, Learner learner, Path runDir, LrFinder.Result found, double lr, long t0) {
        Learner.Validation v = learner.validate(c.tta());
        Export.write(
                runDir.resolve("model.safetensors"),
                (VisionModel) learner.model(),
                new Export.Spec(
                        c.model(),
                        data.inChans(),
                        c.linearHead() ? FastaiHead.linear() : FastaiHead.defaults(),
                        data.loaders().classes(),
                        data.preprocessing(),
                        data.pipeline().aug().cliName(),
                        data.pipeline().flip()));
        Interpretation interp = Interpretation.of(learner, 16);
        Map<String, Double> shown = new LinkedHashMap<>();
        shown.put("valid_loss", v.loss());
        shown.putAll(v.metrics());
        RunReport.write(
                runDir,
                learner,
                data.preprocessing(),
                found,
                lr,
                interp,
                shown,
                commandLine(c),
                "jimm run: " + c.model() + " on " + c.data(),
                data.pipeline().describe());
        return new Result(runDir, v.metrics(), v.loss(), (System.nanoTime() - t0) / 1e9, lr, found, v);
    }

    /** Where an interrupted training stopped and what its run folder keeps, for the stop's one line. */
    static String stoppedAt(Learner l, Config c, Path runDir) {
        int ended = l.recorder().epochs().size();
        int total = c.epochs() + (c.fromWeights() ? c.freezeEpochs() : 0);
        int batches = l.batchesDone();
        String where = batches == 0
                ? "stopped before epoch " + (ended + 1) + " of " + total
                : "stopped after batch " + batches + " of " + l.dls().train().numBatches() + " in epoch " + (ended + 1)
                        + " of " + total;
        return where + "; " + runDir.resolve("checkpoint.safetensors")
                + " keeps it (continue with: jimm train --resume " + runDir + ")";
    }

    private static void writeLrFind(LrFinder.Result r, Path file) {
        JsonObject o = new JsonObject();
        Gson g = new Gson();
        o.add("lrs", g.toJsonTree(r.lrs()));
        o.add("losses", g.toJsonTree(r.losses()));
        o.addProperty("valley", r.valley());
        o.addProperty("steep", r.steep());
        o.addProperty("minimum", r.minimum());
        AtomicFiles.writeString(file, g.toJson(o));
    }

    private static LrFinder.Result readLrFind(Path file) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            List<Double> lrs = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            o.getAsJsonArray("lrs").forEach(e -> lrs.add(e.getAsDouble()));
            o.getAsJsonArray("losses").forEach(e -> losses.add(e.getAsDouble()));
            return new LrFinder.Result(
                    lrs,
                    losses,
                    o.get("valley").getAsDouble(),
                    o.get("steep").getAsDouble(),
                    o.get("minimum").getAsDouble());
        } catch (IOException | RuntimeException e) {
            throw new JimmException(file + ": unreadable lr_find record: " + e.getMessage(), e);
        }
    }

    /** The config a run was started with, from its config.json. */
    static Config readConfig(Path file, Path runDir) {
        try {
            JsonObject o = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
            Config.Builder b = Config.builder(o.get("data").getAsString())
                    .dataRoot(optPath(o, "data_root"))
                    .model(o.get("model").getAsString())
                    .pretrained(o.has("pretrained") && o.get("pretrained").getAsBoolean())
                    .weights(optPath(o, "weights"))
                    .epochs(o.get("epochs").getAsInt())
                    .freezeEpochs(o.get("freeze_epochs").getAsInt())
                    .batchSize(o.get("batch_size").getAsInt())
                    .imgSize(
                            o.has("img_size_arg") && !o.get("img_size_arg").isJsonNull()
                                    ? o.get("img_size_arg").getAsInt()
                                    : null)
                    .validPct(o.get("valid_pct").getAsDouble())
                    .seed(o.get("seed").getAsLong())
                    .out(runDir)
                    .threads(o.has("threads") ? o.get("threads").getAsInt() : 0)
                    .linearHead(o.get("head").getAsString().equals("linear"))
                    .skipBadImages(
                            o.has("skip_bad_images") && o.get("skip_bad_images").getAsBoolean())
                    .labelSmoothing(
                            o.has("label_smoothing") ? o.get("label_smoothing").getAsDouble() : 0)
                    .tta(readTta(o.get("tta")))
                    .aug(optString(o, "aug_arg") == null ? null : AugPolicy.parse(optString(o, "aug_arg")))
                    .flip(optBoolean(o, "flip_arg"))
                    .resize(optString(o, "resize_arg") == null ? null : ResizeMethod.parse(optString(o, "resize_arg")))
                    .normalize(optBoolean(o, "normalize_arg"))
                    .autoAugment(
                            o.has("auto_augment")
                                    ? AutoAugment.parse(o.get("auto_augment").getAsString())
                                    : AutoAugment.NONE)
                    .reProb(o.has("reprob") ? o.get("reprob").getAsDouble() : 0)
                    .mixup(o.has("mixup_arg") && o.get("mixup_arg").getAsBoolean())
                    // runs from before the option started blocks as timm does
                    .zeroInitLast(
                            !o.has("zero_init_last") || o.get("zero_init_last").getAsBoolean())
                    .lookahead(o.has("lookahead") && o.get("lookahead").getAsBoolean())
                    .cropPad(
                            o.has("crop_pad_arg") && !o.get("crop_pad_arg").isJsonNull()
                                    ? o.get("crop_pad_arg").getAsInt()
                                    : null)
                    .progressiveResize(
                            optString(o, "progressive_resize") == null
                                    ? null
                                    : ProgressiveResize.parse(optString(o, "progressive_resize")))
                    // runs from before the option trained with fastai's default
                    .wd(o.has("wd") ? o.get("wd").getAsDouble() : DEFAULT_WD)
                    .alternatingFlip(o.has("alternating_flip_arg")
                            && o.get("alternating_flip_arg").getAsBoolean())
                    .validateEvery(
                            o.has("validate_every") ? o.get("validate_every").getAsInt() : 1);
            String lr = o.get("lr").getAsString();
            // runs from before the lr suggestions were recorded mean lr_find's valley by "auto"
            String suggestion = o.has("lr_suggestion") ? o.get("lr_suggestion").getAsString() : "valley";
            if (lr.equals("auto") || lr.equals("default")) {
                b.lrSuggestion(LrSuggestion.parse(suggestion));
            } else {
                b.lr(Double.parseDouble(lr));
            }
            return b.build();
        } catch (IOException | RuntimeException e) {
            throw new JimmException(file + ": not a readable run config: " + e.getMessage(), e);
        }
    }

    private static Tta readTta(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return Tta.NONE;
        }
        // config.json files from before the TTA modes held a boolean: true was flip TTA
        if (e.getAsJsonPrimitive().isBoolean()) {
            return e.getAsBoolean() ? Tta.FLIP : Tta.NONE;
        }
        return Tta.parse(e.getAsString());
    }

    private static String optString(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsString() : null;
    }

    private static Boolean optBoolean(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? o.get(key).getAsBoolean() : null;
    }

    private static Path optPath(JsonObject o, String key) {
        return o.has(key) && !o.get(key).isJsonNull() ? Path.of(o.get(key).getAsString()) : null;
    }

    static void writeConfig(Config c, Path runDir, Data data) {
        JsonObject o = new JsonObject();
        o.addProperty("data", c.data());
        o.addProperty("data_root", c.dataRoot() == null ? null : c.dataRoot().toString());
        o.addProperty("model", c.model());
        o.addProperty("pretrained", c.pretrained());
        o.addProperty("weights", c.weights() == null ? null : c.weights().toString());
        o.addProperty("epochs", c.epochs());
        o.addProperty(
                "lr", c.lr() == null ? (c.lrSuggestion().needsLrFind() ? "auto" : "default") : Double.toString(c.lr()));
        o.addProperty("lr_suggestion", c.lrSuggestion().cliName());
        o.addProperty("freeze_epochs", c.freezeEpochs());
        o.addProperty("batch_size", c.batchSize());
        o.addProperty("img_size", data.pipeline().size());
        o.addProperty("img_size_arg", c.imgSize());
        o.addProperty("threads", c.threads());
        o.addProperty("valid_pct", c.validPct());
        o.addProperty("seed", c.seed());
        o.addProperty("head", c.linearHead() ? "linear" : "fastai");
        o.addProperty("skip_bad_images", c.skipBadImages());
        o.addProperty("label_smoothing", c.labelSmoothing());
        o.addProperty("tta", c.tta().cliName());
        // what was asked (null: by regime), so that --resume chooses the same; then what was chosen
        o.addProperty("aug_arg", c.aug() == null ? null : c.aug().cliName());
        o.addProperty("flip_arg", c.flip());
        o.addProperty("resize_arg", c.resize() == null ? null : c.resize().cliName());
        o.addProperty("normalize_arg", c.normalize());
        o.addProperty("auto_augment", c.autoAugment().cliName());
        o.addProperty("reprob", c.reProb());
        o.addProperty("mixup_arg", c.mixup());
        o.addProperty("zero_init_last", c.zeroInitLast());
        o.addProperty("lookahead", c.lookahead());
        o.addProperty("crop_pad_arg", c.cropPad());
        o.addProperty(
                "progressive_resize",
                c.progressiveResize() == null ? null : c.progressiveResize().toString());
        o.addProperty("wd", c.wd());
        o.addProperty("alternating_flip_arg", c.alternatingFlip());
        o.addProperty("validate_every", c.validateEvery());
        o.add("data_pipeline", new Gson().toJsonTree(data.pipeline().toJson()));
        o.addProperty("classes", String.join(",", data.loaders().classes()));
        o.addProperty("train_images", data.loaders().train().numSamples());
        o.addProperty("valid_images", data.valid().size());
        o.addProperty("command", commandLine(c));
        AtomicFiles.writeString(
                runDir.resolve("config.json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(o));
    }

    /** The jimm command that repeats this run. */
    public static String commandLine(Config c) {
        StringBuilder sb = new StringBuilder("./jimm train ")
                .append(c.data())
                .append(" --model ")
                .append(c.model());
        if (c.dataRoot() != null) {
            sb.append(" --data-root ").append(c.dataRoot());
        }
        if (c.pretrained()) {
            sb.append(" --pretrained --freeze-epochs ").append(c.freezeEpochs());
        }
        if (c.weights() != null) {
            sb.append(" --weights ")
                    .append(c.weights())
                    .append(" --freeze-epochs ")
                    .append(c.freezeEpochs());
        }
        sb.append(" --epochs ")
                .append(c.epochs())
                .append(" --lr ")
                .append(
                        c.lr() != null
                                ? c.lr().toString()
                                : c.lrSuggestion() == LrSuggestion.VALLEY
                                        ? "auto"
                                        : c.lrSuggestion().cliName())
                .append(" --batch-size ")
                .append(c.batchSize());
        if (c.aug() != null) {
            sb.append(" --aug ").append(c.aug().cliName());
        }
        if (c.flip() != null) {
            sb.append(c.flip() ? " --flip" : " --no-flip");
        }
        if (c.alternatingFlip()) {
            sb.append(" --alternating-flip");
        }
        if (c.resize() != null) {
            sb.append(" --resize ").append(c.resize().cliName());
        }
        if (c.normalize() != null) {
            sb.append(c.normalize() ? " --normalize" : " --no-normalize");
        }
        if (c.autoAugment() != AutoAugment.NONE) {
            sb.append(" --auto-augment ").append(c.autoAugment().cliName());
        }
        if (c.reProb() > 0) {
            sb.append(" --reprob ").append(c.reProb());
        }
        if (c.mixup()) {
            sb.append(" --mixup");
        }
        if (c.zeroInitLast()) {
            sb.append(" --zero-init-last");
        }
        if (c.lookahead()) {
            sb.append(" --lookahead");
        }
        if (c.cropPad() != null) {
            sb.append(" --crop-pad ").append(c.cropPad());
        }
        if (c.progressiveResize() != null) {
            sb.append(" --progressive-resize ").append(c.progressiveResize());
        }
        if (c.wd() != DEFAULT_WD) {
            sb.append(" --wd ").append(c.wd());
        }
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
        if (c.tta() != Tta.NONE) {
            sb.append(" --tta ").append(c.tta().cliName());
        }
        if (c.validateEvery() != 1) {
            sb.append(" --validate-every ").append(c.validateEvery());
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
        return new Gson().toJson(m);
    }
}
