package dev.jimm.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.sun.net.httpserver.HttpServer;
import dev.jimm.AtomicFiles;
import dev.jimm.data.Downloads;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.train.RunLock;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM and SIGINT to a {@code jimm train} child JVM in the middle of an epoch: exit status 143 or 130, one line
 * saying where it stopped and how to continue, a checkpoint of that batch that {@code --resume} continues to exactly
 * the uninterrupted run's metrics, and no JVM crash log. Also a second SIGINT (quits at once), a checkpoint save that
 * fails (a file-size limit, as a full disk: one line, the previous checkpoint intact) and the run folder's lock.
 */
class StopSignalsTest {
    /** Training batches per epoch: 2,000 sample images in batches of 64. */
    private static final int BATCHES = 31;

    private static final Pattern PROGRESS = Pattern.compile("^epoch 1/1  batch (\\d+)/" + BATCHES + " ");

    @TempDir
    static Path shared;

    private static CliTest.Run reference;

    private static List<String> trainArgs(Path out) {
        return List.of(
                "train",
                "fashion-mnist-sample",
                "--model",
                "test_resnet",
                "--img-size",
                "16",
                "--epochs",
                "1",
                "--lr",
                "1e-2",
                "--batch-size",
                "64",
                "--seed",
                "5",
                "--threads",
                "2",
                "--out",
                out.toString());
    }

    /** The uninterrupted run (the fastai head's dropout included), trained once for the tests that resume to it. */
    private static synchronized CliTest.Run reference() {
        if (reference == null) {
            List<String> args = new ArrayList<>(trainArgs(shared.resolve("reference")));
            args.add("--json");
            reference = CliTest.run(args.toArray(String[]::new));
            assertEquals(0, reference.status(), reference.err());
        }
        return reference;
    }

    /** A jimm child JVM in {@code dir} (its working folder, where a crash log would go), output in NAME.out/.err. */
    private static Process child(Path dir, String name, List<String> jimmArgs, int fileSizeLimitKb) throws IOException {
        return child(dir, name, jimmArgs, fileSizeLimitKb, List.of());
    }

    /** As {@link #child(Path, String, List, int)}, with JVM options such as system properties. */
    private static Process child(Path dir, String name, List<String> jimmArgs, int fileSizeLimitKb, List<String> jvm)
            throws IOException {
        List<String> cmd = new ArrayList<>();
        if (fileSizeLimitKb > 0) {
            // writes past the limit fail with EFBIG ("File too large"), as on a full disk (the JVM ignores SIGXFSZ)
            cmd.addAll(List.of("bash", "-c", "ulimit -f " + fileSizeLimitKb + " && exec \"$0\" \"$@\""));
        }
        cmd.addAll(List.of(
                ProcessHandle.current()
                        .info()
                        .command()
                        .orElse(Path.of(System.getProperty("java.home"), "bin", "java")
                                .toString()),
                "-cp",
                System.getProperty("java.class.path"),
                "-Dai.djl.offline=true"));
        if (System.getProperty("jimm.samples") != null) {
            cmd.add("-Djimm.samples=" + System.getProperty("jimm.samples"));
        }
        cmd.addAll(jvm);
        cmd.add("dev.jimm.cli.Main");
        cmd.addAll(jimmArgs);
        return new ProcessBuilder(cmd)
                .directory(dir.toFile())
                .redirectOutput(dir.resolve(name + ".out").toFile())
                .redirectError(dir.resolve(name + ".err").toFile())
                .start();
    }

