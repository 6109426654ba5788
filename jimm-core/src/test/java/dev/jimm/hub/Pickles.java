package dev.jimm.hub;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Writes pickle opcodes by hand (as Python's pickle would), and torch.save-layout files around them. */
final class Pickles {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Pickles op(int b) {
        out.write(b);
        return this;
    }

    Pickles raw(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    Pickles proto(int p) {
        return op(0x80).op(p);
    }

    Pickles global(String module, String name) {
        return op('c').raw((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    Pickles mark() {
        return op('(');
    }

    Pickles str(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        return op('X').raw(le(b.length, 4)).raw(b);
    }

    Pickles integer(long v) {
        if (v >= 0 && v < 256) {
            return op('K').op((int) v);
        }
        if (v >= 0 && v < 65536) {
            return op('M').raw(le(v, 2));
        }
        return op('J').raw(le(v, 4));
    }

    Pickles ints(long... vs) {
        mark();
        for (long v : vs) {
            integer(v);
        }
        return tuple();
    }

    Pickles tuple() {
        return op('t');
    }

    Pickles emptyTuple() {
        return op(')');
    }

    Pickles emptyDict() {
        return op('}');
    }

    Pickles setitems() {
        return op('u');
    }

    Pickles reduce() {
        return op('R');
    }

    Pickles newFalse() {
        return op(0x89);
    }

    Pickles none() {
        return op('N');
    }

    Pickles stop() {
        return op('.');
    }

    /** _rebuild_tensor_v2(('storage', torch.TYPE, key, 'cpu', numel), offset, size, stride, False, OrderedDict()). */
    Pickles tensor(String storageType, String key, long numel, long offset, long[] size, long[] stride) {
        global("torch._utils", "_rebuild_tensor_v2").mark();
        mark().str("storage")
                .global("torch", storageType)
                .str(key)
                .str("cpu")
                .integer(numel)
                .tuple()
                .op('Q');
        integer(offset).ints(size).ints(stride).newFalse();
        global("collections", "OrderedDict").emptyTuple().reduce();
        return tuple().reduce();
    }

    byte[] bytes() {
        return out.toByteArray();
    }

    static byte[] le(long v, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    /** A torch.save zip: NAME/data.pkl, NAME/byteorder, NAME/data/KEY for each storage. */
    static Path torchZip(Path file, byte[] pkl, Map<String, byte[]> storages) throws IOException {
        String name = "archive/";
        try (OutputStream os = Files.newOutputStream(file);
                ZipOutputStream z = new ZipOutputStream(os)) {
            z.putNextEntry(new ZipEntry(name + "data.pkl"));
            z.write(pkl);
            z.closeEntry();
            z.putNextEntry(new ZipEntry(name + "byteorder"));
            z.write("little".getBytes(StandardCharsets.US_ASCII));
            z.closeEntry();
            for (Map.Entry<String, byte[]> e : storages.entrySet()) {
                z.putNextEntry(new ZipEntry(name + "data/" + e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
            z.putNextEntry(new ZipEntry(name + "version"));
            z.write("3\n".getBytes(StandardCharsets.US_ASCII));
            z.closeEntry();
        }
        return file;
    }
}
