package dev.jimm.models;

import dev.jimm.JimmException;

/** An unknown model name or pretrained tag. */
public class ModelNotFoundException extends JimmException {
    private static final long serialVersionUID = 1L;

    public ModelNotFoundException(String message) {
        super(message);
    }
}
