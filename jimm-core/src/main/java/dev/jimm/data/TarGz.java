package dev.jimm.data;

import dev.jimm.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Extracts regular files from a .tar.gz (ustar/GNU), refusing paths that escape the target folder. A damaged archive is
 * an {@link IOException} whose message starts with the archive's path and says what was wrong; files extracted before
 * the damage stay (each one complete).
 */
public final class TarGz {
    /** The longest GNU long name accepted: far beyond any file system's path limit. */
    private static final int MAX_LONG_NAME = 1 << 16;

    private TarGz() {}

    /** Extracts {@code archive} into {@code dir}; returns the number of files written. */
    public static int extract(Path archive, Path dir) throws IOException {
        try {
            return extractEntries(archive, dir);
        } catch (ZipException e) {
            throw new IOException(archive + ": not a valid gzip stream (" + e.getMessage() + ")", e);
        } catch (EOFException e) {
            throw new IOException(archive + ": truncated (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            String m = e.getMessage();
            if (m != null && m.startsWith(archive.toString())) {
                throw e;
            }
            throw new IOException(archive + ": " + (m == null ? e.getClass().getSimpleName() : m), e);
        }
    }

    private static int extractEntries(Path archive, Path dir) throws IOException {
        int count = 0;
        Path root = dir.toAbsolutePath().normalize();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive)), 1 << 16)) {
            byte[] header = new byte[512];
            String longName = null;
            int got;
            while ((got = in.readNBytes(header, 0, 512)) == 512) {
                if (isZero(header)) {
                    return count;
                }
                String name = longName != null ? longName : str(header, 0, 100);
                longName = null;
                String prefix = str(header, 345, 155);
                if (!prefix.isEmpty() && header[257] == 'u') {
                    name = prefix + "/" + name;
                }
                long size = size(archive, name, header);
                byte type = header[156];
                long padded = (size + 511) / 512 * 512;
                if (type == 'L') {
                    if (size > MAX_LONG_NAME) {
                        throw new IOException(archive + ": a GNU long name of " + size + " bytes");
                    }
                    byte[] n = in.readNBytes((int) padded);
                    if (n.length < padded) {
                        throw new EOFException("in a GNU long name");
                    }
                    longName = new String(n, 0, (int) size, StandardCharsets.UTF_8).replace("\0", "");
                    continue;
                }
                if (type == '0' || type == 0) {
                    Path out = resolve(archive, root, name);
                    Files.createDirectories(out.getParent());
                    // atomic per entry: an extraction killed half-way leaves no torn file behind
                    String entry = name;
                    AtomicFiles.writeStream(out, os -> copy(in, os, size, entry));
                    in.skipNBytes(padded - size);
                    count++;
                } else {
                    in.skipNBytes(padded);
                }
            }
            if (got > 0) {
                throw new EOFException("a header of " + got + " of 512 bytes");
            }
            // GNU tar ends with two zero blocks; an archive cut exactly between entries has none
            throw new EOFException("no end-of-archive block after " + count + " files");
        }
    }

    /** Where entry {@code name} goes: a file path under {@code root}, else an error naming the archive. */
    private static Path resolve(Path archive, Path root, String name) throws IOException {
        Path out;
        try {
            out = root.resolve(name).normalize();
        } catch (InvalidPathException e) {
            throw new IOException(archive + ": entry '" + name + "' is not a file name (" + e.getReason() + ")", e);
        }
        if (!out.startsWith(root)) {
            throw new IOException(archive + ": entry " + name + " escapes the target folder");
        }
        if (out.equals(root)) {
            throw new IOException(archive + ": a file entry named '" + name + "'");
        }
        return out;
    }

    /** The size field: octal digits, or GNU's base-256 for large files. */
    private static long size(Path archive, String name, byte[] header) throws IOException {
        if ((header[124] & 0x80) != 0) {
            long v = 0;
            for (int i = 125; i < 136; i++) {
                if ((v >>> 55) != 0) {
                    throw new IOException(archive + ": entry " + name + " has a size beyond 2^63");
                }
                v = v << 8 | (header[i] & 0xFF);
            }
            if ((header[124] & 0x7F) != 0 || v < 0) {
                throw new IOException(archive + ": entry " + name + " has a negative or huge base-256 size");
            }
            return v;
        }
        String field = str(header, 124, 12).trim();
        long v = 0;
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c < '0' || c > '7') {
                throw new IOException(
                        archive + ": entry " + name + " has a size field that is not octal: '" + field + "'");
            }
            v = v * 8 + (c - '0'); // at most 11 digits: no overflow
        }
        return v;
    }

    private static void copy(InputStream in, OutputStream out, long n, String name) throws IOException {
        byte[] buf = new byte[1 << 16];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new EOFException("entry " + name + " ends early");
            }
            out.write(buf, 0, r);
            n -= r;
        }
    }

    private static boolean isZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String str(byte[] b, int off, int len) {
        int end = off;
        while (end < off + len && b[end] != 0) {
            end++;
        }
        return new String(b, off, end - off, StandardCharsets.US_ASCII);
    }
}
