package dev.jimm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    static List<Path> temps(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(AtomicFiles::isTemp).toList();
        }
    }

    @Test
    void replacesTheFileAndLeavesNoTemporary(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("sub").resolve("config.json");
        AtomicFiles.writeString(f, "one");
        AtomicFiles.writeString(f, "two, longer");
        assertEquals("two, longer", Files.readString(f));
        assertEquals(List.of(), temps(f.getParent()));
    }

    @Test
    void aFailingWriteKeepsThePreviousFileAndRemovesItsTemporary(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("metrics.csv");
        AtomicFiles.writeString(f, "epoch,train_loss\n0,1.5\n");
        IOException e = assertThrows(
                IOException.class,
                () -> AtomicFiles.writeStream(f, out -> {
                    out.write("epoch,train_loss\n0,1.5\n1,".getBytes());
                    throw new IOException("disk full (simulated)");
                }));
        assertEquals("disk full (simulated)", e.getMessage());
        assertEquals("epoch,train_loss\n0,1.5\n", Files.readString(f));
        assertEquals(List.of(), temps(dir));
        // a RuntimeException in the body is no different
        assertThrows(IllegalStateException.class, () -> AtomicFiles.writeBytes(f, null == null ? boom() : new byte[0]));
        assertEquals("epoch,train_loss\n0,1.5\n", Files.readString(f));
    }

    private static byte[] boom() {
        throw new IllegalStateException("boom");
    }

    @Test
    void temporariesOfDeadWritersAreRemovedOnTheNextWriteButNotThoseOfLiveOnes(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("checkpoint.safetensors");
        // a pid far above pid_max is never alive
        Path dead = Files.write(
                dir.resolve(".checkpoint.safetensors.99999999.abc" + AtomicFiles.TEMP_SUFFIX), new byte[100]);
        Path live = Files.write(
                dir.resolve(
                        ".checkpoint.safetensors." + ProcessHandle.current().pid() + ".xyz" + AtomicFiles.TEMP_SUFFIX),
                new byte[100]);
        Path other =
                Files.write(dir.resolve(".best.safetensors.99999999.abc" + AtomicFiles.TEMP_SUFFIX), new byte[100]);
        assertTrue(AtomicFiles.isTemp(dead) && !AtomicFiles.isTemp(f));
        AtomicFiles.writeString(f, "x");
        assertFalse(Files.exists(dead), "left by a killed writer");
        assertTrue(Files.exists(live), "another thread of a live process may be writing it");
        assertTrue(Files.exists(other), "only the target's own temporaries are touched");
    }
}
