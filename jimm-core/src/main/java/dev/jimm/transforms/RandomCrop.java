package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;
import java.util.SplittableRandom;

/**
 * torchvision's {@code RandomCrop(size, padding)}: pad every side with zeros, then cut a random window of the given
 * size (the usual augmentation for small images such as MNIST and CIFAR).
 */
public final class RandomCrop implements Transform<DecodedImage, DecodedImage> {
    private final int height;
    private final int width;
    private final int padding;

    public RandomCrop(int height, int width, int padding) {
        if (height <= 0 || width <= 0 || padding < 0) {
            throw new IllegalArgumentException("RandomCrop needs a positive size and padding >= 0, got " + height + "x"
                    + width + " padding " + padding);
        }
        this.height = height;
        this.width = width;
        this.padding = padding;
    }

    @Override
    public String toString() {
        return "RandomCrop(" + height + "x" + width + ", padding " + padding + ")";
    }

    @Override
    public DecodedImage apply(DecodedImage in, SplittableRandom rng) {
        int pw = in.width() + 2 * padding;
        int ph = in.height() + 2 * padding;
        if (pw < width || ph < height) {
            throw new IllegalArgumentException(
                    "RandomCrop " + height + "x" + width + " is larger than the padded image " + ph + "x" + pw);
        }
        int x0 = rng.nextInt(pw - width + 1) - padding;
        int y0 = rng.nextInt(ph - height + 1) - padding;
        int c = in.channels();
        byte[] src = in.pixels();
        byte[] out = new byte[width * height * c];
        for (int y = 0; y < height; y++) {
            int sy = y + y0;
            if (sy < 0 || sy >= in.height()) {
                continue;
            }
            for (int x = 0; x < width; x++) {
                int sx = x + x0;
                if (sx >= 0 && sx < in.width()) {
                    System.arraycopy(src, (sy * in.width() + sx) * c, out, (y * width + x) * c, c);
                }
            }
        }
        return in.with(width, height, c, out);
    }
}
