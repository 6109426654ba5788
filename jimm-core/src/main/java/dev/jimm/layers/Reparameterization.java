package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Re-parameterisation for inference (timm's {@code reparameterize_model}): every {@link Reparameterizable} module of a
 * model is replaced, in place and under its own name, by its inference form, and {@link Kernel} does the arithmetic of
 * merging branches (a convolution and the BatchNorm after it, identity and 1x1 shortcuts, padded small kernels) in
 * double precision.
 *
 * <p>Afterwards the model's state_dict has the fused keys (e.g. {@code reparam_conv.weight} instead of the branches'),
 * so it loads fused checkpoints, not training ones. Modules whose children may be replaced read them by name when they
 * run ({@link Module#child}), not through fields kept from construction.
 */
public final class Reparameterization {
    private Reparameterization() {}

    /**
     * Replaces every {@link Reparameterizable} module below {@code root} that is not yet in its inference form
     * (outermost first; the replacement's own children are visited too) by its inference form.
     *
     * @return how many modules were replaced
     * @throws IllegalStateException when {@code root} is not materialized (there are no values to fuse)
     */
    public static int apply(Module root) {
        if (root.getManager() == null) {
            throw new IllegalStateException(
                    root.extraRepr() + " is not materialized: re-parameterisation needs its weights");
        }
        int replaced = 0;
        for (String name : List.copyOf(root.children().keySet())) {
            Module child = root.child(name);
            if (child instanceof Reparameterizable r && !r.isInferenceForm()) {
                Reparameterizable.Reparameterized fused = r.reparameterized();
                // registering materializes (and initializes) the replacement and frees the old branches
                root.register(name, fused.module());
                load(name, fused);
                child = fused.module();
                replaced++;
            }
            replaced += apply(child);
        }
        return replaced;
    }

    // every floating-point entry must be given, and nothing else
    private static void load(String name, Reparameterizable.Reparameterized fused) {
        Map<String, NDArray> state = fused.module().stateDict();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : state.entrySet()) {
            NDArray dst = e.getValue();
            if (dst.getDataType() != DataType.FLOAT32) {
                continue;
            }
            float[] v = fused.values().get(e.getKey());
            if (v == null) {
                missing.add(e.getKey());
            } else if (v.length != dst.size()) {
                throw new IllegalStateException("re-parameterised " + name + "." + e.getKey() + ": " + v.length
                        + " values for shape " + dst.getShape());
            } else {
                Module.assign(dst, v);
            }
        }
        TreeSet<String> unexpected = new TreeSet<>(fused.values().keySet());
        unexpected.removeAll(state.keySet());
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalStateException(
                    "re-parameterised " + name + " (" + fused.module().extraRepr() + "): values missing for " + missing
                            + ", given for unknown keys " + unexpected);
        }
    }

    /**
     * A convolution's weight [out, in/groups, k, k] and bias [out] in double precision, as re-parameterisation merges
     * branches: each branch becomes a kernel, the kernels are padded to one size and summed.
     *
     * @param shape the weight's shape (4 dims, square kernel)
     * @param weight the weight, row-major
     * @param bias the bias
     */
    public record Kernel(long[] shape, double[] weight, double[] bias) {
        public Kernel {
            if (shape.length != 4 || shape[2] != shape[3]) {
                throw new IllegalArgumentException("a kernel is [out, in/groups, k, k], not " + Arrays.toString(shape));
            }
            if (weight.length != shape[0] * shape[1] * shape[2] * shape[3] || bias.length != shape[0]) {
                throw new IllegalArgumentException("kernel " + Arrays.toString(shape) + " with " + weight.length
                        + " weights and " + bias.length + " biases");
            }
            shape = shape.clone();
        }

        /** A convolution's weight and bias (zeros without one). */
        public static Kernel of(Conv2d conv) {
            long[] s = conv.weight().getArray().getShape().getShape();
            double[] w = toDouble(conv.weight().getArray().toFloatArray());
            double[] b = conv.bias() == null
                    ? new double[(int) s[0]]
                    : toDouble(conv.bias().getArray().toFloatArray());
            return new Kernel(s, w, b);
        }

        /** A convolution followed by an eval-mode BatchNorm, as one convolution (timm's {@code _fuse_bn_tensor}). */
        public static Kernel of(Conv2d conv, BatchNorm2d bn) {
            return of(conv).then(bn);
        }

        /**
         * The kernel of the identity map of {@code channels} channels in {@code groups} groups, of size {@code k}: a
         * one at the centre tap of each channel's own input (timm's {@code id_tensor}).
         */
        public static Kernel identity(int channels, int groups, int k) {
            int perGroup = channels / groups;
            double[] w = new double[channels * perGroup * k * k];
            for (int c = 0; c < channels; c++) {
                w[((c * perGroup + c % perGroup) * k + k / 2) * k + k / 2] = 1;
            }
            return new Kernel(new long[] {channels, perGroup, k, k}, w, new double[channels]);
        }

        /** An eval-mode BatchNorm alone, as a convolution on the identity kernel of {@code groups} and {@code k}. */
        public static Kernel of(BatchNorm2d bn, int groups, int k) {
            return identity(bn.numFeatures(), groups, k).then(bn);
        }

        /** This convolution followed by an eval-mode BatchNorm. */
        public Kernel then(BatchNorm2d bn) {
            int out = (int) shape[0];
            if (bn.numFeatures() != out) {
                throw new IllegalArgumentException(
                        "BatchNorm of " + bn.numFeatures() + " features after a kernel of " + out + " outputs");
            }
            float[] gamma = bn.weight().getArray().toFloatArray();
            float[] beta = bn.bias().getArray().toFloatArray();
            float[] mean = bn.runningMean().array().toFloatArray();
            float[] var = bn.runningVar().array().toFloatArray();
            double[] scale = new double[out];
            double[] shift = new double[out];
            for (int c = 0; c < out; c++) {
                scale[c] = gamma[c] / Math.sqrt((double) var[c] + bn.eps());
                shift[c] = beta[c] - mean[c] * scale[c];
            }
            return scaled(scale, shift);
        }

        /** Each output channel {@code o} times {@code scale[o]}, plus {@code shift[o]}. */
        public Kernel scaled(double[] scale, double[] shift) {
            int out = (int) shape[0];
            int per = weight.length / out;
            double[] w = new double[weight.length];
            double[] b = new double[out];
            for (int o = 0; o < out; o++) {
                for (int i = o * per; i < (o + 1) * per; i++) {
                    w[i] = weight[i] * scale[o];
                }
                b[o] = bias[o] * scale[o] + shift[o];
            }
            return new Kernel(shape, w, b);
        }

        /** The kernel zero-padded (centred) to size {@code k}, as a smaller branch joins a larger one. */
        public Kernel padTo(int k) {
            int from = (int) shape[2];
            if (k < from || (k - from) % 2 != 0) {
                throw new IllegalArgumentException(
                        "cannot centre a " + from + "x" + from + " kernel in " + k + "x" + k);
            }
            int off = (k - from) / 2;
            int planes = (int) (shape[0] * shape[1]);
            double[] w = new double[planes * k * k];
            for (int p = 0; p < planes; p++) {
                for (int r = 0; r < from; r++) {
                    System.arraycopy(weight, (p * from + r) * from, w, (p * k + r + off) * k + off, from);
                }
            }
            return new Kernel(new long[] {shape[0], shape[1], k, k}, w, bias);
        }

        /** The sum of two branches of the same shape (pad the smaller first). */
        public Kernel plus(Kernel o) {
            return combine(o, 1);
        }

        /** This branch minus another of the same shape. */
        public Kernel minus(Kernel o) {
            return combine(o, -1);
        }

        private Kernel combine(Kernel o, double sign) {
            if (!Arrays.equals(shape, o.shape)) {
                throw new IllegalArgumentException(
                        "kernels " + Arrays.toString(shape) + " and " + Arrays.toString(o.shape) + " differ");
            }
            double[] w = new double[weight.length];
            for (int i = 0; i < w.length; i++) {
                w[i] = weight[i] + sign * o.weight[i];
            }
            double[] b = new double[bias.length];
            for (int i = 0; i < b.length; i++) {
                b[i] = bias[i] + sign * o.bias[i];
            }
            return new Kernel(shape, w, b);
        }

        /** The weight rounded to float32. */
        public float[] weightFloats() {
            return toFloat(weight);
        }

        /** The bias rounded to float32. */
        public float[] biasFloats() {
            return toFloat(bias);
        }

        /** A biased convolution of this kernel's shape, with {@code stride}, symmetric padding and {@code groups}. */
        public Conv2d newConv(int stride, int padding, int groups) {
            return new Conv2d(
                    (int) shape[1] * groups,
                    (int) shape[0],
                    (int) shape[2],
                    Conv2d.Options.defaults().stride(stride).padding(padding).groups(groups));
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Kernel k
                    && Arrays.equals(shape, k.shape)
                    && Arrays.equals(weight, k.weight)
                    && Arrays.equals(bias, k.bias);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * Arrays.hashCode(shape) + Arrays.hashCode(weight)) + Arrays.hashCode(bias);
        }

        @Override
        public String toString() {
            return "Kernel" + Arrays.toString(shape);
        }
    }

    /** Float values widened to double. */
    public static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }

    /** Double values rounded to float32. */
    public static float[] toFloat(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }
}
