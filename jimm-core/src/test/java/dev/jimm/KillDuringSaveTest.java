package dev.jimm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.hub.SafetensorsWriter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM saves a 32 MB checkpoint over and over; SIGKILL at random moments. After every kill the file loads and is
 * one complete version (every element equal to its version number), never a mix or a torn file, and the dead writer's
 * temporary is ignored by readers and removed by the next save.
 */
class KillDuringSaveTest {
    private static final long ELEMENTS = 8L << 20; // 32 MB of float32

    @Test
    void killNineDuringSaveLeavesOneCompleteVersion(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("checkpoint.safetensors");
        Random rnd = new Random(20261201L);
        int kills = 4;
        int killedMidWrite = 0;
        int lastSeen = -1;
        for (int k = 0; k < kills; k++) {
            List<String> cmd = List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-XX:TieredStopAtLevel=1",
                    "-Xmx256m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    "-Dai.djl.offline=true",
                    AtomicSaveChild.class.getName(),
                    file.toString(),
                    Long.toString(ELEMENTS));
            Process child = new ProcessBuilder(cmd)
                    .redirectError(dir.resolve("child" + k + ".err").toFile())
                    .start();
            AtomicInteger lastSaved = new AtomicInteger(-1);
            AtomicInteger lastSaving = new AtomicInteger(-1);
            Thread reader = new Thread(() -> {
                try (BufferedReader r =
                        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        if (line.startsWith("saving ")) {
                            lastSaving.set(Integer.parseInt(line.substring(7)));
                        }
                        if (line.startsWith("saved ")) {
                            lastSaved.set(Integer.parseInt(line.substring(6)));
                        }
                    }
                } catch (IOException e) {
                    // the child was killed
                }
            });
            reader.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (lastSaved.get() < 0 && child.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertTrue(
                        lastSaved.get() >= 0,
                        "child saved nothing: " + Files.readString(dir.resolve("child" + k + ".err")));
                // the next save has begun: kill at a random moment inside it (32 MB plus fsync takes longer)
                int target = lastSaved.get() + 1;
                while (lastSaving.get() < target && child.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                Thread.sleep(rnd.nextInt(15));
            } finally {
                child.destroyForcibly(); // SIGKILL
                child.waitFor();
                reader.join(5000);
            }
            List<Path> temps = AtomicFilesTest.temps(dir);
            if (!temps.isEmpty()) {
                killedMidWrite++;
            }
            try (Stream<Path> s = Files.list(dir)) {
                assertEquals(
                        List.of(file),
                        s.filter(p -> p.getFileName().toString().endsWith(".safetensors"))
                                .toList(),
                        "only the checkpoint itself looks like a checkpoint");
            }
            int v = checkComplete(file);
            int printed = lastSaved.get();
            // the kill may land after the rename and before the "saved" line
            assertTrue(v == printed || v == printed + 1, "on disk version " + v + ", child last reported " + printed);
            assertTrue(v > lastSeen, "each child went on from the previous version");
            lastSeen = v;
        }
        System.out.println("KillDuringSaveTest: " + killedMidWrite + " of " + kills + " kills landed inside a save");
        assertTrue(killedMidWrite > 0, "no kill landed inside a save; the test proves nothing");
        // the next save (a live process) removes what the killed writers left
        try (NDManager m = NDManager.newBaseManager()) {
            SafetensorsWriter.write(file, Map.of("w", m.create(new float[] {1})), Map.of("version", "-1"));
        }
        assertEquals(List.of(), AtomicFilesTest.temps(dir));
    }

    /** Loads the file and checks every element equals its version; returns the version. */
    private static int checkComplete(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file);
                NDManager m = NDManager.newBaseManager()) {
            int v = Integer.parseInt(f.metadata().get("version"));
            assertEquals(v, f.load("step", m).toLongArray()[0]);
            List<String> keys = new ArrayList<>(f.keys());
            assertEquals(5, keys.size(), keys.toString());
            for (int i = 0; i < 4; i++) {
                float[] a = f.load("layer" + i + ".weight", m).toFloatArray();
                assertEquals(ELEMENTS / 4, a.length);
                for (float x : a) {
                    if (x != v) {
                        throw new AssertionError("layer" + i + " holds " + x + " in version " + v + ": a mixed file");
                    }
                }
            }
            return v;
        }
    }
}
