package dev.jimm.cli;

import dev.jimm.train.Callback;
import dev.jimm.train.Callbacks;
import dev.jimm.train.MemoryMonitor;
import dev.jimm.train.ProgressiveResize;
import dev.jimm.train.Tta;
import dev.jimm.transforms.AugPolicy;
import dev.jimm.transforms.ResizeMethod;
import dev.jimm.vision.AutoAugment;
import dev.jimm.vision.LrSuggestion;
import dev.jimm.vision.TrainRecipe;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jimm train}: trains a classifier on an image folder or a named dataset. */
@Command(
        name = "train",
        description = {
            "Train an image classifier (fastai's fine_tune with --pretrained or --weights, else fit_one_cycle).",
            "The data pipeline (augmentation, flips, resize, size, normalisation) is chosen by the data's regime and printed first; --aug and friends override it.",
            "Example: jimm train ../shared/datasets/font-letters --model resnet18 --epochs 5 --img-size 32",
            "SIGTERM or Ctrl-C stops it after the current batch: the checkpoint keeps that point, and --resume RUN continues exactly from there (exit status 143 or 130). A second Ctrl-C quits at once."
        },
        mixinStandardHelpOptions = true)
final class TrainCommand extends JimmCommand {
    @Option(
            names = "--resume",
            paramLabel = "RUN",
            description =
                    "Continue the run in this folder from its last checkpoint (DATA and the other options come from its config.json).")
    Path resume;

    @Parameters(
            paramLabel = "DATA",
            arity = "0..1",
            description =
                    "An image folder (one subfolder per class, or train/ and valid/), or fashion-mnist, mnist, cifar10, cifar100, fashion-mnist-sample.")
    String data;

    @Option(
            names = "--pretrained",
            description =
                    "Start from the architecture's pretrained weights (the hub's default tag, cached in $JIMM_HOME/hub; JIMM_OFFLINE=1: cache only) with a new head and its preprocessing.")
    boolean pretrained;

    @Option(
            names = "--weights",
            paramLabel = "FILE",
            description = "Start from these weights (a checkpoint of the architecture, or a jimm export: its body).")
    Path weights;

    @Option(
            names = "--epochs",
            paramLabel = "N",
            defaultValue = "5",
            description = "Epochs (default: ${DEFAULT-VALUE}); with --pretrained or --weights, the unfrozen epochs.")
    int epochs;

    @Option(
            names = "--lr",
            paramLabel = "X|default|auto",
            defaultValue = "default",
            description =
                    "Peak learning rate; default: fastai's (1e-3 for fit_one_cycle from scratch, 2e-3 for fine_tune); or an lr_find suggestion: auto (= valley), valley, minimum (the loss minimum / 10) or steep.")
    String lr;

    @Option(
            names = "--freeze-epochs",
            paramLabel = "N",
            defaultValue = "1",
            description = "Epochs with the body frozen when fine-tuning (default: ${DEFAULT-VALUE}).")
    int freezeEpochs;

