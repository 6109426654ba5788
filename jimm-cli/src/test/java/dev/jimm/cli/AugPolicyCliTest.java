package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --aug and its companions reach config.json and the command line, and --resume rebuilds the same pipeline. */
class AugPolicyCliTest {
    /** Two classes of 12x12 gray images: a horizontal or a vertical bar at a varying place. */
    static Path bars(Path root) throws Exception {
        for (String c : new String[] {"horizontal", "vertical"}) {
            Files.createDirectories(root.resolve(c));
            for (int i = 0; i < 12; i++) {
                BufferedImage b = new BufferedImage(12, 12, BufferedImage.TYPE_BYTE_GRAY);
                for (int t = 0; t < 12; t++) {
                    int at = 2 + i % 8;
                    b.getRaster().setSample(c.equals("horizontal") ? t : at, c.equals("horizontal") ? at : t, 0, 220);
                }
                ImageIO.write(b, "png", root.resolve(c).resolve(i + ".png").toFile());
            }
        }
        return root;
    }

    @Test
    void theChosenPolicyIsRecordedAndResumeRebuildsIt(@TempDir Path tmp) throws Exception {
        Path data = bars(tmp.resolve("bars"));
        Path run = tmp.resolve("run");
        CliTest.Run r = CliTest.train(
                data,
                run,
                "--epochs",
                "2",
                "--batch-size",
                "4",
                "--valid-pct",
                "0.25",
                "--aug",
                "fastai",
                "--no-flip",
                "--resize",
                "pad",
                "--json");
        assertEquals(0, r.status(), r.err());
        JsonObject cfg = CliTest.config(run);
        assertEquals("fastai", cfg.get("aug_arg").getAsString());
        assertFalse(cfg.get("flip_arg").getAsBoolean());
        assertEquals("pad", cfg.get("resize_arg").getAsString());
        assertFalse(cfg.has("normalize_arg"), "not asked: by regime");
        JsonObject chosen = cfg.getAsJsonObject("data_pipeline");
        assertEquals("fastai", chosen.get("aug").getAsString());
        assertFalse(chosen.get("flip").getAsBoolean());
        assertEquals("pad", chosen.get("resize").getAsString());
        assertEquals(3, chosen.get("channels").getAsInt(), "gray images train as RGB, as fastai's");
        assertEquals(32, chosen.get("img_size").getAsInt());
        assertEquals("default", cfg.get("lr").getAsString());
        assertFalse(cfg.get("zero_init_last").getAsBoolean(), "blocks start as torchvision's by default");
        String command = cfg.get("command").getAsString();
        assertTrue(
                command.contains("--lr default") && command.contains("--aug fastai --no-flip --resize pad"), command);
        JsonObject first = r.json();
        assertEquals(1e-3, first.get("lr").getAsDouble(), 0.0, "fastai's fit_one_cycle default from scratch");

        // the finished run resumed: nothing left to train, and the same pipeline scores the same model the same way
        CliTest.Run resumed = CliTest.run("train", "--resume", run.toString(), "--json");
        assertEquals(0, resumed.status(), resumed.err());
        JsonObject again = resumed.json();
        assertEquals(
                first.get("valid_loss").getAsDouble(), again.get("valid_loss").getAsDouble(), 0.0);

        // without --json the pipeline is printed before training starts
        CliTest.Run loud =
                CliTest.train(data, tmp.resolve("run2"), "--epochs", "1", "--batch-size", "4", "--valid-pct", "0.25");
        assertEquals(0, loud.status(), loud.err());
        assertTrue(loud.out().startsWith("data: from scratch; gray images of 12x12 px"), loud.out());
        assertTrue(loud.out().contains("flips off"), loud.out());

        CliTest.Run badTta = CliTest.train(data, tmp.resolve("run3"), "--epochs", "1", "--tta", "flip");
        assertEquals(2, badTta.status(), badTta.err());
        assertTrue(badTta.err().contains("--tta flip: training used no flips"), badTta.err());
        CliTest.Run badAug = CliTest.train(data, tmp.resolve("run4"), "--aug", "cutout");
        assertEquals(2, badAug.status(), badAug.err());
        assertTrue(
                badAug.err().contains("--aug must be auto, none, fastai, timm or small, got 'cutout'"), badAug.err());
    }

    @Test
    void demoJsonEndsWithTheTrainJsonObject(@TempDir Path tmp) {
        CliTest.Run r = CliTest.run(
                "demo", "--epochs", "1", "--json", "--out", tmp.resolve("demo").toString());
        assertEquals(0, r.status(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertEquals(1, lines.length, "only the JSON line on stdout: " + r.out());
        JsonObject o = JsonParser.parseString(lines[0]).getAsJsonObject();
        assertEquals(tmp.resolve("demo").toString(), o.get("run").getAsString());
        double acc = o.get("accuracy").getAsDouble();
        assertTrue(acc > 0.3 && acc <= 1, "one epoch learns something: " + acc);
        assertTrue(o.get("valid_loss").getAsDouble() > 0);
        assertTrue(o.get("seconds").getAsDouble() > 0);
        assertTrue(Files.isRegularFile(tmp.resolve("demo").resolve("model.safetensors")));
    }
}
