package dev.jimm.data;

import dev.jimm.transforms.Preprocessing;
import java.util.List;

/**
 * The training and validation batches of a learner, the names of its classes and, when known, how its validation images
 * were prepared (fastai's DataLoaders). The loaders' batches live in the {@code NDManager} their maker was given: its
 * caller owns that manager and closes it after training.
 *
 * @param train shuffled training batches
 * @param valid validation batches in a fixed order
 * @param classes class names in label order
 * @param validAugmented the validation images through the training transforms, in the validation order (fastai's TTA
 *     draws its augmented passes from it), or null
 * @param preprocessing the eval preprocessing of the validation images (what an export must repeat at prediction), or
 *     null when the batches were made some other way
 */
public record DataLoaders(
        BatchSource train,
        BatchSource valid,
        List<String> classes,
        BatchSource validAugmented,
        Preprocessing preprocessing) {
    public DataLoaders {
        classes = List.copyOf(classes);
    }

    /** Without a record of the preprocessing. */
    public DataLoaders(BatchSource train, BatchSource valid, List<String> classes, BatchSource validAugmented) {
        this(train, valid, classes, validAugmented, null);
    }

    /** Without augmented validation batches (no fastai TTA) or a record of the preprocessing. */
    public DataLoaders(BatchSource train, BatchSource valid, List<String> classes) {
        this(train, valid, classes, null, null);
    }

    /** The same loaders, recording the eval preprocessing of their images. */
    public DataLoaders withPreprocessing(Preprocessing value) {
        return new DataLoaders(train, valid, classes, validAugmented, value);
    }

    public int numClasses() {
        return classes.size();
    }
}
