package dev.jimm.models;

import ai.djl.ndarray.NDArray;

/**
 * A model whose start from scratch depends on its training images, as airbench's whitened first layer does.
 * {@code VisionLearner} calls it with a sample of training images before a fit from scratch; a model started from
 * weights is left alone.
 */
public interface InitFromData {
    /** How many training images {@link #initFromData} would like. */
    default int initImages() {
        return 5000;
    }

    /** Sets the data-dependent part of the start from {@code images} ({@code [n, channels, height, width]}). */
    void initFromData(NDArray images);
}
