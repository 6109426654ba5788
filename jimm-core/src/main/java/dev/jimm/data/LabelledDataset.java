package dev.jimm.data;

import java.util.List;

/**
 * A dataset whose labels are held as one int per sample, with its class names: what the in-memory, file-list and
 * relabelled datasets share. Subclasses decode the images.
 */
abstract class LabelledDataset implements ImageDataset {
    private final int[] labels;
    private final List<String> classes;

    LabelledDataset(int[] labels, List<String> classes) {
        this.labels = labels;
        this.classes = List.copyOf(classes);
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public int label(int index) {
        return labels[index];
    }

    @Override
    public List<String> classes() {
        return classes;
    }
}
