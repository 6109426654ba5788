package dev.jimm.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Turns raw little-endian tensor bytes from a checkpoint into NDArrays. */
public final class Tensors {
    private Tensors() {}

    /**
     * Creates an array from {@code data} (little-endian, {@code dtype}, row-major) in {@code manager}: half-precision
     * types widen to float32, I16 to int32; the data is copied.
     */
    public static NDArray toNDArray(NDManager manager, ByteBuffer data, TensorDType dtype, Shape shape) {
        ByteBuffer src = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = Math.toIntExact(shape.size());
        switch (dtype) {
            case F16, BF16 -> {
                ByteBuffer out = manager.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
                for (int i = 0; i < n; i++) {
                    int bits = src.getShort() & 0xffff;
                    out.putFloat(dtype == TensorDType.BF16 ? Float.intBitsToFloat(bits << 16) : halfToFloat(bits));
                }
                out.flip();
                return manager.create(out, shape, DataType.FLOAT32);
            }
            case I16 -> {
                ByteBuffer out = manager.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
                for (int i = 0; i < n; i++) {
                    out.putInt(src.getShort());
                }
                out.flip();
                return manager.create(out, shape, DataType.INT32);
            }
            default -> {
                ByteBuffer copy = manager.allocateDirect(n * dtype.size()).order(ByteOrder.nativeOrder());
                ByteBuffer slice = src.slice().order(ByteOrder.LITTLE_ENDIAN);
                slice.limit(n * dtype.size());
                copy.put(slice);
                copy.flip();
                return manager.create(copy, shape, dtype.loadedAs());
            }
        }
    }

    /** IEEE 754 binary16 to float. */
    public static float halfToFloat(int h) {
        int sign = (h >>> 15) & 1;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        float v;
        if (exp == 0) {
            v = (float) (mant * Math.pow(2, -24));
        } else if (exp == 31) {
            v = mant == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else {
            v = Float.intBitsToFloat(((exp - 15 + 127) << 23) | (mant << 13));
        }
        return sign == 1 ? -v : v;
    }
}
