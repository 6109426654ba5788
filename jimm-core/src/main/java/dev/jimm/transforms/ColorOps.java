package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;

/**
 * Pillow-style color and histogram operations on 8-bit images (PIL.ImageEnhance / ImageOps semantics), used by
 * ColorJitter, RandAugment and TrivialAugmentWide.
 */
public final class ColorOps {
    private ColorOps() {}

    /** Pillow's Image.blend(degenerate, img, factor) with its truncation and clipping. */
    static DecodedImage blend(DecodedImage img, byte[] degenerate, double factor) {
        byte[] src = img.pixels(), out = new byte[src.length];
        float a = (float) factor;
        for (int i = 0; i < src.length; i++) {
            float d = degenerate[i] & 0xFF;
            float t = d + a * ((src[i] & 0xFF) - d);
            out[i] = (byte) (t <= 0f ? 0 : t >= 255f ? 255 : (int) t);
        }
        return img.with(img.width(), img.height(), img.channels(), out);
    }

    /** Pillow's blend of one value, in float with truncation and clipping. */
    private static int blend1(int degenerate, int v, float a) {
        float d = degenerate;
        float t = d + a * (v - d);
        return t <= 0f ? 0 : t >= 255f ? 255 : (int) t;
    }

    /** Applies a 256-entry table to every sample. */
    private static DecodedImage lut(DecodedImage img, byte[] table) {
        byte[] src = img.pixels(), out = new byte[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = table[src[i] & 0xFF];
        }
        return img.with(img.width(), img.height(), img.channels(), out);
    }

    /** ImageEnhance.Brightness: blend with black (a table, as the result depends on the value only). */
    public static DecodedImage brightness(DecodedImage img, double factor) {
        byte[] table = new byte[256];
        float a = (float) factor;
        for (int v = 0; v < 256; v++) {
            table[v] = (byte) blend1(0, v, a);
        }
        return lut(img, table);
    }

    /** ImageEnhance.Contrast: blend with the rounded mean of the luma image. */
    public static DecodedImage contrast(DecodedImage img, double factor) {
        byte[] px = img.pixels();
        long sum = 0;
        if (img.channels() == 1) {
            for (byte b : px) {
                sum += b & 0xFF;
            }
        } else {
            for (int i = 0; i < px.length; i += 3) {
                sum += luma(px[i] & 0xFF, px[i + 1] & 0xFF, px[i + 2] & 0xFF);
            }
        }
        int mean = (int) (sum / (double) (img.width() * img.height()) + 0.5);
        byte[] table = new byte[256];
        float a = (float) factor;
        for (int v = 0; v < 256; v++) {
            table[v] = (byte) blend1(mean, v, a);
        }
        return lut(img, table);
    }

    /** Pillow's convert("L") of one pixel. */
    private static int luma(int r, int g, int b) {
        return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
    }

    /** ImageEnhance.Color: blend with the luma image (a no-op on gray images). */
    public static DecodedImage saturation(DecodedImage img, double factor) {
        if (img.channels() == 1) {
            return img;
        }
        byte[] src = img.pixels(), out = new byte[src.length];
        float a = (float) factor;
        if (src.length / 3 < SATURATION_TABLE_MIN_PIXELS) {
            for (int i = 0; i < src.length; i += 3) {
                int r = src[i] & 0xFF, g = src[i + 1] & 0xFF, b = src[i + 2] & 0xFF;
                int l = luma(r, g, b);
                out[i] = (byte) blend1(l, r, a);
                out[i + 1] = (byte) blend1(l, g, a);
                out[i + 2] = (byte) blend1(l, b, a);
            }
        } else {
            // the blend depends on (luma, value) only: one table of all 65,536 pairs, then three
            // lookups a pixel (same float arithmetic, so the same bytes)
            byte[] table = new byte[256 * 256];
            for (int l = 0; l < 256; l++) {
                int row = l << 8;
                for (int v = 0; v < 256; v++) {
                    table[row | v] = (byte) blend1(l, v, a);
                }
            }
            for (int i = 0; i < src.length; i += 3) {
                int r = src[i] & 0xFF, g = src[i + 1] & 0xFF, b = src[i + 2] & 0xFF;
                int row = luma(r, g, b) << 8;
                out[i] = table[row | r];
                out[i + 1] = table[row | g];
                out[i + 2] = table[row | b];
            }
        }
        return img.with(img.width(), img.height(), 3, out);
    }

