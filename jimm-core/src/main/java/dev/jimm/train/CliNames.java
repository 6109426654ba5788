package dev.jimm.train;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The command-line names of closed sets of choices (enums): lower-case constant names, parsed case-insensitively. */
public final class CliNames {
    private CliNames() {}

    /** The name of {@code choice} on the command line and in config files: its constant's name in lower case. */
    public static String of(Enum<?> choice) {
        return choice.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The choice named {@code text} (case-insensitive, trimmed) among {@code values}; otherwise an error naming
     * {@code option} and listing the valid names.
     */
    public static <E extends Enum<E>> E parse(E[] values, String text, String option) {
        for (E e : values) {
            if (of(e).equalsIgnoreCase(text.trim())) {
                return e;
            }
        }
        throw new IllegalArgumentException(option + " must be one of " + names(values) + ", got '" + text + "'");
    }

    /** The names of {@code values}, comma-separated. */
    public static String names(Enum<?>[] values) {
        return Arrays.stream(values).map(CliNames::of).collect(Collectors.joining(", "));
    }
}
