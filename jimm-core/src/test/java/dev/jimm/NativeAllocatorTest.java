package dev.jimm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which malloc a process runs on, the launcher's choice of it, and reference runs without it. */
class NativeAllocatorTest {
    private static final String TC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";

    private static List<String> maps(String... libs) {
        List<String> lines = new ArrayList<>(List.of(
                "55d4c0a00000-55d4c0a01000 r--p 00000000 fe:01 1234  /usr/lib/jvm/java-17-openjdk-amd64/bin/java",
                "7f00c0000000-7f00c0021000 rw-p 00000000 00:00 0 ",
                "7ffd6b1e2000-7ffd6b203000 rw-p 00000000 00:00 0                          [stack]"));
        for (String lib : libs) {
            lines.add(1, "7f12a4c00000-7f12a4c28000 r-xp 00000000 fe:01 5678  " + lib);
        }
        return lines;
    }

    @Test
    void namesTheAllocatorLibraryMappedIntoTheProcess() {
        assertEquals("glibc malloc", NativeAllocator.describe(maps("/usr/lib/x86_64-linux-gnu/libc.so.6"), null));
        assertEquals(
                "tcmalloc (" + TC + ".5.10, preloaded by ./jimm)",
                NativeAllocator.describe(
                        maps("/usr/lib/x86_64-linux-gnu/libc.so.6", TC + ".5.10"),
                        "/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"));
        assertEquals(
                "tcmalloc (" + TC + ")",
                NativeAllocator.describe(maps(TC), null),
                "preloaded by the user, not the launcher");
        assertEquals(
                "jemalloc (/usr/lib/x86_64-linux-gnu/libjemalloc.so.2)",
                NativeAllocator.describe(maps("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"), TC));
    }

    @Test
    void readsThisProcessesMaps() {
        // surefire starts the JVM with whatever LD_PRELOAD the build was given, normally none
        String preload = System.getenv().getOrDefault("LD_PRELOAD", "");
        String seen = NativeAllocator.describe();
        if (preload.contains("libtcmalloc")) {
            assertTrue(seen.startsWith("tcmalloc ("), seen);
        } else if (preload.isEmpty()) {
            assertEquals("glibc malloc", seen);
        }
    }

    @Test
    void referenceRunsLoseOnlyTheLaunchersPreload() {
        Map<String, String> env = new HashMap<>(Map.of(
                "LD_PRELOAD", TC + ":/opt/user/libfoo.so", NativeAllocator.LAUNCHER_PRELOAD, TC, "PATH", "/usr/bin"));
        assertEquals(Optional.of(TC), NativeAllocator.removeLauncherPreload(env));
        assertEquals("/opt/user/libfoo.so", env.get("LD_PRELOAD"));
        assertFalse(env.containsKey(NativeAllocator.LAUNCHER_PRELOAD));
        assertEquals("/usr/bin", env.get("PATH"));

        Map<String, String> only = new HashMap<>(Map.of("LD_PRELOAD", TC, NativeAllocator.LAUNCHER_PRELOAD, TC));
        NativeAllocator.removeLauncherPreload(only);
        assertNull(only.get("LD_PRELOAD"));

        Map<String, String> user = new HashMap<>(Map.of("LD_PRELOAD", TC));
        assertEquals(Optional.empty(), NativeAllocator.removeLauncherPreload(user), "the user's own preload stays");
        assertEquals(TC, user.get("LD_PRELOAD"));
    }

    @Test
    void theSameAllocatorIsNamedAsTheLauncherPreloadedItElseAsMapped() {
        String launcherName = "/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4";
        assertEquals(
                Optional.of(launcherName),
                NativeAllocator.library(maps("/usr/lib/x86_64-linux-gnu/libc.so.6", TC + ".5.10"), launcherName));
        assertEquals(Optional.of(TC + ".5.10"), NativeAllocator.library(maps(TC + ".5.10"), null));
        assertEquals(
                Optional.of("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"),
                NativeAllocator.library(maps("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"), TC),
                "the launcher's variable names another library than the one mapped");
        assertEquals(Optional.empty(), NativeAllocator.library(maps("/usr/lib/x86_64-linux-gnu/libc.so.6"), null));
    }

    @Test
    void aSameAllocatorRunPreloadsItFirstAndKeepsTheUsersEntries() {
        Map<String, String> env =
                new HashMap<>(Map.of("LD_PRELOAD", TC + " /opt/user/libfoo.so", NativeAllocator.LAUNCHER_PRELOAD, TC));
        NativeAllocator.preload(env, TC);
        assertEquals(TC + ":/opt/user/libfoo.so", env.get("LD_PRELOAD"));
        assertFalse(env.containsKey(NativeAllocator.LAUNCHER_PRELOAD));

        Map<String, String> none = new HashMap<>();
        NativeAllocator.preload(none, TC);
        assertEquals(TC, none.get("LD_PRELOAD"));
    }

    private static String[] launcher(Map<String, String> env) throws Exception {
        Path script = JimmHome.checkoutPath(NativeAllocatorTest.class, "jimm")
                .orElseThrow()
                .toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), "models").redirectErrorStream(true);
        pb.environment().remove("LD_PRELOAD");
        pb.environment().remove("JIMM_MALLOC");
        pb.environment().put("JIMM_DRY_RUN", "1");
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return new String[] {String.valueOf(p.waitFor()), out};
    }

    @Test
    void theLauncherPreloadsTheAllocatorItIsGivenOrNone(@TempDir Path dir) throws Exception {
        Path lib = Files.writeString(dir.resolve("libtcmalloc_minimal.so.4"), "");
        // the user's own preload must be a real library: bash itself starts with it
        String libc = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains("/libc.so") || l.contains("/libc-"))
                .map(l -> l.substring(l.indexOf('/')).strip())
                .findFirst()
                .orElseThrow();
        String[] given = launcher(Map.of("JIMM_MALLOC", lib.toString(), "LD_PRELOAD", libc));
        assertEquals("0", given[0], given[1]);
        assertTrue(given[1].startsWith("LD_PRELOAD=" + lib + ":" + libc + " java "), given[1]);

        String[] system = launcher(Map.of("JIMM_MALLOC", "system"));
        assertEquals("0", system[0], system[1]);
        assertTrue(system[1].startsWith("LD_PRELOAD= java "), system[1]);

        String[] missing = launcher(Map.of("JIMM_MALLOC", dir.resolve("nope.so").toString()));
        assertEquals("2", missing[0]);
        assertEquals(
                "jimm: JIMM_MALLOC=" + dir.resolve("nope.so")
                        + ": no such file (expected auto, system or the path of a malloc library)",
                missing[1]);
    }
}
