package dev.jimm.train;

/**
 * Hooks into a {@link Learner}'s training loop, as fastai's callbacks: every method does nothing by default. A callback
 * reads the learner's state ({@link Learner#epoch()}, {@link Learner#lastLoss()}, …) and may ask it to stop with
 * {@link Learner#requestStop(String)}.
 */
public interface Callback {
    default void beforeFit(Learner learner) {}

    default void beforeEpoch(Learner learner) {}

    default void beforeBatch(Learner learner) {}

    /** After the loss of a training batch is computed, before backward. */
    default void afterLoss(Learner learner) {}

    default void beforeBackward(Learner learner) {}

    default void afterBackward(Learner learner) {}

    default void beforeStep(Learner learner) {}

    default void afterStep(Learner learner) {}

    default void afterBatch(Learner learner) {}

    /** After validation, with this epoch's row in the learner's recorder. */
    default void afterEpoch(Learner learner) {}

    default void afterFit(Learner learner) {}
}
