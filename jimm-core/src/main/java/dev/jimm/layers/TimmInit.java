package dev.jimm.layers;

import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * The weight-then-zero-bias steps timm's {@code _init_weights} functions repeat over every module: one place, so that
 * the families drawing them consume the random stream identically (same modules, same order, same draws).
 */
public final class TimmInit {
    private TimmInit() {}

    /** Every Linear at or below {@code root} (in {@link Module#namedModules()} order): weight N(0, std), bias zero. */
    public static void normalLinears(Module root, double std, SplittableRandom random) {
        for (Module m : root.namedModules().values()) {
            normalLinear(m, std, random);
        }
    }

    /**
     * A Linear's weight N(0, std) and its bias (if any) zero; another module is left alone. Returns whether {@code m}
     * was a Linear, so that a family can chain its own rule for the other modules.
     */
    public static boolean normalLinear(Module m, double std, SplittableRandom random) {
        if (m instanceof Linear l) {
            normal(l.weight(), l.bias(), std, random);
            return true;
        }
        return false;
    }

    /**
     * Every Conv2d and Linear at or below {@code root} (in {@link Module#namedModules()} order): weight N(0, std)
     * truncated at ±2 std, bias zero (timm's MetaFormer, FocalNet, MambaOut and EdgeNeXt {@code _init_weights}).
     */
    public static void truncNormalConvsAndLinears(Module root, double std, SplittableRandom random) {
        for (Module m : root.namedModules().values()) {
            if (m instanceof Conv2d c) {
                truncNormal(c.weight(), c.bias(), std, random);
            } else if (m instanceof Linear l) {
                truncNormal(l.weight(), l.bias(), std, random);
            }
        }
    }

    /** Weight N(0, std), bias (nullable) zero. */
    public static void normal(Parameter weight, Parameter bias, double std, SplittableRandom random) {
        Init.normal(weight.getArray(), std, random);
        zero(bias);
    }

    /** Weight N(0, std) truncated at ±2 std, bias (nullable) zero. */
    public static void truncNormal(Parameter weight, Parameter bias, double std, SplittableRandom random) {
        Init.truncNormal(weight.getArray(), std, random);
        zero(bias);
    }

    private static void zero(Parameter bias) {
        if (bias != null) {
            Init.constant(bias.getArray(), 0f);
        }
    }
}
