package dev.jimm.data;

import java.util.Objects;

/**
 * How {@link ImageDecoder} decodes a file.
 *
 * @param maxPixels refuse images whose header declares more pixels than this (decompression bombs)
 * @param channels 3 for RGB output, 1 for gray (a model built with inChans = 1)
 * @param applyExifOrientation rotate/flip JPEGs per their EXIF orientation tag so photos show upright
 * @param alpha what happens to transparency
 * @param libjpegTurbo decode well-formed JPEGs with libjpeg-turbo ({@link TurboJpeg}) when it is loaded; false sends
 *     every file through ImageIO (same pixels, slower)
 */
public record DecodeOptions(
        long maxPixels, int channels, boolean applyExifOrientation, Alpha alpha, boolean libjpegTurbo) {
    /** Treatment of an alpha channel. */
    public enum Alpha {
        /** Composite on a white background: transparent areas turn white (the default). */
        COMPOSITE_WHITE,
        /** Ignore alpha and keep the stored colors, as Pillow's convert("RGB") (torchvision's loader) does. */
        DROP
    }

    /** Pillow's Image.MAX_IMAGE_PIXELS: 1024 * 1024 * 1024 / 4 / 3. */
    public static final long PILLOW_MAX_PIXELS = 89_478_485L;

    public DecodeOptions {
        if (maxPixels <= 0) {
            throw new IllegalArgumentException("maxPixels must be positive, got " + maxPixels);
        }
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        Objects.requireNonNull(alpha, "alpha");
    }

    /** RGB, Pillow's pixel limit, EXIF orientation applied. */
    public static DecodeOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Builder for {@link DecodeOptions}. */
    public static final class Builder {
        private long maxPixels = PILLOW_MAX_PIXELS;
        private int channels = 3;
        private boolean applyExifOrientation = true;
        private Alpha alpha = Alpha.COMPOSITE_WHITE;
        private boolean libjpegTurbo = true;

        public Builder maxPixels(long v) {
            maxPixels = v;
            return this;
        }

        public Builder channels(int v) {
            channels = v;
            return this;
        }

        public Builder applyExifOrientation(boolean v) {
            applyExifOrientation = v;
            return this;
        }

        public Builder alpha(Alpha v) {
            alpha = v;
            return this;
        }

        public Builder libjpegTurbo(boolean v) {
            libjpegTurbo = v;
            return this;
        }

        public DecodeOptions build() {
            return new DecodeOptions(maxPixels, channels, applyExifOrientation, alpha, libjpegTurbo);
        }
    }
}