    /** Waits until the child's progress lines reach training batch {@code atLeast}; returns the batch seen. */
    private static int awaitBatch(Process p, Path err, int atLeast) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (Files.exists(err)) {
                for (String line : Files.readAllLines(err)) {
                    Matcher m = PROGRESS.matcher(line);
                    if (m.find() && Integer.parseInt(m.group(1)) >= atLeast) {
                        return Integer.parseInt(m.group(1));
                    }
                }
            }
            assertTrue(p.isAlive(), "the child ended before batch " + atLeast + ": " + Files.readString(err));
            Thread.sleep(20);
        }
        throw new AssertionError("no batch " + atLeast + " within 5 minutes: " + Files.readString(err));
    }

    /** Waits until the child's output {@code err} has a line that starts with {@code prefix}. */
    private static void awaitLine(Process p, Path err, String prefix) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (Files.readAllLines(err).stream().anyMatch(l -> l.startsWith(prefix)) || !p.isAlive()) {
                return;
            }
            Thread.sleep(2);
        }
        throw new AssertionError("no line '" + prefix + "' within 5 minutes: " + Files.readString(err));
    }

    private static int awaitExit(Process p) throws InterruptedException {
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("the child did not end");
        }
        return p.exitValue();
    }

    private static void sigint(Process p) throws Exception {
        assertEquals(
                0,
                new ProcessBuilder("kill", "-INT", Long.toString(p.pid()))
                        .start()
                        .waitFor());
    }

    /** SIGINT stays ignored in a process started in the background by a non-interactive shell: nothing to test then. */
    private static void assumeSigintIsHandled(Process p) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(p.pid()), "status"))) {
            if (line.startsWith("SigIgn:")) {
                long ignored = Long.parseUnsignedLong(line.substring(7).strip(), 16);
                if ((ignored & 2) != 0) {
                    p.destroyForcibly();
                }
                Assumptions.assumeTrue(
                        (ignored & 2) == 0, "SIGINT is ignored in this process tree (started in the background)");
            }
        }
    }

    private static String lastLine(Path file) throws IOException {
        List<String> lines = Files.readAllLines(file);
        return lines.isEmpty() ? "" : lines.get(lines.size() - 1);
    }

    /** Where a checkpoint says the run is: {epochs_done, batches_done}. */
    private static int[] position(Path ckpt) {
        try (SafetensorsFile f = SafetensorsFile.open(ckpt)) {
            JsonObject meta =
                    JsonParser.parseString(f.metadata().get("jimm.checkpoint")).getAsJsonObject();
            return new int[] {
                meta.get("epochs_done").getAsInt(),
                meta.has("batches_done") ? meta.get("batches_done").getAsInt() : 0
            };
        }
    }

    private static void assertNoCrashLogOrTempFiles(Path dir, Path run) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> logs = s.filter(p -> p.getFileName().toString().startsWith("hs_err_pid"))
                    .toList();
            assertTrue(logs.isEmpty(), "JVM crash logs: " + logs);
        }
        try (Stream<Path> s = Files.list(run)) {
            List<Path> temps = s.filter(AtomicFiles::isTemp).toList();
            assertTrue(temps.isEmpty(), "temporary files left: " + temps);
        }
    }

    /** A stopped child's one line: where it stopped, what keeps it, how to continue. Returns the batch. */
    private static int assertStopLine(Path err, String signal, Path run, int seen) throws IOException {
        String text = Files.readString(err);
        assertFalse(text.contains("Exception") || text.contains("\tat "), text);
        assertTrue(
                text.contains("jimm: " + signal + ": stopping after the current batch (send it again to quit at once)"),
                text);
        Matcher m = Pattern.compile("^jimm: " + signal + ": stopped after batch (\\d+) of " + BATCHES
                        + " in epoch 1 of 1; "
                        + Pattern.quote(run.resolve("checkpoint.safetensors").toString())
                        + " keeps it \\(continue with: jimm train --resume " + Pattern.quote(run.toString()) + "\\)$")
                .matcher(lastLine(err));
        assertTrue(m.find(), "the last line: " + lastLine(err));
        int batch = Integer.parseInt(m.group(1));
        assertTrue(batch >= seen && batch < BATCHES, "stopped after batch " + batch + ", seen " + seen);
        assertEquals(batch, position(run.resolve("checkpoint.safetensors"))[1], "the checkpoint's batch");
        assertEquals(0, position(run.resolve("checkpoint.safetensors"))[0]);
        assertFalse(Files.exists(run.resolve("model.safetensors")), "a stopped run exports nothing");
        return batch;
    }

    /** {@code jimm train --resume run} in-process ends with the reference's metrics, to the last bit. */
    private static void assertResumesToTheReference(Path run) throws IOException {
        CliTest.Run ref = reference();
        CliTest.Run resumed = CliTest.run("train", "--resume", run.toString(), "--json");
        assertEquals(0, resumed.status(), resumed.err());
        for (String k : List.of("valid_loss", "accuracy", "f1_macro")) {
            assertEquals(ref.json().get(k).getAsDouble(), resumed.json().get(k).getAsDouble(), 0.0, k);
        }
        List<String> a = Files.readAllLines(shared.resolve("reference").resolve("metrics.csv"));
        List<String> b = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(a.size(), b.size());
        for (int i = 0; i < a.size(); i++) {
            // the time column aside: train_loss (the mean over the epoch's batches), smoothed loss, valid loss, metrics
            assertEquals(
                    a.get(i).substring(0, a.get(i).lastIndexOf(',')),
                    b.get(i).substring(0, b.get(i).lastIndexOf(',')),
                    "metrics.csv line " + i);
        }
    }

    @Test
    void sigtermStopsAfterABatchAndAFailedSaveKeepsThatCheckpoint(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        List<String> args = new ArrayList<>(trainArgs(run));
        args.addAll(List.of("--progress-every", "0"));
        Process p = child(dir, "term", args, 0);
        int seen = awaitBatch(p, dir.resolve("term.err"), 3);
        p.destroy(); // SIGTERM
        assertEquals(143, awaitExit(p), Files.readString(dir.resolve("term.err")));
        int stoppedAt = assertStopLine(dir.resolve("term.err"), "SIGTERM", run, seen);
        assertNoCrashLogOrTempFiles(dir, run);

        // resumed under a file-size limit below the checkpoint's size and stopped again: the save fails
        Path ckpt = run.resolve("checkpoint.safetensors");
        String before = Downloads.digest(ckpt, "SHA-256");
        int limitKb = (int) (Files.size(ckpt) / 2 / 1024);
        Process full =
                child(dir, "full", List.of("train", "--resume", run.toString(), "--progress-every", "0"), limitKb);
        awaitBatch(full, dir.resolve("full.err"), stoppedAt + 2);
        full.destroy();
        assertEquals(1, awaitExit(full), Files.readString(dir.resolve("full.err")));
        assertFalse(Files.readString(dir.resolve("full.err")).contains("\tat "));
        assertEquals(
                "jimm: cannot save the checkpoint in " + run
                        + ": File too large; checkpoint.safetensors keeps the previous one",
                lastLine(dir.resolve("full.err")));
        assertEquals(before, Downloads.digest(ckpt, "SHA-256"), "the previous checkpoint is untouched");
        assertNoCrashLogOrTempFiles(dir, run);

        assertResumesToTheReference(run);
    }

    @Test
    void sigintStopsAfterABatchAndASecondOneQuitsAtOnce(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        List<String> args = new ArrayList<>(trainArgs(run));
        args.addAll(List.of("--progress-every", "0"));
        Process p = child(dir, "int", args, 0);
        assumeSigintIsHandled(p);
        int seen = awaitBatch(p, dir.resolve("int.err"), 3);
        sigint(p);
        assertEquals(130, awaitExit(p), Files.readString(dir.resolve("int.err")));
        assertStopLine(dir.resolve("int.err"), "SIGINT", run, seen);
        assertNoCrashLogOrTempFiles(dir, run);
        assertResumesToTheReference(run);

        // the second signal must come after the first was taken (two at once are one to the kernel) and before the
        // stop it started is done; in the rare case that the stop was quicker than the test, try again
        for (int attempt = 1; ; attempt++) {
            Path run2 = dir.resolve("run" + (attempt + 1));
            List<String> args2 = new ArrayList<>(trainArgs(run2));
            args2.addAll(List.of("--progress-every", "0"));
            String name = "twice" + attempt;
            Process q = child(dir, name, args2, 0);
            awaitBatch(q, dir.resolve(name + ".err"), 2);
            sigint(q);
            awaitLine(q, dir.resolve(name + ".err"), "jimm: SIGINT: stopping after the current batch");
            boolean sent = new ProcessBuilder("kill", "-INT", Long.toString(q.pid()))
                            .redirectErrorStream(true)
                            .start()
                            .waitFor()
                    == 0;
            int status = awaitExit(q);
            String err = Files.readString(dir.resolve(name + ".err"));
            if ((!sent || err.contains(": stopped after batch")) && attempt < 3) {
                continue;
            }
            // ended by the signal itself, no exit handlers run: the status a shell reports for it
            assertEquals(130, status, err);
            assertTrue(err.contains("jimm: SIGINT again: quitting at once"), err);
            assertFalse(err.contains(": stopped after batch"), err);
            assertFalse(Files.exists(run2.resolve("model.safetensors")));
            assertTrue(JsonParser.parseString(Files.readString(run2.resolve("config.json")))
                    .isJsonObject());
            if (Files.exists(run2.resolve("checkpoint.safetensors"))) {
                // the first signal's save may have finished before the second came: then it is whole
                position(run2.resolve("checkpoint.safetensors"));
            }
            try (Stream<Path> s = Files.list(dir)) {
                assertTrue(s.noneMatch(f -> f.getFileName().toString().startsWith("hs_err_pid")));
            }
            return;
        }
    }

    @Test
    void aWeightDownloadStopsBetweenChunksAndKeepsItsBytesForTheNextRun(@TempDir Path dir) throws Exception {
        // a hub that sends a large file slowly, byte i being (i * 31) mod 256
        List<String> paths = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            paths.add(ex.getRequestURI().getPath());
            long length = 64L << 20;
            ex.sendResponseHeaders(200, length);
            byte[] chunk = new byte[1 << 16];
            try (OutputStream out = ex.getResponseBody()) {
                for (long at = 0; at < length; at += chunk.length) {
                    for (int i = 0; i < chunk.length; i++) {
                        chunk[i] = (byte) ((at + i) * 31);
                    }
                    out.write(chunk);
                    out.flush();
                    Thread.sleep(20);
                }
            } catch (IOException | InterruptedException e) {
                // the client went away
            }
        });
        server.setExecutor(Executors.newCachedThreadPool());
        server.start();
        try {
            String endpoint = "http://127.0.0.1:" + server.getAddress().getPort();
            Path run = dir.resolve("run");
            Process p = child(
                    dir,
                    "download",
                    List.of(
                            "train",
                            "fashion-mnist-sample",
                            "--model",
                            "resnet10t",
                            "--pretrained",
                            "--out",
                            run.toString()),
                    0,
                    List.of("-Djimm.home=" + dir.resolve("home"), "-Djimm.hf.endpoint=" + endpoint));
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            // wait on what the client has written, not on what the server sent: socket buffers hold the difference
            while (largestPartFile(dir.resolve("home")) < (1 << 20) && System.nanoTime() < deadline) {
                assertTrue(p.isAlive(), Files.readString(dir.resolve("download.err")));
                Thread.sleep(10);
            }
            p.destroy(); // SIGTERM
            assertEquals(143, awaitExit(p), Files.readString(dir.resolve("download.err")));
            String err = Files.readString(dir.resolve("download.err"));
            assertFalse(err.contains("\tat "), err);
            String url = endpoint + paths.get(0);
            Matcher m = Pattern.compile("(?m)^jimm: SIGTERM: stopped the download of " + Pattern.quote(url)
                            + "; (\\d+) bytes are kept in (\\S+) and the next run resumes from there$")
                    .matcher(err);
            assertTrue(m.find(), err);
            long kept = Long.parseLong(m.group(1));
            Path part = Path.of(m.group(2));
            assertTrue(part.getFileName().toString().endsWith(".part"), part.toString());
            assertEquals(kept, Files.size(part));
            assertTrue(kept >= 1 << 20 && kept < 64L << 20, "kept " + kept);
            byte[] bytes = Files.readAllBytes(part);
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] != (byte) (i * 31L)) {
                    throw new AssertionError("byte " + i + " of " + part + " is not the one served");
                }
            }
            assertFalse(Files.exists(run.resolve("checkpoint.safetensors")));
        } finally {
            server.stop(0);
        }
    }

    private static long largestPartFile(Path root) throws IOException {
        if (!Files.isDirectory(root)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".part"))
                    .mapToLong(f -> {
                        try {
                            return Files.size(f);
                        } catch (IOException e) {
                            return 0; // renamed or removed while we looked
                        }
                    })
                    .max()
                    .orElse(0);
        } catch (UncheckedIOException e) {
            return 0; // a folder changed while we walked it
        }
    }

    @Test
    void aRunFolderInUseIsRefusedUntilItsRunDiesEvenByKill9(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        List<String> args = new ArrayList<>(trainArgs(run));
        args.addAll(List.of("--progress-every", "0"));
        Process p = child(dir, "holder", args, 0);
        try {
            awaitBatch(p, dir.resolve("holder.err"), 1);
            String inUse =
                    "jimm: the run folder " + run + " is in use by another jimm train (pid " + p.pid() + ", since ";
            CliTest.Run second = CliTest.train(Path.of("fashion-mnist-sample"), run, "--epochs", "1");
            assertEquals(Main.EXIT_USAGE, second.status());
            assertTrue(second.err().startsWith(inUse), second.err());
            assertEquals(1, second.err().strip().lines().count(), second.err());
            assertTrue(second.err().strip().endsWith("; wait for it to end, or use another folder"), second.err());
            CliTest.Run resume = CliTest.run("train", "--resume", run.toString());
            assertEquals(Main.EXIT_USAGE, resume.status());
            assertTrue(resume.err().startsWith(inUse), resume.err());
        } finally {
            p.destroyForcibly(); // SIGKILL: the lock goes with the process
            p.waitFor();
        }
        // the lock is free: --resume gets past it to the checkpoint that the killed run never wrote
        CliTest.Run after = CliTest.run("train", "--resume", run.toString());
        assertEquals(Main.EXIT_USAGE, after.status());
        assertTrue(after.err().startsWith("jimm: --resume " + run + ": no checkpoint.safetensors yet"), after.err());
        try (RunLock lock = RunLock.acquire(run)) {
            assertTrue(Files.readString(run.resolve(RunLock.FILE_NAME))
                    .startsWith("pid " + ProcessHandle.current().pid() + ","));
        }
    }
}
