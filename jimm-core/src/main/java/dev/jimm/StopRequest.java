package dev.jimm;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A request to end long work at its next safe point, where nothing is half done: a {@code Learner} checks it before
 * every batch (training, validation, lr_find, TTA), a download before every chunk. Whoever wants the work to end calls
 * {@link #request} from any thread; the work then saves what can be kept and throws a {@link StoppedException} (a
 * {@code Learner}'s fit ends normally instead, with {@code interrupted()} true, after its callbacks saved the
 * checkpoint).
 *
 * <p>{@link #process()} is the request that jimm's loops check unless given another: the {@code jimm} command's SIGTERM
 * and SIGINT handlers set it. It is jimm's one piece of process-wide mutable state, because a signal is addressed to
 * the whole process; a program that wants to stop one learner and not another gives that learner its own
 * {@code StopRequest} ({@code Learner.Builder.stopRequest}). A request cannot be withdrawn.
 */
public final class StopRequest {
    private static final StopRequest PROCESS = new StopRequest();

    private final AtomicReference<String> reason = new AtomicReference<>();

    /** A request nobody has made yet. */
    public StopRequest() {}

    /** The process-wide request, set by the {@code jimm} command's signal handlers. */
    public static StopRequest process() {
        return PROCESS;
    }

    /**
     * Asks the work to stop at its next safe point, for {@code why} (a short phrase such as {@code "SIGTERM"}, which
     * begins the stop's message). Returns true for the first request; later ones keep the first reason.
     */
    public boolean request(String why) {
        return reason.compareAndSet(null, Objects.requireNonNull(why, "why"));
    }

    /** True once a stop was requested. */
    public boolean isRequested() {
        return reason.get() != null;
    }

    /** Why the stop was requested, or null. */
    public String reason() {
        return reason.get();
    }

    /**
     * Throws a {@link StoppedException} whose message is the reason and {@code state} (what was done and what is kept)
     * when a stop was requested; does nothing otherwise.
     */
    public void throwIfRequested(String state) {
        String r = reason.get();
        if (r != null) {
            throw new StoppedException(r, state);
        }
    }
}
