package dev.jimm.train;

import java.util.List;

/**
 * The training and validation batches of a learner and the names of its classes (fastai's DataLoaders).
 *
 * @param train shuffled training batches
 * @param valid validation batches in a fixed order
 * @param classes class names in label order
 * @param validAugmented the validation images through the training transforms, in the validation order (fastai's TTA
 *     draws its augmented passes from it), or null
 */
public record DataLoaders(BatchSource train, BatchSource valid, List<String> classes, BatchSource validAugmented) {
    public DataLoaders {
        classes = List.copyOf(classes);
    }

    /** Without augmented validation batches (no fastai TTA). */
    public DataLoaders(BatchSource train, BatchSource valid, List<String> classes) {
        this(train, valid, classes, null);
    }

    public int numClasses() {
        return classes.size();
    }
}
