package dev.jimm.parity;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.ChunkedFill;
import dev.jimm.layers.Module;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The reference init and reference input of the parity fixtures: deterministic values from a SplitMix64 stream seeded
 * by the FNV-1a hash of each state_dict key, so that jimm and the Python reference build identical weights without
 * shipping them (see the fixtures' README).
 */
public final class ReferenceInit {
    private static final long GOLDEN = 0x9E3779B97F4A7C15L;
    private static final double TWO_POW_MINUS_53 = 1.0 / (1L << 53);

    private ReferenceInit() {}

    /** 64-bit FNV-1a of the UTF-8 bytes of {@code s}. */
    public static long fnv1a64(String s) {
        long h = 0xcbf29ce484222325L;
        for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return h;
    }

    /** u_k of the stream for {@code seed}: a double in [0, 1). */
    public static double uniform(long seed, long k) {
        long z = seed + (k + 1) * GOLDEN;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * TWO_POW_MINUS_53;
    }

    /** The reference values of a floating-point state_dict entry, with gain 1. */
    public static float[] values(String key, long[] shape) {
        return values(key, shape, 1.0);
    }

    /**
     * The reference values of a floating-point state_dict entry; {@code gain} ({@code meta.init_gain} of a fixture)
     * scales only the rule for tensors of 2 or more dimensions.
     */
    public static float[] values(String key, long[] shape, double gain) {
        EntryStream stream = new EntryStream(key, shape, gain);
        float[] out = new float[Math.toIntExact(stream.n)];
        for (int k = 0; k < out.length; k++) {
            out[k] = stream.next();
        }
        return out;
    }

    /** The values of one state_dict entry, k = 0, 1, 2, ... */
    private static final class EntryStream implements ChunkedFill.FloatStream {
        private final String key;
        private final int dims;
        private final long n;
        private final long seed;
        private final double gain;
        private final double fanScale;
        private long k;

        EntryStream(String key, long[] shape, double gain) {
            long size = 1;
            for (long d : shape) {
                size *= d;
            }
            this.key = key;
            this.dims = shape.length;
            this.n = size;
            this.seed = fnv1a64(key);
            this.gain = gain;
            this.fanScale = shape.length >= 2 ? Math.sqrt(6.0 / (size / shape[0])) : 0;
        }

        @Override
        public float next() {
            double u = uniform(seed, k++);
            double s = 2.0 * u - 1.0;
            double v;
            if (key.endsWith("running_mean")) {
                v = 0.1 * s;
            } else if (key.endsWith("running_var")) {
                v = 0.75 + 0.5 * u;
            } else if (dims >= 2) {
                v = gain * s * fanScale; // in the generator's order, for any gain
            } else if (key.endsWith("weight")) {
                v = 1 + 0.1 * s;
            } else {
                v = 0.02 * s;
            }
            return (float) v;
        }
    }

    /** Sets every floating-point state_dict entry of {@code module} to its reference value, gain 1. */
    public static void apply(Module module) {
        apply(module, 1.0);
    }

    /** Sets every floating-point state_dict entry of {@code module} to its reference value for {@code gain}. */
    public static void apply(Module module, double gain) {
        for (Map.Entry<String, NDArray> e : module.stateDict().entrySet()) {
            NDArray a = e.getValue();
            if (a.getDataType().isFloating()) {
                // streamed: a whole entry as a Java array would cost a VGG classifier's 392 MB of heap
                ChunkedFill.fill(a, new EntryStream(e.getKey(), a.getShape().getShape(), gain));
            }
        }
    }

    /** The reference input: 2 u_k - 1 for the seed, as float32 of the given shape. */
    public static NDArray input(NDManager manager, Shape shape, long seed) {
        float[] v = new float[Math.toIntExact(shape.size())];
        for (int k = 0; k < v.length; k++) {
            v[k] = (float) (2.0 * uniform(seed, k) - 1.0);
        }
        return manager.create(v, shape);
    }
}
