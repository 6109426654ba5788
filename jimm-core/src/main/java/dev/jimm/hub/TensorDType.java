package dev.jimm.hub;

import ai.djl.ndarray.types.DataType;

/** Element types found in checkpoints, with their sizes and the DJL type they load as. */
public enum TensorDType {
    F64(8, DataType.FLOAT64),
    F32(4, DataType.FLOAT32),
    F16(2, DataType.FLOAT32),
    BF16(2, DataType.FLOAT32),
    I64(8, DataType.INT64),
    I32(4, DataType.INT32),
    I16(2, DataType.INT32),
    I8(1, DataType.INT8),
    U8(1, DataType.UINT8),
    BOOL(1, DataType.BOOLEAN);

    private final int size;
    private final DataType loadedAs;

    TensorDType(int size, DataType loadedAs) {
        this.size = size;
        this.loadedAs = loadedAs;
    }

    /** Bytes per element in the file. */
    public int size() {
        return size;
    }

    /** The DJL type an entry of this dtype becomes (half precision widens to float32). */
    public DataType loadedAs() {
        return loadedAs;
    }

    public boolean isFloating() {
        return this == F64 || this == F32 || this == F16 || this == BF16;
    }

    /** The safetensors name ("F32", "BF16", …), or null when unknown. */
    public static TensorDType fromSafetensors(String name) {
        for (TensorDType t : values()) {
            if (t.name().equals(name)) {
                return t;
            }
        }
        return null;
    }
}
