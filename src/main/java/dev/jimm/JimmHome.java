package dev.jimm;

import java.nio.file.Path;
import java.util.function.Function;

/**
 * jimm's cache folder, for hub weights, datasets and unpacked native libraries: the {@code jimm.home}
 * system property, else {@code JIMM_HOME}, else {@code $XDG_CACHE_HOME/jimm}, else {@code ~/.cache/jimm}.
 */
public final class JimmHome {
    private JimmHome() {}

    /** The folder from this process's system properties and environment. */
    public static Path fromEnvironment() {
        return from(System::getProperty, System::getenv);
    }

    /** The folder from the given property and environment lookups (for tests and embedding). */
    public static Path from(Function<String, String> properties, Function<String, String> env) {
        for (String set : new String[] {properties.apply("jimm.home"), env.apply("JIMM_HOME")}) {
            if (set != null && !set.isBlank()) {
                return Path.of(set);
            }
        }
        String xdg = env.apply("XDG_CACHE_HOME");
        return xdg != null && !xdg.isBlank() ? Path.of(xdg, "jimm") : Path.of(System.getProperty("user.home"), ".cache", "jimm");
    }
}
