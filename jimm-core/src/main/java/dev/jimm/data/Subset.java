package dev.jimm.data;

import java.util.List;

/** A view of some samples of another dataset, in the given order. */
public final class Subset implements ImageDataset {
    private final ImageDataset base;
    private final int[] indices;

    public Subset(ImageDataset base, int[] indices) {
        for (int i : indices) {
            if (i < 0 || i >= base.size()) {
                throw new IllegalArgumentException("subset index " + i + " outside [0, " + base.size() + ")");
            }
        }
        this.base = base;
        this.indices = indices.clone();
    }

    /** Indices into the base dataset (a copy). */
    public int[] indices() {
        return indices.clone();
    }

    @Override
    public int size() {
        return indices.length;
    }

    @Override
    public int label(int index) {
        return base.label(indices[index]);
    }

    @Override
    public List<String> classes() {
        return base.classes();
    }

    @Override
    public DecodedImage image(int index) {
        return base.image(indices[index]);
    }

    @Override
    public String describe(int index) {
        return base.describe(indices[index]);
    }
}
