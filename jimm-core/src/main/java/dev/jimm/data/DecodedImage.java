package dev.jimm.data;

/**
 * An 8-bit image in interleaved HWC layout (channels = 1 or 3), as decoded and oriented.
 *
 * @param width pixels per row
 * @param height rows
 * @param channels 1 (gray) or 3 (RGB)
 * @param pixels row-major, channel-interleaved bytes (unsigned)
 * @param format the container format name as reported by the decoder, e.g. "png", "jpeg"
 */
public record DecodedImage(int width, int height, int channels, byte[] pixels, String format) {
    public DecodedImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (pixels.length != (long) width * height * channels) {
            throw new IllegalArgumentException(
                    "pixel buffer has " + pixels.length + " bytes, expected " + (long) width * height * channels);
        }
    }

    /** Unsigned value of channel c at (x, y). */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * channels + c] & 0xFF;
    }

    /** A new image with this image's format name. */
    public DecodedImage with(int w, int h, int ch, byte[] px) {
        return new DecodedImage(w, h, ch, px, format);
    }

    /** This image as 3-channel RGB (gray replicated, like Pillow's convert("RGB")). */
    public DecodedImage toRgb() {
        if (channels == 3) {
            return this;
        }
        byte[] out = new byte[width * height * 3];
        for (int i = 0, n = width * height; i < n; i++) {
            byte v = pixels[i];
            out[3 * i] = v;
            out[3 * i + 1] = v;
            out[3 * i + 2] = v;
        }
        return with(width, height, 3, out);
    }

    /** This image as one channel, ITU-R 601-2 luma with Pillow's integer rounding (convert("L")). */
    public DecodedImage toGray() {
        if (channels == 1) {
            return this;
        }
        byte[] out = new byte[width * height];
        for (int i = 0, n = width * height; i < n; i++) {
            int r = pixels[3 * i] & 0xFF, g = pixels[3 * i + 1] & 0xFF, b = pixels[3 * i + 2] & 0xFF;
            // Pillow: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16
            out[i] = (byte) ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
        }
        return with(width, height, 1, out);
    }
}
