package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.function.BinaryOperator;

/**
 * Arithmetic with a number in memory libtorch owns, for the forward passes that autograd records. DJL's
 * {@code x.mul(0.5f)} turns the number into a 0-dim tensor over a Java direct buffer ({@code from_blob}) and closes it
 * after the op; autograd keeps that tensor for the backward pass of mul, div, pow, minimum and maximum, while the
 * garbage collector may free the buffer first, so backward read freed memory (training losses turned NaN at random
 * batches under a small heap). Here the number is cloned into libtorch's memory, which autograd's reference keeps
 * alive. Additions and subtractions do not keep the number and need no help.
 */
public final class Scalars {
    private Scalars() {}

    /** A 0-dim tensor of {@code value} in {@code like}'s manager and data type, in memory libtorch owns. */
    public static NDArray of(NDArray like, double value) {
        try (NDArray wrapped = like.getManager().create((float) value)) {
            NDArray owned = wrapped.duplicate();
            if (like.getDataType() == DataType.FLOAT32) {
                return owned;
            }
            try (owned) {
                return owned.toType(like.getDataType(), true);
            }
        }
    }

    /** {@code x * value}. */
    public static NDArray mul(NDArray x, double value) {
        return apply(x, value, NDArray::mul);
    }

    /** {@code x / value}. */
    public static NDArray div(NDArray x, double value) {
        return apply(x, value, NDArray::div);
    }

    /** {@code x ^ value}. */
    public static NDArray pow(NDArray x, double value) {
        return apply(x, value, NDArray::pow);
    }

    /** The elementwise minimum of {@code x} and {@code value}. */
    public static NDArray minimum(NDArray x, double value) {
        return apply(x, value, NDArray::minimum);
    }

    private static NDArray apply(NDArray x, double value, BinaryOperator<NDArray> op) {
        try (NDArray s = of(x, value)) {
            return op.apply(x, s);
        }
    }
}
