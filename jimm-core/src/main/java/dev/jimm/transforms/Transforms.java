package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;
import dev.jimm.data.Seeds;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * Factories for the standard transforms, with torchvision's semantics. Pixel-domain steps work on 8-bit
 * {@link DecodedImage}s (as torchvision does on PIL images); {@link #toTensor()} turns them into float CHW
 * {@link TensorImage}s for the tensor-domain steps (normalize, random erasing).
 */
public final class Transforms {
    private Transforms() {}

    /** Resize so the shorter side is {@code size} (torchvision Resize(int)), Pillow resampling. */
    public static Transform<DecodedImage, DecodedImage> resize(int size, Interpolation interp) {
        if (size <= 0) {
            throw new IllegalArgumentException("resize size must be positive, got " + size);
        }
        return Transform.named("resize(" + size + ", " + interp + ")", (img, rng) -> {
            int[] wh = ImageOps.shorterSideSize(img.width(), img.height(), size, null);
            if (wh[0] == img.width() && wh[1] == img.height()) {
                return img;
            }
            return PillowResize.resize(img, wh[0], wh[1], interp);
        });
    }

    /** Resize to exactly height x width (torchvision Resize((h, w))). */
    public static Transform<DecodedImage, DecodedImage> resize(int height, int width, Interpolation interp) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("resize size must be positive, got " + height + "x" + width);
        }
        return Transform.named(
                "resize(" + height + "x" + width + ", " + interp + ")",
                (img, rng) -> PillowResize.resize(img, width, height, interp));
    }

    /**
     * fastai's Resize item transform to height x width: squish, or crop/reflect-pad to the aspect ratio (centred, or at
     * a random position when training) and resize with Pillow's bilinear filter.
     */
    public static Transform<DecodedImage, DecodedImage> fastaiResize(
            int height, int width, ResizeMethod method, boolean training) {
        return new FastaiResize(height, width, method, training);
    }

    /** Center crop to height x width, zero-padding first when the image is smaller (torchvision CenterCrop). */
    public static Transform<DecodedImage, DecodedImage> centerCrop(int height, int width) {
        return Transform.named("centerCrop(" + height + "x" + width + ")", (img, rng) -> {
            int w = img.width(), h = img.height();
            if (w == width && h == height) {
                return img;
            }
            int padL = 0, padT = 0;
            if (width > w || height > h) {
                // torchvision pads (tw - w) // 2 left and (th - h) // 2 top, then crops the padded image.
                padL = width > w ? (width - w) / 2 : 0;
                padT = height > h ? (height - h) / 2 : 0;
                int padR = width > w ? (width - w + 1) / 2 : 0;
                int padB = height > h ? (height - h + 1) / 2 : 0;
                w += padL + padR;
                h += padT + padB;
            }
            // Python's round() rounds half to even; Math.rint does the same.
            int top = (int) Math.rint((h - height) / 2.0);
            int left = (int) Math.rint((w - width) / 2.0);
            return ImageOps.crop(img, left - padL, top - padT, width, height);
        });
    }

    /** Square center crop. */
    public static Transform<DecodedImage, DecodedImage> centerCrop(int size) {
        return centerCrop(size, size);
    }

    /** Converts to 1 or 3 channels (gray replicated to RGB; RGB to luma like Pillow's convert("L")). */
    public static Transform<DecodedImage, DecodedImage> channels(int channels) {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        return Transform.named("channels(" + channels + ")", (img, rng) -> channels == 3 ? img.toRgb() : img.toGray());
    }

    /** Flips left-right with probability p. */
    public static Transform<DecodedImage, DecodedImage> horizontalFlip(double p) {
        return Transform.named(
                "horizontalFlip(" + p + ")", (img, rng) -> rng.nextDouble() < p ? ImageOps.hflip(img) : img);
    }

    /**
     * airbench's alternating flip (Keller Jordan, "94% on CIFAR-10 in 3.29 seconds", 2024): in a data loader, a seeded
     * random half of the images is flipped left-right in the even epochs and the other half in the odd ones, so that
     * every image is seen both ways in each pair of epochs rather than as chance falls. Outside a loader, a flip with
     * probability 1/2.
     */
    public static SampleTransform<DecodedImage, DecodedImage> alternatingFlip() {
        return new AlternatingFlip();
    }

    /** See {@link #alternatingFlip()}. */
    private record AlternatingFlip() implements SampleTransform<DecodedImage, DecodedImage> {
        /** The seed stream of each image's first-epoch choice (no epoch is negative). */
        private static final long FIRST_EPOCH_STREAM = -1;

        @Override
        public DecodedImage apply(DecodedImage img, SplittableRandom rng) {
            return rng.nextBoolean() ? ImageOps.hflip(img) : img;
        }

        @Override
        public DecodedImage apply(DecodedImage img, long seed, int epoch, int index) {
            boolean first = new SplittableRandom(Seeds.derive(seed, FIRST_EPOCH_STREAM, index)).nextBoolean();
            return first ^ (epoch % 2 == 1) ? ImageOps.hflip(img) : img;
        }

        @Override
        public String toString() {
            return "alternatingFlip";
        }
    }

    /** Flips top-bottom with probability p. */
    public static Transform<DecodedImage, DecodedImage> verticalFlip(double p) {
        return Transform.named(
                "verticalFlip(" + p + ")", (img, rng) -> rng.nextDouble() < p ? ImageOps.vflip(img) : img);
    }

    /** 8-bit HWC to float CHW in [0, 1] (v / 255 in float32, as torchvision's ToTensor). */
    public static Transform<DecodedImage, TensorImage> toTensor() {
        return Transform.named("toTensor", (img, rng) -> {
            int c = img.channels(), n = img.width() * img.height();
            byte[] px = img.pixels();
            float[] out = new float[c * n];
            for (int ch = 0; ch < c; ch++) {
                for (int i = 0; i < n; i++) {
                    out[ch * n + i] = (px[i * c + ch] & 0xFF) / 255f;
                }
            }
            return new TensorImage(c, img.height(), img.width(), out);
        });
    }

    /** (x - mean[c]) / std[c] per channel, in float32 like torchvision's Normalize. */
    public static Transform<TensorImage, TensorImage> normalize(float[] mean, float[] std) {
        float[] m = mean.clone(), s = std.clone();
        if (m.length != s.length) {
            throw new IllegalArgumentException("mean has " + m.length + " values but std has " + s.length);
        }
        for (float v : s) {
            if (!(v > 0)) {
                throw new IllegalArgumentException("std values must be positive, got " + Arrays.toString(s));
            }
        }
        return Transform.named("normalize", (t, rng) -> {
            if (t.channels() != m.length) {
                throw new IllegalArgumentException(
                        "normalize has " + m.length + " channels, image has " + t.channels());
            }
            int n = t.height() * t.width();
            float[] out = new float[t.data().length];
            for (int c = 0; c < t.channels(); c++) {
                for (int i = c * n; i < (c + 1) * n; i++) {
                    out[i] = (t.data()[i] - m[c]) / s[c];
                }
            }
            return new TensorImage(t.channels(), t.height(), t.width(), out);
        });
    }

    /**
     * ToTensor then Normalize in one pass, bit for bit the two steps' result: each channel's 256 possible outputs are
     * computed once with the same float32 operations.
     */
    public static Transform<DecodedImage, TensorImage> toNormalizedTensor(float[] mean, float[] std) {
        normalize(mean, std); // the same argument checks
        int nc = mean.length;
        float[][] table = new float[nc][256];
        for (int c = 0; c < nc; c++) {
            for (int v = 0; v < 256; v++) {
                table[c][v] = (v / 255f - mean[c]) / std[c];
            }
        }
        return Transform.named("toNormalizedTensor", (img, rng) -> {
            int c = img.channels(), n = img.width() * img.height();
            if (c != nc) {
                throw new IllegalArgumentException("normalize has " + nc + " channels, image has " + c);
            }
            byte[] px = img.pixels();
            float[] out = new float[c * n];
            for (int ch = 0; ch < c; ch++) {
                float[] t = table[ch];
                for (int i = 0, o = ch * n, p = ch; i < n; i++, p += c) {
                    out[o + i] = t[px[p] & 0xFF];
                }
            }
            return new TensorImage(c, img.height(), img.width(), out);
        });
    }

    /** A user function (torchvision Lambda); deterministic. */
    public static <T> Transform<T, T> lambda(UnaryOperator<T> fn) {
        return (x, rng) -> fn.apply(x);
    }

    /** The identity. */
    public static <T> Transform<T, T> identity() {
        return Transform.named("identity", (x, rng) -> x);
    }
}
