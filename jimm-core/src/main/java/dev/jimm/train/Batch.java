package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One batch: inputs [N, C, H, W] and targets ([N] class indices, or [N, K] soft or multi-label targets), owned by their
 * own manager so that closing the batch frees everything made from it.
 */
public record Batch(NDArray x, NDArray y, NDManager manager) implements AutoCloseable {
    public int size() {
        return (int) x.getShape().get(0);
    }

    @Override
    public void close() {
        manager.close();
    }
}
