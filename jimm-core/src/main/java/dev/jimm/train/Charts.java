package dev.jimm.train;

import dev.jimm.data.BatchGrid;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * PNG charts of a training run: line charts (losses, metrics, lr_find with its suggestions) and heatmaps (the confusion
 * matrix), drawn with Java2D so that no plotting stack is needed. The look follows matplotlib's defaults that fastai
 * users know: white background, light grid, tab10 colours, a legend inside the axes.
 */
public final class Charts {
    /** matplotlib's tab10 palette. */
    public static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd),
        new Color(0x8c564b), new Color(0xe377c2), new Color(0x7f7f7f), new Color(0xbcbd22), new Color(0x17becf)
    };

    private static final int SCALE = 2;

    private Charts() {}

    /** One line of a chart; {@code dots} draws a marker at each point (for short epoch series). */
    public record Series(String name, double[] xs, double[] ys, Color color, boolean dots) {
        public Series {
            if (xs.length != ys.length) {
                throw new IllegalArgumentException(
                        "series '" + name + "': " + xs.length + " x values but " + ys.length + " y values");
            }
            xs = xs.clone();
            ys = ys.clone();
        }
    }

    /** A labelled point drawn on top of the lines (lr_find's suggestions). */
    public record Marker(String label, double x, double y, Color color) {}

    /** A line chart's description; build with {@link #line(String)}. */
    public static final class LineChart {
        private final String title;
        private String xLabel = "";
        private String yLabel = "";
        private boolean logX;
        private final List<Series> series = new ArrayList<>();
        private final List<Marker> markers = new ArrayList<>();
        private int width = 640;
        private int height = 400;
        private double yMin = Double.NaN;
        private double yMax = Double.NaN;
        private boolean integerX;

        private LineChart(String title) {
            this.title = title;
        }

        public LineChart xLabel(String label) {
            this.xLabel = label;
            return this;
        }

        public LineChart yLabel(String label) {
            this.yLabel = label;
            return this;
        }

        /** A logarithmic x axis (learning rates). */
        public LineChart logX() {
            this.logX = true;
            return this;
        }

        /** Whole-number x values (epochs): ticks only at integers, half a step of room at each end. */
        public LineChart integerX() {
            this.integerX = true;
            return this;
        }

        public LineChart size(int w, int h) {
            this.width = w;
            this.height = h;
            return this;
        }

        /** Fixes the y range (for example [0, 1] for accuracy); NaN keeps the data's range. */
        public LineChart yRange(double min, double max) {
            this.yMin = min;
            this.yMax = max;
            return this;
        }

        public LineChart series(String name, double[] xs, double[] ys) {
            return series(name, xs, ys, xs.length <= 30);
        }

        public LineChart series(String name, double[] xs, double[] ys, boolean dots) {
            series.add(new Series(name, xs, ys, PALETTE[series.size() % PALETTE.length], dots));
            return this;
        }

        public LineChart marker(String label, double x, double y) {
            markers.add(new Marker(label, x, y, PALETTE[(3 + markers.size()) % PALETTE.length]));
            return this;
        }

        /** Draws the chart and writes it as a PNG (atomically). */
        public void writePng(Path file) {
            Charts.writePng(render(), file);
        }

        /** Draws the chart. */
        public BufferedImage render() {
            return drawLine(this);
        }
    }

    /** Starts a line chart. */
    public static LineChart line(String title) {
        return new LineChart(title);
    }

    // ---- line charts ------------------------------------------------------------------------------

    private static BufferedImage drawLine(LineChart c) {
        BufferedImage img = new BufferedImage(c.width * SCALE, c.height * SCALE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        try {
            int left = 70, right = 20, top = 36, bottom = 52;
            int pw = c.width - left - right, ph = c.height - top - bottom;
            double[] xr = range(c, true);
            double[] yr = range(c, false);
            if (!Double.isNaN(c.yMin)) {
                yr = new double[] {c.yMin, c.yMax};
            }
            if (c.integerX) {
                xr = new double[] {
                    Math.floor(xr[0] + 0.02 * (xr[1] - xr[0])) - 0.5, Math.ceil(xr[1] - 0.02 * (xr[1] - xr[0])) + 0.5
                };
            }
            Axis xa = c.logX ? Axis.log(xr[0], xr[1]) : Axis.linear(xr[0], xr[1], 6, c.integerX ? 1 : 0);
            Axis ya = Axis.linear(yr[0], yr[1], 6, 0);

            drawTitle(g, c.title, c.width);
            // grid and ticks
            g.setFont(font(11));
            FontMetrics fm = g.getFontMetrics();
            for (double t : ya.ticks) {
                int y = top + ph - (int) Math.round(ya.frac(t) * ph);
                g.setColor(new Color(0xe5e5e5));
                g.drawLine(left, y, left + pw, y);
                g.setColor(Color.DARK_GRAY);
                String s = ya.format(t);
                g.drawString(s, left - 6 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
            }
            for (double t : xa.ticks) {
                int x = left + (int) Math.round(xa.frac(t) * pw);
                g.setColor(new Color(0xe5e5e5));
                g.drawLine(x, top, x, top + ph);
                g.setColor(Color.DARK_GRAY);
                String s = xa.format(t);
                g.drawString(s, x - fm.stringWidth(s) / 2, top + ph + fm.getAscent() + 4);
            }
            g.setColor(Color.GRAY);
            g.drawRect(left, top, pw, ph);
            // axis labels
            g.setFont(font(12));
            fm = g.getFontMetrics();
            g.setColor(Color.BLACK);
            g.drawString(c.xLabel, left + pw / 2 - fm.stringWidth(c.xLabel) / 2, c.height - 12);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            g.drawString(c.yLabel, -(top + ph / 2) - fm.stringWidth(c.yLabel) / 2, 16);
            g.setTransform(saved);

            // lines, clipped to the plot area
            g.setClip(left, top, pw + 1, ph + 1);
            for (Series s : c.series) {
                g.setColor(s.color());
                g.setStroke(new BasicStroke(1.8f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
                Path2D path = new Path2D.Double();
                boolean started = false;
                for (int i = 0; i < s.xs().length; i++) {
                    if (!Double.isFinite(s.ys()[i]) || !Double.isFinite(s.xs()[i])) {
                        started = false;
                        continue;
                    }
                    double x = left + xa.frac(s.xs()[i]) * pw;
                    double y = top + ph - ya.frac(s.ys()[i]) * ph;
                    if (started) {
                        path.lineTo(x, y);
                    } else {
                        path.moveTo(x, y);
                        started = true;
                    }
                    if (s.dots()) {
                        g.fillOval((int) Math.round(x) - 3, (int) Math.round(y) - 3, 7, 7);
                    }
                }
                g.draw(path);
            }
            for (Marker m : c.markers) {
                if (!Double.isFinite(m.x()) || !Double.isFinite(m.y())) {
                    continue;
                }
                int x = left + (int) Math.round(xa.frac(m.x()) * pw);
                int y = top + ph - (int) Math.round(ya.frac(m.y()) * ph);
                g.setColor(m.color());
                g.setStroke(new BasicStroke(
                        1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {4f, 3f}, 0f));
                g.drawLine(x, top, x, top + ph);
                g.fillOval(x - 5, y - 5, 11, 11);
            }
            g.setClip(null);
            drawLegend(g, c, left + pw - 8, top + 8);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static void drawLegend(Graphics2D g, LineChart c, int rightX, int topY) {
        List<String> labels = new ArrayList<>();
        List<Color> colors = new ArrayList<>();
        for (Series s : c.series) {
            if (!s.name().isEmpty()) {
                labels.add(s.name());
                colors.add(s.color());
            }
        }
        for (Marker m : c.markers) {
            labels.add(m.label());
            colors.add(m.color());
        }
        if (labels.isEmpty()) {
            return;
        }
        g.setFont(font(11));
        FontMetrics fm = g.getFontMetrics();
        int w = 0;
        for (String l : labels) {
            w = Math.max(w, fm.stringWidth(l));
        }
        int lh = fm.getHeight() + 2;
        int bw = w + 34, bh = labels.size() * lh + 8;
        int x0 = rightX - bw;
        g.setColor(new Color(255, 255, 255, 225));
        g.fillRoundRect(x0, topY, bw, bh, 6, 6);
        g.setColor(new Color(0xcccccc));
        g.drawRoundRect(x0, topY, bw, bh, 6, 6);
        for (int i = 0; i < labels.size(); i++) {
            int y = topY + 4 + i * lh + lh / 2;
            g.setColor(colors.get(i));
            g.setStroke(new BasicStroke(2.5f));
            g.drawLine(x0 + 6, y, x0 + 24, y);
            g.setColor(Color.BLACK);
            g.drawString(labels.get(i), x0 + 28, y + fm.getAscent() / 2 - 1);
        }
    }

    private static double[] range(LineChart c, boolean x) {
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        for (Series s : c.series) {
            for (double v : x ? s.xs() : s.ys()) {
                if (Double.isFinite(v) && (!x || !c.logX || v > 0)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        if (lo == Double.POSITIVE_INFINITY) {
            return new double[] {0, 1};
        }
        if (lo == hi) {
            double pad = lo == 0 ? 1 : Math.abs(lo) * 0.1;
            return new double[] {lo - pad, hi + pad};
        }
        if (!x) {
            double pad = (hi - lo) * 0.05;
            return new double[] {lo - pad, hi + pad};
        }
        if (!c.logX) {
            // room for the dots of points at either end
            double pad = (hi - lo) * 0.02;
            return new double[] {lo - pad, hi + pad};
        }
        return new double[] {lo, hi};
    }

    /** An axis: its range, scale and tick positions. */
    private static final class Axis {
        final double lo;
        final double hi;
        final boolean log;
        final List<Double> ticks = new ArrayList<>();
        final double step;

        private Axis(double lo, double hi, boolean log, double step) {
            this.lo = lo;
            this.hi = hi;
            this.log = log;
            this.step = step;
        }

        static Axis linear(double lo, double hi, int target, double minStep) {
            double raw = (hi - lo) / target;
            double mag = Math.pow(10, Math.floor(Math.log10(raw)));
            double norm = raw / mag;
            double step = Math.max(minStep, (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag);
            Axis a = new Axis(lo, hi, false, step);
            for (double t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
                a.ticks.add(Math.abs(t) < step * 1e-9 ? 0 : t);
            }
            return a;
        }

        static Axis log(double lo, double hi) {
            Axis a = new Axis(lo, hi, true, 10);
            for (int e = (int) Math.ceil(Math.log10(lo) - 1e-9); e <= Math.floor(Math.log10(hi) + 1e-9); e++) {
                a.ticks.add(Math.pow(10, e));
            }
            return a;
        }

        double frac(double v) {
            if (log) {
                return (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));
            }
            return (v - lo) / (hi - lo);
        }

        String format(double v) {
            if (log) {
                return String.format(Locale.ROOT, "1e%d", (int) Math.round(Math.log10(v)));
            }
            if (step >= 1 && Math.abs(v) < 1e6) {
                return String.format(Locale.ROOT, "%d", Math.round(v));
            }
            int decimals = (int) Math.max(0, Math.ceil(-Math.log10(step)));
            return String.format(Locale.ROOT, "%." + decimals + "f", v);
        }
    }

    // ---- heatmaps ---------------------------------------------------------------------------------

    /**
     * A confusion matrix as fastai's plot_confusion_matrix draws it: actual classes down, predicted across, cells
     * shaded by their share of the row, with counts written in.
     */
    public static BufferedImage confusionMatrix(long[][] counts, List<String> classes, String title) {
        int k = counts.length;
        if (classes.size() != k) {
            throw new IllegalArgumentException(
                    "confusion matrix has " + k + " classes but " + classes.size() + " names were given");
        }
        BufferedImage probe = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        Graphics2D pg = probe.createGraphics();
        pg.setFont(font(11));
        int labelW = 0;
        for (String s : classes) {
            labelW = Math.max(labelW, pg.getFontMetrics().stringWidth(s));
        }
        pg.dispose();
        int cell = Math.max(24, Math.min(56, 560 / Math.max(1, k)));
        int left = labelW + 40, top = 40, grid = cell * k;
        int width = left + grid + 20, height = top + grid + labelW + 44;
        BufferedImage img = new BufferedImage(width * SCALE, height * SCALE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas(img);
        try {
            drawTitle(g, title, width);
            g.setFont(font(k > 20 ? 8 : 11));
            FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i < k; i++) {
                long row = 0;
                for (long v : counts[i]) {
                    row += v;
                }
                for (int j = 0; j < k; j++) {
                    double share = row == 0 ? 0 : (double) counts[i][j] / row;
                    g.setColor(blues(share));
                    g.fillRect(left + j * cell, top + i * cell, cell, cell);
                    if (k <= 30) {
                        String s = Long.toString(counts[i][j]);
                        g.setColor(share > 0.5 ? Color.WHITE : Color.BLACK);
                        g.drawString(
                                s,
                                left + j * cell + (cell - fm.stringWidth(s)) / 2,
                                top + i * cell + (cell + fm.getAscent()) / 2 - 2);
                    }
                }
            }
            g.setColor(Color.GRAY);
            g.drawRect(left, top, grid, grid);
            g.setColor(Color.BLACK);
            g.setFont(font(11));
            fm = g.getFontMetrics();
            for (int i = 0; i < k; i++) {
                String s = classes.get(i);
                g.drawString(s, left - 6 - fm.stringWidth(s), top + i * cell + (cell + fm.getAscent()) / 2 - 2);
                AffineTransform saved = g.getTransform();
                g.translate(left + i * cell + cell / 2 + fm.getAscent() / 2 - 1, top + grid + 6);
                g.rotate(Math.PI / 2);
                g.drawString(s, 0, 0);
                g.setTransform(saved);
            }
            g.setFont(font(12));
            fm = g.getFontMetrics();
            g.drawString("Predicted", left + grid / 2 - fm.stringWidth("Predicted") / 2, height - 10);
            AffineTransform saved = g.getTransform();
            g.rotate(-Math.PI / 2);
            g.drawString("Actual", -(top + grid / 2) - fm.stringWidth("Actual") / 2, 16);
            g.setTransform(saved);
        } finally {
            g.dispose();
        }
        return img;
    }

    /** matplotlib's Blues colormap, approximately (white to dark blue). */
    static Color blues(double t) {
        t = Math.max(0, Math.min(1, t));
        int[][] stops = {{247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
        double pos = t * (stops.length - 1);
        int i = Math.min(stops.length - 2, (int) pos);
        double f = pos - i;
        int r = (int) Math.round(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]));
        int gg = (int) Math.round(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]));
        int b = (int) Math.round(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]));
        return new Color(r, gg, b);
    }

    // ---- shared drawing ---------------------------------------------------------------------------

    private static Graphics2D canvas(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_STROKE_CONTROL, RenderingHints.VALUE_STROKE_PURE);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.scale(SCALE, SCALE);
        return g;
    }

    private static void drawTitle(Graphics2D g, String title, int width) {
        g.setFont(font(14).deriveFont(Font.BOLD));
        FontMetrics fm = g.getFontMetrics();
        g.setColor(Color.BLACK);
        g.drawString(title, width / 2 - fm.stringWidth(title) / 2, 24);
    }

    private static Font font(int size) {
        return new Font(Font.SANS_SERIF, Font.PLAIN, size);
    }

    /** Writes an image as PNG through a temporary file and a rename, so a reader never sees half a file. */
    public static void writePng(BufferedImage img, Path file) {
        BatchGrid.writePng(img, file);
    }
}
