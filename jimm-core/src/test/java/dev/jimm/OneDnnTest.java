package dev.jimm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * jimm's hold on oneDNN's level, in a fresh JVM whose environment does not set it (the test JVM's may): on a machine
 * that hides its cache sizes, convolutions that oneDNN otherwise gets wrong (or dies on) are right because jimm held it
 * to SSE4.1, and libtorch says nothing of NNPACK, which jimm turned off there; elsewhere they are right and jimm left
 * oneDNN alone.
 */
class OneDnnTest {
    @Test
    void convolutionsAreRightWithJimmsLevel() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-cp",
                        System.getProperty("java.class.path"),
                        "-Dai.djl.offline=true",
                        OneDnnProbe.class.getName()))
                .redirectErrorStream(true);
        pb.environment().remove(OneDnn.ISA_VARIABLE);
        Process child = pb.start();
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(120, TimeUnit.SECONDS), "the probe finished");
        assertEquals(0, child.exitValue(), out);
        Map<String, String> seen = new HashMap<>();
        out.lines()
                .filter(l -> l.matches("(held|cap|worst) \\S+"))
                .forEach(l -> seen.put(l.substring(0, l.indexOf(' ')), l.substring(l.indexOf(' ') + 1)));
        boolean hidden = OneDnn.cachesHidden();
        assertEquals(String.valueOf(hidden), seen.get("held"), out);
        assertEquals(hidden ? OneDnn.ISA_WHERE_CACHES_HIDDEN : "none", seen.get("cap"), out);
        if (hidden) {
            assertFalse(out.contains("NNPACK"), "NNPACK, which cannot start there, is off: " + out);
        }
        double worst = Double.parseDouble(seen.get("worst"));
        assertTrue(worst < 1e-5, "convolutions off by " + worst + " relative: " + out);
    }
}
