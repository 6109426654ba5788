package dev.jimm.cli;

import dev.jimm.JimmException;
import dev.jimm.StopRequest;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDataset;
import dev.jimm.data.ImageDecodeException;
import dev.jimm.train.Charts;
import dev.jimm.vision.ImageClassifier;
import dev.jimm.vision.TrainRecipe;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jimm eval RUN DATA}: a trained model's loss, accuracy and confusion matrix on a dataset. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = {
            "Evaluate a trained model on a dataset's test split or an image folder (valid/ or test/ if present).",
            "Example: jimm eval runs/demo fashion-mnist --data-root ../shared/datasets"
        })
final class EvalCommand extends JimmCommand {
    @Parameters(index = "0", paramLabel = "RUN_OR_MODEL", description = "A run folder or an export file.")
    Path run;

    @Parameters(
            index = "1",
            paramLabel = "DATA",
            description =
                    "An image folder or a dataset name (fashion-mnist, mnist, cifar10, cifar100, fashion-mnist-sample).")
    String data;

    @Mixin
    DataRootOption dataRoot;

    @Option(
            names = "--batch-size",
            paramLabel = "N",
            defaultValue = "128",
            description = "Images per forward pass (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(names = "--confusion", paramLabel = "PNG", description = "Also write the confusion matrix picture here.")
    Path confusionPng;

    @Mixin
    BadImageOption badImages;

    @Option(
            names = "--tta",
            description =
                    "Test-time augmentation: score each image by the mean of the probabilities of it and its mirror image.")
    boolean tta;

    @Option(names = "--json", description = "One JSON line with the metrics.")
    boolean json;

    @Override
    public Integer call() {
        requireAtLeast("--batch-size", batchSize, 1);
        PrintWriter out = out();
        try (ImageClassifier clf = ImageClassifier.load(run)) {
            ImageDataset ds = TrainRecipe.evalDataset(
                    data, dataRoot.dir, clf.preprocessing().channels(), badImages.policy());
            int skipped = 0;
            int[] map = classMap(ds.classes(), clf.classes());
            int k = clf.classes().size();
            long[][] confusion = new long[k][k];
            double lossSum = 0;
            long n = 0;
            // a live count on a terminal only, so piped and --json output stays parseable
            boolean live = !json && System.console() != null;
            long t0 = System.nanoTime();
            for (int start = 0; start < ds.size(); start += batchSize) {
                StopRequest.process()
                        .throwIfRequested("stopped the evaluation after " + start + " of " + ds.size()
                                + " images; nothing was written");
                if (live && start > 0) {
                    double sec = (System.nanoTime() - t0) / 1e9;
                    System.err.printf(
                            Locale.ROOT,
                            "\reval %d/%d images  %.0f img/s  eta %.0f s ",
                            start,
                            ds.size(),
                            start / sec,
                            (ds.size() - start) / (start / sec));
                    System.err.flush();
                }
                int end = Math.min(ds.size(), start + batchSize);
                List<DecodedImage> imgs = new ArrayList<>();
                List<Integer> labels = new ArrayList<>();
                for (int i = start; i < end; i++) {
                    try {
                        imgs.add(ds.image(i));
                        labels.add(ds.label(i));
                    } catch (ImageDecodeException e) {
                        if (!badImages.skip) {
                            throw e;
                        }
                        skipped++;
                        System.err.println("jimm: warning: skipping unreadable image " + e.getMessage() + " (" + skipped
                                + " skipped so far)");
                    }
                }
                if (imgs.isEmpty()) {
                    continue;
                }
                float[][] probs = clf.probabilities(imgs, tta);
                for (int i = 0; i < probs.length; i++) {
                    int actual = map[labels.get(i)];
                    int pred = 0;
                    for (int j = 1; j < k; j++) {
                        if (probs[i][j] > probs[i][pred]) {
                            pred = j;
                        }
                    }
                    confusion[actual][pred]++;
                    lossSum += -Math.log(Math.max(probs[i][actual], 1e-12));
                    n++;
                }
            }
            if (live) {
                System.err.print("\r\033[K");
                System.err.flush();
            }
            long correct = 0;
            for (int i = 0; i < k; i++) {
                correct += confusion[i][i];
            }
            Map<String, Object> m = new LinkedHashMap<>();
            if (n == 0) {
                throw new JimmException(data + ": no image could be decoded (" + skipped + " skipped)");
            }
            m.put("images", n);
            if (badImages.skip) {
                m.put("skipped", skipped);
            }
            m.put("loss", lossSum / n);
            m.put("accuracy", (double) correct / n);
            m.put("error_rate", 1 - (double) correct / n);
            if (confusionPng != null) {
                Charts.writePng(
                        Charts.confusionMatrix(
                                confusion,
                                clf.classes(),
                                String.format(
                                        Locale.ROOT,
                                        "Confusion matrix (accuracy %.1f%%, %d images)",
                                        100.0 * correct / n,
                                        n)),
                        confusionPng);
            }
            if (json) {
                printJson(m);
            } else {
                out.printf(
                        Locale.ROOT,
                        "%d images  loss %.4f  accuracy %.4f  error_rate %.4f%n",
                        n,
                        lossSum / n,
                        (double) correct / n,
                        1 - (double) correct / n);
            }
        }
        out.flush();
        return 0;
    }

    /** Maps the dataset's label indices to the model's, by class name. */
    static int[] classMap(List<String> dataClasses, List<String> modelClasses) {
        int[] map = new int[dataClasses.size()];
        for (int i = 0; i < map.length; i++) {
            int j = modelClasses.indexOf(dataClasses.get(i));
            if (j < 0) {
                throw new JimmException(
                        "class '" + dataClasses.get(i) + "' of the data is not one the model knows " + modelClasses);
            }
            map[i] = j;
        }
        return map;
    }
}
