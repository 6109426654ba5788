package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.jimm.data.BatchGrid;
import dev.jimm.train.Charts;
import dev.jimm.train.Learner;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;

/**
 * fastai's ClassificationInterpretation: the validation set's per-image losses, predictions and confusion matrix, with
 * the pictures fastai draws from them (plot_confusion_matrix, plot_top_losses). Only the images of the {@code keep}
 * highest losses are held in memory.
 */
public final class Interpretation {
    /** One validation image with what the model made of it; {@code pixels} is its normalized CHW input. */
    public record Item(int index, int actual, int predicted, double loss, double probability, float[] pixels) {}

    private final List<String> classes;
    private final long[][] confusion;
    private final List<Item> topLosses;
    private final int channels;
    private final int height;
    private final int width;
    private final long count;

    private Interpretation(
            List<String> classes, long[][] confusion, List<Item> topLosses, int c, int h, int w, long count) {
        this.classes = List.copyOf(classes);
        this.confusion = confusion;
        this.topLosses = List.copyOf(topLosses);
        this.channels = c;
        this.height = h;
        this.width = w;
        this.count = count;
    }

    /** Runs the learner's model over its validation set in eval mode, keeping the {@code keep} worst images. */
    public static Interpretation of(Learner learner, int keep) {
        List<String> classes = learner.dls().classes();
        int k = classes.size();
        long[][] confusion = new long[k][k];
        PriorityQueue<Item> worst = new PriorityQueue<>(Comparator.comparingDouble(Item::loss));
        int[] shape = new int[3];
        long[] seen = {0};
        learner.forEachValidBatch((logits, batch) -> {
            NDArray logp = logits.logSoftmax(1);
            long[] targets = batch.y().toType(DataType.INT64, false).toLongArray();
            float[] lp = logp.toFloatArray();
            long[] preds = logits.argMax(1).toType(DataType.INT64, false).toLongArray();
            long[] xs = batch.x().getShape().getShape();
            int plane = (int) (xs[1] * xs[2] * xs[3]);
            shape[0] = (int) xs[1];
            shape[1] = (int) xs[2];
            shape[2] = (int) xs[3];
            float[] pixels = null;
            for (int i = 0; i < targets.length; i++) {
                int t = (int) targets[i];
                int p = (int) preds[i];
                confusion[t][p]++;
                double loss = -lp[i * k + t];
                if (worst.size() < keep || loss > worst.peek().loss()) {
                    if (pixels == null) {
                        pixels = batch.x().toFloatArray();
                    }
                    float[] img = new float[plane];
                    System.arraycopy(pixels, i * plane, img, 0, plane);
                    worst.add(new Item((int) (seen[0] + i), t, p, loss, Math.exp(lp[i * k + p]), img));
                    if (worst.size() > keep) {
                        worst.poll();
                    }
                }
            }
            seen[0] += targets.length;
            return null;
        });
        List<Item> top = new ArrayList<>(worst);
        top.sort(Comparator.comparingDouble(Item::loss).reversed());
        return new Interpretation(classes, confusion, top, shape[0], shape[1], shape[2], seen[0]);
    }

    /** counts[actual][predicted]. */
    public long[][] confusionMatrix() {
        long[][] c = new long[confusion.length][];
        for (int i = 0; i < c.length; i++) {
            c[i] = confusion[i].clone();
        }
        return c;
    }

    /** The images with the highest losses, worst first. */
    public List<Item> topLosses() {
        return topLosses;
    }

    /** Validation accuracy from the confusion matrix. */
    public double accuracy() {
        long diag = 0;
        for (int i = 0; i < confusion.length; i++) {
            diag += confusion[i][i];
        }
        return count == 0 ? Double.NaN : (double) diag / count;
    }

    /** The most confused (actual, predicted, count) pairs, largest first (fastai's most_confused). */
    public List<String> mostConfused(int n) {
        List<long[]> pairs = new ArrayList<>();
        for (int i = 0; i < confusion.length; i++) {
            for (int j = 0; j < confusion.length; j++) {
                if (i != j && confusion[i][j] > 0) {
                    pairs.add(new long[] {i, j, confusion[i][j]});
                }
            }
        }
        pairs.sort((a, b) -> Long.compare(b[2], a[2]));
        List<String> out = new ArrayList<>();
        for (long[] p : pairs.subList(0, Math.min(n, pairs.size()))) {
            out.add(classes.get((int) p[0]) + " → " + classes.get((int) p[1]) + ": " + p[2]);
        }
        return out;
    }

    /** Writes the confusion matrix picture. */
    public void writeConfusionMatrix(Path png) {
        String title =
                String.format(Locale.ROOT, "Confusion matrix (accuracy %.1f%%, %d images)", 100 * accuracy(), count);
        Charts.writePng(Charts.confusionMatrix(confusion, classes, title), png);
    }

    /** Writes the top-losses grid: each image with "predicted / actual" and "loss / probability". */
    public void writeTopLosses(Path png, Preprocessing pre, int cols) {
        if (topLosses.isEmpty()) {
            throw new IllegalStateException("no validation images to show");
        }
        int plane = channels * height * width;
        float[] data = new float[topLosses.size() * plane];
        List<String> captions = new ArrayList<>();
        for (int i = 0; i < topLosses.size(); i++) {
            Item it = topLosses.get(i);
            System.arraycopy(it.pixels(), 0, data, i * plane, plane);
            captions.add(classes.get(it.predicted()) + " / " + classes.get(it.actual()) + "\n"
                    + String.format(Locale.ROOT, "%.2f / %.2f", it.loss(), it.probability()));
        }
        BatchGrid.writePng(
                BatchGrid.render(
                        data,
                        topLosses.size(),
                        channels,
                        height,
                        width,
                        captions,
                        pre.meanArray(),
                        pre.stdArray(),
                        cols),
                png);
    }
}
