package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.function.ToIntFunction;

/** Checks the Swin v1 and v2 API tests share. */
final class SwinTesting {
    private SwinTesting() {}

    /** After a backward pass: each named parameter got a finite, non-zero gradient. */
    static void assertGradientsReach(ImageModel m, List<String> keys) {
        for (String k : keys) {
            float g = m.namedParameters()
                    .get(k)
                    .getArray()
                    .getGradient()
                    .abs()
                    .sum()
                    .getFloat();
            assertTrue(g > 0 && Float.isFinite(g), k + " gradient " + g);
        }
    }

    /** Every registered model of a family is built for its default config's input size. */
    static <M extends ImageModel> void assertBuiltForDefaultInputSize(
            String family, Class<M> type, ToIntFunction<M> imgSize) {
        for (String n : ModelTesting.registeredNames(family)) {
            M m = type.cast(ModelTesting.unbuilt(n));
            assertEquals(ModelRegistry.builtIn().config(n).inputSize().get(1), imgSize.applyAsInt(m), n);
        }
    }
}