    @Option(
            names = "--valid-pct",
            paramLabel = "P",
            defaultValue = "0.2",
            description = "Validation fraction of a folder without valid/ (default: ${DEFAULT-VALUE}).")
    double validPct;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: runs/<time>-<model>).")
    Path out;

    @Mixin
    LoaderThreadsOption loader;

    @Option(
            names = "--head",
            paramLabel = "fastai|linear",
            defaultValue = "fastai",
            description = "New head: fastai's (concat pool, BN, dropout, 512 hidden) or one linear layer.")
    String head;

    @Option(
            names = "--label-smoothing",
            paramLabel = "EPS",
            defaultValue = "0",
            description =
                    "Label smoothing of the cross-entropy, as PyTorch's label_smoothing (default: ${DEFAULT-VALUE}).")
    double labelSmoothing;

    @Option(
            names = "--tta",
            paramLabel = "aug|flip|shift",
            arity = "0..1",
            fallbackValue = "aug",
            defaultValue = "none",
            description =
                    "Score the final model with test-time augmentation: aug (the default of a bare --tta) is fastai's Learner.tta "
                            + "(4 passes through the training transforms, blended 3:1 with the plain pass); flip is the mean of each image and its mirror image (needs training with flips); shift is airbench's: that mean at the image (1/2) and at one-pixel shifts down-right and up-left (1/4 each).")
    String tta;

    @Option(
            names = "--validate-every",
            paramLabel = "N",
            defaultValue = "1",
            description = "Score the validation set after every N-th epoch and the last (Lightning's"
                    + " check_val_every_n_epoch; default: ${DEFAULT-VALUE}, every epoch). The epochs between are left"
                    + " blank in the table and metrics.csv; training is the same.")
    int validateEvery;

    @Option(
            names = "--aug",
            paramLabel = "POLICY",
            defaultValue = "auto",
            description =
                    "Training augmentation: auto (by the data's regime, printed at the start), none, fastai "
                            + "(fastai's aug_transforms), timm (RandomResizedCrop, flip, colour jitter or --auto-augment, --reprob, --mixup) or small (pad-and-crop, --crop-pad, --reprob).")
    String aug;

    @Option(
            names = "--flip",
            negatable = true,
            description =
                    "Flip training images left-right (default: by regime: on for colour images, off for gray ones; never with --aug none).")
    Boolean flip;

    @Option(
            names = "--alternating-flip",
            description = "Flip a seeded half of the training images in even epochs and the other half in odd ones, so"
                    + " each image is seen both ways every two epochs (airbench's alternating flip; needs flips and"
                    + " --aug small or none).")
    boolean alternatingFlip;

    @Option(
            names = "--resize",
            paramLabel = "squish|crop|pad",
            description =
                    "How images are brought to the training size, as fastai's Resize (default: crop, the centre in validation; squish for named datasets).")
    String resize;

    @Option(
            names = "--normalize",
            negatable = true,
            description =
                    "From scratch, normalise with the mean and std of the training images (default: on; from weights, the weights' own).")
    Boolean normalize;

    @Option(
            names = "--auto-augment",
            paramLabel = "none|ta|ra",
            defaultValue = "none",
            description =
                    "With --aug timm: TrivialAugmentWide (ta) or RandAugment n2 m9 (ra) instead of colour jitter.")
    String autoAugment;

    @Option(
            names = "--reprob",
            paramLabel = "P",
            defaultValue = "0",
            description = "With --aug timm or small: RandomErasing probability (a box of noise after normalisation).")
    double reProb;

    @Option(
            names = "--zero-init-last",
            description =
                    "From scratch, start each residual block's last norm at zero, as timm's ResNet and RegNet do "
                            + "(default: off, as torchvision's ResNet that fastai trains; on the public folders timm's start cost 1-2 points in 5 epochs).")
    boolean zeroInitLast;

    @Option(
            names = "--lookahead",
            description =
                    "Every 5 steps, move the weights to a running average of themselves, weighted more as the fit "
                            + "ends, and keep the average (airbench's lookahead).")
    boolean lookahead;

    @Option(
            names = "--crop-pad",
            paramLabel = "PX",
            description = "With --aug small: the pad-and-crop padding, the largest shift of a training image "
                    + "(default: 1/8 of the size, CIFAR's 4 px at 32).")
    Integer cropPad;

    @Option(
            names = "--progressive-resize",
            paramLabel = "MIN:EPOCHS",
            description = "Train the first EPOCHS epochs on smaller images, growing from MIN pixels on the longer "
                    + "side towards the full size, and the rest at the full size (e.g. 20:4; default: off).")
    String progressiveResize;

    @Option(
            names = "--wd",
            paramLabel = "X",
            defaultValue = "0.01",
            description = "AdamW's decoupled weight decay, not applied to norms and biases (default: ${DEFAULT-VALUE}, "
                    + "fastai's).")
    double wd;

    @Option(
            names = "--mixup",
            description = "Mixup/CutMix on training batches with timm's defaults (mixup 0.8, cutmix 1.0, switch 0.5).")
    boolean mixup;

    @Mixin
    RecipeOptions recipe;

    @Mixin
    BadImageOption badImages;

    @Option(names = "--json", description = "Quiet; end with one JSON line of final metrics.")
    boolean json;

    @Option(
            names = "--progress-every",
            paramLabel = "SECONDS",
            defaultValue = "60",
            description =
                    "When the output is not a terminal (a log file), print a progress line (epoch, batch, loss) to stderr at most every SECONDS (default: ${DEFAULT-VALUE}; 0: after every batch).")
    long progressEvery;

    @Option(
            names = "--memory-log",
            description =
                    "After each epoch, print the live native arrays and the resident memory to stderr (a leak check).")
    boolean memoryLog;

    @Override
    public Integer call() {
        if (!head.equals("fastai") && !head.equals("linear")) {
            throw new IllegalArgumentException("--head must be fastai or linear, got '" + head + "'");
        }
        requireAtLeast("--progress-every", progressEvery, 0);
        var outStream = out();
        List<Callback> cbs = new ArrayList<>();
        if (!json) {
            cbs.add(Callbacks.Progress.console(Duration.ofSeconds(progressEvery)));
        }
        if (memoryLog) {
            cbs.add(new MemoryMonitor(err()));
        }
        Consumer<String> log = json
                ? line -> {}
                : line -> {
                    outStream.println(line);
                    outStream.flush();
                };
        if (resume != null) {
            return report(TrainRecipe.resume(resume, cbs, log), outStream);
        }
        if (data == null) {
            throw new IllegalArgumentException(
                    "DATA is required (an image folder or a dataset name), unless --resume RUN is given");
        }
        TrainRecipe.Config.Builder b = TrainRecipe.Config.builder(data)
                .dataRoot(recipe.dataRoot.dir)
                .model(recipe.model)
                .pretrained(pretrained)
                .weights(weights)
                .epochs(epochs)
                .freezeEpochs(freezeEpochs)
                .batchSize(recipe.batchSize)
                .imgSize(recipe.imgSize)
                .validPct(validPct)
                .seed(recipe.seed)
                .out(out)
                .threads(loader.threads)
                .linearHead(head.equals("linear"))
                .skipBadImages(badImages.skip)
                .labelSmoothing(labelSmoothing)
                .tta(Tta.parse(tta))
                .aug(aug.equalsIgnoreCase("auto") ? null : AugPolicy.parse(aug))
                .flip(flip)
                .resize(resize == null ? null : ResizeMethod.parse(resize))
                .normalize(normalize)
                .autoAugment(AutoAugment.parse(autoAugment))
                .reProb(reProb)
                .mixup(mixup)
                .zeroInitLast(zeroInitLast)
                .lookahead(lookahead)
                .cropPad(cropPad)
                .progressiveResize(progressiveResize == null ? null : ProgressiveResize.parse(progressiveResize))
                .wd(wd)
                .alternatingFlip(alternatingFlip)
                .validateEvery(validateEvery);
        Double lrValue = parseLr(lr);
        if (lrValue != null) {
            b.lr(lrValue);
        } else {
            b.lrSuggestion(LrSuggestion.parse(lr));
        }
        return report(TrainRecipe.run(b.build(), cbs, log), outStream);
    }

    private int report(TrainRecipe.Result r, PrintWriter outStream) {
        if (json) {
            outStream.println(TrainRecipe.resultJson(r));
        } else {
            outStream.printf(
                    Locale.ROOT,
                    "valid_loss %.4f  accuracy %.4f  (%.0f s)%n",
                    r.validLoss(),
                    r.metrics().getOrDefault("accuracy", Double.NaN),
                    r.seconds());
            if (r.lrFind() != null) {
                outStream.printf(
                        Locale.ROOT,
                        "lr_find: valley %.2e, steep %.2e (used %.2e)%n",
                        r.lrFind().valley(),
                        r.lrFind().steep(),
                        r.lrUsed());
            }
            outStream.println("run folder: " + r.runDir());
        }
        return 0;
    }

    static Double parseLr(String text) {
        if (LrSuggestion.isName(text)) {
            return null;
        }
        double v;
        try {
            v = Double.parseDouble(text);
        } catch (NumberFormatException e) {
            v = Double.NaN;
        }
        if (!(v > 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(
                    "--lr must be a positive number or default, auto, valley, minimum or steep, got '" + text + "'");
        }
        return v;
    }
}
