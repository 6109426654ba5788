package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;
import java.util.SplittableRandom;

/**
 * Random augmentations with torchvision's parameter sampling: RandomResizedCrop, ColorJitter, RandAugment,
 * TrivialAugmentWide and RandomErasing. All randomness comes from the per-sample generator passed to
 * {@link Transform#apply}.
 */
public final class Augmentations {
    private Augmentations() {}

    private static double uniform(SplittableRandom rng, double lo, double hi) {
        return lo + (hi - lo) * rng.nextDouble();
    }

    /** Python's round(): half to even. */
    private static int pyRound(double v) {
        return (int) Math.rint(v);
    }

    /** torchvision RandomResizedCrop.get_params: returns {top, left, height, width}. */
    public static int[] randomResizedCropBox(
            int width, int height, double[] scale, double[] ratio, SplittableRandom rng) {
        double area = (double) height * width;
        double logR0 = Math.log(ratio[0]), logR1 = Math.log(ratio[1]);
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = area * uniform(rng, scale[0], scale[1]);
            double aspect = Math.exp(uniform(rng, logR0, logR1));
            int w = pyRound(Math.sqrt(targetArea * aspect));
            int h = pyRound(Math.sqrt(targetArea / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new int[] {top, left, h, w};
            }
        }
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < Math.min(ratio[0], ratio[1])) {
            w = width;
            h = pyRound(w / Math.min(ratio[0], ratio[1]));
        } else if (inRatio > Math.max(ratio[0], ratio[1])) {
            h = height;
            w = pyRound(h * Math.max(ratio[0], ratio[1]));
        } else {
            w = width;
            h = height;
        }
        return new int[] {(height - h) / 2, (width - w) / 2, h, w};
    }

    /** Crops a random area/aspect box and resizes it to height x width (torchvision RandomResizedCrop). */
    public static Transform<DecodedImage, DecodedImage> randomResizedCrop(
            int height, int width, double[] scale, double[] ratio, Interpolation interp) {
        double[] s = scale.clone(), r = ratio.clone();
        if (s[0] > s[1] || r[0] > r[1] || s[0] <= 0 || r[0] <= 0) {
            throw new IllegalArgumentException("scale and ratio must be increasing positive ranges");
        }
        return Transform.named("randomResizedCrop(" + height + "x" + width + ")", (img, rng) -> {
            int[] box = randomResizedCropBox(img.width(), img.height(), s, r, rng);
            DecodedImage c = ImageOps.crop(img, box[1], box[0], box[3], box[2]);
            return PillowResize.resize(c, width, height, interp);
        });
    }

    /** RandomResizedCrop with torchvision's defaults: scale (0.08, 1), ratio (3/4, 4/3). */
    public static Transform<DecodedImage, DecodedImage> randomResizedCrop(int size, Interpolation interp) {
        return randomResizedCrop(size, size, new double[] {0.08, 1.0}, new double[] {3.0 / 4, 4.0 / 3}, interp);
    }

    /**
     * torchvision ColorJitter: factors uniform in [max(0, 1 - b), 1 + b] etc., hue in [-h, h], applied in a random
     * order.
     */
    public static Transform<DecodedImage, DecodedImage> colorJitter(
            double brightness, double contrast, double saturation, double hue) {
        if (hue < 0 || hue > 0.5 || brightness < 0 || contrast < 0 || saturation < 0) {
            throw new IllegalArgumentException("color jitter amounts must be >= 0 and hue <= 0.5");
        }
        return Transform.named("colorJitter", (img, rng) -> {
            int[] order = {0, 1, 2, 3};
            for (int i = 3; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            double b = brightness > 0 ? uniform(rng, Math.max(0, 1 - brightness), 1 + brightness) : -1;
            double c = contrast > 0 ? uniform(rng, Math.max(0, 1 - contrast), 1 + contrast) : -1;
            double s = saturation > 0 ? uniform(rng, Math.max(0, 1 - saturation), 1 + saturation) : -1;
            double h = hue > 0 ? uniform(rng, -hue, hue) : Double.NaN;
            DecodedImage out = img;
            for (int op : order) {
                switch (op) {
                    case 0 -> out = b >= 0 ? ColorOps.brightness(out, b) : out;
                    case 1 -> out = c >= 0 ? ColorOps.contrast(out, c) : out;
                    case 2 -> out = s >= 0 ? ColorOps.saturation(out, s) : out;
                    default -> out = Double.isNaN(h) ? out : ColorOps.hue(out, h);
                }
            }
            return out;
        });
    }

    /** The 14 operations shared by RandAugment and TrivialAugmentWide. */
    enum Op {
        IDENTITY,
        SHEAR_X,
        SHEAR_Y,
        TRANSLATE_X,
        TRANSLATE_Y,
        ROTATE,
        BRIGHTNESS,
        COLOR,
        CONTRAST,
        SHARPNESS,
        POSTERIZE,
        SOLARIZE,
        AUTOCONTRAST,
        EQUALIZE
    }

    static DecodedImage applyOp(DecodedImage img, Op op, double mag) {
        return switch (op) {
            case IDENTITY -> img;
            case SHEAR_X -> ColorOps.affine(img, 1, mag, 0, 0, 1, 0);
            case SHEAR_Y -> ColorOps.affine(img, 1, 0, 0, mag, 1, 0);
            case TRANSLATE_X -> ColorOps.affine(img, 1, 0, -(int) mag, 0, 1, 0);
            case TRANSLATE_Y -> ColorOps.affine(img, 1, 0, 0, 0, 1, -(int) mag);
            case ROTATE -> ColorOps.rotate(img, mag);
            case BRIGHTNESS -> ColorOps.brightness(img, 1 + mag);
            case COLOR -> ColorOps.saturation(img, 1 + mag);
            case CONTRAST -> ColorOps.contrast(img, 1 + mag);
            case SHARPNESS -> ColorOps.sharpness(img, 1 + mag);
            case POSTERIZE -> ColorOps.posterize(img, (int) mag);
            case SOLARIZE -> ColorOps.solarize(img, mag);
            case AUTOCONTRAST -> ColorOps.autoContrast(img);
            case EQUALIZE -> ColorOps.equalize(img);
        };
    }

    private static double linspace(double lo, double hi, int bins, int i) {
        return bins == 1 ? lo : lo + (hi - lo) * i / (bins - 1);
    }

    /** Magnitude of op at bin i of {@code bins}, and whether it takes a random sign (torchvision tables). */
    static double magnitude(Op op, int i, int bins, int w, int h, boolean wide) {
        return switch (op) {
            case SHEAR_X, SHEAR_Y -> linspace(0, wide ? 0.99 : 0.3, bins, i);
            case TRANSLATE_X -> linspace(0, wide ? 32 : 150.0 / 331.0 * w, bins, i);
            case TRANSLATE_Y -> linspace(0, wide ? 32 : 150.0 / 331.0 * h, bins, i);
            case ROTATE -> linspace(0, wide ? 135 : 30, bins, i);
            case BRIGHTNESS, COLOR, CONTRAST, SHARPNESS -> linspace(0, wide ? 0.99 : 0.9, bins, i);
            case POSTERIZE -> 8 - (int) Math.rint(i / ((bins - 1) / (wide ? 6.0 : 4.0)));
            case SOLARIZE -> linspace(255, 0, bins, i);
            default -> 0;
        };
    }

    static boolean signed(Op op) {
        return switch (op) {
            case SHEAR_X, SHEAR_Y, TRANSLATE_X, TRANSLATE_Y, ROTATE, BRIGHTNESS, COLOR, CONTRAST, SHARPNESS -> true;
            default -> false;
        };
    }

    /** torchvision RandAugment(numOps, magnitude, numMagnitudeBins); defaults are (2, 9, 31). */
    public static Transform<DecodedImage, DecodedImage> randAugment(int numOps, int magnitude, int bins) {
        if (magnitude < 0 || magnitude >= bins) {
            throw new IllegalArgumentException("RandAugment magnitude must be in [0, " + bins + "), got " + magnitude);
        }
        Op[] ops = Op.values();
        return Transform.named("randAugment(" + numOps + ", " + magnitude + ")", (img, rng) -> {
            DecodedImage out = img;
            for (int k = 0; k < numOps; k++) {
                Op op = ops[rng.nextInt(ops.length)];
                double mag = magnitude(op, magnitude, bins, out.width(), out.height(), false);
                if (signed(op) && rng.nextBoolean()) {
                    mag = -mag;
                }
                out = applyOp(out, op, mag);
            }
            return out;
        });
    }

    /** torchvision TrivialAugmentWide with 31 magnitude bins: one op, random magnitude. */
    public static Transform<DecodedImage, DecodedImage> trivialAugmentWide() {
        Op[] ops = Op.values();
        int bins = 31;
        return Transform.named("trivialAugmentWide", (img, rng) -> {
            Op op = ops[rng.nextInt(ops.length)];
            double mag = magnitude(op, rng.nextInt(bins), bins, img.width(), img.height(), true);
            if (signed(op) && rng.nextBoolean()) {
                mag = -mag;
            }
            return applyOp(img, op, mag);
        });
    }

    /**
     * torchvision RandomErasing on a tensor: with probability p, a random box of area fraction in {@code scale} and
     * aspect in {@code ratio} is set to {@code value} (or to standard normal noise when value is NaN, timm's "pixel"
     * mode).
     */
    public static Transform<TensorImage, TensorImage> randomErasing(
            double p, double[] scale, double[] ratio, float value) {
        double[] s = scale.clone(), r = ratio.clone();
        return Transform.named("randomErasing(" + p + ")", (t, rng) -> {
            if (rng.nextDouble() >= p) {
                return t;
            }
            int ih = t.height(), iw = t.width();
            double area = (double) ih * iw;
            for (int attempt = 0; attempt < 10; attempt++) {
                double erase = area * uniform(rng, s[0], s[1]);
                double aspect = Math.exp(uniform(rng, Math.log(r[0]), Math.log(r[1])));
                int h = pyRound(Math.sqrt(erase * aspect));
                int w = pyRound(Math.sqrt(erase / aspect));
                if (!(h < ih && w < iw)) {
                    continue;
                }
                int top = rng.nextInt(ih - h + 1), left = rng.nextInt(iw - w + 1);
                float[] d = t.data().clone();
                for (int c = 0; c < t.channels(); c++) {
                    for (int y = top; y < top + h; y++) {
                        for (int x = left; x < left + w; x++) {
                            d[(c * ih + y) * iw + x] = Float.isNaN(value) ? (float) rng.nextGaussian() : value;
                        }
                    }
                }
                return new TensorImage(t.channels(), ih, iw, d);
            }
            return t;
        });
    }

    /**
     * RandomErasing as timm's training transform sets it up ({@code re_mode="pixel"}): scale (0.02, 1/3), ratio (0.3,
     * 3.3), the box filled with standard normal noise, after Normalize.
     */
    public static Transform<TensorImage, TensorImage> timmRandomErasing(double p) {
        return randomErasing(p, new double[] {0.02, 1.0 / 3}, new double[] {0.3, 3.3}, Float.NaN);
    }

    /** RandomErasing with torchvision defaults: scale (0.02, 0.33), ratio (0.3, 3.3), value 0. */
    public static Transform<TensorImage, TensorImage> randomErasing(double p) {
        return randomErasing(p, new double[] {0.02, 0.33}, new double[] {0.3, 3.3}, 0f);
    }
}
