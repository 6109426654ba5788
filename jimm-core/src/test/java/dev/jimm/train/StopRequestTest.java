package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import dev.jimm.StopRequest;
import dev.jimm.StoppedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@link StopRequest} ends a fit between two batches; the checkpoint {@link Callbacks.SaveModel} writes then resumes
 * at the next batch and ends exactly as the uninterrupted run, dropout draws included.
 */
class StopRequestTest {
    private static final float DROPOUT = 0.5f;
    private static final int EPOCHS = 3;
    /** Batches per epoch of the blobs: 512 samples in batches of 32. */
    private static final int BATCHES = 16;

    private static Learner.Builder learner(long initSeed, StopRequest stop) {
        return Learner.builder(new TinyNet(4, initSeed, DROPOUT), Blobs.loaders(4, 9))
                .seed(9)
                .stopRequest(stop);
    }

    private static List<Recorder.EpochRow> uninterrupted() {
        try (Learner l = learner(9, new StopRequest()).build()) {
            l.fitOneCycle(EPOCHS, 1e-2);
            return l.recorder().epochs();
        }
    }

    /** Runs the fit with a stop requested after training batch {@code batch} of epoch {@code epoch} (from 0). */
    private static Path stoppedRun(Path dir, int epoch, int batch) {
        StopRequest stop = new StopRequest();
        try (Learner l = learner(9, stop)
                .callbacks(new Callbacks.SaveModel(dir, "valid_loss", true), new Callback() {
                    @Override
                    public void afterBatch(Learner learner) {
                        if (learner.epoch() == epoch && learner.batchesDone() == batch) {
                            stop.request("test stop");
                        }
                    }
                })
                .build()) {
            l.fitOneCycle(EPOCHS, 1e-2);
            assertTrue(l.interrupted(), "the fit ends interrupted");
            assertTrue(l.stopReason().startsWith("test stop"), l.stopReason());
            assertEquals(epoch, l.epochsDone());
            assertEquals(batch, l.batchesDone());
            assertEquals(epoch, l.recorder().epochs().size(), "the stopped epoch has no row");
        }
        Path ckpt = dir.resolve("checkpoint.safetensors");
        assertTrue(Files.exists(ckpt));
        return ckpt;
    }

    private static void assertResumesTo(List<Recorder.EpochRow> full, Path ckpt) {
        // another init and another state of the engine's generator, as in a new process: everything that decides the
        // rest of the run must come from the checkpoint
        Engine.getInstance().setRandomSeed(4242);
        try (Learner l = learner(123, new StopRequest()).build()) {
            l.resume(ckpt);
            List<Recorder.EpochRow> resumed = l.recorder().epochs();
            assertEquals(full.size(), resumed.size());
            for (int i = 0; i < full.size(); i++) {
                assertEquals(full.get(i).trainLoss(), resumed.get(i).trainLoss(), 0.0, "train_loss, epoch " + i);
                assertEquals(full.get(i).smoothLoss(), resumed.get(i).smoothLoss(), 0.0, "smoothed, epoch " + i);
                assertEquals(full.get(i).validLoss(), resumed.get(i).validLoss(), 0.0, "valid_loss, epoch " + i);
            }
            assertFalse(l.interrupted());
        }
    }

    @Test
    void aStopInTheMiddleOfAnEpochResumesAtTheNextBatch(@TempDir Path dir) {
        List<Recorder.EpochRow> full = uninterrupted();
        assertResumesTo(full, stoppedRun(dir, 1, 5));
    }

    @Test
    void aStopDuringAnEpochsValidationResumesWithThatValidation(@TempDir Path dir) {
        // requested after the last batch: the next check is the validation's first batch
        List<Recorder.EpochRow> full = uninterrupted();
        assertResumesTo(full, stoppedRun(dir, 0, BATCHES));
    }

    @Test
    void validationAndLrFindThrowAtARequestAndLrFindRestoresTheModel() {
        StopRequest stop = new StopRequest();
        try (Learner l = learner(9, stop).build()) {
            float[] w0 = l.model().stateDict().get("fc1.weight").toFloatArray();
            stop.request("test stop");
            StoppedException v = assertThrows(StoppedException.class, l::validate);
            assertTrue(v.getMessage().startsWith("test stop: stopped before evaluation batch 1 of 2"), v.getMessage());
            StoppedException f = assertThrows(StoppedException.class, l::lrFind);
            assertTrue(
                    f.getMessage().startsWith("test stop: lr_find stopped after 0 of 100 iterations"), f.getMessage());
            assertArrayEquals(w0, l.model().stateDict().get("fc1.weight").toFloatArray());
            l.fit(1, 1e-2);
            assertTrue(l.interrupted(), "a fit with the request made ends before its first batch");
            assertEquals(0, l.batchesDone());
            assertArrayEquals(w0, l.model().stateDict().get("fc1.weight").toFloatArray());
        }
    }
}
