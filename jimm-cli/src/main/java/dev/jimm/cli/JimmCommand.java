package dev.jimm.cli;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * What every subcommand shares: the streams of the command line that runs it (tests give their own, so commands never
 * print to {@link System#out} directly), and the check of a numeric option. A command's result is its exit status;
 * errors are thrown and printed as one line by {@link Main}; {@code --json} output is printed by {@link #printJson}.
 */
abstract class JimmCommand implements Callable<Integer> {
    private static final Gson JSON = new GsonBuilder().serializeNulls().create();

    @Spec
    CommandSpec spec;

    /** The command line's standard output (System.out for a command called without picocli). */
    PrintWriter out() {
        return spec != null ? spec.commandLine().getOut() : new PrintWriter(System.out, true);
    }

    /** The command line's standard error (System.err for a command called without picocli). */
    PrintWriter err() {
        return spec != null ? spec.commandLine().getErr() : new PrintWriter(System.err, true);
    }

    /**
     * Prints one JSON line on the command's output: what {@code --json} asks for, one record a line, nulls kept so a
     * missing figure is visible.
     */
    void printJson(Object value) {
        out().println(JSON.toJson(value));
    }

    /** Throws the usage error {@code OPTION must be at least MIN, got VALUE} when value is below min. */
    static void requireAtLeast(String option, long value, long min) {
        if (value < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", got " + value);
        }
    }
}
