package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.SplittableRandom;

/**
 * The Linear init of timm's ViT-style models ({@code _init_weights}): every {@link Linear} weight drawn at one std, its
 * bias zeroed, the modules visited in the order given so the random stream is the model's own.
 */
public final class LinearInit {
    private LinearInit() {}

    /** A weight initializer at a std, as {@link Init#normal} and {@link Init#truncNormal}. */
    @FunctionalInterface
    private interface Draw {
        void fill(NDArray a, double std, SplittableRandom random);
    }

    /** Every Linear's weight ~ N(0, std) (timm's trunc_normal where the cut is far out), its bias zero. */
    public static void normal(Iterable<Module> modules, double std, SplittableRandom random) {
        apply(modules, std, random, Init::normal);
    }

    /** Every Linear's weight truncated-normal at std, its bias zero. */
    public static void truncNormal(Iterable<Module> modules, double std, SplittableRandom random) {
        apply(modules, std, random, Init::truncNormal);
    }

    private static void apply(Iterable<Module> modules, double std, SplittableRandom random, Draw draw) {
        for (Module m : modules) {
            if (m instanceof Linear l) {
                draw.fill(l.weight().getArray(), std, random);
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            }
        }
    }
}
