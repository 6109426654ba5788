package dev.jimm.layers;

import dev.jimm.JimmException;
import java.util.List;

/**
 * A state dict that does not fit a module: missing or unexpected keys, or a shape mismatch. The message gives counts
 * and the first few keys of each kind (a checkpoint of another architecture differs in hundreds);
 * {@link #missingKeys()}, {@link #unexpectedKeys()} and {@link #mismatchedKeys()} hold them all.
 */
public class StateDictException extends JimmException {
    private static final long serialVersionUID = 1L;

    /** How many keys of each kind the message names. */
    private static final int SHOWN = 4;

    private final List<String> missing;
    private final List<String> unexpected;
    private final List<String> mismatched;

    public StateDictException(String message) {
        this(message, List.of(), List.of(), List.of());
    }

    private StateDictException(String message, List<String> missing, List<String> unexpected, List<String> mismatched) {
        super(message);
        this.missing = List.copyOf(missing);
        this.unexpected = List.copyOf(unexpected);
        this.mismatched = List.copyOf(mismatched);
    }

    /**
     * An error for keys that do not fit, summarised after {@code what}.
     *
     * @param missing keys the module has and the source lacks
     * @param unexpected keys the source has and the module lacks
     * @param mismatched keys of both with other shapes, each as {@code key: checkpoint [..], model [..]}
     * @param hint what to do about it, appended when not empty
     */
    public static StateDictException of(
            String what, List<String> missing, List<String> unexpected, List<String> mismatched, String hint) {
        StringBuilder m = new StringBuilder(what).append(": ");
        String sep = "";
        if (!mismatched.isEmpty()) {
            m.append(sep).append(count(mismatched.size(), "key")).append(" of another shape (");
            m.append(first(mismatched, "; ")).append(')');
            sep = ", ";
        }
        if (!missing.isEmpty()) {
            m.append(sep)
                    .append(count(missing.size(), "key"))
                    .append(" missing (")
                    .append(first(missing, ", "));
            m.append(')');
            sep = ", ";
        }
        if (!unexpected.isEmpty()) {
            m.append(sep).append(count(unexpected.size(), "unexpected key")).append(" (");
            m.append(first(unexpected, ", ")).append(')');
        }
        if (hint != null && !hint.isEmpty()) {
            m.append("; ").append(hint);
        }
        return new StateDictException(m.toString(), missing, unexpected, mismatched);
    }

    /** The same error with a hint appended (for a caller that knows more, such as the likely architecture). */
    public StateDictException withHint(String hint) {
        StateDictException e = new StateDictException(getMessage() + "; " + hint, missing, unexpected, mismatched);
        e.initCause(this);
        return e;
    }

    private static String count(int n, String noun) {
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private static String first(List<String> keys, String sep) {
        List<String> shown = keys.subList(0, Math.min(SHOWN, keys.size()));
        return String.join(sep, shown) + (keys.size() > SHOWN ? sep + "…" : "");
    }

    /** Every key the module has and the source lacked. */
    public List<String> missingKeys() {
        return missing;
    }

    /** Every key the source had and the module lacks. */
    public List<String> unexpectedKeys() {
        return unexpected;
    }

    /** Every key of another shape, as {@code key: checkpoint [..], model [..]}. */
    public List<String> mismatchedKeys() {
        return mismatched;
    }
}
