package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.data.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad training folders end in one line naming the file or folder at fault, never a stack trace. */
class BadDataCliTest {
    private static Path folder(Path root) throws Exception {
        return CliTest.twoClasses(root, 4, "one_pixel.png", "palette_color.png");
    }

    @Test
    void anEmptyClassFolderIsRefusedUpFront(@TempDir Path tmp) throws Exception {
        Path root = folder(tmp.resolve("data"));
        Files.createDirectories(root.resolve("c"));
        CliTest.Run r = CliTest.train(
                root, tmp.resolve("run"), "--epochs", "1", "--lr", "1e-3", "--batch-size", "2", "--img-size", "16");
        assertEquals(2, r.status(), r.err());
        assertEquals(
                "jimm: " + root.resolve("c") + ": class folder has no image files",
                r.err().strip().split(" \\(")[0]);
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void aTruncatedImageStopsTrainingWithOneLineNamingIt(@TempDir Path tmp) throws Exception {
        Path root = folder(tmp.resolve("data"));
        Path bad = Files.copy(TestFiles.resource("images/odd/truncated_skimage.jpg"), root.resolve("a/broken.jpg"));
        CliTest.Run r = CliTest.train(
                root,
                tmp.resolve("run"),
                "--epochs",
                "1",
                "--lr",
                "1e-3",
                "--batch-size",
                "4",
                "--valid-pct",
                "0.2",
                "--img-size",
                "16",
                "--threads",
                "2");
        assertEquals(1, r.status(), r.err());
        assertTrue(r.err().startsWith("jimm: " + bad + ": "), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertFalse(Files.exists(tmp.resolve("run/model.safetensors")));
    }
}
