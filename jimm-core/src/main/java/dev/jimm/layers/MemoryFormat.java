package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * PyTorch's {@code channels_last} memory format for image batches: an {@code [N, C, H, W]} array whose elements lie in
 * memory in {@code N, H, W, C} order. Shapes, indexing and results are those of the ordinary layout; only speed
 * changes. libtorch's CPU convolutions (oneDNN), batch norm, pooling and elementwise kernels keep the format from input
 * to output and to gradients, and are faster in it (measured on this project's 2-core machine, alternating the two
 * layouts every three steps in one process: resnet18 training at 224 pixels, batch 32, 14–22% faster per step;
 * resnet10t at 28 pixels, batch 128, level). {@link Conv2d} converts its input, so a network's first convolution copies
 * the batch once and the rest receive it in this order; {@link Module#setChannelsLast} switches a model,
 * {@code -Djimm.channelsLast=false} the default.
 */
public final class MemoryFormat {
    private static final boolean ENABLED = Boolean.parseBoolean(System.getProperty("jimm.channelsLast", "true"));

    private MemoryFormat() {}

    /** Whether convolutions run channels-last unless told otherwise ({@code -Djimm.channelsLast}). */
    public static boolean byDefault() {
        return ENABLED;
    }

    /**
     * {@code x} in channels-last order when it is a 4-D batch, else {@code x} itself. An array already in that order is
     * returned as a view, without copying.
     */
    public static NDArray channelsLast(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4) {
            return x;
        }
        // already channels-last (every convolution's input after the first): x itself, one view and
        // one check instead of the four views below (134 of the 573 operations of a MobileNetV3 forward).
        // Only where the order is unambiguous: one channel or one pixel leaves it to the strides below
        if (s.get(1) > 1 && s.get(2) * s.get(3) > 1) {
            NDArray nhwc = x.transpose(0, 2, 3, 1);
            boolean already = isContiguous(nhwc);
            nhwc.close();
            if (already) {
                return x;
            }
        }
        // NHWC made contiguous, then viewed as NCHW: the strides PyTorch's x.to(memory_format=
        // torch.channels_last) gives, including stride 1 on a single channel, which is what marks
        // a one-channel batch as channels-last rather than ambiguous
        return x.transpose(0, 2, 3, 1)
                .reshape(-1)
                .reshape(s.get(0), s.get(2), s.get(3), s.get(1))
                .transpose(0, 3, 1, 2);
    }

    /**
     * Whether {@code x} lies in memory in the ordinary row-major order of its shape; true for arrays of other engines,
     * and when libtorch cannot be asked.
     */
    public static boolean isContiguous(NDArray x) {
        if (!(x instanceof PtNDArray p) || Contiguity.CHECK == null) {
            return true;
        }
        try {
            return (boolean) Contiguity.CHECK.invokeExact(p.getHandle().longValue());
        } catch (Throwable e) {
            throw new IllegalStateException("libtorch's is_contiguous failed for an array of shape " + x.getShape(), e);
        }
    }

    /** libtorch's {@code is_contiguous}, which DJL binds but does not make public. */
    private static final class Contiguity {
        static final MethodHandle CHECK = find();

        private static MethodHandle find() {
            try {
                Class<?> lib = Class.forName("ai.djl.pytorch.jni.PyTorchLibrary");
                Field instance = lib.getDeclaredField("LIB");
                instance.setAccessible(true);
                Method m = lib.getDeclaredMethod("torchIsContiguous", long.class);
                m.setAccessible(true);
                return MethodHandles.lookup().unreflect(m).bindTo(instance.get(null));
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }
    }
}
