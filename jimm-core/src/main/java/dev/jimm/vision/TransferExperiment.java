package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.jimm.AtomicFiles;
import dev.jimm.JimmException;
import dev.jimm.data.Batch;
import dev.jimm.data.BatchSource;
import dev.jimm.data.ClassSubset;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.ImageDataLoaders;
import dev.jimm.data.ImageDataset;
import dev.jimm.train.Callback;
import dev.jimm.train.Learner;
import dev.jimm.train.LrFinder;
import dev.jimm.train.Metric;
import dev.jimm.transforms.Preprocessing;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/**
 * Transfer between disjoint label sets on Fashion-MNIST: a backbone trained on classes 0–4 and exported, then loaded as
 * the body of a new learner and fine-tuned ({@link Learner#fineTune}) on a few images per class of classes 5–9, against
 * the same architecture trained from scratch on those images (lr_find for each), both scored on every test image of
 * classes 5–9.
 */
public final class TransferExperiment {
    /**
     * The experiment's settings.
     *
     * @param dataRoot folder with Fashion-MNIST's idx files (null: JIMM_HOME/datasets, downloaded)
     * @param backboneImages training images of classes 0–4 for the backbone (negative: all 30,000)
     * @param backboneEpochs fit_one_cycle epochs of the backbone
     * @param perClass training images per class of classes 5–9
     * @param epochs unfrozen fine-tune epochs; scratch trains freezeEpochs + epochs
     * @param freezeEpochs fine-tune epochs with the body frozen
     * @param batchSize batch size of the backbone
     * @param smallBatchSize batch size on the few images of classes 5–9
     * @param threads loader threads (0: one per core)
     * @param lrMult fine_tune's lr_mult: the body's lowest rate is the head's divided by this
     */
    public record Config(
            Path dataRoot,
            String model,
            long seed,
            Path out,
            int backboneImages,
            int backboneEpochs,
            int perClass,
            int epochs,
            int freezeEpochs,
            int batchSize,
            int smallBatchSize,
            int threads,
            double lrMult) {
        public Config {
            if (backboneEpochs < 1 || epochs < 1 || freezeEpochs < 0) {
                throw new IllegalArgumentException(
                        "--backbone-epochs and --epochs must be at least 1 and --freeze-epochs at least 0, got "
                                + backboneEpochs + ", " + epochs + ", " + freezeEpochs);
            }
            if (perClass < 1 || perClass * 5 < smallBatchSize) {
                throw new IllegalArgumentException(
                        "--per-class " + perClass + " must give at least one batch of " + smallBatchSize);
            }
        }

        /**
         * The setup: all 30,000 images for 3 epochs, 50 per class, fine_tune(15, freeze 1) with one learning
         * rate for body and head (lr_mult 1). fastai's lr_mult 100 suits an ImageNet body, whose early layers should
         * barely move; this body learned five other Fashion-MNIST classes and must move further: seed 42 scored 83.6% /
         * 89.2% / 92.3% with lr_mult 100 / 10 / 1, against 90.2% from scratch.
         */
        public static Config defaults(Path dataRoot, String model, long seed, Path out) {
            return builder(dataRoot, model, seed, out).build();
        }

        /** A builder with the setup ({@link #defaults}); every setter names one field. */
        public static Builder builder(Path dataRoot, String model, long seed, Path out) {
            return new Builder(dataRoot, model, seed, out);
        }

        /** Builds a {@link Config}; {@link #build()} validates. */
        public static final class Builder {
            private final Path dataRoot;
            private final String model;
            private final long seed;
            private final Path out;
            private int backboneImages = -1;
            private int backboneEpochs = 3;
            private int perClass = 50;
            private int epochs = 15;
            private int freezeEpochs = 1;
            private int batchSize = 64;
            private int smallBatchSize = 32;
            private int threads;
            private double lrMult = 1;

            private Builder(Path dataRoot, String model, long seed, Path out) {
                this.dataRoot = dataRoot;
                this.model = model;
                this.seed = seed;
                this.out = out;
            }

            /** Training images of classes 0–4 for the backbone (negative: all). */
            public Builder backboneImages(int v) {
                backboneImages = v;
                return this;
            }
            /** fit_one_cycle epochs of the backbone. */
            public Builder backboneEpochs(int v) {
                backboneEpochs = v;
                return this;
            }
            /** Training images per class of classes 5–9. */
            public Builder perClass(int v) {
                perClass = v;
                return this;
            }
            /** Unfrozen fine-tune epochs. */
            public Builder epochs(int v) {
                epochs = v;
                return this;
            }
            /** Fine-tune epochs with the body frozen. */
            public Builder freezeEpochs(int v) {
                freezeEpochs = v;
                return this;
            }
            /** Batch size of the backbone. */
            public Builder batchSize(int v) {
                batchSize = v;
                return this;
            }
            /** Batch size on the few images of classes 5–9. */
            public Builder smallBatchSize(int v) {
                smallBatchSize = v;
                return this;
            }
            /** Loader threads (0: one per core). */
            public Builder threads(int v) {
                threads = v;
                return this;
            }
            /** fine_tune's lr_mult. */
            public Builder lrMult(double v) {
                lrMult = v;
                return this;
            }

            /** The validated config. */
            public Config build() {
                return new Config(
                        dataRoot,
                        model,
                        seed,
                        out,
                        backboneImages,
                        backboneEpochs,
                        perClass,
                        epochs,
                        freezeEpochs,
                        batchSize,
                        smallBatchSize,
                        threads,
                        lrMult);
            }
        }
    }

