package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;

/** Geometric pixel operations on 8-bit images shared by the transforms. */
public final class ImageOps {
    private ImageOps() {}

    /**
     * Crops the box (left, top, width, height); parts outside the image are filled with 0, like Pillow's crop (which
     * torchvision's CenterCrop relies on after padding).
     */
    public static DecodedImage crop(DecodedImage in, int left, int top, int w, int h) {
        int c = in.channels(), iw = in.width(), ih = in.height();
        byte[] out = new byte[w * h * c];
        byte[] src = in.pixels();
        int x0 = Math.max(0, left), x1 = Math.min(iw, left + w);
        if (x1 > x0) {
            for (int y = Math.max(0, top); y < Math.min(ih, top + h); y++) {
                System.arraycopy(src, (y * iw + x0) * c, out, ((y - top) * w + (x0 - left)) * c, (x1 - x0) * c);
            }
        }
        return in.with(w, h, c, out);
    }

    /** Mirror left-right. */
    public static DecodedImage hflip(DecodedImage in) {
        int c = in.channels(), w = in.width(), h = in.height();
        byte[] src = in.pixels(), out = new byte[src.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                System.arraycopy(src, (y * w + x) * c, out, (y * w + w - 1 - x) * c, c);
            }
        }
        return in.with(w, h, c, out);
    }

    /** Mirror top-bottom. */
    public static DecodedImage vflip(DecodedImage in) {
        int c = in.channels(), w = in.width(), h = in.height();
        byte[] src = in.pixels(), out = new byte[src.length];
        for (int y = 0; y < h; y++) {
            System.arraycopy(src, y * w * c, out, (h - 1 - y) * w * c, w * c);
        }
        return in.with(w, h, c, out);
    }

    /** torchvision's shorter-side resize size: the short side becomes {@code size}, the long side is truncated. */
    public static int[] shorterSideSize(int w, int h, int size, Integer maxSize) {
        boolean wShort = w <= h;
        int shortSide = wShort ? w : h, longSide = wShort ? h : w;
        int newShort = size, newLong = (int) ((long) size * longSide / shortSide);
        if (maxSize != null && newLong > maxSize) {
            newShort = (int) ((long) maxSize * newShort / newLong);
            newLong = maxSize;
        }
        return wShort ? new int[] {newShort, newLong} : new int[] {newLong, newShort};
    }
}
