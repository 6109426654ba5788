package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.IdxDataset;
import dev.jimm.data.ImageDataLoaders;
import dev.jimm.data.ImageDataset;
import dev.jimm.data.Subset;
import dev.jimm.train.Callbacks;
import dev.jimm.train.Learner;
import dev.jimm.train.MemoryMonitor;
import dev.jimm.train.Metric;
import dev.jimm.transforms.RandomCrop;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import dev.jimm.transforms.Transforms;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leak check: a real training run (Fashion-MNIST sample images through the loader and its augmentations, resnet10t
 * with the fastai head, one-cycle AdamW, metrics, loggers, best-model export) keeps the number of live native arrays
 * the same from epoch to epoch, and frees them all when closed.
 */
class TrainingMemoryTest {
    static final float[] MEAN = {0.2860f};
    static final float[] STD = {0.3530f};

    /** A learner over {@code nTrain} / {@code nValid} bundled images at 28 px, logging into {@code runDir}. */
    static Learner learner(int nTrain, int nValid, Path runDir, MemoryMonitor monitor, NDManager dataManager) {
        Path dir = TrainRecipe.samplesDir().resolve("fashion-mnist");
        ImageDataset train = spread(IdxDataset.fashionMnist(dir, true), nTrain);
        ImageDataset valid = spread(IdxDataset.fashionMnist(dir, false), nValid);
        Transform<DecodedImage, TensorImage> trainTf = Transforms.channels(1)
                .andThen(new RandomCrop(28, 28, 3))
                .andThen(Transforms.horizontalFlip(0.5))
                .andThen(Transforms.toTensor())
                .andThen(Transforms.normalize(MEAN, STD));
        Transform<DecodedImage, TensorImage> validTf =
                Transforms.channels(1).andThen(Transforms.toTensor()).andThen(Transforms.normalize(MEAN, STD));
        DataLoaders dls = ImageDataLoaders.of(
                train, valid, trainTf, validTf, new ImageDataLoaders.Settings(32, 0, 2, 2), dataManager);
        return VisionLearner.create(
                dls,
                VisionLearner.Options.of("resnet10t").inChans(1).seed(1),
                b -> b.metrics(Metric.accuracy(), Metric.errorRate(), Metric.f1(10))
                        .runDir(runDir)
                        .callbacks(
                                monitor,
                                new Callbacks.CsvLogger(runDir.resolve("metrics.csv")),
                                new Callbacks.JsonLogger(runDir.resolve("metrics.jsonl")),
                                new Callbacks.SaveModel(runDir, "valid_loss", true)));
    }

    /** {@code n} images spread over the whole (class-ordered) set. */
    static ImageDataset spread(ImageDataset base, int n) {
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = (int) ((long) i * base.size() / n);
        }
        return new Subset(base, idx);
    }

    @Test
    void liveArraysStayConstantFromEpochToEpochAndAreFreedOnClose(@TempDir Path tmp) {
        int start = MemoryMonitor.liveArrays();
        MemoryMonitor monitor = new MemoryMonitor();
        int afterBuild;
        try (NDManager data = NDManager.newBaseManager()) {
            Learner l = learner(64, 32, tmp, monitor, data);
            try {
                afterBuild = MemoryMonitor.liveArrays();
                assertTrue(afterBuild > start + 50, "the model's parameters and buffers are counted: " + afterBuild);
                l.fitOneCycle(3, 3e-3);
                l.validate();
                l.lrFind(1e-5, 1e-1, 4);
            } finally {
                l.close();
                ((VisionModel) l.model()).close();
            }
        }
        List<MemoryMonitor.Row> rows = monitor.rows();
        assertEquals(3, rows.size());
        // the optimizer's slots appear in the first step, so every epoch ends with the same arrays
        for (MemoryMonitor.Row r : rows.subList(1, rows.size())) {
            assertEquals(rows.get(0).liveArrays(), r.liveArrays(), "live arrays per epoch: " + rows);
        }
        assertTrue(
                rows.get(0).liveArrays() > afterBuild,
                "AdamW's two slots per parameter: " + rows + " vs " + afterBuild);
        assertEquals(start, MemoryMonitor.liveArrays(), "closing the learner and model frees every array");
    }
}
