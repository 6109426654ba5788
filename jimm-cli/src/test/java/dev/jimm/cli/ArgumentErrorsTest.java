package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jimm.data.TestFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad arguments end in one line naming the argument and what is expected, with exit status 2. */
class ArgumentErrorsTest {
    private static void expectUsageError(String expectedFragment, String... args) {
        CliTest.Run r = CliTest.run(args);
        assertEquals(2, r.status(), String.join(" ", args) + ": " + r.err());
        String err = r.err().strip();
        assertTrue(err.lines().count() <= 2, "one line (and a usage hint at most): " + err);
        assertTrue(err.startsWith("jimm: ") && err.contains(expectedFragment), err);
        assertTrue(!err.contains("\tat "), "no stack trace without --debug: " + err);
    }

    @Test
    void trainArgumentsAreCheckedBeforeAnyWork(@TempDir Path tmp) throws Exception {
        expectUsageError(
                "unknown model 'nosuchnet'",
                "train",
                "fashion-mnist-sample",
                "--model",
                "nosuchnet",
                "--out",
                tmp.resolve("a").toString());
        expectUsageError("'/no/such/folder' is neither a folder nor a dataset name", "train", "/no/such/folder");
        expectUsageError("--lr must be a positive number", "train", "fashion-mnist-sample", "--lr", "-1");
        expectUsageError(
                "(--batch-size) must be at least 1, got 0", "train", "fashion-mnist-sample", "--batch-size", "0");
        Path one = tmp.resolve("oneclass");
        Files.createDirectories(one.resolve("cats"));
        Files.copy(TestFiles.resource("images/real/chelsea.png"), one.resolve("cats/a.png"));
        expectUsageError(
                "a classifier needs at least two",
                "train",
                one.toString(),
                "--out",
                tmp.resolve("b").toString());
    }

    @Test
    void predictAndEvalNameTheMissingModel() {
        expectUsageError("/no/run: no exported model there", "predict", "/no/run", "x.png");
        expectUsageError("--top-k must be at least 1", "predict", "/no/run", "x.png", "--top-k", "0");
        expectUsageError("/no/run: no exported model there", "eval", "/no/run", "fashion-mnist-sample");
    }
}
