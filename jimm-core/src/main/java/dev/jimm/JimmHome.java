package dev.jimm;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;

/**
 * jimm's cache folder, for hub weights, datasets and unpacked native libraries: the {@code jimm.home} system property,
 * else {@code JIMM_HOME}, else {@code $XDG_CACHE_HOME/jimm}, else {@code ~/.cache/jimm}.
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
        return xdg != null && !xdg.isBlank()
                ? Path.of(xdg, "jimm")
                : Path.of(System.getProperty("user.home"), ".cache", "jimm");
    }

    /**
     * A file or folder of the jimm checkout (such as {@code samples} or {@code scripts/bench_pytorch.py}): relative to
     * the working folder, else in the nearest folder above the jar or classes folder that {@code anchor} was loaded
     * from. Empty when neither has it.
     */
    public static Optional<Path> checkoutPath(Class<?> anchor, String relative) {
        Path local = Path.of(relative);
        if (Files.exists(local)) {
            return Optional.of(local);
        }
        try {
            Path p = Path.of(
                    anchor.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (int up = 0; up < 5 && p != null; up++, p = p.getParent()) {
                if (Files.exists(p.resolve(relative))) {
                    return Optional.of(p.resolve(relative));
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            // no code source on this class path: only the working folder counts
        }
        return Optional.empty();
    }
}
