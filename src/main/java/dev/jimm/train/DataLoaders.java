package dev.jimm.train;

import java.util.List;

/**
 * The training and validation batches of a learner and the names of its classes (fastai's
 * DataLoaders).
 *
 * @param train shuffled training batches
 * @param valid validation batches in a fixed order
 * @param classes class names in label order
 */
public record DataLoaders(BatchSource train, BatchSource valid, List<String> classes) {
    public DataLoaders {
        classes = List.copyOf(classes);
    }

    public int numClasses() {
        return classes.size();
    }
}
