package dev.jimm.transforms;

import java.util.Locale;

/** fastai's ResizeMethod: how {@link FastaiResize} fits an image to a size with another aspect ratio. */
public enum ResizeMethod {
    /** Resize the whole image, distorting its aspect ratio. */
    SQUISH,
    /** Cut the largest box of the target aspect ratio (random position in training), then resize. */
    CROP,
    /** Reflect-pad to the target aspect ratio (random placement in training), then resize. */
    PAD;

    /** The lower-case name fastai and the command line use. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses "squish", "crop" or "pad", ignoring case and surrounding blanks. */
    public static ResizeMethod parse(String s) {
        if (s != null) {
            for (ResizeMethod m : values()) {
                if (m.cliName().equals(s.trim().toLowerCase(Locale.ROOT))) {
                    return m;
                }
            }
        }
        throw new IllegalArgumentException("resize method '" + s + "' not supported; expected squish, crop or pad");
    }
}
