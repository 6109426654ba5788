package dev.jimm.transforms;

import java.util.SplittableRandom;

/** A transform with a name for messages ({@link Transform#named}). */
record Named<I, O>(String name, Transform<I, O> transform) implements Transform<I, O> {
    @Override
    public O apply(I input, SplittableRandom rng) {
        return transform.apply(input, rng);
    }

    @Override
    public String toString() {
        return name;
    }
}
