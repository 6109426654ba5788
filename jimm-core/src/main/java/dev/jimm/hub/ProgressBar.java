package dev.jimm.hub;

import dev.jimm.data.Downloads;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for downloads, redrawn in place with a carriage return (at most every 200 ms), ending with a
 * newline: {@code resnet18.a1_in1k 42% [========> ] 19.6/46.8 MB}.
 */
public final class ProgressBar implements Downloads.Progress {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private long lastDraw;
    private long done;
    private long total = -1;
    private boolean drawn;

    public ProgressBar(PrintStream out, String label) {
        this.out = out;
        this.label = label;
    }

    @Override
    public void update(long done, long total) {
        this.done = done;
        this.total = total;
        long now = System.nanoTime();
        if (!drawn || now - lastDraw > 200_000_000L || (total > 0 && done == total)) {
            draw();
            lastDraw = now;
        }
    }

    private void draw() {
        drawn = true;
        String line;
        if (total > 0) {
            int pct = (int) (100 * done / total);
            int fill = (int) ((long) WIDTH * done / total);
            StringBuilder bar = new StringBuilder();
            for (int i = 0; i < WIDTH; i++) {
                bar.append(i < fill ? '=' : i == fill ? '>' : ' ');
            }
            line = String.format(Locale.ROOT, "%s %3d%% [%s] %.1f/%.1f MB", label, pct, bar, done / 1e6, total / 1e6);
        } else {
            line = String.format(Locale.ROOT, "%s %.1f MB", label, done / 1e6);
        }
        out.print("\r" + line);
        out.flush();
    }

    @Override
    public void finish() {
        if (drawn) {
            draw();
            out.println();
            out.flush();
        }
    }
}
