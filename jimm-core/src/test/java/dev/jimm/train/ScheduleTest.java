package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jimm.data.DataLoaders;
import java.util.List;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/** fastai's formulas (callback/schedule.py), evaluated by hand at sampled positions. */
class ScheduleTest {
    @Test
    void oneCycleLearningRateFollowsFastaiFormulas() {
        DoubleUnaryOperator lr = Schedules.oneCycleLr(1e-2, 25, 1e5, 0.25);
        assertEquals(4e-4, lr.applyAsDouble(0), 1e-12, "starts at lr_max / div");
        assertEquals(1e-2, lr.applyAsDouble(0.25), 1e-12, "peaks at pct_start");
        assertEquals(1e-7, lr.applyAsDouble(1), 1e-15, "ends at lr_max / div_final");
        // halfway through warm-up: cos(pi/2) = 0, so exactly the mean of start and peak
        assertEquals((4e-4 + 1e-2) / 2, lr.applyAsDouble(0.125), 1e-12);
        // a quarter into annealing: start + (1 + cos(pi * 0.75)) (end - start) / 2
        double expected = 1e-2 + (1 + Math.cos(Math.PI * 0.75)) * (1e-7 - 1e-2) / 2;
        assertEquals(expected, lr.applyAsDouble(0.25 + 0.75 * 0.25), 1e-12);
    }

    @Test
    void oneCycleMomentumGoesDownAndBack() {
        DoubleUnaryOperator mom = Schedules.oneCycleMom(0.25, new double[] {0.95, 0.85, 0.95});
        assertEquals(0.95, mom.applyAsDouble(0), 1e-12);
        assertEquals(0.85, mom.applyAsDouble(0.25), 1e-12);
        assertEquals(0.90, mom.applyAsDouble(0.125), 1e-12);
        assertEquals(0.95, mom.applyAsDouble(1), 1e-12);
    }

    @Test
    void basicSchedules() {
        assertEquals(3.0, Schedules.lin(1, 5).applyAsDouble(0.5), 1e-12);
        assertEquals(1e-3, Schedules.exp(1e-5, 1e-1).applyAsDouble(0.5), 1e-15);
        assertEquals(1.5, Schedules.cos(1, 2).applyAsDouble(0.5), 1e-12);
    }

    @Test
    void learningRateSlicesSpreadGeometrically() {
        assertArrayEquals(new double[] {1e-6, 1e-5, 1e-4}, Lrs.slice(1e-6, 1e-4).forGroups(3), 1e-18);
        assertArrayEquals(new double[] {1e-4, 1e-4, 1e-3}, Lrs.slice(1e-3).forGroups(3), 1e-18);
        assertArrayEquals(new double[] {2e-3, 2e-3}, Lrs.of(2e-3).forGroups(2), 1e-18);
    }

    @Test
    void theLearnerAppliesTheScheduleAtEveryBatch() {
        DataLoaders dls = Blobs.loaders(3, 1);
        TinyNet net = new TinyNet(3, 1);
        try (Learner l = Learner.builder(net, dls).build()) {
            l.fitOneCycle(2, 1e-2);
            List<Double> lrs = l.recorder().lrs();
            List<Double> moms = l.recorder().moms();
            int total = dls.train().numBatches() * 2;
            assertEquals(total, lrs.size());
            DoubleUnaryOperator lr = Schedules.oneCycleLr(1e-2, 25, 1e5, 0.25);
            DoubleUnaryOperator mom = Schedules.oneCycleMom(0.25, new double[] {0.95, 0.85, 0.95});
            for (int i = 0; i < total; i += 5) {
                assertEquals(lr.applyAsDouble((double) i / total), lrs.get(i), 1e-12, "batch " + i);
                assertEquals(mom.applyAsDouble((double) i / total), moms.get(i), 1e-12, "batch " + i);
            }
        }
    }

    @Test
    void flatCosKeepsTheRateThenAnneals() {
        DataLoaders dls = Blobs.loaders(3, 1);
        try (Learner l = Learner.builder(new TinyNet(3, 1), dls).build()) {
            l.fitFlatCos(2, Lrs.of(1e-2));
            List<Double> lrs = l.recorder().lrs();
            int total = dls.train().numBatches() * 2;
            assertEquals(total, lrs.size());
            for (int i = 0; i < total; i++) {
                double pos = (double) i / total;
                double expected = pos < 0.75 ? 1e-2 : Schedules.cos(1e-2, 1e-7).applyAsDouble((pos - 0.75) / 0.25);
                assertEquals(expected, lrs.get(i), 1e-12, "batch " + i);
                assertEquals(l.recorder().moms().get(0), l.recorder().moms().get(i), 0.0, "momentum stays");
            }
            assertEquals(Learner.FitKind.FLAT_COS, l.plan().kind());
        }
    }
}
