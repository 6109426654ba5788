package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;
import java.util.SplittableRandom;

/**
 * fastai's {@code Resize} item transform (fastai/vision/augment.py) on 8-bit images, with its default reflection
 * padding and Pillow bilinear resampling. CROP and PAD first cut or pad the image to the target aspect ratio at a
 * position chosen by two fractions (the centre in validation, uniform draws in training), exactly as fastai's
 * {@code crop_pad} does on PIL images, then resize; SQUISH only resizes.
 *
 * @param height target height
 * @param width target width
 * @param method how the aspect ratio is matched
 * @param training draw the crop/pad position at random instead of centring it
 */
public record FastaiResize(int height, int width, ResizeMethod method, boolean training)
        implements Transform<DecodedImage, DecodedImage> {
    public FastaiResize {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("resize size must be positive, got " + height + "x" + width);
        }
        if (method == null) {
            throw new IllegalArgumentException("method must be one of squish, crop or pad, got null");
        }
    }

    @Override
    public DecodedImage apply(DecodedImage img, SplittableRandom rng) {
        if (method == ResizeMethod.SQUISH || !training) {
            return apply(img, 0.5, 0.5);
        }
        double pctX = rng.nextDouble();
        double pctY = rng.nextDouble();
        return apply(img, pctX, pctY);
    }

    /**
     * Resizes with the crop/pad box placed at the given fractions of the free space (fastai's {@code pcts}; ignored by
     * SQUISH).
     */
    public DecodedImage apply(DecodedImage img, double pctX, double pctY) {
        if (!(pctX >= 0 && pctX <= 1 && pctY >= 0 && pctY <= 1)) {
            throw new IllegalArgumentException("pctX and pctY must be in [0, 1], got " + pctX + ", " + pctY);
        }
        int w = img.width(), h = img.height();
        if (method == ResizeMethod.SQUISH) {
            return w == width && h == height ? img : PillowResize.resize(img, width, height, Interpolation.BILINEAR);
        }
        double rw = (double) w / width, rh = (double) h / height;
        // CROP keeps the smaller ratio (the box fits inside), PAD the larger (the box contains the image).
        double m = method == ResizeMethod.CROP ? (rw < rh ? rw : rh) : (rw > rh ? rw : rh);
        // A very thin image can give a box 0 pixels across (fastai then resizes an empty crop to black);
        // keeping at least one pixel is our only departure.
        int cpW = Math.max(1, (int) (m * width)), cpH = Math.max(1, (int) (m * height));
        // Python's int() truncates toward zero, like the cast: a box one pixel larger than the image
        // gives int(-0.5) = 0 and is cropped to the image instead of padded.
        int tlX = (int) (pctX * (w - cpW)), tlY = (int) (pctY * (h - cpH));
        DecodedImage boxed = cropPad(img, cpW, cpH, tlX, tlY);
        return PillowResize.resize(boxed, width, height, Interpolation.BILINEAR);
    }

    /**
     * fastai's {@code _do_crop_pad} for PIL images with reflection padding: if either top-left coordinate is
     * non-negative, crop the box from max(tl, 0) to min(max(tl, 0) + size, image size); then, if either is negative,
     * pad by max(-tl, 0) before and max(size - image size - that, 0) after, both measured on the original size.
     */
    public static DecodedImage cropPad(DecodedImage img, int cpW, int cpH, int tlX, int tlY) {
        if (cpW <= 0 || cpH <= 0) {
            throw new IllegalArgumentException("crop/pad size must be positive, got " + cpW + "x" + cpH);
        }
        int w = img.width(), h = img.height();
        if (tlX >= w || tlY >= h) {
            throw new IllegalArgumentException("top-left (" + tlX + ", " + tlY + ") must lie left of and above "
                    + "the image's far edges " + w + "x" + h);
        }
        DecodedImage out = img;
        if (tlX >= 0 || tlY >= 0) {
            int cx = Math.max(tlX, 0), cy = Math.max(tlY, 0);
            int bw = Math.min(cx + cpW, w) - cx, bh = Math.min(cy + cpH, h) - cy;
            if (cx != 0 || cy != 0 || bw != w || bh != h) {
                out = ImageOps.crop(img, cx, cy, bw, bh);
            }
        }
        if (tlX < 0 || tlY < 0) {
            int left = Math.max(-tlX, 0), top = Math.max(-tlY, 0);
            int right = Math.max(cpW - w - left, 0), bottom = Math.max(cpH - h - top, 0);
            out = padReflect(out, left, top, right, bottom);
        }
        return out;
    }

    /**
     * Pads with torchvision's {@code F.pad(padding_mode="reflect")} on a PIL image (numpy's "reflect"): mirrored about
     * the edge pixel without repeating it, again and again when the pad is wider than the image; a side of one pixel is
     * repeated (numpy's rule for a singleton axis).
     */
    public static DecodedImage padReflect(DecodedImage img, int left, int top, int right, int bottom) {
        if (left < 0 || top < 0 || right < 0 || bottom < 0) {
            throw new IllegalArgumentException(
                    "pads must be >= 0, got left " + left + " top " + top + " right " + right + " bottom " + bottom);
        }
        if ((left | top | right | bottom) == 0) {
            return img;
        }
        int w = img.width(), h = img.height(), c = img.channels();
        int ow = w + left + right, oh = h + top + bottom;
        int[] sx = new int[ow];
        for (int x = 0; x < ow; x++) {
            sx[x] = reflectIndex(x - left, w);
        }
        byte[] src = img.pixels();
        byte[] out = new byte[ow * oh * c];
        for (int y = 0; y < oh; y++) {
            int rowIn = reflectIndex(y - top, h) * w * c, rowOut = y * ow * c;
            for (int x = 0; x < ow; x++) {
                System.arraycopy(src, rowIn + sx[x] * c, out, rowOut + x * c, c);
            }
        }
        return img.with(ow, oh, c, out);
    }

    /** Index i mirrored into [0, n) with period 2(n - 1) (0 when n is 1). */
    static int reflectIndex(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        int r = Math.floorMod(i, period);
        return r < n ? r : period - r;
    }
}
