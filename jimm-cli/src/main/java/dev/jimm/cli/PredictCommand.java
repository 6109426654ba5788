package dev.jimm.cli;

import dev.jimm.JimmException;
import dev.jimm.data.ImageDecodeException;
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

    @Override
    public Integer call() {
        requireAtLeast("--top-k", topK, 1);
        PrintWriter out = out();
        int failed = 0;
        try (ImageClassifier clf = ImageClassifier.load(model)) {
            for (Path img : images) {
                try {
                    List<ImageClassifier.ClassScore> top = clf.predict(img, topK);
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
                } catch (ImageDecodeException | JimmException e) {
                    failed++;
                    if (json) {
                        Map<String, Object> line = new LinkedHashMap<>();
                        line.put("file", img.toString());
                        line.put("error", Main.oneLine(e));
                        printJson(line);
                    } else {
                        out.println(img + "\tERROR\t" + Main.oneLine(e));
                    }
                }
            }
        }
        out.flush();
        return failed == 0 ? 0 : 1;
    }
}
