package dev.jimm;

/**
 * An error caused by what the user asked for or supplied (an unknown model name, a bad checkpoint, a wrong argument).
 * Its message is one line that names the thing at fault and what was expected, so the CLI can print it as it is.
 */
public class JimmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public JimmException(String message) {
        super(message);
    }

    public JimmException(String message, Throwable cause) {
        super(message, cause);
    }
}
