package dev.jimm.train;

/**
 * A fit stopped on a NaN or infinite loss. The message names the epoch and batch and which checkpoint is still good;
 * nothing computed from the broken weights was written.
 */
public class TrainingDivergedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainingDivergedException(String message) {
        super(message);
    }
}
