package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.data.Batch;
import dev.jimm.data.BatchSource;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.InMemoryBatches;
import dev.jimm.layers.NoGrad;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.Test;

/** fastai's Learner.tta: n augmented passes averaged, then lerp(aug, plain, beta), scored as probabilities. */
class TtaTest {
    /**
     * The validation blobs, shifted by an amount set by the pass (a stand-in for an augmentation); records the passes.
     */
    static final class ShiftedValid implements BatchSource {
        final Blobs valid;
        final List<Integer> epochs = new ArrayList<>();

        ShiftedValid(Blobs valid) {
            this.valid = valid;
        }

        float[] shifted(int epoch) {
            float[] x = valid.x.clone();
            float shift = 0.15f * ((epoch % 5) - 2);
            for (int i = 0; i < x.length; i++) {
                x[i] += (i % 3 == 0 ? shift : -shift);
            }
            return x;
        }

        @Override
        public int numBatches() {
            return (valid.y.length + 63) / 64;
        }

        @Override
        public int numSamples() {
            return valid.y.length;
        }

        @Override
        public Iterator<Batch> batches(int epoch, NDManager parent) {
            epochs.add(epoch);
            return new InMemoryBatches(shifted(epoch), valid.y, new long[] {1, 4, 4}, 64, false, false, 0)
                    .batches(0, parent);
        }
    }

    @Test
    void ttaBlendsTheMeanOfAugmentedPassesWithThePlainOne() {
        Blobs train = new Blobs(512, 4, 1.2, 5);
        Blobs valid = new Blobs(128, 4, 1.2, 6);
        ShiftedValid aug = new ShiftedValid(valid);
        DataLoaders dls = new DataLoaders(
                train.batches(32, true, 5), valid.batches(64, false, 0), List.of("a", "b", "c", "d"), aug);
        try (Learner l = Learner.builder(new TinyNet(4, 5), dls).build()) {
            l.fit(1, 1e-2);
            int n = 3;
            double beta = 0.25;
            Learner.Validation got = l.tta(n, beta);
            assertEquals(n, aug.epochs.size());
            assertEquals(n, aug.epochs.stream().distinct().count(), "every pass draws its own augmentation");

            // the same by hand: softmax of each pass, their mean, blended with the plain pass
            int rows = valid.y.length;
            double[][] mean = new double[rows][4];
            double[][] plain = new double[rows][4];
            try (NDManager m = NDManager.newBaseManager();
                    NoGrad g = NoGrad.enter()) {
                l.model().eval();
                for (int e : aug.epochs) {
                    add(
                            mean,
                            l.model()
                                    .forward(m.create(aug.shifted(e), new Shape(rows, 1, 4, 4)))
                                    .softmax(1),
                            1.0 / n);
                }
                add(
                        plain,
                        l.model()
                                .forward(m.create(valid.x, new Shape(rows, 1, 4, 4)))
                                .softmax(1),
                        1.0);
            }
            double loss = 0;
            int right = 0;
            for (int i = 0; i < rows; i++) {
                double[] p = new double[4];
                int best = 0;
                for (int k = 0; k < 4; k++) {
                    p[k] = (1 - beta) * mean[i][k] + beta * plain[i][k];
                    best = p[k] > p[best] ? k : best;
                }
                loss -= Math.log(p[(int) valid.y[i]]);
                right += best == valid.y[i] ? 1 : 0;
            }
            assertEquals(loss / rows, got.loss(), 1e-5);
            assertEquals((double) right / rows, got.metrics().get("accuracy"), 1e-9);
            // and it is not the plain score
            assertTrue(Math.abs(l.validate().loss() - got.loss()) > 1e-4);
        }
    }

    @Test
    void ttaWithoutAugmentedValidationBatchesSaysWhatIsMissing() {
        try (Learner l = Learner.builder(new TinyNet(4, 6), Blobs.loaders(4, 6)).build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.tta(4, 0.25));
            assertTrue(e.getMessage().contains("validAugmented"), e.getMessage());
        }
    }

    private static void add(double[][] acc, NDArray probs, double w) {
        float[] p = probs.toFloatArray();
        for (int i = 0; i < acc.length; i++) {
            for (int k = 0; k < acc[i].length; k++) {
                acc[i][k] += w * p[i * acc[i].length + k];
            }
        }
    }
}
