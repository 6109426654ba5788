package dev.jimm.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A safetensors file, validated and memory-mapped: an 8-byte little-endian header length, a JSON header, then raw
 * little-endian tensor data. The header is checked before anything is trusted (length within the file, known dtypes,
 * offsets inside the data section, sizes equal to shape × dtype size), and tensors are read from the mapping on demand.
 */
public final class SafetensorsFile implements AutoCloseable {
    /** Headers larger than this are refused (the format's own reference reader uses 100 MB). */
    public static final long MAX_HEADER_BYTES = 100L << 20;

    /** One entry of the header. */
    public record Entry(String name, TensorDType dtype, Shape shape, long begin, long end) {}

    private final Path path;
    private final FileChannel channel;
    private final long dataStart;
    private final Map<String, Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsFile(
            Path path, FileChannel channel, long dataStart, Map<String, Entry> entries, Map<String, String> metadata) {
        this.path = path;
        this.channel = channel;
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    /** Opens and validates a file; throws {@link CheckpointException} naming the file and fault. */
    public static SafetensorsFile open(Path path) {
        return CheckpointIo.openAndParse(
                path, () -> FileChannel.open(path, StandardOpenOption.READ), ch -> parse(path, ch));
    }

    private static SafetensorsFile parse(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new CheckpointException(
                    path + ": not a safetensors file: " + size + " bytes, less than the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, lenBuf, 0);
        long headerLen = lenBuf.getLong(0);
        if (headerLen < 2 || headerLen > size - 8) {
            throw new CheckpointException(path + ": safetensors header length " + Long.toUnsignedString(headerLen)
                    + " does not fit in the file of " + size + " bytes");
        }
        if (headerLen > MAX_HEADER_BYTES) {
            throw new CheckpointException(
                    path + ": safetensors header of " + headerLen + " bytes exceeds the limit of " + MAX_HEADER_BYTES);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, 8);
        String json = new String(hb.array(), StandardCharsets.UTF_8);
        JsonObject header;
        try {
            JsonElement parsed = JsonParser.parseString(json);
            if (!parsed.isJsonObject()) {
                throw new CheckpointException(path + ": safetensors header is not a JSON object");
            }
            header = parsed.getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointException(
                    path + ": safetensors header is not valid JSON: " + firstLine(e.getMessage()));
        }
        long dataStart = 8 + headerLen;
        long dataSize = size - dataStart;
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : header.entrySet()) {
            String key = e.getKey();
            if (key.equals("__metadata__")) {
                if (e.getValue().isJsonObject()) {
                    e.getValue()
                            .getAsJsonObject()
                            .entrySet()
                            .forEach(m -> metadata.put(
                                    m.getKey(),
                                    m.getValue().isJsonPrimitive()
                                            ? m.getValue().getAsString()
                                            : m.getValue().toString()));
                }
                continue;
            }
            entries.put(key, parseEntry(path, key, e.getValue(), dataSize));
        }
        return new SafetensorsFile(
                path, ch, dataStart, Collections.unmodifiableMap(entries), Collections.unmodifiableMap(metadata));
    }

    private static Entry parseEntry(Path path, String key, JsonElement v, long dataSize) {
        String where = path + ": entry '" + key + "'";
        if (!v.isJsonObject()) {
            throw new CheckpointException(where + " is not an object");
        }
        JsonObject o = v.getAsJsonObject();
        JsonElement dt = o.get("dtype");
        JsonElement sh = o.get("shape");
        JsonElement off = o.get("data_offsets");
        if (dt == null
                || sh == null
                || off == null
                || !sh.isJsonArray()
                || !off.isJsonArray()
                || off.getAsJsonArray().size() != 2
                || !dt.isJsonPrimitive()) {
            throw new CheckpointException(where + " lacks dtype, shape or a 2-element data_offsets");
        }
        TensorDType dtype = TensorDType.fromSafetensors(dt.getAsString());
        if (dtype == null) {
            throw new CheckpointException(where + " has unknown dtype " + dt.getAsString());
        }
        List<JsonElement> dims = sh.getAsJsonArray().asList();
        long[] shape = new long[dims.size()];
        long numel = 1;
        try {
            for (int i = 0; i < shape.length; i++) {
                shape[i] = dims.get(i).getAsLong();
                if (shape[i] < 0) {
                    throw new CheckpointException(where + " has a negative dimension " + shape[i]);
                }
                numel = Math.multiplyExact(numel, shape[i]);
            }
            long begin = off.getAsJsonArray().get(0).getAsLong();
            long end = off.getAsJsonArray().get(1).getAsLong();
            if (begin < 0 || end < begin || end > dataSize) {
                throw new CheckpointException(where + " has data_offsets [" + begin + ", " + end
                        + "] outside the data section of " + dataSize + " bytes");
            }
            long expected = Math.multiplyExact(numel, dtype.size());
            if (end - begin != expected) {
                throw new CheckpointException(where + " holds " + (end - begin) + " bytes but shape "
                        + Arrays.toString(shape) + " of " + dtype + " needs " + expected);
            }
            if (numel > Integer.MAX_VALUE) {
                throw new CheckpointException(where + " has " + numel + " elements, more than one array can hold");
            }
            return new Entry(key, dtype, new Shape(shape), begin, end);
        } catch (NumberFormatException
                | UnsupportedOperationException
                | IllegalStateException
                | ArithmeticException e) {
            throw new CheckpointException(where + " has a malformed shape or offsets");
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new IOException("unexpected end of file");
            }
        }
        buf.flip();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public Path path() {
        return path;
    }

    /** The entries in header order. */
    public Map<String, Entry> entries() {
        return entries;
    }

    public Set<String> keys() {
        return entries.keySet();
    }

    /** The string metadata of the header ({@code __metadata__}). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The raw bytes of an entry, memory-mapped (read-only, little-endian). */
    public ByteBuffer raw(String key) {
        Entry e = entry(key);
        try {
            return channel.map(FileChannel.MapMode.READ_ONLY, dataStart + e.begin(), e.end() - e.begin())
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException ex) {
            throw new CheckpointException(path + ": cannot map entry '" + key + "': " + ex.getMessage(), ex);
        }
    }

    /** The entry of that key, or an error naming the file and key. */
    public Entry entry(String key) {
        Entry e = entries.get(key);
        if (e == null) {
            throw new CheckpointException(path + ": no entry '" + key + "'");
        }
        return e;
    }

    /** An entry as an NDArray in {@code manager} (half precision widens to float32). */
    public NDArray load(String key, NDManager manager) {
        Entry e = entry(key);
        return Tensors.toNDArray(manager, raw(key), e.dtype(), e.shape());
    }

    /** Every entry as NDArrays, in header order. */
    public Map<String, NDArray> loadAll(NDManager manager) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String k : entries.keySet()) {
            out.put(k, load(k, manager));
        }
        return out;
    }

    /** An entry's values as floats (any floating dtype). */
    public float[] floats(String key, NDManager manager) {
        try (NDArray a = load(key, manager)) {
            return a.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot close: " + e.getMessage(), e);
        }
    }
}