    /** One trained model's score on the test images of classes 5–9. */
    public record Score(String name, double accuracy, double lr, double seconds) {}

    /** What the experiment measured. */
    public record Outcome(
            Path runDir,
            double backboneAccuracy,
            double backboneSeconds,
            int backboneTrainImages,
            Score transfer,
            Score scratch,
            int trainImages,
            int testImages) {}

    private TransferExperiment() {}

    static final int[] FIRST = {0, 1, 2, 3, 4};
    static final int[] SECOND = {5, 6, 7, 8, 9};

    /** Runs the three trainings, printing progress to {@code log}, and writes result.json and result.md. */
    public static Outcome run(Config c, PrintWriter log, List<Callback> progress) {
        Path runDir = c.out() != null ? c.out() : TrainRecipe.defaultRunDir("transfer");
        NamedDataset fmnist = NamedDataset.fashionMnist(c.dataRoot());
        ImageDataset train = fmnist.train();
        ImageDataset test = fmnist.test();
        // the pipeline jimm train gives Fashion-MNIST: pad-and-crop and flips, its own statistics
        DataPipeline pipeline = DataPipeline.named(DataPipeline.Request.auto(), fmnist);
        Preprocessing prep = pipeline.preprocessing();
        int threads =
                c.threads() > 0 ? c.threads() : Math.max(1, Runtime.getRuntime().availableProcessors());

        ClassSubset trainA =
                ClassSubset.of(train, c.backboneImages() < 0 ? -1 : c.backboneImages() / FIRST.length, c.seed(), FIRST);
        ClassSubset testA = ClassSubset.of(test, FIRST);
        ClassSubset trainB = ClassSubset.of(train, c.perClass(), c.seed(), SECOND);
        ClassSubset testB = ClassSubset.of(test, SECOND);
        // per-epoch rows watch 100 test images a class; the score is on all of them, and nothing selects on it
        int watch = Math.min(100, Arrays.stream(testB.countsPerClass()).min().orElse(0));
        ClassSubset watchB = ClassSubset.of(testB, watch, c.seed(), FIRST);
        Path backboneFile = runDir.resolve("backbone").resolve("model.safetensors");

        try (NDManager manager = NDManager.newBaseManager()) {
            // (a) the backbone on classes 0-4
            log.printf(
                    Locale.ROOT,
                    "(a) backbone: %s from scratch on %,d training images of classes 0-4 %s, %d epochs%n",
                    c.model(),
                    trainA.size(),
                    trainA.classes(),
                    c.backboneEpochs());
            log.flush();
            long t0 = System.nanoTime();
            DataLoaders dlsA = ImageDataLoaders.of(
                    trainA,
                    testA,
                    pipeline.trainTransform(),
                    pipeline.validTransform(),
                    new ImageDataLoaders.Settings(c.batchSize(), c.seed(), threads, 4),
                    manager);
            double backboneAcc;
            VisionLearner.Options base =
                    VisionLearner.Options.of(c.model()).inChans(1).seed(c.seed());
            try (Learner a = learner(dlsA, base, progress)) {
                double lr = lrFromFinder(a, "minimum", log, "backbone");
                a.fitOneCycle(c.backboneEpochs(), lr);
                stopIfInterrupted(a, "training the backbone");
                backboneAcc = a.validate().metrics().get("accuracy");
                Export.write(
                        backboneFile,
                        (VisionModel) a.model(),
                        new Export.Spec(c.model(), 1, FastaiHead.defaults(), trainA.classes(), prep));
            }
            double backboneSeconds = (System.nanoTime() - t0) / 1e9;
            log.printf(
                    Locale.ROOT,
                    "backbone: %.2f%% on the %,d test images of classes 0-4 (%.0f s); exported to %s%n%n",
                    100 * backboneAcc,
                    testA.size(),
                    backboneSeconds,
                    backboneFile);

            DataLoaders dlsB = ImageDataLoaders.of(
                    trainB,
                    watchB,
                    pipeline.trainTransform(),
                    pipeline.validTransform(),
                    new ImageDataLoaders.Settings(c.smallBatchSize(), c.seed(), threads, 4),
                    manager);
            DataLoaders scoreB = ImageDataLoaders.of(
                    trainB,
                    testB,
                    pipeline.trainTransform(),
                    pipeline.validTransform(),
                    new ImageDataLoaders.Settings(c.smallBatchSize(), c.seed(), threads, 4),
                    manager);

            // (c) the exported body with a new head, fastai's fine_tune
            log.printf(
                    Locale.ROOT,
                    "(c) transfer: the exported body, a new head for classes 5-9 %s, fine_tune(%d, freeze_epochs=%d, lr_mult=%s) on %d images (%d a class)%n",
                    trainB.classes(),
                    c.epochs(),
                    c.freezeEpochs(),
                    fmt(c.lrMult()),
                    trainB.size(),
                    c.perClass());
            log.flush();
            t0 = System.nanoTime();
            Score transfer;
            try (Learner f = learner(dlsB, base.weights(backboneFile), progress)) {
                f.freeze(); // as fastai's vision_learner: lr_find sees the frozen body
                double lr = lrFromFinder(f, "minimum", log, "transfer");
                f.fineTune(c.epochs(), lr, c.freezeEpochs(), c.lrMult());
                stopIfInterrupted(f, "fine-tuning the transfer");
                transfer = score("transfer", f, scoreB, lr, t0, testB.size(), log);
            }

            // (d) the same architecture from scratch, as many epochs in all
            int total = c.epochs() + c.freezeEpochs();
            log.printf(
                    Locale.ROOT,
                    "(d) scratch: %s from random init, fit_one_cycle(%d) on the same %d images%n",
                    c.model(),
                    total,
                    trainB.size());
            log.flush();
            t0 = System.nanoTime();
            Score scratch;
            try (Learner s = learner(dlsB, base, progress)) {
                double lr = lrFromFinder(s, "minimum", log, "scratch");
                s.fitOneCycle(total, lr);
                stopIfInterrupted(s, "training from scratch");
                scratch = score("scratch", s, scoreB, lr, t0, testB.size(), log);
            }

            Outcome o = new Outcome(
                    runDir,
                    backboneAcc,
                    backboneSeconds,
                    trainA.size(),
                    transfer,
                    scratch,
                    trainB.size(),
                    testB.size());
            write(o, c);
            return o;
        }
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** A learner of the experiment: accuracy as its metric, the caller's progress callbacks. */
    private static Learner learner(DataLoaders dls, VisionLearner.Options options, List<Callback> progress) {
        return VisionLearner.create(
                dls, options, b -> b.metrics(Metric.accuracy()).callbacks(progress.toArray(Callback[]::new)));
    }

    /** Scores a trained learner of classes 5-9 on all their test images (started at t0) and logs the result. */
    private static Score score(
            String name, Learner l, DataLoaders score, double lr, long t0, int testImages, PrintWriter log) {
        Score s = new Score(name, accuracy(l, score.valid()), lr, (System.nanoTime() - t0) / 1e9);
        log.printf(
                Locale.ROOT,
                "%s: %.2f%% on the %,d test images of classes 5-9 (%.0f s)%n%n",
                name,
                100 * s.accuracy(),
                testImages,
                s.seconds());
        return s;
    }

    private static double lrFromFinder(Learner l, String rule, PrintWriter log, String what) {
        LrFinder.Result r = l.lrFind();
        double lr = switch (rule) {
            case "minimum" -> r.minimum();
            case "steep" -> r.steep();
            default -> r.valley();
        };
        if (!Double.isFinite(lr)) {
            throw new JimmException(what + ": lr_find found no usable learning rate");
        }
        log.printf(
                Locale.ROOT,
                "%s lr_find: valley %.2e, steep %.2e, minimum/10 %.2e -> %s %.2e%n",
                what,
                r.valley(),
                r.steep(),
                r.minimum(),
                rule,
                lr);
        log.flush();
        return lr;
    }

    /** Top-1 accuracy of the learner's model on every batch of {@code source}, in eval mode. */
    static double accuracy(Learner l, BatchSource source) {
        l.model().eval();
        long right = 0;
        long n = 0;
        try (NDManager m = l.model().getManager().newSubManager()) {
            Iterator<Batch> it = source.batches(0, m);
            try {
                while (it.hasNext()) {
                    try (Batch b = it.next();
                            NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        NDArray pred = l.model().forward(b.x()).argMax(1);
                        right += pred.eq(b.y().toType(pred.getDataType(), false))
                                .sum()
                                .getLong();
                        n += b.size();
                    }
                }
            } finally {
                BatchSource.close(it);
            }
        }
        return (double) right / n;
    }

    private static void write(Outcome o, Config c) {
        JsonObject j = new JsonObject();
        j.addProperty("model", c.model());
        j.addProperty("seed", c.seed());
        j.addProperty("backbone_train_images", o.backboneTrainImages());
        j.addProperty("backbone_epochs", c.backboneEpochs());
        j.addProperty("backbone_accuracy_classes_0_4", o.backboneAccuracy());
        j.addProperty("backbone_seconds", o.backboneSeconds());
        j.addProperty("train_images_classes_5_9", o.trainImages());
        j.addProperty("test_images_classes_5_9", o.testImages());
        j.addProperty("fine_tune_epochs", c.epochs());
        j.addProperty("freeze_epochs", c.freezeEpochs());
        j.addProperty("lr_mult", c.lrMult());
        for (Score s : List.of(o.transfer(), o.scratch())) {
            JsonObject e = new JsonObject();
            e.addProperty("accuracy", s.accuracy());
            e.addProperty("lr", s.lr());
            e.addProperty("seconds", s.seconds());
            j.add(s.name(), e);
        }
        j.addProperty("command", commandLine(c));
        AtomicFiles.writeString(
                o.runDir().resolve("result.json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(j));
        List<String> md = new ArrayList<>();
        md.add("# Transfer between disjoint label sets (Fashion-MNIST)");
        md.add("");
        md.add(String.format(
                Locale.ROOT,
                "Backbone: %s trained from scratch on %,d images of classes 0-4 for %d epochs: %.2f%% on their 5,000 test images (%.0f s).",
                c.model(),
                o.backboneTrainImages(),
                c.backboneEpochs(),
                100 * o.backboneAccuracy(),
                o.backboneSeconds()));
        md.add("");
        md.add(String.format(
                Locale.ROOT,
                "Then %d training images of classes 5-9 (%d a class), scored on all %,d test images of classes 5-9:",
                o.trainImages(),
                c.perClass(),
                o.testImages()));
        md.add("");
        md.add("| model | training | lr | accuracy | seconds |");
        md.add("| --- | --- | --- | --- | --- |");
        md.add(String.format(
                Locale.ROOT,
                "| transfer | exported body + new head, fine_tune(%d, freeze_epochs=%d, lr_mult=%s) | %.2e (lr_find minimum/10) | %.2f%% | %.0f |",
                c.epochs(),
                c.freezeEpochs(),
                fmt(c.lrMult()),
                o.transfer().lr(),
                100 * o.transfer().accuracy(),
                o.transfer().seconds()));
        md.add(String.format(
                Locale.ROOT,
                "| scratch | random init, fit_one_cycle(%d) | %.2e (lr_find minimum/10) | %.2f%% | %.0f |",
                c.epochs() + c.freezeEpochs(),
                o.scratch().lr(),
                100 * o.scratch().accuracy(),
                o.scratch().seconds()));
        md.add("");
        md.add("Repeat: `" + commandLine(c) + "`");
        AtomicFiles.writeString(o.runDir().resolve("result.md"), String.join("\n", md) + "\n");
    }

    /** The command that repeats the experiment. */
    static String commandLine(Config c) {
        StringBuilder sb = new StringBuilder("./jimm demo transfer --model ")
                .append(c.model())
                .append(" --seed ")
                .append(c.seed());
        if (c.dataRoot() != null) {
            sb.append(" --data-root ").append(c.dataRoot());
        }
        sb.append(" --backbone-images ")
                .append(c.backboneImages())
                .append(" --backbone-epochs ")
                .append(c.backboneEpochs())
                .append(" --per-class ")
                .append(c.perClass())
                .append(" --epochs ")
                .append(c.epochs())
                .append(" --freeze-epochs ")
                .append(c.freezeEpochs());
        return sb.toString();
    }

    /** A fit ended by a stop request ends the experiment: its scores would be of half-trained models. */
    private static void stopIfInterrupted(Learner l, String phase) {
        if (l.interrupted()) {
            throw l.interruption().withState("stopped while " + phase + "; the experiment's results are not written");
        }
    }
}
