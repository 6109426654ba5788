package dev.jimm.data;

import java.nio.file.Path;

/** An image file could not be decoded; the message names the file and the reason. */
public class ImageDecodeException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;

    public ImageDecodeException(Path file, String reason) {
        this(file, reason, null);
    }

    public ImageDecodeException(Path file, String reason, Throwable cause) {
        super(file + ": " + reason, cause);
        this.file = file;
    }

    /** The file that failed, or null when decoding from memory. */
    public Path file() {
        return file;
    }
}
