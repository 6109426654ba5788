package dev.jimm.train;

import dev.jimm.AtomicFiles;
import dev.jimm.JimmException;
import dev.jimm.hub.SafetensorsWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The built-in callbacks: progress, logs, early stopping, checkpoints (the NaN guard is the learner's own). */
public final class Callbacks {
    private Callbacks() {}

    /**
     * A progress bar with ETA and the smoothed loss (on a terminal; elsewhere, such as a log file, a progress line
     * every so often), and a table row per epoch: epoch, train_loss, valid_loss, metrics, time.
     */
    public static final class Progress implements Callback {
        /** How often {@link #console()} prints a progress line when the output is not a terminal. */
        public static final Duration DEFAULT_LINE_EVERY = Duration.ofSeconds(60);

        private final PrintStream table;
        private final PrintStream bar;
        private final boolean live;
        private final Duration lineEvery;
        private long epochStart;
        private long lastDraw;
        private boolean headerDone;

        /** Table to {@code table}; a live bar on {@code bar} only when {@code live}, else no progress lines. */
        public Progress(PrintStream table, PrintStream bar, boolean live) {
            this(table, bar, live, null);
        }

        /**
         * As {@link #Progress(PrintStream, PrintStream, boolean)}; when not {@code live}, a progress line (epoch,
         * batch, smoothed loss, time) on {@code bar} at most every {@code lineEvery} (zero: after every batch; null:
         * never).
         */
        public Progress(PrintStream table, PrintStream bar, boolean live, Duration lineEvery) {
            this.table = table;
            this.bar = bar;
            this.live = live;
            this.lineEvery = lineEvery;
        }

        /** Table on stdout; a bar on stderr in a terminal, else a progress line on stderr every minute. */
        public static Progress console() {
            return console(DEFAULT_LINE_EVERY);
        }

        /** As {@link #console()}, with a progress line every {@code lineEvery} when not in a terminal. */
        public static Progress console(Duration lineEvery) {
            return new Progress(System.out, System.err, System.console() != null, lineEvery);
        }

        @Override
        public void beforeFit(Learner l) {
            headerDone = false;
        }

        @Override
        public void beforeEpoch(Learner l) {
            epochStart = System.nanoTime();
        }

        @Override
        public void afterBatch(Learner l) {
            long now = System.nanoTime();
            int nb = l.dls().train().numBatches();
            long done = l.trainIter() - (long) l.epoch() * nb;
            if (!live) {
                if (lineEvery != null && done < nb && now - lastDraw >= lineEvery.toNanos()) {
                    lastDraw = now;
                    bar.printf(
                            Locale.ROOT,
                            "epoch %d/%d  batch %d/%d  loss %.4f  %s%n",
                            l.epoch() + 1,
                            l.nEpoch(),
                            done,
                            nb,
                            l.recorder().smoothLoss(),
                            clock((now - epochStart) / 1e9));
                    bar.flush();
                }
                return;
            }
            if (now - lastDraw < 200_000_000L && done < nb) {
                return;
            }
            lastDraw = now;
            double elapsed = (now - epochStart) / 1e9;
            double eta = done == 0 ? 0 : elapsed / done * (nb - done);
            int width = 30;
            int filled = (int) (width * done / Math.max(1, nb));
            bar.printf(
                    Locale.ROOT,
                    "\repoch %d/%d [%s%s] %d/%d  loss %.4f  %s<%s ",
                    l.epoch() + 1,
                    l.nEpoch(),
                    "█".repeat(filled),
                    "·".repeat(width - filled),
                    done,
                    nb,
                    l.recorder().smoothLoss(),
                    clock(elapsed),
                    clock(eta));
            bar.flush();
        }

        @Override
        public void afterEpoch(Learner l) {
            if (live) {
                bar.print("\r" + " ".repeat(100) + "\r");
                bar.flush();
            }
            Recorder.EpochRow r = l.recorder().lastEpoch();
            if (!headerDone) {
                StringBuilder h = new StringBuilder(
                        String.format(Locale.ROOT, "%-6s %-11s %-11s", "epoch", "train_loss", "valid_loss"));
                r.metrics().keySet().forEach(k -> h.append(String.format(Locale.ROOT, " %-11s", k)));
                table.println(h.append(" time"));
                headerDone = true;
            }
            StringBuilder s = new StringBuilder(
                    String.format(Locale.ROOT, "%-6d %-11.6f %s", r.epoch(), r.shownTrainLoss(), cell(r.validLoss())));
            r.metrics().values().forEach(v -> s.append(' ').append(cell(v)));
            table.println(s.append(' ').append(clock(r.seconds())));
            table.flush();
        }

        @Override
        public void afterFit(Learner l) {
            if (live) {
                bar.print("\r" + " ".repeat(100) + "\r");
                bar.flush();
            }
            // an interruption is reported by whoever asked for it, with what was kept
            if (l.stopReason() != null && !l.interrupted()) {
                table.println("stopped: " + l.stopReason());
            }
        }

        static String clock(double seconds) {
            long s = Math.round(seconds);
            return String.format(Locale.ROOT, "%02d:%02d", s / 60, s % 60);
        }
    }

    /**
     * Writes the epoch history to a file, rewritten whole and atomically after every epoch (never appended), so a kill
     * leaves the file of the last completed epoch and no torn last line.
     */
    private abstract static class HistoryFile implements Callback {
        private final Path file;
        private final Function<List<Recorder.EpochRow>, String> render;

        HistoryFile(Path file, Function<List<Recorder.EpochRow>, String> render) {
            this.file = file;
            this.render = render;
        }

        @Override
        public void afterEpoch(Learner l) {
            AtomicFiles.writeString(file, render.apply(l.recorder().epochs()));
        }
    }

    /** Writes the epoch table to a CSV file (a header, then a row per epoch), as {@link HistoryFile} says. */
    public static final class CsvLogger extends HistoryFile {
        public CsvLogger(Path file) {
            super(file, Callbacks::csv);
        }
    }

    /** Writes one JSON object per epoch (JSON lines), as {@link HistoryFile} says. */
    public static final class JsonLogger extends HistoryFile {
        public JsonLogger(Path file) {
            super(file, rows -> rows.stream().map(r -> epochJson(r) + "\n").collect(Collectors.joining()));
        }
    }

    /** The epoch table as CSV: a header from the first row's metrics, then a line per epoch. */
    static String csv(List<Recorder.EpochRow> rows) {
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Recorder.EpochRow r : rows) {
            if (first) {
                sb.append("epoch,train_loss,train_loss_smooth,valid_loss");
                r.metrics().keySet().forEach(k -> sb.append(',').append(k));
                sb.append(",time\n");
                first = false;
            }
            sb.append(r.epoch())
                    .append(',')
                    .append(r.trainLoss())
                    .append(',')
                    .append(Double.isFinite(r.smoothLoss()) ? Double.toString(r.smoothLoss()) : "")
                    .append(',')
                    .append(csvNum(r.validLoss()));
            r.metrics().values().forEach(v -> sb.append(',').append(csvNum(v)));
            sb.append(',')
                    .append(String.format(Locale.ROOT, "%.2f", r.seconds()))
                    .append('\n');
        }
        return sb.toString();
    }

    /** One epoch row as a JSON object. */
    public static String epochJson(Recorder.EpochRow r) {
        StringBuilder sb = new StringBuilder("{\"epoch\":")
                .append(r.epoch())
                .append(",\"train_loss\":")
                .append(num(r.trainLoss()))
                .append(",\"train_loss_smooth\":")
                .append(num(r.smoothLoss()))
                .append(",\"valid_loss\":")
                .append(num(r.validLoss()));
        for (Map.Entry<String, Double> e : r.metrics().entrySet()) {
            sb.append(",\"").append(e.getKey()).append("\":").append(num(e.getValue()));
        }
        return sb.append(",\"seconds\":")
                .append(String.format(Locale.ROOT, "%.3f", r.seconds()))
                .append('}')
                .toString();
    }

    /** A table cell of 11 characters: blank for an epoch without validation. */
    private static String cell(double v) {
        return Double.isNaN(v) ? " ".repeat(11) : String.format(Locale.ROOT, "%-11.6f", v);
    }

    /** A CSV field: blank for an epoch without validation. */
    private static String csvNum(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    /**
     * Stops when the monitored value ("valid_loss", "train_loss" or a metric name) has not improved by {@code minDelta}
     * for {@code patience} epochs (validated ones, when the learner validates less often: {@code validateEvery}).
     */
    public static final class EarlyStopping implements Callback {
        private final String monitor;
        private final double minDelta;
        private final int patience;
        private double best;
        private int wait;

        public EarlyStopping(String monitor, double minDelta, int patience) {
            this.monitor = monitor;
            this.minDelta = Math.abs(minDelta);
            this.patience = patience;
        }

        @Override
        public void beforeFit(Learner l) {
            best = Double.NaN;
            wait = 0;
        }

        @Override
        public void afterEpoch(Learner l) {
            Recorder.EpochRow r = l.recorder().lastEpoch();
            boolean higher = higherIsBetter(l, monitor);
            if (!monitored(l, r, monitor)) {
                // patience counts validations
                return;
            }
            double v = value(r, monitor);
            if (Double.isNaN(best) || (higher ? v > best + minDelta : v < best - minDelta)) {
                best = v;
                wait = 0;
            } else if (++wait >= patience) {
                l.requestStop(String.format(
                        Locale.ROOT, "no improvement in %s for %d epochs (best %.6f)", monitor, patience, best));
            }
        }
    }

    /**
     * Saves a full checkpoint ({@code checkpoint.safetensors}) after every epoch and when a
     * {@link dev.jimm.StopRequest} interrupts the fit between two batches, and the model's weights of the best epoch by
     * {@code monitor} ({@code best.safetensors}), in the run folder. A checkpoint that cannot be written (a full disk,
     * a folder that cannot be written) ends the fit with one line naming the folder and the cause; the previous
     * checkpoint stays as it was, since every write is atomic.
     */
    public static final class SaveModel implements Callback {
        private final Path dir;
        private final String monitor;
        private final boolean everyEpoch;
        private double best = Double.NaN;
        // where the last checkpoint was taken, so that an interruption right after an epoch's does not write it twice
        private Learner.FitPlan savedPlan;
        private int savedEpochs = -1;
        private int savedBatches = -1;

        public SaveModel(Path dir, String monitor, boolean everyEpoch) {
            this.dir = dir;
            this.monitor = monitor;
            this.everyEpoch = everyEpoch;
        }

        @Override
        public void afterEpoch(Learner l) {
            Recorder.EpochRow r = l.recorder().lastEpoch();
            if (!Double.isFinite(r.trainLoss())) {
                return;
            }
            if (everyEpoch) {
                save(l);
            }
            double v = value(r, monitor);
            boolean higher = higherIsBetter(l, monitor);
            if (monitored(l, r, monitor) && (Double.isNaN(best) || (higher ? v > best : v < best))) {
                best = v;
                SafetensorsWriter.write(
                        dir.resolve("best.safetensors"),
                        l.model().stateDict(),
                        Map.of("epoch", Integer.toString(r.epoch()), "monitor", monitor, "value", Double.toString(v)));
            }
        }

        @Override
        public void afterFit(Learner l) {
            boolean alreadySaved =
                    l.plan() == savedPlan && l.epochsDone() == savedEpochs && l.batchesDone() == savedBatches;
            if (everyEpoch && l.interrupted() && !alreadySaved) {
                save(l);
            }
        }

        private void save(Learner l) {
            Path file = dir.resolve("checkpoint.safetensors");
            boolean hadOne = Files.isRegularFile(file);
            try {
                l.saveCheckpoint(file);
            } catch (RuntimeException e) {
                Throwable root = e;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                String cause = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
                String msg = "cannot save the checkpoint in " + dir + ": " + cause + "; "
                        + (hadOne ? file.getFileName() + " keeps the previous one" : "there is no earlier checkpoint");
                if (root instanceof IOException io) {
                    throw new UncheckedIOException(msg, io);
                }
                throw new IllegalStateException(msg, e);
            }
            savedPlan = l.plan();
            savedEpochs = l.epochsDone();
            savedBatches = l.batchesDone();
        }
    }

    /** Whether the epoch of {@code r} has a value of {@code monitor}: train_loss always, the others when validated. */
    static boolean monitored(Learner l, Recorder.EpochRow r, String monitor) {
        return monitor.equals("train_loss") || l.validatesEpoch(r.epoch());
    }

    static double value(Recorder.EpochRow r, String monitor) {
        return switch (monitor) {
            case "valid_loss" -> r.validLoss();
            case "train_loss" -> r.trainLoss();
            default -> {
                Double v = r.metrics().get(monitor);
                if (v == null) {
                    throw new JimmException("monitor '" + monitor + "' is neither valid_loss, train_loss nor a metric ("
                            + r.metrics().keySet() + ")");
                }
                yield v;
            }
        };
    }

    static boolean higherIsBetter(Learner l, String monitor) {
        for (Metric m : l.metrics()) {
            if (m.name().equals(monitor)) {
                return m.higherIsBetter();
            }
        }
        return false;
    }
}
