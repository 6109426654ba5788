package dev.jimm.data;

import dev.jimm.AtomicFiles;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * An IDX file of unsigned bytes (the MNIST format: magic 0x00000803 for images N x H x W, 0x00000801 for labels N),
 * gzipped or not (detected from the content, not the name).
 *
 * @param dims the dimensions, e.g. [60000, 28, 28]
 * @param data the bytes, row-major
 */
public record IdxFile(int[] dims, byte[] data) {
    /** Reads an idx file; errors name the file and what was wrong. */
    public static IdxFile read(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file))) {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            InputStream in = (b0 == 0x1f && b1 == 0x8b) ? new GZIPInputStream(raw, 1 << 16) : raw;
            DataInputStream din = new DataInputStream(in);
            int magic = din.readInt();
            if ((magic >>> 16) != 0) {
                throw new IllegalArgumentException(
                        file + ": not an idx file (magic 0x" + Integer.toHexString(magic) + "); expected 0x0000080N");
            }
            int type = (magic >>> 8) & 0xFF;
            int nd = magic & 0xFF;
            if (type != 0x08) {
                throw new IllegalArgumentException(file + ": idx element type 0x" + Integer.toHexString(type)
                        + " not supported; expected 0x08 (unsigned byte)");
            }
            if (nd < 1 || nd > 4) {
                throw new IllegalArgumentException(file + ": idx with " + nd + " dimensions; expected 1 to 4");
            }
            int[] dims = new int[nd];
            long total = 1;
            for (int i = 0; i < nd; i++) {
                dims[i] = din.readInt();
                if (dims[i] < 0) {
                    throw new IllegalArgumentException(file + ": negative idx dimension " + dims[i]);
                }
                total *= dims[i];
                // checked per dimension: both factors stay below 2^31, so the product cannot overflow
                if (total > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException(file + ": idx too large (dimensions "
                            + Arrays.toString(Arrays.copyOf(dims, i + 1)) + " ...)");
                }
            }
            // read as the bytes arrive rather than into an array of the declared size: a corrupt header may declare
            // gigabytes that are not there
            byte[] data = din.readNBytes((int) total);
            if (data.length < total) {
                throw new IllegalArgumentException(file + ": idx file is truncated: its header declares "
                        + Arrays.toString(dims) + " (" + total + " bytes) but " + data.length + " follow");
            }
            if (din.read() >= 0) {
                throw new IllegalArgumentException(file + ": idx file has more bytes than its header declares ("
                        + Arrays.toString(dims) + ", " + total + " bytes)");
            }
            return new IdxFile(dims, data);
        } catch (EOFException e) {
            throw new IllegalArgumentException(
                    file + ": idx file is truncated (fewer bytes than its header declares)", e);
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read idx file: " + e.getMessage(), e);
        }
    }

    /** Writes this as an idx file, gzipped when the name ends with ".gz". */
    public void write(Path file) throws IOException {
        AtomicFiles.writeStream(file, os -> {
            GZIPOutputStream gz = file.toString().endsWith(".gz") ? new GZIPOutputStream(os, 1 << 16) : null;
            DataOutputStream d = new DataOutputStream(gz != null ? gz : os);
            d.writeInt(0x0800 | dims.length);
            for (int v : dims) {
                d.writeInt(v);
            }
            d.write(data);
            d.flush();
            if (gz != null) {
                gz.finish();
            }
        });
    }

    /** Number of items (first dimension). */
    public int count() {
        return dims[0];
    }

    /** Bytes per item (product of the other dimensions). */
    public int itemSize() {
        int s = 1;
        for (int i = 1; i < dims.length; i++) {
            s *= dims[i];
        }
        return s;
    }

    @Override
    public String toString() {
        return "IdxFile" + Arrays.toString(dims);
    }
}
