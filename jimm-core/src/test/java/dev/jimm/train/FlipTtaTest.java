package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jimm.data.Batch;
import dev.jimm.data.DataLoaders;
import dev.jimm.layers.NoGrad;
import java.util.Iterator;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * validate(true) scores each image by the mean of the probabilities of it and its mirror image; validate(SHIFT) adds
 * that mean at one-pixel shifts (airbench's TTA).
 */
class FlipTtaTest {
    /** Mean cross-entropy and accuracy of the probabilities {@code probs} gives for each validation batch. */
    private static double[] scoreByHand(Learner l, DataLoaders dls, UnaryOperator<NDArray> probs, NDManager m) {
        l.model().eval();
        double loss = 0;
        long right = 0;
        long n = 0;
        Iterator<Batch> it = dls.valid().batches(0, m);
        while (it.hasNext()) {
            try (Batch b = it.next();
                    NoGrad g = NoGrad.enter()) {
                NDArray p = probs.apply(b.x());
                float[] values = p.toFloatArray();
                long[] y = b.y().toType(DataType.INT64, false).toLongArray();
                int k = (int) p.getShape().get(1);
                for (int i = 0; i < y.length; i++) {
                    int best = 0;
                    for (int j = 1; j < k; j++) {
                        if (values[i * k + j] > values[i * k + best]) {
                            best = j;
                        }
                    }
                    right += best == y[i] ? 1 : 0;
                    loss -= Math.log(values[i * k + (int) y[i]]);
                    n++;
                }
            }
        }
        assertEquals(128, n);
        return new double[] {loss / n, (double) right / n};
    }

    /** A learner fitted for one epoch on the blobs. */
    private static Learner fitted(DataLoaders dls) {
        Learner l = Learner.builder(new TinyNet(4, 21), dls)
                .metrics(Metric.accuracy())
                .build();
        l.fitOneCycle(1, 3e-3);
        return l;
    }

    /** The mean probability of images and their mirror images, by hand. */
    private static UnaryOperator<NDArray> flipMean(Learner l) {
        return x -> l.model()
                .forward(x)
                .softmax(1)
                .add(l.model().forward(x.flip(3)).softmax(1))
                .div(2f);
    }

    /** {@code tta} has the hand-computed loss and accuracy, and differs from {@code without} (its views count). */
    private static void assertScoredAs(double[] byHand, Learner.Validation tta, Learner.Validation without) {
        assertEquals(byHand[0], tta.loss(), 1e-5);
        assertEquals(byHand[1], tta.metrics().get("accuracy"), 1e-12);
        assertTrue(
                Math.abs(tta.loss() - without.loss()) > 1e-5,
                "the extra views change the score: without " + without.loss() + ", with " + tta.loss());
    }

    @Test
    void flipTtaIsTheMeanProbabilityOfAnImageAndItsMirror() {
        DataLoaders dls = Blobs.loaders(4, 21);
        try (Learner l = fitted(dls);
                NDManager m = NDManager.newBaseManager()) {
            Learner.Validation plain = l.validate();
            Learner.Validation tta = l.validate(true);
            assertScoredAs(scoreByHand(l, dls, flipMean(l), m), tta, plain);
        }
    }

    @Test
    void shiftTtaWeighsTheImageHalfAndEachOnePixelShiftAQuarter() {
        DataLoaders dls = Blobs.loaders(4, 21);
        try (Learner l = fitted(dls);
                NDManager m = NDManager.newBaseManager()) {
            Learner.Validation flip = l.validate(Tta.FLIP);
            Learner.Validation shift = l.validate(Tta.SHIFT);
            UnaryOperator<NDArray> flipMean = flipMean(l);
            double[] byHand = scoreByHand(
                    l,
                    dls,
                    x -> {
                        // the shifted images built here by padding and cropping, not by shiftByOne
                        long h = x.getShape().get(2);
                        long w = x.getShape().get(3);
                        NDArray padded = x.get(":, :, 0:1, :")
                                .concat(x, 2)
                                .concat(x.get(":, :, " + (h - 1) + ":" + h + ", :"), 2);
                        padded = padded.get(":, :, :, 0:1")
                                .concat(padded, 3)
                                .concat(padded.get(":, :, :, " + (w - 1) + ":" + w), 3);
                        NDArray downRight = padded.get(":, :, 0:" + h + ", 0:" + w);
                        NDArray upLeft = padded.get(":, :, 2:" + (h + 2) + ", 2:" + (w + 2));
                        return flipMean.apply(x)
                                .mul(0.5f)
                                .add(flipMean.apply(downRight).mul(0.25f))
                                .add(flipMean.apply(upLeft).mul(0.25f));
                    },
                    m);
            assertScoredAs(byHand, shift, flip);
        }
    }

    @Test
    void shiftByOneMovesThePixelsAndRepeatsTheEdge() {
        try (NDManager m = NDManager.newBaseManager()) {
            // rows 0..2 of columns 0..2: value = 10 * row + column
            NDArray x = m.create(new float[] {0, 1, 2, 10, 11, 12, 20, 21, 22}, new Shape(1, 1, 3, 3));
            assertArrayEquals(
                    new float[] {0, 0, 1, 0, 0, 1, 10, 10, 11},
                    Learner.shiftByOne(x, 1).toFloatArray());
            assertArrayEquals(
                    new float[] {11, 12, 12, 21, 22, 22, 21, 22, 22},
                    Learner.shiftByOne(x, -1).toFloatArray());
        }
    }
}
