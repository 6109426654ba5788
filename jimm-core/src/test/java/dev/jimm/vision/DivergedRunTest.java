package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.jimm.data.TestFiles;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.train.Callback;
import dev.jimm.train.Learner;
import dev.jimm.train.TrainingDivergedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run whose weights turn NaN in its second epoch: {@link TrainRecipe} stops with one line naming epoch and batch, the
 * checkpoint that is still good and the command that continues from it, and exports nothing.
 */
class DivergedRunTest {
    @Test
    void aRunDivergingAfterAGoodEpochKeepsThatCheckpointAndExportsNothing(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data");
        for (String c : List.of("a", "b")) {
            Files.createDirectories(data.resolve(c));
            for (int i = 0; i < 4; i++) {
                String image = c.equals("a") ? "palette_color.png" : "chelsea.bmp";
                Files.copy(
                        TestFiles.resource("images/odd/" + image),
                        data.resolve(c + "/" + i + image.substring(image.lastIndexOf('.'))));
            }
        }
        Path run = tmp.resolve("run");
        TrainRecipe.Config c = TrainRecipe.Config.builder(data.toString())
                .model("resnet10t")
                .epochs(2)
                .lr(1e-3)
                .batchSize(2)
                .imgSize(16)
                .validPct(0.25)
                .seed(1)
                .out(run)
                .threads(1)
                .build();
        Callback poison = new Callback() {
            @Override
            public void beforeBatch(Learner l) {
                // the weights blow up before the first batch of epoch 2, as a too-high learning rate would do
                if (l.epoch() == 1 && l.trainIter() == l.dls().train().numBatches()) {
                    l.model()
                            .namedParameters()
                            .values()
                            .iterator()
                            .next()
                            .getArray()
                            .muli(Float.NaN);
                }
            }
        };
        TrainingDivergedException e =
                assertThrows(TrainingDivergedException.class, () -> TrainRecipe.run(c, List.of(poison)));
        Path ckpt = run.resolve("checkpoint.safetensors");
        assertEquals(
                "training stopped: loss is NaN at epoch 2, batch 1; stopped (lower the learning rate?); " + ckpt
                        + " keeps epoch 1, the last good one (continue with: jimm train --resume " + run + ")",
                e.getMessage());
        try (SafetensorsFile f = SafetensorsFile.open(ckpt)) {
            assertEquals(
                    1,
                    JsonParser.parseString(f.metadata().get("jimm.checkpoint"))
                            .getAsJsonObject()
                            .get("epochs_done")
                            .getAsInt(),
                    "the checkpoint is the last good epoch's");
        }
        for (String f : List.of("model.safetensors", "index.html", "loss.png", "confusion_matrix.png")) {
            assertFalse(Files.exists(run.resolve(f)), f + " was written from diverged weights");
        }
        assertTrue(Files.exists(run.resolve("config.json")), "the run folder holds what --resume needs");
    }
}
