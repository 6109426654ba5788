package dev.jimm.transforms;

import java.util.List;
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

    /** This step followed by {@code next}: a pipeline whose {@link #steps} are this one's, then {@code next}'s. */
    default <P> Transform<I, P> andThen(Transform<? super O, ? extends P> next) {
        return new Pipeline<>(this, next);
    }

    /**
     * The steps of this transform in order (itself, unless it was made by {@link #andThen}): applying them one after
     * another, each to the previous one's output and all with the same generator, is applying this transform. A data
     * loader does so to name the step that fails on an image.
     */
    default List<Transform<?, ?>> steps() {
        return List.of(this);
    }

    /** {@code transform} under a name, which its {@code toString} (and so {@link #describe}) gives. */
    static <I, O> Transform<I, O> named(String name, Transform<I, O> transform) {
        return new Named<>(name, transform);
    }

    /**
     * A step's name for messages: its {@code toString} (a record's, a {@link #named} one's), or for a lambda or a class
     * without one, where it was written ("a lambda in DataPipelineTest").
     */
    static String describe(Transform<?, ?> transform) {
        Class<?> c = transform.getClass();
        String name = c.getName();
        int lambda = name.indexOf("$$Lambda");
        if (lambda >= 0) {
            String owner = name.substring(0, lambda);
            return "a lambda in " + owner.substring(owner.lastIndexOf('.') + 1);
        }
        String s = transform.toString();
        return s.startsWith(name + "@") ? name.substring(name.lastIndexOf('.') + 1) : s;
    }
}
