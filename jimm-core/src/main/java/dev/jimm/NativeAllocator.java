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
            String[] lib = knownLibrary(line);
            if (lib != null) {
                boolean byLauncher = launcherPreload != null && sameLibrary(launcherPreload, lib[0]);
                return lib[1] + " (" + lib[0] + (byLauncher ? ", preloaded by ./jimm" : "") + ")";
            }
        }
        return "glibc malloc";
    }

    /**
     * The path of the allocator library (tcmalloc, jemalloc or mimalloc) mapped into this process, as the launcher
     * named it when it preloaded it, else as {@code /proc/self/maps} has it; empty under glibc's malloc.
     */
    public static Optional<String> library() {
        String launcher = System.getenv(LAUNCHER_PRELOAD);
        List<String> maps;
        try {
            maps = Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return library(maps, launcher);
    }

    /** {@link #library()} of the given maps lines and launcher variable (null when unset). */
    static Optional<String> library(List<String> mapsLines, String launcherPreload) {
        for (String line : mapsLines) {
            String[] lib = knownLibrary(line);
            if (lib != null) {
                return Optional.of(
                        launcherPreload != null && sameLibrary(launcherPreload, lib[0]) ? launcherPreload : lib[0]);
            }
        }
        return Optional.empty();
    }

    // {path, allocator name} when the maps line maps one of the KNOWN libraries, else null
    private static String[] knownLibrary(String mapsLine) {
        int slash = mapsLine.indexOf('/');
        if (slash < 0) {
            return null;
        }
        String path = mapsLine.substring(slash).strip();
        String file = path.substring(path.lastIndexOf('/') + 1);
        for (String[] k : KNOWN) {
            if (file.startsWith(k[0] + ".so") || file.startsWith(k[0] + "_")) {
                return new String[] {path, k[1]};
            }
        }
        return null;
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

    /**
     * Makes {@code env} (a child process's environment) preload {@code library} first, in place of the launcher's
     * entry, so that a reference run gets the same allocator as this process; entries the user put there stay after it.
     */
    public static void preload(Map<String, String> env, String library) {
        removeLauncherPreload(env);
        String rest = env.get("LD_PRELOAD");
        List<String> kept = new ArrayList<>();
        kept.add(library);
        if (rest != null) {
            for (String entry : rest.split("[: ]+")) {
                if (!entry.isEmpty() && !entry.equals(library)) {
                    kept.add(entry);
                }
            }
        }
        env.put("LD_PRELOAD", String.join(":", kept));
    }
}
