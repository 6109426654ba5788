package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --label-smoothing and --tta reach the run's config (so --resume keeps them), its command line and eval. */
class LabelSmoothingTtaCliTest {
    @Test
    void trainRecordsBothAndEvalScoresWithTta(@TempDir Path tmp) throws Exception {
        Path root = CliTest.twoClasses(tmp.resolve("data"), 4, "chelsea.bmp", "palette_color.png");
        Path run = tmp.resolve("run");
        CliTest.Run r = CliTest.train(
                root,
                run,
                "--epochs",
                "1",
                "--lr",
                "1e-3",
                "--batch-size",
                "2",
                "--valid-pct",
                "0.25",
                "--img-size",
                "16",
                "--label-smoothing",
                "0.1",
                "--tta",
                "--json");
        assertEquals(0, r.status(), r.err());
        JsonObject cfg = CliTest.config(run);
        assertEquals(0.1, cfg.get("label_smoothing").getAsDouble(), 0.0);
        assertEquals("aug", cfg.get("tta").getAsString(), "a bare --tta is fastai's");
        assertTrue(
                cfg.get("command").getAsString().endsWith("--label-smoothing 0.1 --tta aug"),
                cfg.get("command").getAsString());

        CliTest.Run plain = CliTest.run("eval", run.toString(), root.toString(), "--json");
        CliTest.Run tta = CliTest.run("eval", run.toString(), root.toString(), "--tta", "--json");
        assertEquals(0, plain.status(), plain.err());
        assertEquals(0, tta.status(), tta.err());
        double plainLoss = plain.json().get("loss").getAsDouble();
        double ttaLoss = tta.json().get("loss").getAsDouble();
        assertTrue(
                Math.abs(plainLoss - ttaLoss) > 1e-6, "mirror images change the loss: " + plainLoss + " vs " + ttaLoss);

        CliTest.Run bad = CliTest.train(root, tmp.resolve("x"), "--label-smoothing", "1.5");
        assertEquals(2, bad.status(), bad.err());
        assertTrue(bad.err().contains("(--label-smoothing) must be in [0, 1), got 1.5"), bad.err());
    }
}
