package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.vision.TrainRecipe;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code jimm spark predict|eval} in an embedded {@code local[2]} Spark against {@code jimm predict} and {@code jimm
 * eval} on the same folder: the same bits with the same batch size, the same accuracy, bad files as rows.
 */
class SparkCliTest {
    @TempDir
    static Path tmp;

    static Path run;
    static Path folder;
    static List<String> files = new ArrayList<>();

    @BeforeAll
    static void trainOnLetters() throws IOException {
        folder = tmp.resolve("letters");
        Path letters = TrainRecipe.samplesDir().resolve("font-letters");
        try (Stream<Path> classes =
                Files.list(letters).filter(Files::isDirectory).sorted()) {
            for (Path cls : classes.toList()) {
                Path dst =
                        Files.createDirectories(folder.resolve(cls.getFileName().toString()));
                try (Stream<Path> s = Files.list(cls).sorted().limit(20)) {
                    for (Path f : s.toList()) {
                        files.add(Files.copy(f, dst.resolve(f.getFileName())).toString());
                    }
                }
            }
        }
        run = tmp.resolve("run");
        CliTest.Run trained = CliTest.train(folder, run, "--epochs", "1", "--img-size", "32", "--json");
        assertEquals(0, trained.status(), trained.err());
        Path bad = folder.resolve("B/broken.png");
        Files.write(bad, Arrays.copyOf(Files.readAllBytes(Path.of(files.get(0))), 50));
        files.add(bad.toString());
    }

    /** {@code jimm spark COMMAND run folder --out OUT --master local[2] ... --json}, Spark's UI off. */
    static CliTest.Run spark(String command, Path out, String... options) {
        List<String> args = new ArrayList<>(List.of(
                "spark",
                command,
                run.toString(),
                folder.toString(),
                "--out",
                out.toString(),
                "--master",
                "local[2]",
                "--conf",
                "spark.ui.enabled=false",
                "--json"));
        args.addAll(List.of(options));
        return CliTest.run(args.toArray(String[]::new));
    }

    static JsonObject json(String text) {
        return JsonParser.parseString(text).getAsJsonObject();
    }

    @Test
    void sparkPredictGivesJimmPredictsBitsAndKeepsBadFilesAsRows() throws IOException {
        // batch 8: libtorch splits its sums by thread count there, so both sides run one thread per image batch
        List<String> args = new ArrayList<>(
                List.of("predict", run.toString(), "--batch-size", "8", "--threads", "1", "--top-k", "3"));
        args.add("--json");
        args.addAll(files);
        CliTest.Run single = CliTest.run(args.toArray(String[]::new));
        assertEquals(1, single.status(), "one file is broken: " + single.err());
        Map<String, JsonObject> expected = new HashMap<>();
        for (String line : single.out().strip().split("\n")) {
            JsonObject o = json(line);
            expected.put(o.get("file").getAsString(), o);
        }
        Path out = tmp.resolve("predicted");
        CliTest.Run spark = spark(
                "predict",
                out,
                "--batch-size",
                "8",
                "--threads-per-task",
                "1",
                "--top-k",
                "3",
                "--format",
                "json",
                "--partitions",
                "3");
        assertEquals(0, spark.status(), spark.err());
        assertEquals(files.size(), spark.json().get("rows").getAsLong(), spark.out());
        assertEquals(1, spark.json().get("errors").getAsLong(), spark.out());
        assertTrue(spark.err().contains("partition"), "a line per finished partition: " + spark.err());

        int rows = 0;
        try (Stream<Path> parts = Files.list(out)) {
            for (Path part : parts.filter(p -> p.getFileName().toString().startsWith("part-"))
                    .toList()) {
                for (String line : Files.readAllLines(part)) {
                    JsonObject row = json(line);
                    String file =
                            Path.of(URI.create(row.get("path").getAsString())).toString();
                    JsonObject want = expected.get(file);
                    rows++;
                    if (file.endsWith("broken.png")) {
                        assertTrue(row.has("error") && want.has("error"), row.toString());
                        continue;
                    }
                    JsonArray labels = row.getAsJsonArray("top_labels");
                    JsonArray probs = row.getAsJsonArray("top_probabilities");
                    JsonArray top = want.getAsJsonArray("top");
                    assertEquals(3, top.size());
                    for (int k = 0; k < 3; k++) {
                        JsonObject t = top.get(k).getAsJsonObject();
                        assertEquals(t.get("label").getAsString(), labels.get(k).getAsString(), file);
                        assertEquals(
                                t.get("probability").getAsDouble(), probs.get(k).getAsDouble(), 0.0, file);
                    }
                }
            }
        }
        assertEquals(files.size(), rows);

        CliTest.Run again = CliTest.run(
                "spark", "predict", run.toString(), folder.toString(), "--out", out.toString(), "--master", "local[2]");
        assertNotEquals(0, again.status());
        assertEquals(1, again.err().strip().lines().count(), again.err());
        assertTrue(again.err().contains("exists already"), again.err());
    }

    @Test
    void sparkEvalCountsWhatJimmEvalCounts() throws IOException {
        CliTest.Run single = CliTest.run("eval", run.toString(), folder.toString(), "--skip-bad-images", "--json");
        assertEquals(0, single.status(), single.err());
        double accuracy = single.json().get("accuracy").getAsDouble();

        Path out = tmp.resolve("evaluated");
        CliTest.Run spark = spark("eval", out, "--format", "csv");
        assertEquals(0, spark.status(), spark.err());
        assertEquals(accuracy, spark.json().get("accuracy").getAsDouble(), 1e-12, spark.out() + single.out());
        JsonObject evaluation = json(Files.readString(out.resolve("_evaluation.json")));
        assertEquals(files.size() - 1, evaluation.get("scored").getAsLong());
        assertEquals(1, evaluation.get("errors").getAsLong());
        long diagonal = 0;
        JsonArray confusion = evaluation.getAsJsonArray("confusion");
        for (int i = 0; i < confusion.size(); i++) {
            diagonal += confusion.get(i).getAsJsonArray().get(i).getAsLong();
        }
        assertEquals(Math.round(accuracy * (files.size() - 1)), diagonal);
        for (JsonElement c : evaluation.getAsJsonArray("classes")) {
            assertEquals(20, c.getAsJsonObject().get("support").getAsLong(), c.toString());
        }
    }
}
