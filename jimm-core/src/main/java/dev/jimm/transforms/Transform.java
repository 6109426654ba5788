package dev.jimm.transforms;

import java.util.SplittableRandom;

/**
 * One step of a preprocessing pipeline. Random steps draw only from the given per-sample generator, so a seeded sample
 * gets the same augmentation on any thread; deterministic steps ignore it. Implementations are immutable and thread
 * safe.
 *
 * @param <I> input type (usually {@link dev.jimm.data.DecodedImage} or {@link TensorImage})
 * @param <O> output type
 */
@FunctionalInterface
public interface Transform<I, O> {
    O apply(I input, SplittableRandom rng);

    /** Applies without randomness (for deterministic pipelines such as eval). */
    default O apply(I input) {
        return apply(input, new SplittableRandom(0));
    }

    /** This step followed by {@code next}. */
    default <P> Transform<I, P> andThen(Transform<? super O, ? extends P> next) {
        return (in, rng) -> next.apply(apply(in, rng), rng);
    }
}
