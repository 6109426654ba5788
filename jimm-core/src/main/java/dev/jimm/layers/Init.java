package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import java.util.SplittableRandom;

/** Weight initializers, as torch.nn.init defines them, filling arrays in place. */
public final class Init {
    private Init() {}

    /** Fan-in of a weight: elements per output unit (PyTorch's _calculate_fan_in_and_fan_out). */
    public static long fanIn(NDArray weight) {
        long[] s = weight.getShape().getShape();
        return s.length < 2 ? s[0] : weight.size() / s[0];
    }

    /** Fan-out of a weight: shape[0] times the receptive field. */
    public static long fanOut(NDArray weight) {
        long[] s = weight.getShape().getShape();
        return s.length < 2 ? s[0] : s[0] * (weight.size() / (s[0] * s[1]));
    }

    /** U(-bound, bound). */
    public static void uniform(NDArray a, double bound, SplittableRandom random) {
        ChunkedFill.fill(a, () -> (float) ((random.nextDouble() * 2 - 1) * bound));
    }

    /** N(0, std) by Box-Muller. */
    public static void normal(NDArray a, double std, SplittableRandom random) {
        ChunkedFill.fill(a, new BoxMuller(std, random));
    }

    /** N(0, std) truncated to [-2 std, 2 std] (timm's trunc_normal_ with its default bounds). */
    public static void truncNormal(NDArray a, double std, SplittableRandom random) {
        ChunkedFill.fill(a, () -> {
            double x;
            do {
                x = random.nextGaussian();
            } while (Math.abs(x) > 2);
            return (float) (x * std);
        });
    }

    /** timm's usual transformer init for every Linear under {@code root}: trunc_normal(std 0.02) weights, zero bias. */
    public static void truncNormalLinears(Module root, SplittableRandom random) {
        for (Module m : root.namedModules().values()) {
            if (m instanceof Linear l) {
                truncNormal(l.weight().getArray(), 0.02, random);
                if (l.bias() != null) {
                    constant(l.bias().getArray(), 0f);
                }
            }
        }
    }

    /** Fills with a constant, in place (no array of the size of {@code a} is made). */
    public static void constant(NDArray a, float value) {
        try (NoGrad g = NoGrad.enter();
                NDArray scalar = a.getManager().create(value);
                NDArray typed = scalar.toType(a.getDataType(), true)) {
            a.set(new NDIndex("..."), typed);
        }
    }

    /**
     * PyTorch's default for Conv and Linear weights, kaiming_uniform_(a=sqrt(5)): U(-b, b) with b = 1/sqrt(fan_in);
     * their biases take the same bound.
     */
    public static void torchDefault(NDArray weight, NDArray bias, SplittableRandom random) {
        double bound = 1.0 / Math.sqrt(fanIn(weight));
        uniform(weight, bound, random);
        if (bias != null) {
            uniform(bias, bound, random);
        }
    }

    /** kaiming_normal_(mode='fan_out', nonlinearity='relu'), timm's conv init for ResNets. */
    public static void kaimingNormalFanOut(NDArray weight, SplittableRandom random) {
        normal(weight, Math.sqrt(2.0 / fanOut(weight)), random);
    }

    /**
     * Box-Muller pairs: each pair of uniforms gives two normal values, the cosine one first; a stream of odd length
     * ends on a cosine value and its sine is dropped, as with a whole array filled pair by pair.
     */
    private static final class BoxMuller implements ChunkedFill.FloatStream {
        private final double std;
        private final SplittableRandom random;
        private double sine;
        private boolean sinePending;

        BoxMuller(double std, SplittableRandom random) {
            this.std = std;
            this.random = random;
        }

        @Override
        public float next() {
            if (sinePending) {
                sinePending = false;
                return (float) sine;
            }
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1)) * std;
            sine = r * Math.sin(2 * Math.PI * u2);
            sinePending = true;
            return (float) (r * Math.cos(2 * Math.PI * u2));
        }
    }
}
