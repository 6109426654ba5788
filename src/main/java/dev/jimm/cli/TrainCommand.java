package dev.jimm.cli;

import dev.jimm.train.Callback;
import dev.jimm.train.Callbacks;
import dev.jimm.train.MemoryMonitor;
import dev.jimm.vision.TrainRecipe;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code jimm train}: trains a classifier on an image folder or a named dataset. */
@Command(
        name = "train",
        description = {"Train an image classifier (fastai's fine_tune with --pretrained or --weights, else fit_one_cycle).",
            "Example: jimm train fashion-mnist --data-root ../shared/datasets --model resnet18 --epochs 5 --lr 2e-3"},
        mixinStandardHelpOptions = true)
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--resume", paramLabel = "RUN", description = "Continue the run in this folder from its last checkpoint (DATA and the other options come from its config.json).")
    Path resume;

    @Parameters(paramLabel = "DATA", arity = "0..1", description = "An image folder (one subfolder per class, or train/ and valid/), or fashion-mnist, mnist, cifar10, cifar100, fashion-mnist-sample.")
    String data;

    @Option(names = "--data-root", paramLabel = "DIR", description = "Where named datasets are (default: $JIMM_HOME/datasets/NAME, downloaded if missing).")
    Path dataRoot;

    @Option(names = "--model", paramLabel = "NAME", defaultValue = "resnet18", description = "Architecture (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--pretrained", description = "Start from the architecture's pretrained weights (the hub's default tag, cached in $JIMM_HOME/hub; JIMM_OFFLINE=1: cache only) with a new head and its preprocessing.")
    boolean pretrained;

    @Option(names = "--weights", paramLabel = "FILE", description = "Start from these weights (a checkpoint of the architecture, or a jimm export: its body).")
    Path weights;

    @Option(names = "--epochs", paramLabel = "N", defaultValue = "5", description = "Epochs (default: ${DEFAULT-VALUE}); with --pretrained or --weights, the unfrozen epochs.")
    int epochs;

    @Option(names = "--lr", paramLabel = "X|auto", defaultValue = "2e-3", description = "Peak learning rate, or an lr_find suggestion: auto (= valley), valley, minimum (the loss minimum / 10) or steep (default: ${DEFAULT-VALUE}).")
    String lr;

    @Option(names = "--freeze-epochs", paramLabel = "N", defaultValue = "1", description = "Epochs with the body frozen when fine-tuning (default: ${DEFAULT-VALUE}).")
    int freezeEpochs;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "64", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--img-size", paramLabel = "N", description = "Input size (default: the dataset's or the model's).")
    Integer imgSize;

    @Option(names = "--valid-pct", paramLabel = "P", defaultValue = "0.2", description = "Validation fraction of a folder without valid/ (default: ${DEFAULT-VALUE}).")
    double validPct;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "Seed of the split, order, init and augmentation (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: runs/<time>-<model>).")
    Path out;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0", description = "Loader threads (default: one per core).")
    int threads;

    @Option(names = "--head", paramLabel = "fastai|linear", defaultValue = "fastai", description = "New head: fastai's (concat pool, BN, dropout, 512 hidden) or one linear layer.")
    String head;

    @Option(names = "--skip-bad-images", description = "Leave out images that fail to decode and empty class folders, with a warning naming each (default: stop with an error naming the file).")
    boolean skipBadImages;

    @Option(names = "--label-smoothing", paramLabel = "EPS", defaultValue = "0", description = "Label smoothing of the cross-entropy, as PyTorch's label_smoothing (default: ${DEFAULT-VALUE}).")
    double labelSmoothing;

    @Option(names = "--tta", description = "Score the final model with test-time augmentation: the mean of the probabilities of each image and its mirror image.")
    boolean tta;

    @Option(names = "--json", description = "Quiet; end with one JSON line of final metrics.")
    boolean json;

    @Option(names = "--memory-log", description = "After each epoch, print the live native arrays and the resident memory to stderr (a leak check).")
    boolean memoryLog;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (!head.equals("fastai") && !head.equals("linear")) {
            throw new IllegalArgumentException("--head must be fastai or linear, got '" + head + "'");
        }
        var outStream = spec.commandLine().getOut();
        List<Callback> cbs = new ArrayList<>();
        if (!json) {
            cbs.add(Callbacks.Progress.console());
        }
        if (memoryLog) {
            cbs.add(new MemoryMonitor(spec.commandLine().getErr()));
        }
        if (resume != null) {
            return report(TrainRecipe.resume(resume, cbs), outStream);
        }
        if (data == null) {
            throw new IllegalArgumentException("DATA is required (an image folder or a dataset name), unless --resume RUN is given");
        }
        Double lrValue = parseLr(lr);
        String suggestion = lrValue != null || lr.equalsIgnoreCase("auto") ? "valley" : lr.toLowerCase(java.util.Locale.ROOT);
        TrainRecipe.Config c = new TrainRecipe.Config(data, dataRoot, model, pretrained, weights, epochs, lrValue,
                freezeEpochs, batchSize, imgSize, validPct, seed, out, threads, head.equals("linear"), suggestion,
                skipBadImages, labelSmoothing, tta);
        return report(TrainRecipe.run(c, cbs), outStream);
    }

    private int report(TrainRecipe.Result r, java.io.PrintWriter outStream) {
        if (json) {
            outStream.println(TrainRecipe.resultJson(r));
        } else {
            outStream.printf(Locale.ROOT, "valid_loss %.4f  accuracy %.4f  (%.0f s)%n", r.validLoss(),
                    r.metrics().getOrDefault("accuracy", Double.NaN), r.seconds());
            if (r.lrFind() != null) {
                outStream.printf(Locale.ROOT, "lr_find: valley %.2e, steep %.2e (used %.2e)%n", r.lrFind().valley(), r.lrFind().steep(), r.lrUsed());
            }
            outStream.println("run folder: " + r.runDir());
        }
        return 0;
    }

    static Double parseLr(String text) {
        if (java.util.List.of("auto", "valley", "minimum", "steep").contains(text.toLowerCase(java.util.Locale.ROOT))) {
            return null;
        }
        try {
            double v = Double.parseDouble(text);
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("--lr must be a positive number or auto, valley, minimum or steep, got '" + text + "'");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--lr must be a positive number or auto, valley, minimum or steep, got '" + text + "'");
        }
    }
}
