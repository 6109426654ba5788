package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.AdaptiveAvgPool2d;
import java.util.Locale;

/**
 * Progressive resizing (fastai's course trick, FFCV's ResNet schedules): the first {@code rampEpochs} epochs train on
 * smaller images, growing linearly from {@code minSize} pixels on the longer side at the first epoch towards the full
 * size, and every later epoch at the full size. A small epoch costs about the square of its scale, so the early, coarse
 * epochs are cheap and the last ones see every detail; validation and prediction always take the full size.
 *
 * <p>The batch is shrunk as a tensor, by area averaging ({@link AdaptiveAvgPool2d}, PyTorch's
 * {@code F.interpolate(mode="area")}), after the loader's augmentation. The size is a function of the epoch alone, so a
 * resumed fit trains on the sizes the uninterrupted one did.
 *
 * @param minSize the longer side at the first epoch, in pixels (at least 1)
 * @param rampEpochs how many epochs train below the full size (at least 1)
 */
public record ProgressiveResize(int minSize, int rampEpochs) implements Callback {
    public ProgressiveResize {
        if (minSize < 1) {
            throw new IllegalArgumentException(
                    "progressive resize needs a first size of at least 1 px, got " + minSize);
        }
        if (rampEpochs < 1) {
            throw new IllegalArgumentException(
                    "progressive resize needs at least 1 epoch below the full size, got " + rampEpochs);
        }
    }

    /**
     * The command line's form {@code MIN:EPOCHS}, for example {@code 20:4}.
     *
     * @throws IllegalArgumentException for any other text, naming it
     */
    public static ProgressiveResize parse(String text) {
        String[] parts = text.split(":", -1);
        try {
            if (parts.length == 2) {
                return new ProgressiveResize(Integer.parseInt(parts[0].trim()), Integer.parseInt(parts[1].trim()));
            }
        } catch (NumberFormatException e) {
            // the message below says what was expected
        }
        throw new IllegalArgumentException(
                "progressive resize '" + text + "': expected MIN:EPOCHS, the first size in pixels and the number of "
                        + "epochs below the full size, for example 20:4");
    }

    /** The longer side of epoch {@code epoch}'s (0-based) training images, when the full one is {@code fullSize}. */
    public int sizeAt(int epoch, int fullSize) {
        if (epoch >= rampEpochs || minSize >= fullSize) {
            return fullSize;
        }
        return (int) Math.round(minSize + (double) (fullSize - minSize) * epoch / rampEpochs);
    }

    @Override
    public void beforeBatch(Learner learner) {
        NDArray x = learner.inputs();
        Shape s = x.getShape();
        int h = Math.toIntExact(s.get(2));
        int w = Math.toIntExact(s.get(3));
        int full = Math.max(h, w);
        int size = sizeAt(learner.epoch(), full);
        if (size < full) {
            double scale = (double) size / full;
            int th = Math.max(1, (int) Math.round(h * scale));
            int tw = Math.max(1, (int) Math.round(w * scale));
            learner.replaceInputs(AdaptiveAvgPool2d.apply(x, th, tw));
        }
    }

    /** The command line's form, {@code MIN:EPOCHS}. */
    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d:%d", minSize, rampEpochs);
    }
}
