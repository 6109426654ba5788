package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random init streams its values into native memory: a model whose largest weight is 392 MB (vgg11's first classifier
 * layer, 102.8M float32) is created in a JVM whose whole heap is 64 MB. Filling a Java array per weight, as init did
 * before, needed a heap of at least that weight's size (the smallest -Xmx that created vgg16 was 404 MB).
 */
class CreationHeapTest {
    @Test
    void vgg11IsCreatedWithA64MbHeap(@TempDir Path dir) throws Exception {
        List<String> cmd = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m",
                "-cp",
                System.getProperty("java.class.path"),
                "-Dai.djl.offline=true",
                CreationMemoryCheck.class.getName(),
                "vgg11");
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process child = new ProcessBuilder(cmd)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        boolean ended = child.waitFor(5, TimeUnit.MINUTES);
        if (!ended) {
            child.destroyForcibly().waitFor();
        }
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertTrue(ended, "creating vgg11 did not end: " + stderr);
        assertEquals(0, child.exitValue(), "creating vgg11 under -Xmx64m failed: " + stderr);
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        assertTrue(stdout.startsWith("vgg11: 132.9M parameters (507 MB float32), peak heap used "), stdout);
    }
}
