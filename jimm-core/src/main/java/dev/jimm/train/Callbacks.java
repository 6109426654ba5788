package dev.jimm.train;

import dev.jimm.AtomicFiles;
import dev.jimm.JimmException;
import dev.jimm.hub.SafetensorsWriter;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The built-in callbacks: progress, logs, early stopping, checkpoints (the NaN guard is the learner's own). */
public final class Callbacks {
    private Callbacks() {}

    /**
     * A progress bar with ETA and the smoothed loss (on a terminal), and a table row per epoch: epoch, train_loss,
     * valid_loss, metrics, time.
     */
    public static final class Progress implements Callback {
        private final PrintStream table;
        private final PrintStream bar;
        private final boolean live;
        private long epochStart;
        private long lastDraw;
        private boolean headerDone;

        /** Table to {@code table}; a live bar on {@code bar} only when {@code live}. */
        public Progress(PrintStream table, PrintStream bar, boolean live) {
            this.table = table;
            this.bar = bar;
            this.live = live;
        }

        /** Table on stdout; a bar on stderr when the program runs in a terminal. */
        public static Progress console() {
            return new Progress(System.out, System.err, System.console() != null);
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
            if (!live) {
                return;
            }
            long now = System.nanoTime();
            int nb = l.dls().train().numBatches();
            long done = l.trainIter() - (long) l.epoch() * nb;
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
                    String.format(Locale.ROOT, "%-6d %-11.6f %-11.6f", r.epoch(), r.shownTrainLoss(), r.validLoss()));
            r.metrics().values().forEach(v -> s.append(String.format(Locale.ROOT, " %-11.6f", v)));
            table.println(s.append(' ').append(clock(r.seconds())));
            table.flush();
        }

        @Override
        public void afterFit(Learner l) {
            if (l.stopReason() != null) {
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
                    .append(r.validLoss());
            r.metrics().values().forEach(v -> sb.append(',').append(v));
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

    static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "null";
    }

    /**
     * Stops when the monitored value ("valid_loss", "train_loss" or a metric name) has not improved by {@code minDelta}
     * for {@code patience} epochs.
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
     * Saves a full checkpoint ({@code checkpoint.safetensors}) after every epoch, and the model's weights of the best
     * epoch by {@code monitor} ({@code best.safetensors}), in the run folder.
     */
    public static final class SaveModel implements Callback {
        private final Path dir;
        private final String monitor;
        private final boolean everyEpoch;
        private double best = Double.NaN;

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
                l.saveCheckpoint(dir.resolve("checkpoint.safetensors"));
            }
            double v = value(r, monitor);
            boolean higher = higherIsBetter(l, monitor);
            if (Double.isNaN(best) || (higher ? v > best : v < best)) {
                best = v;
                SafetensorsWriter.write(
                        dir.resolve("best.safetensors"),
                        l.model().stateDict(),
                        Map.of("epoch", Integer.toString(r.epoch()), "monitor", monitor, "value", Double.toString(v)));
            }
        }
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
