package dev.jimm.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The medians that {@code jimm bench --rounds N} reports. */
class RoundsTest {

    @Test
    void medianOfOddAndEvenCountsSkipsNaN() {
        assertEquals(3.0, Rounds.median(new double[] {9, 1, 3}));
        assertEquals(2.5, Rounds.median(new double[] {4, 1, 2, 3}));
        assertEquals(2.0, Rounds.median(new double[] {Double.NaN, 2, Double.NaN}));
        assertTrue(Double.isNaN(Rounds.median(new double[] {Double.NaN})));
    }

    @Test
    void eachFigureIsItsOwnMedianAndTheProfileComesFromTheMedianTrainingRound() {
        ModelBench.Phases slow = new ModelBench.Phases(10, 20, 3, 1);
        ModelBench.Phases middle = new ModelBench.Phases(8, 16, 2, 1);
        ModelBench.Phases fast = new ModelBench.Phases(6, 12, 1, 1);
        List<ModelBench.Result> rounds = List.of(
                new ModelBench.Result("m", 7, 11, 10.0, 9.0, 40.0, 30.0, 500, 300, slow, null),
                new ModelBench.Result("m", 7, 11, 14.0, 8.0, 44.0, 36.0, 700, 200, fast, null),
                new ModelBench.Result("m", 7, 11, 12.0, 10.0, 38.0, 33.0, 600, 400, middle, null));
        ModelBench.Result r = Rounds.medianOf(rounds);
        assertEquals(12.0, r.trainImgS());
        assertEquals(9.0, r.bareImgS());
        assertEquals(40.0, r.inferImgS());
        assertEquals(33.0, r.latencyMs());
        assertEquals(700, r.peakRssBytes(), "memory: the largest of the rounds");
        assertEquals(400, r.nativeBytes());
        assertSame(middle, r.trainPhases());
        assertEquals(7, r.params());
        assertEquals(11, r.forwardMacs());

        List<PytorchReference.Result> py = List.of(
                new PytorchReference.Result("m", 7, 11.0, Double.NaN, 31.0, 100, "torch x", slow),
                new PytorchReference.Result("m", 7, 13.0, Double.NaN, 35.0, 300, "torch x", fast),
                new PytorchReference.Result("m", 7, 9.0, Double.NaN, 29.0, 200, "torch x", middle));
        PytorchReference.Result p = Rounds.medianOfPytorch(py);
        assertEquals(11.0, p.trainImgS());
        assertTrue(Double.isNaN(p.inferImgS()), "a figure no round measured stays unmeasured");
        assertEquals(31.0, p.latencyMs());
        assertEquals(300, p.peakRssBytes());
        assertSame(slow, p.trainPhases());
    }
}
