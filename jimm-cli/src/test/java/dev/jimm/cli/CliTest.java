package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.TestFixtures;
import dev.jimm.data.TestFiles;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's commands run in-process; also the helpers the other CLI tests share to run it and read what it wrote. */
class CliTest {
    /** What one in-process run of the CLI returned and printed. */
    record Run(int status, String out, String err) {
        /** Standard output as the one JSON object that --json prints. */
        JsonObject json() {
            return JsonParser.parseString(out.strip()).getAsJsonObject();
        }
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(status, out.toString(), err.toString());
    }

    /** {@code train data --model resnet10t <options> --out out}: the small model the CLI tests train. */
    static Run train(Path data, Path out, String... options) {
        List<String> args = new ArrayList<>(List.of("train", data.toString(), "--model", "resnet10t"));
        args.addAll(List.of(options));
        args.addAll(List.of("--out", out.toString()));
        return run(args.toArray(String[]::new));
    }

    /** The config.json that train wrote into its run folder. */
    static JsonObject config(Path run) throws IOException {
        return JsonParser.parseString(Files.readString(run.resolve("config.json")))
                .getAsJsonObject();
    }

    /**
     * An image folder of two classes, a and b, with {@code perClass} copies of one test image each (the images of
     * {@code images/odd}, keeping their file type).
     */
    static Path twoClasses(Path root, int perClass, String imageOfA, String imageOfB) throws IOException {
        for (String c : new String[] {"a", "b"}) {
            String image = c.equals("a") ? imageOfA : imageOfB;
            Files.createDirectories(root.resolve(c));
            for (int i = 0; i < perClass; i++) {
                Files.copy(
                        TestFiles.resource("images/odd/" + image),
                        root.resolve(c + "/" + i + image.substring(image.lastIndexOf('.'))));
            }
        }
        return root;
    }

    @Test
    void modelsListsOneNamePerLine() {
        Run r = run("models", "resnet1*");
        assertEquals(0, r.status());
        assertTrue(r.out().lines().anyMatch("resnet18"::equals), r.out());
        assertTrue(r.out().lines().allMatch(l -> l.startsWith("resnet1")), r.out());
    }

    @Test
    void modelsCountsStandBesideTimmsAndPretrainedListsNameDotTag() {
        Run counts = run("models", "--counts");
        assertEquals(0, counts.status(), counts.err());
        // resnet is complete: its row gives jimm's and timm's count, equal, without "differs"
        String resnet = counts.out()
                .lines()
                .filter(l -> l.startsWith("resnet "))
                .findFirst()
                .orElseThrow();
        String[] cols = resnet.trim().split("\\s+");
        assertEquals(cols[1], cols[2], resnet);
        assertFalse(counts.out().contains("differs"), counts.out());
        assertTrue(counts.out().contains("timm families covered: "), counts.out());
        Run tags = run("models", "--pretrained", "resnet50");
        assertEquals(0, tags.status(), tags.err());
        assertTrue(tags.out().lines().allMatch(l -> l.startsWith("resnet50.")), tags.out());
        assertTrue(tags.out().lines().anyMatch("resnet50.a1_in1k"::equals), tags.out());
    }

    @Test
    void parityOverAFolderEndsWithTheCount(@TempDir Path dir) throws Exception {
        for (String f : new String[] {"timm__resnet18", "tv__resnet18"}) {
            Files.copy(TestFixtures.parity(f), dir.resolve(f + ".safetensors"));
        }
        Run r = run("parity", dir.toString());
        assertEquals(0, r.status(), r.out() + r.err());
        assertTrue(r.out().trim().endsWith("2 passed, 0 failed"), r.out());
        assertTrue(r.out().contains("tv/resnet18"), r.out());
    }

    @Test
    void parityFailsForAnUnregisteredModel(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("timm__resnet18.safetensors");
        Files.copy(TestFixtures.parity("timm__resnet18"), f);
        byte[] bytes = Files.readAllBytes(f);
        String s = new String(bytes, StandardCharsets.ISO_8859_1)
                .replace("\\\"model\\\": \\\"resnet18\\\"", "\\\"model\\\": \\\"resnet1x\\\"");
        Files.write(f, s.getBytes(StandardCharsets.ISO_8859_1));
        Run r = run("parity", f.toString());
        assertEquals(1, r.status());
        assertTrue(r.out().contains("model resnet1x is not registered"), r.out());
        assertTrue(r.out().trim().endsWith("0 passed, 1 failed"), r.out());
    }

    @Test
    void unknownModelIsOneLineAndStatus2() {
        Run r = run("summary", "resnet5O");
        assertEquals(2, r.status());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().contains("unknown model 'resnet5O'"), r.err());
    }

    @Test
    void summaryPrintsTotals() {
        Run r = run("summary", "resnet18", "--input", "1,3,64,64", "--depth", "1");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("Total params: 11,689,512"), r.out());
        assertTrue(r.out().contains("[1, 512, 2, 2]"), r.out());
    }
}
