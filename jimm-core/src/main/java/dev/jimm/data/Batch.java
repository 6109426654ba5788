package dev.jimm.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One batch: images as float32 NCHW and labels, living in their own NDManager (a child of the loader's parent manager).
 * Close it when done so its native memory is freed at once. The learner reads {@link #x()} and {@link #y()}.
 *
 * @param manager the batch's own manager, which owns every array below
 * @param data images, float32 [N, C, H, W]
 * @param labels hard labels, int64 [N] (the original class of each sample, even when mixed)
 * @param targets soft targets float32 [N, numClasses] when a batch transform (Mixup/CutMix) ran, else null
 * @param indices dataset indices of the samples, in batch order
 * @param index position of this batch in its epoch
 */
public record Batch(NDManager manager, NDArray data, NDArray labels, NDArray targets, int[] indices, int index)
        implements AutoCloseable {
    /**
     * A batch of given inputs and targets (class indices [N], or [N, K] soft targets) owned by {@code manager}, as an
     * in-memory source or a test makes it; its samples have no dataset indices.
     */
    public static Batch of(NDArray x, NDArray y, NDManager manager) {
        boolean hard = y.getShape().dimension() == 1;
        return new Batch(manager, x, hard ? y : null, hard ? null : y, new int[0], -1);
    }

    /** The inputs [N, C, H, W]. */
    public NDArray x() {
        return data;
    }

    /** What the loss compares with: the soft targets when a batch transform made them, else the labels. */
    public NDArray y() {
        return targets != null ? targets : labels;
    }

    /** Dataset indices of the samples, in batch order (a copy; empty for {@link #of} batches). */
    @Override
    public int[] indices() {
        return indices.clone();
    }

    /** Number of samples. */
    public int size() {
        return (int) data.getShape().get(0);
    }

    @Override
    public void close() {
        manager.close();
    }
}
