package dev.jimm.data;

import dev.jimm.AtomicFiles;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/** showBatch: writes a batch as a PNG grid of its images, each captioned with its class name. */
public final class BatchGrid {
    private static final int CAPTION = 14;

    private BatchGrid() {}

    /**
     * Writes {@code batch} as a grid with {@code cols} columns. {@code mean}/{@code std} undo the normalization (pass
     * zeros and ones for unnormalized data); tiles smaller than 64 pixels are enlarged with nearest-neighbour so
     * captions fit.
     */
    public static void write(Batch batch, List<String> classes, float[] mean, float[] std, int cols, Path png) {
        long[] shape = batch.data().getShape().getShape();
        int n = (int) shape[0], c = (int) shape[1], h = (int) shape[2], w = (int) shape[3];
        if (mean.length != c || std.length != c) {
            throw new IllegalArgumentException("mean/std need " + c + " values for a " + c + "-channel batch");
        }
        write(batch.data().toFloatArray(), n, c, h, w, batch.labels().toLongArray(), classes, mean, std, cols, png);
    }

    /** Same from plain arrays (NCHW floats and labels). */
    public static void write(
            float[] data,
            int n,
            int c,
            int h,
            int w,
            long[] labels,
            List<String> classes,
            float[] mean,
            float[] std,
            int cols,
            Path png) {
        List<String> captions = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int lab = (int) labels[i];
            captions.add(lab >= 0 && lab < classes.size() ? classes.get(lab) : Integer.toString(lab));
        }
        writePng(render(data, n, c, h, w, captions, mean, std, cols), png);
    }

    /**
     * Draws NCHW images as a grid, each with its caption below it ({@code \n} separates caption lines; fastai's
     * top-losses grid uses two). Tiles smaller than 64 pixels are enlarged with nearest-neighbour, the way fastai shows
     * MNIST.
     */
    public static BufferedImage render(
            float[] data, int n, int c, int h, int w, List<String> captions, float[] mean, float[] std, int cols) {
        if (captions.size() != n) {
            throw new IllegalArgumentException("batch grid: " + n + " images but " + captions.size() + " captions");
        }
        int lines = 1;
        for (String cap : captions) {
            lines = Math.max(lines, cap.split("\n", -1).length);
        }
        int captionH = CAPTION * lines;
        int zoom = Math.max(1, (96 + Math.max(h, w) - 1) / Math.max(h, w));
        int tw = w * zoom, th = h * zoom;
        cols = Math.max(1, Math.min(cols, n));
        int rows = (n + cols - 1) / cols;
        int gap = 4;
        BufferedImage out =
                new BufferedImage(cols * (tw + gap), rows * (th + captionH + gap), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, out.getWidth(), out.getHeight());
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            int plane = h * w;
            for (int i = 0; i < n; i++) {
                int x0 = (i % cols) * (tw + gap), y0 = (i / cols) * (th + captionH + gap);
                for (int y = 0; y < th; y++) {
                    for (int x = 0; x < tw; x++) {
                        int p = (y / zoom) * w + x / zoom;
                        int rgb = 0;
                        for (int k = 0; k < 3; k++) {
                            int ch = c == 1 ? 0 : k;
                            float v = data[i * c * plane + ch * plane + p] * std[ch] + mean[ch];
                            int b = Math.round(Math.max(0f, Math.min(1f, v)) * 255f);
                            rgb = (rgb << 8) | b;
                        }
                        out.setRGB(x0 + x, y0 + y, rgb);
                    }
                }
                g.setColor(Color.BLACK);
                String[] parts = captions.get(i).split("\n", -1);
                for (int l = 0; l < parts.length; l++) {
                    g.drawString(fit(g, parts[l], tw), x0 + 1, y0 + th + CAPTION * (l + 1) - 3);
                }
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    private static String fit(Graphics2D g, String text, int width) {
        if (g.getFontMetrics().stringWidth(text) <= width) {
            return text;
        }
        String t = text;
        while (t.length() > 1 && g.getFontMetrics().stringWidth(t + "…") > width) {
            t = t.substring(0, t.length() - 1);
        }
        return t + "…";
    }

    /** Writes a PNG atomically (see {@link dev.jimm.AtomicFiles}). */
    public static void writePng(BufferedImage img, Path png) {
        try {
            AtomicFiles.writeStream(png, out -> {
                if (!ImageIO.write(img, "png", out)) {
                    throw new IOException("no PNG writer");
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(png + ": cannot write image grid: " + e.getMessage(), e);
        }
    }
}
