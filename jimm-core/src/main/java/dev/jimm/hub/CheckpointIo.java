package dev.jimm.hub;

import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How the checkpoint readers open a file they keep open: the parsed reader owns the open resource when parsing
 * succeeds; on any failure the resource is closed, and an I/O error becomes one {@link CheckpointException} naming the
 * file.
 */
final class CheckpointIo {
    private CheckpointIo() {}

    /** Opens a resource; may fail with an I/O error. */
    @FunctionalInterface
    interface Opener<R> {
        R open() throws IOException;
    }

    /** Reads a resource into the object that then owns it; may fail with an I/O error. */
    @FunctionalInterface
    interface Parser<R, T> {
        T parse(R resource) throws IOException;
    }

    /** Opens a resource and parses it, closing it unless the parse succeeds. */
    static <R extends Closeable, T> T openAndParse(Path path, Opener<R> opener, Parser<R, T> parser) {
        R resource = null;
        boolean owned = false;
        try {
            resource = opener.open();
            T parsed = parser.parse(resource);
            owned = true;
            return parsed;
        } catch (IOException e) {
            throw cannotRead(path, e);
        } finally {
            if (resource != null && !owned) {
                try {
                    resource.close();
                } catch (IOException ignored) {
                    // the parse failed already; that error is the one to report
                }
            }
        }
    }

    /** {@code WHERE: cannot read: REASON}, for an I/O error while reading {@code where}. */
    static CheckpointException cannotRead(Object where, IOException e) {
        return new CheckpointException(where + ": cannot read: " + e.getMessage(), e);
    }
}
