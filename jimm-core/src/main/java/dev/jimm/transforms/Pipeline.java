package dev.jimm.transforms;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;

/** Two transforms one after the other, as {@link Transform#andThen} makes them; its steps are theirs. */
final class Pipeline<I, M, O> implements Transform<I, O> {
    private final Transform<I, M> first;
    private final Transform<? super M, ? extends O> next;

    Pipeline(Transform<I, M> first, Transform<? super M, ? extends O> next) {
        this.first = first;
        this.next = next;
    }

    @Override
    public O apply(I input, SplittableRandom rng) {
        return next.apply(first.apply(input, rng), rng);
    }

    @Override
    public List<Transform<?, ?>> steps() {
        List<Transform<?, ?>> all = new ArrayList<>(first.steps());
        all.addAll(next.steps());
        return List.copyOf(all);
    }

    @Override
    public String toString() {
        return steps().stream().map(Transform::describe).collect(Collectors.joining(" -> "));
    }
}
