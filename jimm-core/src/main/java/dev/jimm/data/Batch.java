package dev.jimm.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * One batch: images as float32 NCHW and labels, living in their own NDManager (a child of the loader's
 * parent manager). Close it when done so its native memory is freed at once.
 */
public final class Batch implements AutoCloseable {
    private final NDManager manager;
    private final NDArray data;
    private final NDArray labels;
    private final NDArray targets;
    private final int[] indices;
    private final int index;

    Batch(NDManager manager, NDArray data, NDArray labels, NDArray targets, int[] indices, int index) {
        this.manager = manager;
        this.data = data;
        this.labels = labels;
        this.targets = targets;
        this.indices = indices;
        this.index = index;
    }

    /** Images, float32 [N, C, H, W]. */
    public NDArray data() { return data; }

    /** Hard labels, int64 [N] (the original class of each sample, even when mixed). */
    public NDArray labels() { return labels; }

    /** Soft targets float32 [N, numClasses] when a batch transform (Mixup/CutMix) ran, else null. */
    public NDArray targets() { return targets; }

    /** Dataset indices of the samples, in batch order. */
    public int[] indices() { return indices.clone(); }

    /** Position of this batch in its epoch. */
    public int index() { return index; }

    /** Number of samples. */
    public int size() { return indices.length; }

    public NDManager manager() { return manager; }

    @Override
    public void close() {
        manager.close();
    }
}
