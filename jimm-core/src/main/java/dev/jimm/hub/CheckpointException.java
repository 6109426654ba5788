package dev.jimm.hub;

import dev.jimm.JimmException;

/** A checkpoint file that cannot be read: bad header, bad entry, unsupported or hostile content. */
public class CheckpointException extends JimmException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
