package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Lookahead} against the average computed here from the weights the optimizer produced at every step: every
 * fifth step the weights (and BatchNorm statistics) become {@code d * avg + (1 - d) * w} with {@code d = 0.95^5 *
 * progress^3}, other steps leave them alone, and the fit ends on the average.
 */
class LookaheadTest {
    /** Records one state entry after each optimizer step, before or after the lookahead. */
    private static final class Snapshots implements Callback {
        final String key;
        final List<float[]> steps = new ArrayList<>();
        float[] start;

        Snapshots(String key) {
            this.key = key;
        }

        @Override
        public void beforeFit(Learner l) {
            start = l.model().stateDict().get(key).toFloatArray();
        }

        @Override
        public void afterStep(Learner l) {
            steps.add(l.model().stateDict().get(key).toFloatArray());
        }
    }

    @Test
    void theDecayRisesAsTheCubeOfProgressToAirbenchsMaximum() {
        Lookahead la = Lookahead.airbench();
        double max = Math.pow(0.95, 5);
        assertEquals(0, la.decayAt(0), 0);
        assertEquals(max / 8, la.decayAt(0.5), 1e-12);
        assertEquals(max, la.decayAt(1), 1e-12);
        assertThrows(IllegalArgumentException.class, () -> new Lookahead(0, 0.5));
        assertThrows(IllegalArgumentException.class, () -> new Lookahead(5, 1.0));
    }

    @Test
    void everyFifthStepTheWeightsAndStatisticsBecomeTheAverage() {
        for (String key : List.of("fc1.weight", "bn.running_mean")) {
            Snapshots raw = new Snapshots(key);
            Snapshots after = new Snapshots(key);
            float[] end;
            long total;
            try (Learner l = Learner.builder(new TinyNet(4, 3), Blobs.loaders(4, 3))
                    .seed(3)
                    .callbacks(raw, Lookahead.airbench(), after)
                    .build()) {
                l.fitOneCycle(2, 1e-2);
                total = l.totalIters();
                end = l.model().stateDict().get(key).toFloatArray();
            }
            assertTrue(total >= 10 && total % 5 != 0, "the fit ends between two averaging steps: " + total);
            assertEquals(total, raw.steps.size());
            double max = Math.pow(0.95, 5);
            double[] avg = toDouble(raw.start);
            int averaged = 0;
            for (int t = 1; t <= total; t++) {
                float[] w = raw.steps.get(t - 1);
                float[] seen = after.steps.get(t - 1);
                if (t % 5 != 0) {
                    assertArrayEquals(w, seen, 0f, key + ": step " + t + " is not an averaging step");
                    continue;
                }
                double d = max * Math.pow((double) t / total, 3);
                for (int i = 0; i < avg.length; i++) {
                    avg[i] = d * avg[i] + (1 - d) * w[i];
                }
                assertArrayEquals(toFloat(avg), seen, 1e-5f, key + ": step " + t);
                if (d > 0.1) {
                    averaged++;
                    assertTrue(maxAbsDiff(w, seen) > 1e-5, key + ": step " + t + " moved the weights");
                }
            }
            assertTrue(averaged > 0, "some steps averaged with a large decay");
            // the fit ends on the average of the last averaging step, not on the steps after it
            assertArrayEquals(toFloat(avg), end, 1e-5f, key + ": the model keeps the average");
            assertTrue(maxAbsDiff(raw.steps.get((int) total - 1), end) > 1e-6, key);
        }
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    private static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
