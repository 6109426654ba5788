package dev.jimm.train;

import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A callback that records, after each epoch, how many native arrays are alive and the process's resident memory, so
 * that a leak shows as a count or RSS that keeps growing ({@code jimm train --memory-log}, and the leak test).
 * {@link #liveArrays} and {@link #rssKb} work on their own too.
 */
public final class MemoryMonitor implements Callback {
    /** The figures after one epoch. */
    public record Row(int epoch, int liveArrays, long rssKb) {}

    private final List<Row> rows = new ArrayList<>();
    private final PrintWriter out;

    /** A monitor that only records. */
    public MemoryMonitor() {
        this(null);
    }

    /** A monitor that also prints one line per epoch to {@code out} (null: none). */
    public MemoryMonitor(PrintWriter out) {
        this.out = out;
    }

    /**
     * The native arrays alive in every manager of the engine (the system manager's tree): what a leak of per-batch
     * arrays into a long-lived manager makes grow.
     */
    public static int liveArrays() {
        try (NDManager probe = NDManager.newBaseManager()) {
            return probe.getParentManager().getManagedArrays().size();
        }
    }

    /** The process's resident set size in kB ({@code VmRSS} of /proc/self/status), or -1 if unknown. */
    public static long rssKb() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void afterEpoch(Learner learner) {
        Row r = new Row(learner.epoch(), liveArrays(), rssKb());
        rows.add(r);
        if (out != null) {
            String growth = "";
            if (rows.size() > 2 && rows.get(1).rssKb() > 0) {
                growth = String.format(
                        Locale.ROOT,
                        " (%+.1f%% since epoch %d)",
                        100.0 * (r.rssKb() - rows.get(1).rssKb()) / rows.get(1).rssKb(),
                        rows.get(1).epoch() + 1);
            }
            out.printf(
                    Locale.ROOT,
                    "memory after epoch %d: %d live arrays, RSS %.1f MB%s%n",
                    r.epoch() + 1,
                    r.liveArrays(),
                    r.rssKb() / 1024.0,
                    growth);
            out.flush();
        }
    }

    /** The rows recorded so far, one per epoch. */
    public List<Row> rows() {
        return List.copyOf(rows);
    }
}
