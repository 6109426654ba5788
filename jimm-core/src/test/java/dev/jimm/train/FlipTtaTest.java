package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.jimm.data.Batch;
import dev.jimm.data.DataLoaders;
import dev.jimm.layers.NoGrad;
import java.util.Iterator;
import org.junit.jupiter.api.Test;

/** validate(true) scores each image by the mean of the probabilities of it and its mirror image. */
class FlipTtaTest {
    @Test
    void flipTtaIsTheMeanProbabilityOfAnImageAndItsMirror() {
        DataLoaders dls = Blobs.loaders(4, 21);
        try (Learner l = Learner.builder(new TinyNet(4, 21), dls)
                        .metrics(Metric.accuracy())
                        .build();
                NDManager m = NDManager.newBaseManager()) {
            l.fitOneCycle(1, 3e-3);
            Learner.Validation plain = l.validate();
            Learner.Validation tta = l.validate(true);
            // the same score computed by hand, one forward pass per view
            l.model().eval();
            double loss = 0;
            long right = 0;
            long n = 0;
            Iterator<Batch> it = dls.valid().batches(0, m);
            while (it.hasNext()) {
                try (Batch b = it.next();
                        NoGrad g = NoGrad.enter()) {
                    NDArray p = l.model()
                            .forward(b.x())
                            .softmax(1)
                            .add(l.model().forward(b.x().flip(3)).softmax(1))
                            .div(2f);
                    float[] probs = p.toFloatArray();
                    long[] y = b.y().toType(DataType.INT64, false).toLongArray();
                    int k = (int) p.getShape().get(1);
                    for (int i = 0; i < y.length; i++) {
                        int best = 0;
                        for (int j = 1; j < k; j++) {
                            if (probs[i * k + j] > probs[i * k + best]) {
                                best = j;
                            }
                        }
                        right += best == y[i] ? 1 : 0;
                        loss -= Math.log(probs[i * k + (int) y[i]]);
                        n++;
                    }
                }
            }
            assertEquals(128, n);
            assertEquals(loss / n, tta.loss(), 1e-5);
            assertEquals((double) right / n, tta.metrics().get("accuracy"), 1e-12);
            assertTrue(
                    Math.abs(tta.loss() - plain.loss()) > 1e-4,
                    "the mirror images change the score: plain " + plain.loss() + ", tta " + tta.loss());
        }
    }
}
