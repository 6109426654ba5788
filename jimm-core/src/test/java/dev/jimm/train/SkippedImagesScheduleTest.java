package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.jimm.data.BadImagePolicy;
import dev.jimm.data.DataLoader;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDataLoaders;
import dev.jimm.data.ImageDataset;
import dev.jimm.transforms.RandomCrop;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import dev.jimm.transforms.Transforms;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * When the loader leaves out images and whole planned batches with them, the schedule counts the batches that run: the
 * last one that runs is the schedule's last step, so a one-cycle fit still anneals to its end.
 */
class SkippedImagesScheduleTest {
    /** 12 gray 4x4 images in 2 classes; the listed ones are 1x1, which a 4x4 RandomCrop refuses. */
    private record Images(Set<Integer> bad) implements ImageDataset {
        @Override
        public int size() {
            return 12;
        }

        @Override
        public int label(int index) {
            return index % 2;
        }

        @Override
        public List<String> classes() {
            return List.of("even", "odd");
        }

        @Override
        public DecodedImage image(int index) {
            int side = bad.contains(index) ? 1 : 4;
            byte[] px = new byte[side * side];
            for (int i = 0; i < px.length; i++) {
                px[i] = (byte) (index % 2 == 0 ? 40 + i : 200 - i);
            }
            return new DecodedImage(side, side, 1, px, "png");
        }
    }

    @Test
    void theLastBatchThatRunsIsTheSchedulesLastStep() {
        // batches of 3 in order: [0 1 2] runs, [3 4 5] is passed over, [6 7 8] runs as [6 7], [9 10 11] is passed
        // over: 2 of the 4 planned batches run in each epoch
        Images train = new Images(Set.of(3, 4, 5, 8, 9, 10, 11));
        Transform<DecodedImage, TensorImage> tf = new RandomCrop(4, 4, 0).andThen(Transforms.toTensor());
        List<String> warnings = new ArrayList<>();
        List<Double> positions = new ArrayList<>();
        try (NDManager data = NDManager.newBaseManager()) {
            DataLoader trainLoader = DataLoader.builder(train, tf, data)
                    .batchSize(3)
                    .shuffle(false)
                    .threads(1)
                    .badImages(BadImagePolicy.SKIP)
                    .warnings(warnings::add)
                    .build();
            DataLoader validLoader = DataLoader.builder(new Images(Set.of()), tf, data)
                    .batchSize(4)
                    .shuffle(false)
                    .threads(0)
                    .build();
            DataLoaders dls = new DataLoaders(
                    new ImageDataLoaders.LoaderSource(trainLoader),
                    new ImageDataLoaders.LoaderSource(validLoader),
                    train.classes());
            assertEquals(4, dls.train().numBatches(), "planned batches per epoch");
            Callback positionLog = new Callback() {
                @Override
                public void beforeBatch(Learner l) {
                    positions.add((double) l.trainIter() / l.totalIters());
                }
            };
            try (Learner l = Learner.builder(new TinyNet(2, 1), dls)
                    .callbacks(positionLog)
                    .build()) {
                l.fitOneCycle(2, 1e-2);
                List<Double> lrs = l.recorder().lrs();
                assertEquals(4, lrs.size(), "2 epochs of 2 batches that run");
                assertEquals(4, l.trainIter());
                assertEquals(4, l.totalIters(), "the total counts the batches that ran, not the 8 planned");
                assertEquals(3.0 / 4, positions.get(3), 0.0, "the last batch is step 3 of 4, as in a 4-batch fit");
                for (int i = 1; i < positions.size(); i++) {
                    assertTrue(positions.get(i) > positions.get(i - 1), "positions increase: " + positions);
                }
                assertEquals(0.0, positions.get(0), 0.0);
                double last = Schedules.oneCycleLr(1e-2, 25, 1e5, 0.25).applyAsDouble(3.0 / 4);
                assertEquals(last, lrs.get(3), 0.0, "the rate of the schedule's last step");
            }
            assertEquals(7, trainLoader.skippedImages().size(), warnings.toString());
            assertTrue(
                    trainLoader.skippedImages().get("Images#3").contains("transform RandomCrop(4x4, padding 0) failed"),
                    trainLoader.skippedImages().toString());
        }
    }
}
