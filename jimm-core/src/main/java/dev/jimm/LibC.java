package dev.jimm;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.util.Optional;

/**
 * The few C library functions jimm calls ({@link OneDnn}'s environment, {@link NativeTuning}'s allocator), bound once
 * per process through JNA. A function the platform's C library lacks throws {@link UnsatisfiedLinkError} when called.
 */
interface LibC extends Library {
    int setenv(String name, String value, int overwrite);

    String getenv(String name);

    int mallopt(int param, int value);

    /** The process's C library, or empty where JNA cannot bind it. */
    static Optional<LibC> get() {
        return Binding.LIBC;
    }

    /** Bound the first time it is asked for; the binding is immutable and process-wide. */
    final class Binding {
        private static final Optional<LibC> LIBC = load();

        private Binding() {}

        private static Optional<LibC> load() {
            try {
                return Optional.of(Native.load("c", LibC.class));
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                return Optional.empty();
            }
        }
    }
}
