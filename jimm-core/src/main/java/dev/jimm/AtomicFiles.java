package dev.jimm;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way jimm writes a file a user keeps (checkpoints, exports, run-folder logs, charts, the download cache): the
 * bytes go to a hidden temporary file in the same folder, which is flushed and forced to disk, then renamed over the
 * target with an atomic move. A crash or {@code kill -9} at any moment therefore leaves either the previous complete
 * file or the new complete file, never a torn one.
 *
 * <p>Temporary files are named {@code .NAME.PID.RANDOM.jimm-tmp}: they never end in the target's extension, so no
 * reader mistakes one for the file, and a later write of the same target removes the ones whose writing process is no
 * longer alive (a kill leaves them behind). On a failure the temporary file is removed and the target is untouched.
 */
public final class AtomicFiles {
    /** Suffix of every temporary file this class creates. */
    public static final String TEMP_SUFFIX = ".jimm-tmp";

    private AtomicFiles() {}

    /** Writes the content through a file channel (positioned at 0, empty). */
    @FunctionalInterface
    public interface ChannelBody {
        void write(FileChannel ch) throws IOException;
    }

    /** Writes the content to a stream; the stream is flushed and forced by the caller, not closed by the body. */
    @FunctionalInterface
    public interface StreamBody {
        void write(OutputStream out) throws IOException;
    }

    /** Atomically replaces {@code file} with what {@code body} writes to the channel. */
    public static void write(Path file, ChannelBody body) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        String name = abs.getFileName().toString();
        removeStaleTemps(dir, name);
        Path tmp = dir.resolve(tempPrefix(name)
                + Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36)
                + TEMP_SUFFIX);
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.write(ch);
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                // same folder, so this only happens on exotic file systems; a plain replace is the best left
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
            syncDirectory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Atomically replaces {@code file} with what {@code body} writes to a buffered stream. */
    public static void writeStream(Path file, StreamBody body) throws IOException {
        write(file, ch -> {
            OutputStream raw = Channels.newOutputStream(ch);
            BufferedOutputStream out = new BufferedOutputStream(
                    new OutputStream() {
                        // keep the body from closing the channel before it is forced
                        @Override
                        public void write(int b) throws IOException {
                            raw.write(b);
                        }

                        @Override
                        public void write(byte[] b, int off, int len) throws IOException {
                            raw.write(b, off, len);
                        }
                    },
                    1 << 16);
            body.write(out);
            out.flush();
        });
    }

    /** Atomically replaces {@code file} with {@code bytes}. */
    public static void writeBytes(Path file, byte[] bytes) throws IOException {
        write(file, ch -> {
            ByteBuffer b = ByteBuffer.wrap(bytes);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        });
    }

    /** Atomically replaces {@code file} with UTF-8 {@code text}; failures are a JimmException naming the file. */
    public static void writeString(Path file, String text) {
        try {
            writeBytes(file, text.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new JimmException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** True for a temporary file of this class (of any target). */
    public static boolean isTemp(Path p) {
        String n = p.getFileName().toString();
        return n.startsWith(".") && n.endsWith(TEMP_SUFFIX);
    }

    private static String tempPrefix(String name) {
        return "." + name + "." + ProcessHandle.current().pid() + ".";
    }

    /** Deletes temporaries of {@code name} left by processes that died while writing. */
    private static void removeStaleTemps(Path dir, String name) {
        String prefix = "." + name + ".";
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, p -> {
            String n = p.getFileName().toString();
            return n.startsWith(prefix) && n.endsWith(TEMP_SUFFIX);
        })) {
            for (Path p : s) {
                String rest = p.getFileName().toString().substring(prefix.length());
                int dot = rest.indexOf('.');
                long pid;
                try {
                    pid = Long.parseLong(rest.substring(0, Math.max(0, dot)));
                } catch (NumberFormatException e) {
                    continue; // not ours after all
                }
                boolean alive =
                        ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
                if (!alive) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            // leftovers cost disk space only; the write itself must not fail for them
        }
    }

    /** Makes the rename itself durable; not every platform can open a folder, so this is best effort. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | RuntimeException e) {
            // the data is on disk already; only the rename's durability across power loss is at stake
        }
    }
}
