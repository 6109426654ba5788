package dev.jimm.cli;

import dev.jimm.data.BatchGrid;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDataset;
import dev.jimm.train.Callback;
import dev.jimm.train.Callbacks;
import dev.jimm.vision.ImageClassifier;
import dev.jimm.vision.LrSuggestion;
import dev.jimm.vision.TrainRecipe;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.Writer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code jimm demo}: the first ten minutes. Trains a ResNet-10t from scratch on the bundled Fashion-MNIST sample (2,000
 * training and 500 held-out test images), with lr_find choosing the learning rate, then evaluates, exports, classifies
 * a few held-out image files and writes the run report.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        subcommands = DemoTransferCommand.class,
        description = {
            "Train a small model on the bundled Fashion-MNIST sample, evaluate, export, predict, and write a report.",
            "Takes a minute or two on two CPU cores. Example: jimm demo --out runs/demo",
            "jimm demo transfer: fine-tuning a body trained on other classes against training from scratch."
        })
final class DemoCommand extends JimmCommand {
    @Mixin
    DemoOptions demo;

    @Option(
            names = "--epochs",
            paramLabel = "N",
            defaultValue = "20",
            description = "Epochs of fit_one_cycle (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--json", description = "Quiet; end with one JSON line of final metrics, as jimm train --json.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter stdout = out();
        // --json: the same steps with nothing on stdout but the final JSON line
        PrintWriter o = json ? new PrintWriter(Writer.nullWriter()) : stdout;
        Path runDir = demo.out != null ? demo.out : TrainRecipe.defaultRunDir("demo");
        o.println("jimm demo: " + demo.model
                + " from scratch on the bundled Fashion-MNIST sample (2,000 train, 500 test images)");
        o.println("lr_find picks the learning rate (its loss minimum / 10), then fit_one_cycle for " + epochs
                + " epochs.");
        o.flush();
        // from scratch, fastai's valley is cautious; the classic rule (the loss minimum / 10) trains this in time
        TrainRecipe.Config c = TrainRecipe.Config.builder("fashion-mnist-sample")
                .model(demo.model)
                .epochs(epochs)
                .lrSuggestion(LrSuggestion.MINIMUM)
                .freezeEpochs(0)
                .seed(demo.seed)
                .out(runDir)
                .build();
        List<Callback> cbs = json ? List.of() : List.of(Callbacks.Progress.console());
        TrainRecipe.Result r = TrainRecipe.run(c, cbs, line -> {
            o.println(line);
            o.flush();
        });
        o.printf(
                Locale.ROOT,
                "%nlr_find: valley %.2e, steep %.2e, minimum/10 %.2e -> trained at %.2e%n",
                r.lrFind().valley(),
                r.lrFind().steep(),
                r.lrFind().minimum(),
                r.lrUsed());
        o.printf(
                Locale.ROOT,
                "held-out accuracy %.1f%% (valid_loss %.4f) in %.0f s%n",
                100 * r.metrics().getOrDefault("accuracy", Double.NaN),
                r.validLoss(),
                r.seconds());

        // classify a few held-out images from files, the way a user would
        ImageDataset test = TrainRecipe.evalDataset("fashion-mnist-sample", null, 1);
        Path examples = runDir.resolve("examples");
        try (ImageClassifier clf = ImageClassifier.load(runDir)) {
            o.println("\npredictions on held-out images (" + examples + "):");
            int shown = 0;
            int right = 0;
            for (int i = 0; i < test.size() && shown < 8; i += 61) {
                DecodedImage img = test.image(i);
                String truth = test.classes().get(test.label(i));
                Path file = examples.resolve(String.format(Locale.ROOT, "test-%03d.png", i));
                writeGray(img, file);
                ImageClassifier.ClassScore top = clf.predict(file, 1).get(0);
                boolean ok = top.label().equals(truth);
                right += ok ? 1 : 0;
                o.printf(
                        Locale.ROOT,
                        "  %-14s predicted %-12s %5.1f%%   actual %-12s %s%n",
                        file.getFileName(),
                        top.label(),
                        100 * top.probability(),
                        truth,
                        ok ? "ok" : "WRONG");
                shown++;
            }
            o.printf(Locale.ROOT, "  %d of %d right%n", right, shown);
        }
        o.println("\nrun folder: " + runDir);
        o.println("report:     " + runDir.resolve("index.html"));
        o.println("next:       ./jimm predict " + runDir + " " + examples.resolve("test-000.png"));
        o.flush();
        if (json) {
            stdout.println(TrainRecipe.resultJson(r));
            stdout.flush();
        }
        return 0;
    }

    private static void writeGray(DecodedImage img, Path file) {
        BufferedImage b = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                int v = img.get(x, y, 0);
                b.getRaster().setSample(x, y, 0, v);
            }
        }
        BatchGrid.writePng(b, file);
    }
}
