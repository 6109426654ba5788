package dev.jimm.cli;

import dev.jimm.StopRequest;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT (Ctrl-C) for the commands that run long native work ({@code train}, {@code lr-find}, {@code eval},
 * {@code demo}): the first one sets {@link StopRequest#process()}, which the work checks at its safe points (between
 * batches, between download chunks); it then saves what it can, prints one line and exits with 128 + the signal's
 * number (143, 130). A second signal ends the process at once.
 *
 * <p>Why not the JVM's own handling: it runs {@code System.exit}, whose C {@code exit()} destroys libtorch's static
 * objects (oneDNN's primitive caches and thread pools) while the training thread may still be inside a oneDNN
 * primitive, a SIGSEGV. That is also why the second signal does not use {@code Runtime.halt} (which calls the same
 * {@code exit()}): it restores the signal's default action and raises it again, so the kernel ends the process as the
 * signal would have, with no exit handlers run. Files are safe either way: every file jimm keeps is written atomically.
 *
 * <p>The handlers and the signal that stopped the process are process-wide state, as signals are.
 */
final class StopSignals {
    /** 128 + the number of the first signal received, or 0. */
    private static final AtomicInteger STATUS = new AtomicInteger();

    private StopSignals() {}

    /** Installs the handlers (a JVM run with -Xrs, or a signal ignored from the start, keeps its default). */
    static void install() {
        handle("TERM", 143);
        handle("INT", 130);
    }

    private static void handle(String name, int status) {
        try {
            Signal.handle(new Signal(name), s -> received(s, status));
        } catch (IllegalArgumentException e) {
            // the JVM keeps this signal (-Xrs): its default stays
        }
    }

    private static void received(Signal s, int status) {
        if (StopRequest.process().request("SIG" + s.getName())) {
            STATUS.compareAndSet(0, status);
            // at once, since the batch may take a while: in a terminal after the progress bar, in a log with the time
            System.err.println((System.console() != null ? System.lineSeparator() : "") + "jimm: SIG" + s.getName()
                    + ": stopping after the current batch (send it again to quit at once)");
            System.err.flush();
            return;
        }
        System.err.println("jimm: SIG" + s.getName()
                + " again: quitting at once (every file jimm wrote is whole; the last checkpoint stays)");
        System.err.flush();
        try {
            Signal.handle(s, SignalHandler.SIG_DFL);
            Signal.raise(s);
        } catch (IllegalArgumentException e) {
            // no default to restore: the next best way out
        }
        Runtime.getRuntime().halt(status);
    }

    /** The exit status of a run ended by a stop request: 128 + the signal's number, or 1 when no signal asked. */
    static int exitStatus() {
        int s = STATUS.get();
        return s == 0 ? 1 : s;
    }
}
