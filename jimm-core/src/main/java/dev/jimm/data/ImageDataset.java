package dev.jimm.data;

import java.util.List;

/**
 * A labelled image dataset whose images are decoded lazily, one index at a time. Implementations are safe to read from
 * several threads at once.
 */
public interface ImageDataset {
    /** Number of samples. */
    int size();

    /** Class index of sample i, in [0, classes().size()). */
    int label(int index);

    /** Class names, in label order. */
    List<String> classes();

    /** Decodes sample i (lazily, on each call). */
    DecodedImage image(int index);

    /** A human-readable location of sample i for error messages (file name or "file#index"). */
    default String describe(int index) {
        return getClass().getSimpleName() + "#" + index;
    }

    /** Number of samples of each class, in label order. */
    default int[] countsPerClass() {
        int[] counts = new int[classes().size()];
        for (int i = 0; i < size(); i++) {
            counts[label(i)]++;
        }
        return counts;
    }
}
