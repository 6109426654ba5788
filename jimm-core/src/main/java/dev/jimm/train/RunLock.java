package dev.jimm.train;

import dev.jimm.JimmException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * Keeps two training runs out of one run folder: an operating-system lock ({@link FileChannel#tryLock()}) on the file
 * {@value #FILE_NAME} in the folder, held while a run writes there. The system releases it when the process ends, a
 * {@code kill -9} or a crash included, so a dead run never leaves the folder locked. The file stays (deleting it would
 * let a third run lock a new file while a second still holds the old one); it holds the pid and start time of the
 * holder, for the message a refused run prints.
 */
public final class RunLock implements AutoCloseable {
    /** The lock file in the run folder. */
    public static final String FILE_NAME = ".jimm-lock";

    private final FileChannel channel;
    private final FileLock lock;

    private RunLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code runDir} if needed and locks it for this process.
     *
     * @throws JimmException when another run (of this or another process) holds the folder
     * @throws UncheckedIOException when the folder cannot be created or written, naming it and the cause
     */
    public static RunLock acquire(Path runDir) {
        Path file = runDir.resolve(FILE_NAME);
        FileChannel ch;
        try {
            Files.createDirectories(runDir);
            ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use the run folder " + runDir + ": " + describe(e), e);
        }
        try {
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null; // this process holds it already
            }
            if (lock == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                ch.close();
                throw new JimmException("the run folder " + runDir + " is in use by another jimm train"
                        + (holder.isEmpty() ? "" : " (" + holder + ")")
                        + "; wait for it to end, or use another folder");
            }
            String me = "pid " + ProcessHandle.current().pid() + ", since "
                    + Instant.now().truncatedTo(ChronoUnit.SECONDS) + "\n";
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(me.getBytes(StandardCharsets.UTF_8)), 0);
            return new RunLock(ch, lock);
        } catch (IOException e) {
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new UncheckedIOException("cannot lock the run folder " + runDir + ": " + describe(e), e);
        }
    }

    /** The cause of a file error in words: Java's messages for these are often only the path. */
    static String describe(IOException e) {
        String what;
        if (e instanceof FileAlreadyExistsException || e instanceof NotDirectoryException) {
            what = "a file is in the way of a folder";
        } else if (e instanceof AccessDeniedException) {
            what = "permission denied";
        } else if (e instanceof FileSystemException fse && fse.getReason() != null) {
            what = fse.getReason();
        } else {
            what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        String path = e instanceof FileSystemException fse ? fse.getFile() : null;
        return path == null || what.contains(path) ? what : what + " (" + path + ")";
    }

    /** Releases the folder. */
    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            throw new UncheckedIOException("releasing the lock of a run folder failed: " + e.getMessage(), e);
        }
    }
}
