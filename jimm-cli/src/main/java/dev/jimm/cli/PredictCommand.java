package dev.jimm.cli;

import ai.djl.pytorch.jni.JniUtils;
import dev.jimm.JimmException;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecodeException;
import dev.jimm.data.ImageDecoder;
import dev.jimm.vision.ImageClassifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code jimm predict RUN_OR_MODEL IMAGE...}: the top classes of each image. */
@Command(
        name = "predict",
        mixinStandardHelpOptions = true,
        description = {
            "Classify images with a trained model (a run folder or an exported model file).",
            "Example: jimm predict runs/demo samples/fashion-mnist-images/*.png --top-k 3"
        })
final class PredictCommand extends JimmCommand {
    @Parameters(
            index = "0",
            paramLabel = "RUN_OR_MODEL",
            description = "A run folder (its model.safetensors) or an export file.")
    Path model;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "IMAGE", description = "Image files.")
    List<Path> images;

    @Option(
            names = "--top-k",
            paramLabel = "K",
            defaultValue = "3",
            description = "Classes to show per image (default: ${DEFAULT-VALUE}).")
    int topK;

    @Option(
            names = "--json",
            description = "One JSON line per image: {file, top: [{label, probability}]} or {file, error}.")
    boolean json;

    @Option(
            names = "--batch-size",
            paramLabel = "N",
            defaultValue = "1",
            description = {
                "Images per forward pass (default: ${DEFAULT-VALUE}). Every pass runs exactly N images (the last one"
                        + " padded), so an image's probabilities are the same bits as `jimm spark predict`'s with the"
                        + " same N."
            })
    int batchSize;

    @Option(
            names = "--threads",
            paramLabel = "N",
            description = {
                "libtorch threads (default: one per core). Above batch size 1, libtorch may split a batch's sums"
                        + " differently by thread count: bits equal to a Spark job's need its threads per task too."
            })
    Integer threads;

    @Override
    public Integer call() {
        requireAtLeast("--top-k", topK, 1);
        requireAtLeast("--batch-size", batchSize, 1);
        if (threads == null) {
            return predict();
        }
        requireAtLeast("--threads", threads, 1);
        int before = JniUtils.getNumThreads();
        JniUtils.setNumThreads(threads);
        try {
            return predict();
        } finally {
            JniUtils.setNumThreads(before);
        }
    }

    private int predict() {
        PrintWriter out = out();
        int failed = 0;
        try (ImageClassifier clf = ImageClassifier.load(model)) {
            ImageDecoder decoder = clf.preprocessing().decoder();
            for (int start = 0; start < images.size(); start += batchSize) {
                List<Path> group = images.subList(start, Math.min(images.size(), start + batchSize));
                Map<Path, String> errors = new LinkedHashMap<>();
                List<DecodedImage> decoded = new ArrayList<>();
                for (Path img : group) {
                    try {
                        decoded.add(decoder.decode(img));
                    } catch (ImageDecodeException | JimmException e) {
                        errors.put(img, Main.oneLine(e));
                    }
                }
                float[][] probs = clf.probabilitiesInBatches(decoded, batchSize);
                int next = 0;
                for (Path img : group) {
                    String error = errors.get(img);
                    if (error != null) {
                        failed++;
                        printError(out, img, error);
                    } else {
                        printTop(out, img, clf.top(probs[next++], topK));
                    }
                }
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }

    private void printTop(PrintWriter out, Path img, List<ImageClassifier.ClassScore> top) {
        if (json) {
            List<Map<String, Object>> rows = new ArrayList<>();
            for (ImageClassifier.ClassScore s : top) {
                Map<String, Object> r = new LinkedHashMap<>();
                r.put("label", s.label());
                r.put("index", s.index());
                r.put("probability", s.probability());
                rows.add(r);
            }
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("file", img.toString());
            line.put("top", rows);
            printJson(line);
        } else {
            List<String> parts = new ArrayList<>();
            for (ImageClassifier.ClassScore s : top) {
                parts.add(String.format(Locale.ROOT, "%s %.1f%%", s.label(), 100 * s.probability()));
            }
            out.println(img + "\t" + String.join(", ", parts));
        }
    }

    private void printError(PrintWriter out, Path img, String error) {
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("file", img.toString());
            line.put("error", error);
            printJson(line);
        } else {
            out.println(img + "\tERROR\t" + error);
        }
    }
}
