package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;

/** The check the distilled families' tests (LeViT, EfficientFormer v1/v2, RepViT) make of their two heads. */
final class DistilledHeadsAssertions {
    private DistilledHeadsAssertions() {}

    /**
     * Asserts that {@code logits} are the mean of the two heads' {@code both} (within {@code tol}) and, for
     * {@code apart} above 0, that the heads differ by more than that (two heads of their own, not one twice).
     */
    static void assertAveraged(NDList both, NDArray logits, float tol, float apart) {
        NDArray mean = both.get(0).add(both.get(1)).div(2f);
        assertTrue(ModelTesting.maxAbsDiff(mean, logits) < tol);
        if (apart > 0) {
            assertTrue(ModelTesting.maxAbsDiff(both.get(0), both.get(1)) > apart, "two heads of their own");
        }
    }
}
