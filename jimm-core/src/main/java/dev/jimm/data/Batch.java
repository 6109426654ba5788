package dev.jimm.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One batch: images as float32 NCHW and labels, living in their own NDManager (a child of the loader's parent manager).
 * Close it when done so its native memory is freed at once.
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
    /** Dataset indices of the samples, in batch order (a copy). */
    @Override
    public int[] indices() {
        return indices.clone();
    }

    /** Number of samples. */
    public int size() {
        return indices.length;
    }

    @Override
    public void close() {
        manager.close();
    }
}
