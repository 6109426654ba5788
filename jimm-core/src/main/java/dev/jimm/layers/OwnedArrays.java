package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Arrays from Java data whose memory libtorch owns. DJL's {@code NDManager.create(float[])} wraps a direct ByteBuffer
 * with {@code from_blob}, and that memory is freed when the garbage collector takes the Java wrapper. The JIT may drop
 * a local before a pass that still reads the tensor has ended (autograd keeps a forward input for the backward pass; a
 * native call holds only the handle), which then reads freed memory: training losses turned NaN at random batches under
 * a small heap. A clone detaches the data from the Java heap's lifetimes.
 */
public final class OwnedArrays {
    private OwnedArrays() {}

    /** A float32 array of {@code data} in {@code shape}, in {@code manager}, in memory libtorch owns. */
    public static NDArray of(NDManager manager, float[] data, Shape shape) {
        try (NDArray wrapped = manager.create(data, shape)) {
            return wrapped.duplicate();
        }
    }

    /** An int64 vector of {@code data}, in {@code manager}, in memory libtorch owns. */
    public static NDArray of(NDManager manager, long[] data) {
        try (NDArray wrapped = manager.create(data)) {
            return wrapped.duplicate();
        }
    }
}
