package dev.jimm.data;

import ai.djl.ndarray.NDManager;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import java.util.Iterator;

/**
 * fastai's ImageDataLoaders: a training loader (shuffled, drop_last, augmenting) and a validation loader (in order,
 * eval transform) over image datasets, decoded on a pool of threads. Each batch lives in a child of the
 * {@code NDManager} given to {@code of}; the learner closes every batch after its step, and the caller owns the manager
 * and closes it when training is over (which frees any batch still open). For a folder with jimm's defaults,
 * {@code VisionLearner.fromFolder} makes the loaders and owns them.
 */
public final class ImageDataLoaders {
    private ImageDataLoaders() {}

    /** Settings shared by both loaders; {@code badImages} says what an image that fails to decode does. */
    public record Settings(int batchSize, long seed, int threads, int prefetch, BadImagePolicy badImages) {
        /** Bad images are errors. */
        public Settings(int batchSize, long seed, int threads, int prefetch) {
            this(batchSize, seed, threads, prefetch, BadImagePolicy.ERROR);
        }

        public Settings {
            if (batchSize < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
            }
        }

        public static Settings of(int batchSize, long seed) {
            return new Settings(
                    batchSize, seed, Math.max(1, Runtime.getRuntime().availableProcessors()), 4);
        }
    }

    /** Loaders over a train and a valid dataset with their transforms. */
    public static DataLoaders of(
            ImageDataset train,
            ImageDataset valid,
            Transform<DecodedImage, TensorImage> trainTf,
            Transform<DecodedImage, TensorImage> validTf,
            Settings s,
            NDManager manager) {
        return of(train, valid, trainTf, validTf, null, s, manager);
    }

    /**
     * As {@link #of(ImageDataset, ImageDataset, Transform, Transform, Settings, NDManager)}, with a batch transform
     * (Mixup/CutMix, or null) on training batches. The loaders also carry the validation images through the training
     * transform, in order, for fastai's TTA.
     */
    public static DataLoaders of(
            ImageDataset train,
            ImageDataset valid,
            Transform<DecodedImage, TensorImage> trainTf,
            Transform<DecodedImage, TensorImage> validTf,
            BatchTransform trainBatchTf,
            Settings s,
            NDManager manager) {
        if (train.size() < s.batchSize()) {
            throw new IllegalArgumentException(
                    "batch size " + s.batchSize() + " is larger than the training set (" + train.size() + " images)");
        }
        if (train.classes().size() < 2) {
            throw new IllegalArgumentException("the dataset has "
                    + train.classes().size() + " class; classification needs at least 2 (one subfolder per class)");
        }
        DataLoader tl = loader(train, trainTf, s, manager)
                .shuffle(true)
                .dropLast(true)
                .batchTransform(trainBatchTf)
                .build();
        return new DataLoaders(
                new LoaderSource(tl),
                new LoaderSource(inOrder(valid, validTf, s, manager)),
                train.classes(),
                new LoaderSource(inOrder(valid, trainTf, s, manager)));
    }

    private static DataLoader inOrder(
            ImageDataset ds, Transform<DecodedImage, TensorImage> tf, Settings s, NDManager manager) {
        return loader(ds, tf, s, manager).shuffle(false).dropLast(false).build();
    }

    /** A loader builder with the settings both loaders share. */
    private static DataLoader.Builder loader(
            ImageDataset ds, Transform<DecodedImage, TensorImage> tf, Settings s, NDManager manager) {
        return DataLoader.builder(ds, tf, manager)
                .batchSize(s.batchSize())
                .seed(s.seed())
                .threads(s.threads())
                .prefetch(s.prefetch())
                .badImages(s.badImages());
    }

    /** A {@link DataLoader} seen as the learner's batch source. */
    public static final class LoaderSource implements BatchSource {
        private final DataLoader loader;

        public LoaderSource(DataLoader loader) {
            this.loader = loader;
        }

        public DataLoader loader() {
            return loader;
        }

        @Override
        public int numBatches() {
            return loader.batchesPerEpoch();
        }

        @Override
        public int numSamples() {
            int n = loader.config().dataset().size();
            return loader.config().dropLast()
                    ? n / loader.config().batchSize() * loader.config().batchSize()
                    : n;
        }

        @Override
        public Iterator<Batch> batches(int epoch, NDManager parent) {
            DataLoader.EpochIterator it = loader.epoch(epoch);
            return new ClosingIterator(it);
        }
    }

    /** The loader's batches, stopping its threads when closed or exhausted. */
    static final class ClosingIterator implements Iterator<Batch>, AutoCloseable, BatchSource.PassingOver {
        private final DataLoader.EpochIterator it;

        ClosingIterator(DataLoader.EpochIterator it) {
            this.it = it;
        }

        @Override
        public boolean hasNext() {
            return it.hasNext();
        }

        @Override
        public Batch next() {
            return it.next();
        }

        @Override
        public int batchesPassedOver() {
            return it.batchesPassedOver();
        }

        @Override
        public void close() {
            it.close();
        }
    }
}
