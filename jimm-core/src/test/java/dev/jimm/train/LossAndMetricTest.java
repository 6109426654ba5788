package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

/** Losses and metrics against values worked out by hand. */
class LossAndMetricTest {
    @Test
    void crossEntropyWithAndWithoutLabelSmoothing() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray logits = m.create(new float[] {2f, 0f, 0f, 0f, 1f, 3f}, new Shape(2, 3));
            NDArray y = m.create(new long[] {0, 1});
            double lse0 = Math.log(Math.exp(2) + 2);
            double lse1 = Math.log(1 + Math.exp(1) + Math.exp(3));
            double nll = ((lse0 - 2) + (lse1 - 1)) / 2;
            assertEquals(nll, Loss.crossEntropy().compute(logits, y).getFloat(), 1e-5);
            double smooth0 = ((lse0 - 2) + 2 * lse0) / 3;
            double smooth1 = ((lse1 - 0) + (lse1 - 1) + (lse1 - 3)) / 3;
            double expected = 0.9 * nll + 0.1 * (smooth0 + smooth1) / 2;
            assertEquals(expected, Loss.crossEntropy(0.1).compute(logits, y).getFloat(), 1e-5);
            NDArray soft = m.create(new float[] {0.5f, 0.5f, 0f, 0f, 0f, 1f}, new Shape(2, 3));
            double softExpected = (0.5 * (lse0 - 2) + 0.5 * lse0 + (lse1 - 3)) / 2;
            assertEquals(
                    softExpected,
                    Loss.softTargetCrossEntropy().compute(logits, soft).getFloat(),
                    1e-5);
        }
    }

    @Test
    void bceWithLogits() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {0f, 2f, -30f, 40f}, new Shape(2, 2));
            NDArray t = m.create(new float[] {1f, 0f, 0f, 1f}, new Shape(2, 2));
            double e = (Math.log(2)
                            + (2 + Math.log(1 + Math.exp(-2)))
                            + Math.log(1 + Math.exp(-30))
                            + Math.log(1 + Math.exp(-40)))
                    / 4;
            assertEquals(e, Loss.bceWithLogits().compute(x, t).getFloat(), 1e-6);
        }
    }

    @Test
    void metricsOnAKnownConfusion() {
        try (NDManager m = NDManager.newBaseManager()) {
            // predictions 0,1,1,2 for targets 0,1,2,2: accuracy 3/4
            NDArray logits = m.create(
                    new float[] {
                        5, 1, 0,
                        0, 5, 1,
                        0, 5, 4,
                        0, 1, 5
                    },
                    new Shape(4, 3));
            NDArray y = m.create(new long[] {0, 1, 2, 2});
            Metric acc = Metric.accuracy();
            Metric top2 = Metric.topK(2);
            Metric f1 = Metric.f1(3);
            Metric p = Metric.precision(3);
            Metric r = Metric.recall(3);
            Metrics.ConfusionMatrix cm = new Metrics.ConfusionMatrix(3);
            for (Metric k : new Metric[] {acc, top2, f1, p, r, cm}) {
                k.reset();
                k.accumulate(logits, y);
            }
            assertEquals(0.75, acc.value(), 1e-12);
            assertEquals(1.0, top2.value(), 1e-12);
            // precision: 1, 1/2, 1 -> 5/6; recall: 1, 1, 1/2 -> 5/6; F1: 1, 2/3, 2/3 -> 7/9
            assertEquals(5.0 / 6, p.value(), 1e-12);
            assertEquals(5.0 / 6, r.value(), 1e-12);
            assertEquals(7.0 / 9, f1.value(), 1e-12);
            assertArrayEquals(new long[] {0, 1, 1}, cm.counts()[2]);
        }
    }
}
