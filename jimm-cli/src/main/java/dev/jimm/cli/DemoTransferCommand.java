package dev.jimm.cli;

import dev.jimm.train.Callbacks;
import dev.jimm.vision.TransferExperiment;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code jimm demo transfer}: does a body trained on Fashion-MNIST classes 0–4 help on classes 5–9 with 50 images a
 * class? Fine-tuning the exported body against training from scratch.
 */
@Command(
        name = "transfer",
        mixinStandardHelpOptions = true,
        description = {
            "Transfer between disjoint label sets on Fashion-MNIST: train a backbone on classes 0-4,",
            "export it, fine-tune it on 50 images a class of classes 5-9, and compare with the same model",
            "trained from scratch on those images; both scored on all 5,000 test images of classes 5-9.",
            "About ten minutes on two CPU cores.",
            "Example: jimm demo transfer --data-root ../shared/datasets/fashion-mnist"
        })
final class DemoTransferCommand extends JimmCommand {
    @Option(
            names = "--data-root",
            paramLabel = "DIR",
            description =
                    "Folder with Fashion-MNIST's idx files (default: $JIMM_HOME/datasets/fashion-mnist, downloaded if missing).")
    Path dataRoot;

    @Mixin
    DemoOptions demo;

    @Option(
            names = "--backbone-images",
            paramLabel = "N",
            defaultValue = "-1",
            description = "Training images of classes 0-4 for the backbone (default: all 30,000).")
    int backboneImages;

    @Option(
            names = "--backbone-epochs",
            paramLabel = "N",
            defaultValue = "3",
            description = "fit_one_cycle epochs of the backbone (default: ${DEFAULT-VALUE}).")
    int backboneEpochs;

    @Option(
            names = "--per-class",
            paramLabel = "N",
            defaultValue = "50",
            description = "Training images per class of classes 5-9 (default: ${DEFAULT-VALUE}).")
    int perClass;

    @Option(
            names = "--epochs",
            paramLabel = "N",
            defaultValue = "15",
            description =
                    "Unfrozen fine_tune epochs; scratch trains --freeze-epochs + this many (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
            names = "--freeze-epochs",
            paramLabel = "N",
            defaultValue = "1",
            description = "fine_tune epochs with the body frozen (default: ${DEFAULT-VALUE}).")
    int freezeEpochs;

    @Option(
            names = "--lr-mult",
            paramLabel = "X",
            defaultValue = "1",
            description =
                    "fine_tune's lr_mult: the body's lowest learning rate is the head's divided by X (default: ${DEFAULT-VALUE}, one rate for all: the body was trained on this dataset, not on ImageNet; fastai's default is 100).")
    double lrMult;

    @Mixin
    LoaderThreadsOption loader;

    @Override
    public Integer call() {
        if (backboneImages == 0 || backboneImages < -1) {
            throw new IllegalArgumentException(
                    "--backbone-images must be positive (or -1 for all), got " + backboneImages);
        }
        PrintWriter o = out();
        TransferExperiment.Config c = TransferExperiment.Config.builder(dataRoot, demo.model, demo.seed, demo.out)
                .backboneImages(backboneImages)
                .backboneEpochs(backboneEpochs)
                .perClass(perClass)
                .epochs(epochs)
                .freezeEpochs(freezeEpochs)
                .threads(loader.threads)
                .lrMult(lrMult)
                .build();
        TransferExperiment.Outcome r = TransferExperiment.run(c, o, List.of(Callbacks.Progress.console()));
        o.printf(
                Locale.ROOT,
                "on all %,d test images of classes 5-9, after %d training images:%n",
                r.testImages(),
                r.trainImages());
        o.printf(
                Locale.ROOT,
                "  transfer (fine_tune of the exported body)  %.2f%%  lr %.2e  %.0f s%n",
                100 * r.transfer().accuracy(),
                r.transfer().lr(),
                r.transfer().seconds());
        o.printf(
                Locale.ROOT,
                "  scratch  (fit_one_cycle, random init)       %.2f%%  lr %.2e  %.0f s%n",
                100 * r.scratch().accuracy(),
                r.scratch().lr(),
                r.scratch().seconds());
        o.println("result: " + r.runDir().resolve("result.md"));
        o.flush();
        return 0;
    }
}
