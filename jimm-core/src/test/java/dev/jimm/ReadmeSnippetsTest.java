package dev.jimm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The README's "Library" section shows exactly the code that the sample consumer project compiles and CI runs: each
 * {@code java} block there is the text between the {@code // README begin: journey N} and {@code // README end} marks
 * of one sample file, joined by blank lines.
 */
class ReadmeSnippetsTest {
    private static final Path CHECKOUT = Path.of("..");
    private static final Path SAMPLES =
            CHECKOUT.resolve("samples/library-quickstart/src/main/java/dev/jimm/samples/quickstart");
    private static final List<String> JOURNEYS = List.of("ModelByName", "ClassifyImage", "FineTuneFolder");

    @Test
    void libraryBlocksAreTheSampleCode() throws IOException {
        List<String> blocks = javaBlocks(Files.readString(CHECKOUT.resolve("README.md")), "## Library");
        assertEquals(JOURNEYS.size(), blocks.size(), "java blocks in the README's Library section");
        for (int i = 0; i < JOURNEYS.size(); i++) {
            String sample = Files.readString(SAMPLES.resolve(JOURNEYS.get(i) + ".java"));
            String expected = String.join("\n\n", regions(sample, "journey " + (i + 1)));
            assertEquals(expected, blocks.get(i), "README block " + (i + 1) + " vs " + JOURNEYS.get(i) + ".java");
        }
    }

    @Test
    void everyJourneyHasItsImportsInTheShownCode() throws IOException {
        for (int i = 0; i < JOURNEYS.size(); i++) {
            String sample = Files.readString(SAMPLES.resolve(JOURNEYS.get(i) + ".java"));
            List<String> shown = regions(sample, "journey " + (i + 1));
            for (String line : sample.split("\n")) {
                if (line.startsWith("import ")) {
                    assertTrue(shown.get(0).contains(line), JOURNEYS.get(i) + ": the README would lack " + line);
                }
            }
        }
    }

    /** The java code blocks of one level-2 section. */
    static List<String> javaBlocks(String markdown, String heading) {
        int start = markdown.indexOf("\n" + heading + "\n");
        assertTrue(start >= 0, "README has no section " + heading);
        int end = markdown.indexOf("\n## ", start + heading.length() + 2);
        String section = markdown.substring(start, end < 0 ? markdown.length() : end);
        List<String> blocks = new ArrayList<>();
        int at = 0;
        while ((at = section.indexOf("```java\n", at)) >= 0) {
            int close = section.indexOf("\n```", at);
            blocks.add(section.substring(at + "```java\n".length(), close));
            at = close + 4;
        }
        return blocks;
    }

    /** The marked regions of a source file, each without its common indentation. */
    static List<String> regions(String source, String name) {
        List<String> out = new ArrayList<>();
        List<String> current = null;
        for (String line : source.split("\n", -1)) {
            if (line.strip().equals("// README begin: " + name)) {
                current = new ArrayList<>();
            } else if (line.strip().equals("// README end") && current != null) {
                out.add(dedent(current));
                current = null;
            } else if (current != null) {
                current.add(line);
            }
        }
        assertTrue(!out.isEmpty(), "no README region '" + name + "'");
        return out;
    }

    private static String dedent(List<String> lines) {
        int indent = Integer.MAX_VALUE;
        for (String l : lines) {
            if (!l.isBlank()) {
                indent = Math.min(indent, l.length() - l.stripLeading().length());
            }
        }
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            out.add(l.isBlank() ? "" : l.substring(indent));
        }
        return String.join("\n", out);
    }
}
