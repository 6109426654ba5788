package dev.jimm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which {@code malloc} serves this process's native memory, libtorch's tensors included, and how reference processes
 * are started without the one the {@code jimm} launcher preloads.
 *
 * <p>The launcher preloads gperftools' tcmalloc when it is installed, because the allocator decides how fast libtorch's
 * memory-bound kernels run. glibc's malloc gives large blocks back to the kernel and faults them in again on the next
 * batch; tcmalloc hands back the block just freed. ResNet-50 training at batch 32 on two cores: 4.10 images/s with
 * glibc's malloc, 5.82 with tcmalloc, and 7.96 million page faults against 1.47 million over five steps and the JVM's
 * start ({@code docs/performance.md}, "The allocator"). A program that embeds jimm gets the same by starting its JVM
 * with {@code LD_PRELOAD=libtcmalloc_minimal.so.4}; {@link #describe()} tells whether it did.
 */
public final class NativeAllocator {
    /** The variable in which the launcher names the allocator library it added to {@code LD_PRELOAD}. */
    public static final String LAUNCHER_PRELOAD = "JIMM_PRELOADED_MALLOC";

    private static final String[][] KNOWN = {
        {"libtcmalloc", "tcmalloc"}, {"libjemalloc", "jemalloc"}, {"libmimalloc", "mimalloc"},
    };

    private NativeAllocator() {}

    /**
     * This process's allocator, such as {@code "tcmalloc (/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4, preloaded
     * by ./jimm)"} or {@code "glibc malloc"}.
     */
    public static String describe() {
        List<String> maps;
        try {
            maps = Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException | RuntimeException e) {
            return "unknown (no /proc/self/maps)";
        }
        return describe(maps, System.getenv(LAUNCHER_PRELOAD));
    }

    /**
     * The allocator named by the mapped libraries of {@code mapsLines} (the lines of a {@code /proc/PID/maps});
     * {@code launcherPreload} is the launcher's {@link #LAUNCHER_PRELOAD}, or null.
     */
    static String describe(List<String> mapsLines, String launcherPreload) {
        for (String line : mapsLines) {
            int slash = line.indexOf('/');
            if (slash < 0) {
                continue;
            }
            String path = line.substring(slash).strip();
            String file = path.substring(path.lastIndexOf('/') + 1);
            for (String[] k : KNOWN) {
                if (file.startsWith(k[0] + ".so") || file.startsWith(k[0] + "_")) {
                    boolean byLauncher = launcherPreload != null && sameLibrary(launcherPreload, path);
                    return k[1] + " (" + path + (byLauncher ? ", preloaded by ./jimm" : "") + ")";
                }
            }
        }
        return "glibc malloc";
    }

    // the launcher names the library as ldconfig lists it (a symlink such as .so.4), the maps the
    // file it resolves to (.so.4.5.10)
    private static boolean sameLibrary(String preloaded, String mapped) {
        try {
            if (Path.of(preloaded).toRealPath().equals(Path.of(mapped).toRealPath())) {
                return true;
            }
        } catch (IOException | RuntimeException e) {
            // not on this machine: compare the names
        }
        String name = Path.of(preloaded).getFileName().toString();
        return Path.of(mapped).getFileName().toString().startsWith(name);
    }

    /**
     * Takes the library the launcher preloaded out of {@code env}'s {@code LD_PRELOAD} (a child process's environment),
     * so that a reference run such as PyTorch's gets its default allocator; entries the user put there stay. Returns
     * the library removed, if any.
     */
    public static Optional<String> removeLauncherPreload(Map<String, String> env) {
        String lib = env.remove(LAUNCHER_PRELOAD);
        String preload = env.get("LD_PRELOAD");
        if (lib == null || lib.isEmpty() || preload == null) {
            return Optional.empty();
        }
        List<String> kept = new ArrayList<>();
        boolean removed = false;
        // ld.so separates LD_PRELOAD entries by colons or spaces
        for (String entry : preload.split("[: ]+")) {
            if (!removed && entry.equals(lib)) {
                removed = true;
            } else if (!entry.isEmpty()) {
                kept.add(entry);
            }
        }
        if (kept.isEmpty()) {
            env.remove("LD_PRELOAD");
        } else {
            env.put("LD_PRELOAD", String.join(":", kept));
        }
        return removed ? Optional.of(lib) : Optional.empty();
    }
}
