package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Writes a stream of values into an array in place, in row-major order, through one small direct buffer: whatever the
 * array's size, the values never all exist on the Java heap (nor in direct memory) at once. The initializers of
 * {@link Init} and the parity fixtures' reference init use it, so that creating a model needs a Java heap of a few MB
 * rather than several times its largest parameter (a VGG's first classifier weight is 392 MB).
 */
public final class ChunkedFill {
    /**
     * Elements per chunk: 4 MB of float32, outside the Java heap. Each chunk is one libtorch copy, which wakes its
     * worker threads; at 64K elements a 100M-element weight took 1,568 copies and, on a busy 2-core machine, 7 s
     * instead of 0.5 s.
     */
    static final int CHUNK_ELEMENTS = 1 << 20;

    private ChunkedFill() {}

    /** The next value of a row-major stream of floats. */
    @FunctionalInterface
    public interface FloatStream {
        float next();
    }

    /**
     * Sets the elements of {@code dst} to the next {@code dst.size()} values of {@code values}, in row-major order of
     * its shape (whatever its strides), without recording gradients; {@code dst} keeps its dtype.
     */
    public static void fill(NDArray dst, FloatStream values) {
        long[] shape = dst.getShape().getShape();
        long n = dst.size();
        if (n == 0) {
            return;
        }
        if (shape.length == 0 || n <= CHUNK_ELEMENTS) {
            try (NoGrad g = NoGrad.enter();
                    Writer w = new Writer(dst, values, n)) {
                w.put(new NDIndex("..."), dst.getShape());
            }
            return;
        }
        // the smallest axis k whose trailing block (the elements under one index along k) fits a chunk; a chunk is
        // then rowsPerChunk indices along k under fixed indices on the axes before it
        int k = 0;
        long inner = n / shape[0];
        while (inner > CHUNK_ELEMENTS) {
            k++;
            inner /= shape[k];
        }
        long rowsPerChunk = Math.min(shape[k], CHUNK_ELEMENTS / inner);
        long outer = 1;
        for (int a = 0; a < k; a++) {
            outer *= shape[a];
        }
        long[] prefix = new long[k];
        long[] chunkShape = Arrays.copyOfRange(shape, k, shape.length);
        try (NoGrad g = NoGrad.enter();
                Writer w = new Writer(dst, values, rowsPerChunk * inner)) {
            for (long o = 0; o < outer; o++) {
                long rest = o;
                for (int a = k - 1; a >= 0; a--) {
                    prefix[a] = rest % shape[a];
                    rest /= shape[a];
                }
                for (long j = 0; j < shape[k]; j += rowsPerChunk) {
                    long count = Math.min(rowsPerChunk, shape[k] - j);
                    chunkShape[0] = count;
                    w.put(new NDIndex().addIndices(prefix).addSliceDim(j, j + count), new Shape(chunkShape));
                }
            }
        }
    }

    /** Copies chunks of the stream into {@code dst} through one direct buffer, freed on close. */
    private static final class Writer implements AutoCloseable {
        private final NDArray dst;
        private final FloatStream values;
        private final ByteBuffer buffer;
        private final FloatBuffer floats;

        Writer(NDArray dst, FloatStream values, long capacity) {
            this.dst = dst;
            this.values = values;
            this.buffer = ByteBuffer.allocateDirect(Math.toIntExact(capacity * Float.BYTES))
                    .order(ByteOrder.nativeOrder());
            this.floats = buffer.asFloatBuffer();
        }

        /** The next {@code shape.size()} values into {@code dst[index]}, which has that shape. */
        void put(NDIndex index, Shape shape) {
            int count = Math.toIntExact(shape.size());
            for (int i = 0; i < count; i++) {
                floats.put(i, values.next());
            }
            buffer.limit(count * Float.BYTES);
            // the chunk array may share the buffer's memory: it is closed before the buffer is refilled or freed
            try (NDArray chunk = dst.getManager().create(buffer, shape, DataType.FLOAT32)) {
                if (dst.getDataType() == DataType.FLOAT32) {
                    dst.set(index, chunk);
                } else {
                    try (NDArray converted = chunk.toType(dst.getDataType(), true)) {
                        dst.set(index, converted);
                    }
                }
            }
        }

        @Override
        public void close() {
            DirectMemory.free(buffer);
        }
    }

    /**
     * Frees a direct buffer at once rather than at a later garbage collection: a model's init makes little garbage, so
     * with a large heap no collection may come for a long time and every parameter's buffer would stay in the process's
     * memory (its RSS grew by a third of the model's size when creating convnext_base under -Xmx4g). Uses the JDK's
     * {@code sun.misc.Unsafe.invokeCleaner} (in jdk.unsupported, as Netty and Lucene do), and leaves the buffer to the
     * collector where there is none.
     */
    private static final class DirectMemory {
        private static final MethodHandle INVOKE_CLEANER = find();

        private static MethodHandle find() {
            try {
                Class<?> unsafe = Class.forName("sun.misc.Unsafe");
                Field theUnsafe = unsafe.getDeclaredField("theUnsafe");
                theUnsafe.setAccessible(true);
                return MethodHandles.lookup()
                        .findVirtual(unsafe, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                        .bindTo(theUnsafe.get(null));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        /** Only for a buffer no array refers to any more: its memory is gone after this. */
        static void free(ByteBuffer buffer) {
            if (INVOKE_CLEANER == null) {
                return;
            }
            try {
                INVOKE_CLEANER.invokeExact(buffer);
            } catch (Throwable e) {
                throw new IllegalStateException("freeing a direct buffer of " + buffer.capacity() + " bytes failed", e);
            }
        }
    }
}
