package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.hub.SafetensorsFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnerTest {
    @Test
    void fitOneCycleLearnsSeparableData() {
        try (Learner l = Learner.builder(new TinyNet(4, 2), Blobs.loaders(4, 2))
                .metrics(Metric.accuracy(), Metric.errorRate())
                .build()) {
            double before = l.validate().metrics().get("accuracy");
            l.fitOneCycle(3, 1e-2);
            Learner.Validation v = l.validate();
            assertTrue(before < 0.6, "untrained accuracy " + before);
            assertTrue(v.metrics().get("accuracy") > 0.95, "accuracy " + v.metrics());
            assertEquals(1 - v.metrics().get("accuracy"), v.metrics().get("error_rate"), 1e-12);
            assertEquals(3, l.recorder().epochs().size());
        }
    }

    @Test
    void sameSeedGivesIdenticalRuns() {
        double[] a = run(7);
        double[] b = run(7);
        assertEquals(a[0], b[0], 0.0);
        assertEquals(a[1], b[1], 0.0);
        double[] c = run(8);
        assertTrue(a[0] != c[0], "another seed shuffles differently");
    }

    private static double[] run(long seed) {
        try (Learner l = Learner.builder(new TinyNet(4, seed), Blobs.loaders(4, seed))
                .seed(seed)
                .build()) {
            l.fitOneCycle(2, 1e-2);
            Recorder.EpochRow last = l.recorder().epochs().get(1);
            return new double[] {last.trainLoss(), last.validLoss()};
        }
    }

    @Test
    void lrFindSuggestsARateInTheRangeThatTrains() {
        try (Learner l = Learner.builder(new TinyNet(4, 3), Blobs.loaders(4, 3)).build()) {
            float[] w0 = l.model().stateDict().get("fc1.weight").toFloatArray();
            float[] rm0 = l.model().stateDict().get("bn.running_mean").toFloatArray();
            LrFinder.Result r = l.lrFind();
            assertTrue(r.lrs().size() > 50, "the sweep ran: " + r.lrs().size());
            // for Adam on this small standardized problem rates from 1e-3 to 1e-1 train well
            assertTrue(r.valley() >= 1e-3 && r.valley() <= 1e-1, "valley " + r.valley());
            assertTrue(r.steep() >= 1e-4 && r.steep() <= 1e-1, "steep " + r.steep());
            assertArrayEquals(
                    w0, l.model().stateDict().get("fc1.weight").toFloatArray(), "lr_find restores the weights");
            assertArrayEquals(rm0, l.model().stateDict().get("bn.running_mean").toFloatArray(), "and the buffers");
            l.fitOneCycle(2, r.valley());
            double acc = l.validate().metrics().get("accuracy");
            assertTrue(
                    acc > 0.9,
                    "two epochs at the suggested rate: accuracy " + acc + ", valley " + r.valley() + ", steep "
                            + r.steep());
        }
    }

    @Test
    void nanLossStopsTheRunWithAMessage() {
        try (Learner l = Learner.builder(new TinyNet(4, 4), Blobs.loaders(4, 4)).build()) {
            l.fit(2, 1e6);
            assertNotNull(l.stopReason(), "a huge learning rate diverges");
            assertTrue(l.stopReason().contains("NaN") || l.stopReason().contains("Infinity"), l.stopReason());
        }
    }

    @Test
    void earlyStoppingEndsAPlateau() {
        try (Learner l = Learner.builder(new TinyNet(4, 5), Blobs.loaders(4, 5))
                .callbacks(new Callbacks.EarlyStopping("valid_loss", 10.0, 2))
                .build()) {
            l.fit(6, 1e-3);
            assertEquals(
                    3, l.recorder().epochs().size(), "the first epoch sets the best; two without a gain of 10 stop it");
            assertTrue(l.stopReason().contains("valid_loss"));
        }
    }

    @Test
    void validateEveryScoresTheNthEpochsAndTheLastAndTrainsTheSame(@TempDir Path dir) throws Exception {
        List<Recorder.EpochRow> full = oneCycleRun(5);
        List<Recorder.EpochRow> rows;
        try (Learner l = Learner.builder(new TinyNet(4, 9), Blobs.loaders(4, 9))
                .seed(9)
                .validateEvery(2)
                .callbacks(
                        new Callbacks.CsvLogger(dir.resolve("metrics.csv")),
                        new Callbacks.SaveModel(dir, "valid_loss", false))
                .build()) {
            l.fitOneCycle(5, 1e-2);
            rows = l.recorder().epochs();
        }
        assertEquals(5, rows.size());
        for (int i = 0; i < 5; i++) {
            assertEquals(full.get(i).trainLoss(), rows.get(i).trainLoss(), 0.0, "training is the same, epoch " + i);
            boolean validated = i == 1 || i == 3 || i == 4;
            if (validated) {
                assertEquals(full.get(i).validLoss(), rows.get(i).validLoss(), 0.0, "epoch " + i);
                assertEquals(full.get(i).metrics(), rows.get(i).metrics(), "epoch " + i);
            } else {
                assertTrue(Double.isNaN(rows.get(i).validLoss()), "epoch " + i + ": " + rows.get(i));
                assertTrue(Double.isNaN(rows.get(i).metrics().get("accuracy")), "epoch " + i);
            }
        }
        List<String> csv = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals("epoch,train_loss,train_loss_smooth,valid_loss,accuracy,time", csv.get(0));
        String[] first = csv.get(1).split(",", -1);
        assertEquals("", first[3], "no valid_loss for epoch 0: " + csv.get(1));
        assertEquals("", first[4], "no accuracy for epoch 0: " + csv.get(1));
        assertEquals(rows.get(1).validLoss(), Double.parseDouble(csv.get(2).split(",")[3]), 0.0);
        int bestEpoch = 1;
        for (int i : new int[] {3, 4}) {
            if (rows.get(i).validLoss() < rows.get(bestEpoch).validLoss()) {
                bestEpoch = i;
            }
        }
        try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("best.safetensors"))) {
            assertEquals(Integer.toString(bestEpoch), f.metadata().get("epoch"), "the best of the validated epochs");
        }
    }

    @Test
    void earlyStoppingPatienceCountsValidations() {
        try (Learner l = Learner.builder(new TinyNet(4, 5), Blobs.loaders(4, 5))
                .validateEvery(2)
                .callbacks(new Callbacks.EarlyStopping("valid_loss", 10.0, 2))
                .build()) {
            l.fit(10, 1e-3);
            // validated after epochs 1 (the best), 3 and 5 (no gain of 10): stopped after epoch 5
            assertEquals(6, l.recorder().epochs().size());
            assertTrue(l.stopReason().contains("valid_loss"), l.stopReason());
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> Learner.builder(new TinyNet(4, 5), Blobs.loaders(4, 5)).validateEvery(0));
        assertTrue(e.getMessage().contains("validateEvery (--validate-every) must be at least 1, got 0"));
    }

    @Test
    void resumeFromACheckpointEndsExactlyLikeAnUninterruptedRun(@TempDir Path dir) throws Exception {
        List<Recorder.EpochRow> full = oneCycleRun(4);
        Path ckpt = dir.resolve("checkpoint.safetensors");
        try (Learner l = Learner.builder(new TinyNet(4, 9), Blobs.loaders(4, 9))
                .seed(9)
                .callbacks(new Callbacks.SaveModel(dir, "valid_loss", true), new Callback() {
                    @Override
                    public void afterEpoch(Learner learner) {
                        if (learner.epoch() == 1) {
                            learner.requestStop("simulated crash");
                        }
                    }
                })
                .build()) {
            l.fitOneCycle(4, 1e-2);
            assertEquals(2, l.recorder().epochs().size());
        }
        assertTrue(Files.exists(ckpt));
        assertTrue(Files.exists(dir.resolve("best.safetensors")));
        assertResumesTo(full, ckpt);
    }

    /** The epochs of a one-cycle run at lr 1e-2 of TinyNet on the blobs, seed 9: what a stopped run resumes to. */
    static List<Recorder.EpochRow> oneCycleRun(int epochs) {
        try (Learner l =
                Learner.builder(new TinyNet(4, 9), Blobs.loaders(4, 9)).seed(9).build()) {
            l.fitOneCycle(epochs, 1e-2);
            return l.recorder().epochs();
        }
    }

    /** Resumes a stopped {@link #oneCycleRun} from {@code ckpt} and checks that it ends with {@code full}'s losses. */
    static void assertResumesTo(List<Recorder.EpochRow> full, Path ckpt) {
        // a new process would build everything afresh: a new model with another init
        try (Learner l = Learner.builder(new TinyNet(4, 123), Blobs.loaders(4, 9))
                .seed(9)
                .build()) {
            l.resume(ckpt);
            List<Recorder.EpochRow> resumed = l.recorder().epochs();
            assertEquals(full.size(), resumed.size());
            for (int i = 0; i < full.size(); i++) {
                assertEquals(full.get(i).trainLoss(), resumed.get(i).trainLoss(), 0.0, "epoch " + i);
                assertEquals(full.get(i).smoothLoss(), resumed.get(i).smoothLoss(), 0.0, "epoch " + i);
                assertEquals(full.get(i).validLoss(), resumed.get(i).validLoss(), 0.0, "epoch " + i);
            }
        }
    }

    @Test
    void csvAndJsonLogsHaveARowPerEpoch(@TempDir Path dir) throws Exception {
        try (Learner l = Learner.builder(new TinyNet(4, 6), Blobs.loaders(4, 6))
                .callbacks(
                        new Callbacks.CsvLogger(dir.resolve("metrics.csv")),
                        new Callbacks.JsonLogger(dir.resolve("metrics.jsonl")))
                .build()) {
            l.fit(2, 1e-2);
        }
        List<String> csv = Files.readAllLines(dir.resolve("metrics.csv"));
        assertEquals("epoch,train_loss,train_loss_smooth,valid_loss,accuracy,time", csv.get(0));
        assertEquals(3, csv.size());
        List<String> json = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(2, json.size());
        assertTrue(json.get(1).startsWith("{\"epoch\":1,"), json.get(1));
    }

    @Test
    void theEpochTableShowsFastaisSmoothedLossAndTheCsvKeepsTheMean(@TempDir Path dir) throws Exception {
        List<Double> batchLosses = new ArrayList<>();
        Callback collect = new Callback() {
            @Override
            public void afterBatch(Learner l) {
                batchLosses.add(l.lastLoss());
            }
        };
        List<Recorder.EpochRow> rows;
        try (Learner l = Learner.builder(new TinyNet(4, 6), Blobs.loaders(4, 6))
                .callbacks(collect, new Callbacks.CsvLogger(dir.resolve("metrics.csv")))
                .build()) {
            l.fit(2, 1e-2);
            rows = l.recorder().epochs();
        }
        // fastai's AvgSmoothLoss: a debiased EMA with beta 0.98 over every batch of the fit
        double avg = 0;
        for (int i = 0; i < batchLosses.size(); i++) {
            avg = 0.98 * avg + 0.02 * batchLosses.get(i);
        }
        double expectedSmooth = avg / (1 - Math.pow(0.98, batchLosses.size()));
        int perEpoch = batchLosses.size() / 2;
        double mean = batchLosses.subList(perEpoch, batchLosses.size()).stream()
                .mapToDouble(Double::doubleValue)
                .average()
                .orElseThrow();
        assertEquals(mean, rows.get(1).trainLoss(), 1e-6);
        assertEquals(expectedSmooth, rows.get(1).smoothLoss(), 1e-9);
        assertEquals(expectedSmooth, rows.get(1).shownTrainLoss(), 1e-9);
        assertNotEquals(rows.get(1).trainLoss(), rows.get(1).smoothLoss(), 1e-9);
        String[] last = Files.readAllLines(dir.resolve("metrics.csv")).get(2).split(",");
        assertEquals(rows.get(1).trainLoss(), Double.parseDouble(last[1]), 0.0);
        assertEquals(rows.get(1).smoothLoss(), Double.parseDouble(last[2]), 0.0);
    }

    @Test
    void sgdWithNesterovAndGradientClippingTrain() {
        try (Learner l = Learner.builder(new TinyNet(4, 11), Blobs.loaders(4, 11))
                .optimizer((g, m) -> new Sgd(g, m, 0.9, true, 1e-4))
                .clipGradNorm(1.0)
                .build()) {
            l.fitOneCycle(3, 0.1);
            assertTrue(l.validate().metrics().get("accuracy") > 0.9);
        }
    }
}
