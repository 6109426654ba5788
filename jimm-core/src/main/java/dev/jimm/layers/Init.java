package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.Arrays;
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
        float[] v = new float[Math.toIntExact(a.size())];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        }
        Module.assign(a, v);
    }

    /** N(0, std) by Box-Muller. */
    public static void normal(NDArray a, double std, SplittableRandom random) {
        float[] v = new float[Math.toIntExact(a.size())];
        for (int i = 0; i < v.length; i += 2) {
            double u1 = 1.0 - random.nextDouble();
            double u2 = random.nextDouble();
            double r = Math.sqrt(-2 * Math.log(u1)) * std;
            v[i] = (float) (r * Math.cos(2 * Math.PI * u2));
            if (i + 1 < v.length) {
                v[i + 1] = (float) (r * Math.sin(2 * Math.PI * u2));
            }
        }
        Module.assign(a, v);
    }

    /** N(0, std) truncated to [-2 std, 2 std] (timm's trunc_normal_ with its default bounds). */
    public static void truncNormal(NDArray a, double std, SplittableRandom random) {
        float[] v = new float[Math.toIntExact(a.size())];
        for (int i = 0; i < v.length; i++) {
            double x;
            do {
                x = random.nextGaussian();
            } while (Math.abs(x) > 2);
            v[i] = (float) (x * std);
        }
        Module.assign(a, v);
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

    /** timm's common CNN init: every Conv2d weight under {@code root} kaiming-normal (fan out), biases untouched. */
    public static void kaimingNormalFanOutConvs(Module root, SplittableRandom random) {
        for (Module m : root.namedModules().values()) {
            if (m instanceof Conv2d c) {
                kaimingNormalFanOut(c.weight().getArray(), random);
            }
        }
    }

    /** Fills with a constant. */
    public static void constant(NDArray a, float value) {
        float[] v = new float[Math.toIntExact(a.size())];
        Arrays.fill(v, value);
        Module.assign(a, v);
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
}
