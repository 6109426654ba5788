package dev.jimm.data;

import ai.djl.ndarray.NDManager;
import java.util.Iterator;

/**
 * Where a learner's batches come from: a loader over a dataset. Each epoch's order is a function of the epoch number
 * (and the source's seed), so a resumed run sees the same batches.
 */
public interface BatchSource {
    /** Batches in one epoch. */
    int numBatches();

    /** Samples in one epoch (after drop_last). */
    int numSamples();

    /** The batches of {@code epoch}, each in its own child manager of {@code parent}. */
    Iterator<Batch> batches(int epoch, NDManager parent);

    /**
     * How many planned batches of its epoch an iterator from {@link #batches} has passed over so far because every
     * sample in them was left out (a loader skipping bad images); 0 for a source that never passes one over.
     */
    static int batchesPassedOver(Iterator<Batch> it) {
        return it instanceof PassingOver p ? p.batchesPassedOver() : 0;
    }

    /** An epoch's iterator that may pass over planned batches, and counts them. */
    interface PassingOver {
        /** Planned batches passed over so far in this epoch. */
        int batchesPassedOver();
    }

    /**
     * Closes an iterator from {@link #batches} if it holds resources (a loader's worker threads and prefetched
     * batches), so that leaving an epoch early frees them.
     */
    static void close(Iterator<Batch> it) {
        if (it instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the batch iterator failed", e);
            }
        }
    }
}
