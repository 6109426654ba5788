package dev.jimm.layers;

import dev.jimm.JimmException;

/** A state dict that does not fit a module: missing or unexpected keys, or a shape mismatch. */
public class StateDictException extends JimmException {
    private static final long serialVersionUID = 1L;

    public StateDictException(String message) {
        super(message);
    }
}
