package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A learning rate so large that the loss turns NaN in the first epoch: train stops with one line naming epoch and batch
 * and saying no checkpoint exists, exits 1, and writes no export, report or checkpoint of the broken weights.
 */
class DivergedTrainCliTest {
    @Test
    void aDivergedRunStopsWithOneLineAndExportsNothing(@TempDir Path tmp) throws Exception {
        Path data = CliTest.twoClasses(tmp.resolve("data"), 6, "one_pixel.png", "palette_color.png");
        Path run = tmp.resolve("run");
        CliTest.Run r = CliTest.train(
                data, run, "--epochs", "2", "--lr", "1e30", "--batch-size", "2", "--img-size", "16", "--threads", "1");
        assertEquals(1, r.status(), r.err());
        String err = r.err().strip();
        assertEquals(1, err.lines().count(), "one line: " + err);
        assertTrue(
                err.matches("jimm: training stopped: loss is (NaN|Infinity) at epoch 1, batch \\d+;"
                        + " stopped \\(lower the learning rate\\?\\); no epoch completed, so there is no checkpoint"),
                err);
        for (String f : List.of(
                "model.safetensors", "checkpoint.safetensors", "index.html", "loss.png", "confusion_matrix.png")) {
            assertFalse(Files.exists(run.resolve(f)), f + " was written from diverged weights");
        }
        try (Stream<Path> s = Files.list(run)) {
            assertTrue(
                    s.noneMatch(p -> p.getFileName().toString().endsWith(".safetensors")),
                    "no weights of any name in " + run);
        }
    }
}