    // below this many pixels, building the table costs more than blending each sample
    static final int SATURATION_TABLE_MIN_PIXELS = 12_000;

    /** ImageEnhance.Sharpness: blend with the 3x3 SMOOTH-filtered image (borders unchanged). */
    public static DecodedImage sharpness(DecodedImage img, double factor) {
        int w = img.width(), h = img.height(), c = img.channels();
        byte[] src = img.pixels(), deg = src.clone();
        for (int y = 1; y < h - 1; y++) {
            for (int x = 1; x < w - 1; x++) {
                for (int ch = 0; ch < c; ch++) {
                    int s = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            s += (src[((y + dy) * w + x + dx) * c + ch] & 0xFF) * (dx == 0 && dy == 0 ? 5 : 1);
                        }
                    }
                    deg[(y * w + x) * c + ch] = (byte) Math.min(255, (s + 6) / 13);
                }
            }
        }
        return blend(img, deg, factor);
    }

    /** Shifts hue by {@code factor} in [-0.5, 0.5] of a full turn (torchvision adjust_hue via HSV). */
    public static DecodedImage hue(DecodedImage img, double factor) {
        if (img.channels() == 1 || factor == 0) {
            return img;
        }
        byte[] src = img.pixels(), out = new byte[src.length];
        int shift = (int) Math.round(factor * 255); // torchvision shifts the uint8 H channel with wraparound
        for (int i = 0; i < src.length; i += 3) {
            int r = src[i] & 0xFF, g = src[i + 1] & 0xFF, b = src[i + 2] & 0xFF;
            int max = Math.max(r, Math.max(g, b)), min = Math.min(r, Math.min(g, b));
            if (max == min) {
                out[i] = src[i];
                out[i + 1] = src[i + 1];
                out[i + 2] = src[i + 2];
                continue;
            }
            double d = max - min;
            double hh;
            if (max == r) {
                hh = ((g - b) / d) / 6.0;
            } else if (max == g) {
                hh = (2.0 + (b - r) / d) / 6.0;
            } else {
                hh = (4.0 + (r - g) / d) / 6.0;
            }
            hh = hh - Math.floor(hh);
            int h8 = ((int) Math.round(hh * 255) + shift) & 0xFF;
            double s = d / max, v = max / 255.0;
            double hf = h8 / 255.0 * 6.0;
            int sector = (int) Math.floor(hf) % 6;
            double f = hf - Math.floor(hf);
            double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            double rr, gg, bb;
            switch (sector) {
                case 0 -> {
                    rr = v;
                    gg = t;
                    bb = p;
                }
                case 1 -> {
                    rr = q;
                    gg = v;
                    bb = p;
                }
                case 2 -> {
                    rr = p;
                    gg = v;
                    bb = t;
                }
                case 3 -> {
                    rr = p;
                    gg = q;
                    bb = v;
                }
                case 4 -> {
                    rr = t;
                    gg = p;
                    bb = v;
                }
                default -> {
                    rr = v;
                    gg = p;
                    bb = q;
                }
            }
            out[i] = (byte) Math.round(rr * 255);
            out[i + 1] = (byte) Math.round(gg * 255);
            out[i + 2] = (byte) Math.round(bb * 255);
        }
        return img.with(img.width(), img.height(), 3, out);
    }

    private static DecodedImage lut(DecodedImage img, int[][] luts) {
        byte[] src = img.pixels(), out = new byte[src.length];
        int c = img.channels();
        for (int i = 0; i < src.length; i++) {
            out[i] = (byte) luts[i % c][src[i] & 0xFF];
        }
        return img.with(img.width(), img.height(), c, out);
    }

    /** Keeps the top {@code bits} bits of every channel (ImageOps.posterize). */
    public static DecodedImage posterize(DecodedImage img, int bits) {
        int mask = ~((1 << (8 - Math.max(0, Math.min(8, bits)))) - 1) & 0xFF;
        byte[] src = img.pixels(), out = new byte[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = (byte) (src[i] & mask);
        }
        return img.with(img.width(), img.height(), img.channels(), out);
    }

    /** Inverts values at or above the threshold (ImageOps.solarize). */
    public static DecodedImage solarize(DecodedImage img, double threshold) {
        byte[] src = img.pixels(), out = new byte[src.length];
        for (int i = 0; i < src.length; i++) {
            int v = src[i] & 0xFF;
            out[i] = (byte) (v >= threshold ? 255 - v : v);
        }
        return img.with(img.width(), img.height(), img.channels(), out);
    }

    private static int[][] histograms(DecodedImage img) {
        int c = img.channels();
        int[][] h = new int[c][256];
        byte[] src = img.pixels();
        for (int i = 0; i < src.length; i++) {
            h[i % c][src[i] & 0xFF]++;
        }
        return h;
    }

    /** Stretches each channel to the full range (ImageOps.autocontrast, cutoff 0). */
    public static DecodedImage autoContrast(DecodedImage img) {
        int[][] hist = histograms(img);
        int[][] luts = new int[hist.length][256];
        for (int ch = 0; ch < hist.length; ch++) {
            int lo = 0, hi = 255;
            while (lo < 256 && hist[ch][lo] == 0) {
                lo++;
            }
            while (hi >= 0 && hist[ch][hi] == 0) {
                hi--;
            }
            for (int i = 0; i < 256; i++) {
                if (hi <= lo) {
                    luts[ch][i] = i;
                } else {
                    double scale = 255.0 / (hi - lo);
                    int v = (int) (i * scale - lo * scale);
                    luts[ch][i] = Math.max(0, Math.min(255, v));
                }
            }
        }
        return lut(img, luts);
    }

    /** Histogram equalization per channel (ImageOps.equalize). */
    public static DecodedImage equalize(DecodedImage img) {
        int[][] hist = histograms(img);
        int[][] luts = new int[hist.length][256];
        for (int ch = 0; ch < hist.length; ch++) {
            int[] h = hist[ch];
            int total = 0, last = 0;
            for (int i = 0; i < 256; i++) {
                total += h[i];
                if (h[i] != 0) {
                    last = h[i];
                }
            }
            int step = (total - last) / 255;
            if (step == 0) {
                for (int i = 0; i < 256; i++) {
                    luts[ch][i] = i;
                }
            } else {
                int n = step / 2;
                for (int i = 0; i < 256; i++) {
                    luts[ch][i] = Math.min(255, n / step);
                    n += h[i];
                }
            }
        }
        return lut(img, luts);
    }

    /**
     * Inverse-mapped affine warp with nearest sampling and zero fill: output (x, y) reads input (a*x + b*y + c, d*x +
     * e*y + f), pixel centers at +0.5 as in PIL's Image.transform.
     */
    public static DecodedImage affine(DecodedImage img, double a, double b, double c, double d, double e, double f) {
        int w = img.width(), h = img.height(), ch = img.channels();
        byte[] src = img.pixels(), out = new byte[src.length];
        for (int y = 0; y < h; y++) {
            double yc = y + 0.5;
            for (int x = 0; x < w; x++) {
                double xc = x + 0.5;
                int sx = (int) Math.floor(a * xc + b * yc + c);
                int sy = (int) Math.floor(d * xc + e * yc + f);
                if (sx >= 0 && sx < w && sy >= 0 && sy < h) {
                    System.arraycopy(src, (sy * w + sx) * ch, out, (y * w + x) * ch, ch);
                }
            }
        }
        return img.with(w, h, ch, out);
    }

    /** Counter-clockwise rotation by {@code degrees} about the center, nearest, zero fill. */
    public static DecodedImage rotate(DecodedImage img, double degrees) {
        double t = Math.toRadians(degrees), cos = Math.cos(t), sin = Math.sin(t);
        double cx = img.width() / 2.0, cy = img.height() / 2.0;
        // Inverse of a CCW rotation on screen (y down): src = R(t) applied with flipped y sense.
        return affine(img, cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy);
    }
}
