package dev.jimm.data;

import dev.jimm.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Extracts regular files from a .tar.gz (ustar/GNU), refusing paths that escape the target folder. */
public final class TarGz {
    private TarGz() {}

    /** Extracts {@code archive} into {@code dir}; returns the number of files written. */
    public static int extract(Path archive, Path dir) throws IOException {
        int count = 0;
        Path root = dir.toAbsolutePath().normalize();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(archive)), 1 << 16)) {
            byte[] header = new byte[512];
            String longName = null;
            while (in.readNBytes(header, 0, 512) == 512) {
                if (isZero(header)) {
                    break;
                }
                String name = longName != null ? longName : str(header, 0, 100);
                longName = null;
                String prefix = str(header, 345, 155);
                if (!prefix.isEmpty() && header[257] == 'u') {
                    name = prefix + "/" + name;
                }
                long size = Long.parseLong(
                        str(header, 124, 12).trim().isEmpty()
                                ? "0"
                                : str(header, 124, 12).trim(),
                        8);
                byte type = header[156];
                long padded = (size + 511) / 512 * 512;
                if (type == 'L') {
                    byte[] n = in.readNBytes((int) padded);
                    longName = new String(n, 0, (int) size, StandardCharsets.UTF_8).replace("\0", "");
                    continue;
                }
                if (type == '0' || type == 0) {
                    Path out = root.resolve(name).normalize();
                    if (!out.startsWith(root)) {
                        throw new IOException(archive + ": entry " + name + " escapes the target folder");
                    }
                    Files.createDirectories(out.getParent());
                    // atomic per entry: an extraction killed half-way leaves no torn file behind
                    AtomicFiles.writeStream(out, os -> copy(in, os, size));
                    in.skipNBytes(padded - size);
                    count++;
                } else {
                    in.skipNBytes(padded);
                }
            }
        }
        return count;
    }

    private static void copy(InputStream in, OutputStream out, long n) throws IOException {
        byte[] buf = new byte[1 << 16];
        while (n > 0) {
            int r = in.read(buf, 0, (int) Math.min(buf.length, n));
            if (r < 0) {
                throw new EOFException("tar entry truncated");
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
