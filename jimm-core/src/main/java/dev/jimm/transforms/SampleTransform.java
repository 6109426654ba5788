package dev.jimm.transforms;

/**
 * A step whose choice for a sample depends on which sample it is and in which epoch, not only on the sample's own
 * generator: a data loader calls {@link #apply(Object, long, int, int)} with its seed, the epoch and the sample's index
 * in the dataset. Anywhere else (a preview, a lone image) the plain {@code apply(input, rng)} draws the choice from the
 * generator instead.
 *
 * @param <I> input type
 * @param <O> output type
 */
public interface SampleTransform<I, O> extends Transform<I, O> {
    /** This step for sample {@code index} of a dataset in epoch {@code epoch} of a loader seeded with {@code seed}. */
    O apply(I input, long seed, int epoch, int index);
}
