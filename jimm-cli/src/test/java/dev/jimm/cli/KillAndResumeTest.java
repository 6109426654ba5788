package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A training run killed with SIGKILL in its second epoch and resumed ends exactly like one never stopped. */
class KillAndResumeTest {
    private static List<String> trainArgs(Path out) {
        return List.of(
                "train",
                "fashion-mnist-sample",
                "--model",
                "resnet10t",
                "--epochs",
                "2",
                "--lr",
                "1e-2",
                "--batch-size",
                "64",
                "--seed",
                "5",
                "--threads",
                "2",
                "--head",
                "linear",
                "--out",
                out.toString(),
                "--json");
    }

    @Test
    void killedRunResumesToTheSameMetrics(@TempDir Path tmp) throws Exception {
        Path full = tmp.resolve("full");
        CliTest.Run ref = CliTest.run(trainArgs(full).toArray(String[]::new));
        assertEquals(0, ref.status(), ref.err());

        Path killed = tmp.resolve("killed");
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                System.getProperty("java.class.path"),
                "-Dai.djl.offline=true",
                "dev.jimm.cli.Main"));
        cmd.addAll(trainArgs(killed));
        Process child = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile())
                .start();
        try {
            Path ckpt = killed.resolve("checkpoint.safetensors");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            while (!Files.exists(ckpt) && child.isAlive() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(
                    Files.exists(ckpt), "the child wrote no checkpoint: " + Files.readString(tmp.resolve("child.log")));
            Thread.sleep(300);
        } finally {
            child.destroyForcibly(); // SIGKILL: no shutdown hooks, no flushing
            child.waitFor();
        }
        assertFalse(Files.exists(killed.resolve("model.safetensors")), "the child finished before it was killed");
        long epochsBefore = Files.readAllLines(killed.resolve("metrics.csv")).size() - 1;
        assertTrue(epochsBefore == 1, "killed after " + epochsBefore + " epochs");

        CliTest.Run resumed = CliTest.run("train", "--resume", killed.toString(), "--json");
        assertEquals(0, resumed.status(), resumed.err());
        JsonObject a = ref.json();
        JsonObject b = resumed.json();
        for (String k : List.of("valid_loss", "accuracy", "f1_macro")) {
            assertEquals(a.get(k).getAsDouble(), b.get(k).getAsDouble(), 0.0, k);
        }
        // every epoch's row, not only the last, is the uninterrupted run's (times aside)
        List<String> fa = Files.readAllLines(full.resolve("metrics.csv"));
        List<String> fb = Files.readAllLines(killed.resolve("metrics.csv"));
        assertEquals(fa.size(), fb.size());
        for (int i = 0; i < fa.size(); i++) {
            assertEquals(withoutTime(fa.get(i)), withoutTime(fb.get(i)), "metrics.csv line " + i);
        }
        assertTrue(Files.exists(killed.resolve("index.html")));
    }

    private static String withoutTime(String csvLine) {
        return csvLine.substring(0, csvLine.lastIndexOf(','));
    }
}
