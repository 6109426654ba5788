package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * --label-smoothing, --tta, --crop-pad, --lookahead and --progressive-resize reach the run's config (so --resume keeps
 * them) and its command line; eval scores with TTA.
 */
class LabelSmoothingTtaCliTest {
    /** One epoch at 16 px, batch 2, on a folder of a few images, with {@code options} added. */
    private static CliTest.Run oneTinyEpoch(Path root, Path run, String... options) {
        return tinyEpochs(root, run, 1, options);
    }

    /** {@code epochs} epochs at 16 px, batch 2, on a folder of a few images, with {@code options} added. */
    private static CliTest.Run tinyEpochs(Path root, Path run, int epochs, String... options) {
        List<String> args = new ArrayList<>(List.of(
                "--epochs",
                Integer.toString(epochs),
                "--lr",
                "1e-3",
                "--batch-size",
                "2",
                "--valid-pct",
                "0.25",
                "--img-size",
                "16"));
        args.addAll(List.of(options));
        return CliTest.train(root, run, args.toArray(String[]::new));
    }

    @Test
    void trainRecordsBothAndEvalScoresWithTta(@TempDir Path tmp) throws Exception {
        Path root = CliTest.twoClasses(tmp.resolve("data"), 4, "chelsea.bmp", "palette_color.png");
        Path run = tmp.resolve("run");
        CliTest.Run r = oneTinyEpoch(root, run, "--label-smoothing", "0.1", "--tta", "--json");
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

    @Test
    void cropPadAndLookaheadReachTheConfigAndTheCommandLine(@TempDir Path tmp) throws Exception {
        Path root = CliTest.twoClasses(tmp.resolve("data"), 4, "chelsea.bmp", "palette_color.png");
        Path run = tmp.resolve("run");
        CliTest.Run r = oneTinyEpoch(root, run, "--aug", "small", "--crop-pad", "1", "--lookahead", "--json");
        assertEquals(0, r.status(), r.err());
        JsonObject cfg = CliTest.config(run);
        assertEquals(1, cfg.get("crop_pad_arg").getAsInt());
        assertEquals(1, cfg.getAsJsonObject("data_pipeline").get("crop_pad").getAsInt());
        assertTrue(cfg.get("lookahead").getAsBoolean());
        String command = cfg.get("command").getAsString();
        assertTrue(command.contains(" --lookahead --crop-pad 1"), command);

        CliTest.Run bad = CliTest.train(root, tmp.resolve("x"), "--aug", "fastai", "--crop-pad", "2");
        assertEquals(2, bad.status(), bad.err());
        assertTrue(bad.err().contains("--crop-pad belongs to --aug small"), bad.err());
    }

    @Test
    void progressiveResizeReachesTheConfigAndTheCommandLineAndBadValuesAreNamed(@TempDir Path tmp) throws Exception {
        Path root = CliTest.twoClasses(tmp.resolve("data"), 4, "chelsea.bmp", "palette_color.png");
        Path run = tmp.resolve("run");
        CliTest.Run r = tinyEpochs(root, run, 2, "--progressive-resize", "8:1", "--json");
        assertEquals(0, r.status(), r.err());
        JsonObject cfg = CliTest.config(run);
        assertEquals("8:1", cfg.get("progressive_resize").getAsString());
        String command = cfg.get("command").getAsString();
        assertTrue(command.contains(" --progressive-resize 8:1"), command);

        CliTest.Run noFullEpoch = CliTest.train(root, tmp.resolve("x"), "--epochs", "2", "--progressive-resize", "8:2");
        assertEquals(2, noFullEpoch.status(), noFullEpoch.err());
        assertTrue(
                noFullEpoch.err().contains("--progressive-resize 8:2 leaves no epoch at the full size"),
                noFullEpoch.err());
        CliTest.Run badForm = CliTest.train(root, tmp.resolve("y"), "--progressive-resize", "8");
        assertEquals(2, badForm.status(), badForm.err());
        assertTrue(badForm.err().contains("progressive resize '8': expected MIN:EPOCHS"), badForm.err());
    }
}
