package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonParser;
import dev.jimm.hub.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run whose weights turn NaN in the middle of epoch 2 stops with a message naming epoch and batch, keeps epoch 1's
 * checkpoint (not one with NaN weights, not one claiming epoch 2) and resumes from it to exactly the uninterrupted run.
 */
class NanStopTest {
    @Test
    void nanMidEpochKeepsTheLastGoodCheckpointAndResumes(@TempDir Path dir) throws Exception {
        List<Recorder.EpochRow> full = LearnerTest.oneCycleRun(3);
        Path ckpt = dir.resolve("checkpoint.safetensors");
        float[][] afterEpoch1 = new float[1][];
        try (Learner l = Learner.builder(new TinyNet(4, 9), Blobs.loaders(4, 9))
                .seed(9)
                .callbacks(
                        new Callbacks.SaveModel(dir, "valid_loss", true),
                        new Callbacks.CsvLogger(dir.resolve("metrics.csv")),
                        new Callback() {
                            @Override
                            public void afterEpoch(Learner learner) {
                                afterEpoch1[0] = learner.model()
                                        .stateDict()
                                        .get("fc1.weight")
                                        .toFloatArray();
                            }

                            @Override
                            public void beforeBatch(Learner learner) {
                                // the weights blow up just before batch 3 of epoch 2, as a too-high lr would do
                                if (learner.trainIter() == learner.dls().train().numBatches() + 2L) {
                                    learner.model()
                                            .namedParameters()
                                            .get("fc1.weight")
                                            .getArray()
                                            .muli(Float.NaN);
                                }
                            }
                        })
                .build()) {
            l.fitOneCycle(3, 1e-2);
            assertTrue(l.diverged());
            assertEquals("loss is NaN at epoch 2, batch 3; stopped (lower the learning rate?)", l.stopReason());
            assertEquals(1, l.recorder().epochs().size(), "the broken epoch is not recorded");
        }
        try (SafetensorsFile f = SafetensorsFile.open(ckpt);
                NDManager m = NDManager.newBaseManager()) {
            float[] saved = f.load("model.fc1.weight", m).toFloatArray();
            assertArrayEquals(afterEpoch1[0], saved, 0f, "the checkpoint is epoch 1's");
            assertEquals(
                    1,
                    JsonParser.parseString(f.metadata().get("jimm.checkpoint"))
                            .getAsJsonObject()
                            .get("epochs_done")
                            .getAsInt());
        }
        assertEquals(2, Files.readAllLines(dir.resolve("metrics.csv")).size(), "header and epoch 1 only");
        LearnerTest.assertResumesTo(full, ckpt);
    }

    @Test
    void overflowingWeightsStopAtTheFirstBadBatch() {
        try (Learner l = Learner.builder(new TinyNet(4, 4), Blobs.loaders(4, 4))
                .callbacks(new Callback() {
                    @Override
                    public void beforeBatch(Learner learner) {
                        if (learner.trainIter() == 1) {
                            learner.model()
                                    .namedParameters()
                                    .get("fc1.weight")
                                    .getArray()
                                    .muli(1e38f)
                                    .muli(1e38f);
                        }
                    }
                })
                .build()) {
            l.fit(2, 1e-3);
            assertTrue(l.diverged());
            assertTrue(
                    l.stopReason().matches("loss is (NaN|Infinity|-Infinity) at epoch 1, batch 2; stopped.*"),
                    l.stopReason());
            assertEquals(0, l.recorder().epochs().size());
        }
    }
}
