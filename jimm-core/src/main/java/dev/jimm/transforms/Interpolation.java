package dev.jimm.transforms;

import java.util.Locale;

/** Resampling filters, with Pillow's definitions and supports. */
public enum Interpolation {
    NEAREST(0.0),
    BILINEAR(1.0),
    BICUBIC(2.0);

    private final double support;

    Interpolation(double support) {
        this.support = support;
    }

    /** Filter support radius at scale 1 (Pillow's filter->support). */
    public double support() {
        return support;
    }

    /** Filter weight at distance x. */
    double filter(double x) {
        x = Math.abs(x);
        switch (this) {
            case BILINEAR:
                return x < 1.0 ? 1.0 - x : 0.0;
            case BICUBIC: {
                final double a = -0.5; // Pillow's (and PyTorch's antialias) bicubic
                if (x < 1.0) {
                    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
                }
                if (x < 2.0) {
                    return (((x - 5) * x + 8) * x - 4) * a;
                }
                return 0.0;
            }
            default:
                return 0.0;
        }
    }

    /** Parses timm/torchvision names: "bilinear", "bicubic", "nearest". */
    public static Interpolation parse(String s) {
        try {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "interpolation '" + s + "' not supported; expected bilinear, bicubic or nearest");
        }
    }
}
