package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.TestFixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    record Run(int status, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(status, out.toString(), err.toString());
    }

    @Test
    void modelsListsOneNamePerLine() {
        Run r = run("models", "resnet1*");
        assertEquals(0, r.status());
        assertTrue(r.out().lines().anyMatch("resnet18"::equals), r.out());
        assertTrue(r.out().lines().allMatch(l -> l.startsWith("resnet1")), r.out());
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
