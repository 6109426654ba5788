package dev.jimm;

/**
 * Work ended early at a {@link StopRequest}, at a safe point: its message is one line with the reason, what was done
 * and what was kept (and how to continue), for the CLI to print as it is. Not an error of the user's, so not a
 * {@link JimmException}.
 */
public class StoppedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String reason;
    private final String state;

    /** A stop for {@code reason} (the request's, such as {@code "SIGTERM"}) in {@code state}. */
    public StoppedException(String reason, String state) {
        super(reason + ": " + state);
        this.reason = reason;
        this.state = state;
    }

    /** The request's reason, such as {@code "SIGTERM"}. */
    public String reason() {
        return reason;
    }

    /** Where the work stopped and what was kept (the message without the reason). */
    public String state() {
        return state;
    }

    /** The same stop with another account of what was done and kept (by a caller that knows more). */
    public StoppedException withState(String state) {
        StoppedException e = new StoppedException(reason, state);
        e.initCause(this);
        return e;
    }
}
