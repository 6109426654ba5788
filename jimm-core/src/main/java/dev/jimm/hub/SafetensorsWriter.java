package dev.jimm.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.jimm.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

/**
 * Writes a state dict as a safetensors file, atomically through {@link dev.jimm.AtomicFiles}, so a crash or kill during
 * the save leaves the previous file intact.
 */
public final class SafetensorsWriter {
    private SafetensorsWriter() {}

    /** Writes {@code tensors} (in map order) with string {@code metadata}. */
    public static void write(Path path, Map<String, NDArray> tensors, Map<String, String> metadata) {
        JsonObject header = new JsonObject();
        if (metadata != null && !metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add("__metadata__", meta);
        }
        long offset = 0;
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray a = e.getValue();
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", dtypeName(e.getKey(), a.getDataType()));
            JsonArray shape = new JsonArray();
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            entry.add("shape", shape);
            long bytes = a.size() * a.getDataType().getNumOfBytes();
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offsets.add(offset + bytes);
            entry.add("data_offsets", offsets);
            header.add(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = header.toString().getBytes(StandardCharsets.UTF_8);
        // pad the header with spaces so tensor data starts 8-byte aligned, as the reference writer does
        int padded = (json.length + 7) / 8 * 8;
        try {
            AtomicFiles.write(path, ch -> {
                ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(padded);
                head.put(json);
                while (head.hasRemaining()) {
                    head.put((byte) ' ');
                }
                head.flip();
                writeAll(ch, head);
                for (NDArray a : tensors.values()) {
                    writeAll(ch, a.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN));
                }
            });
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot write: " + e.getMessage(), e);
        }
    }

    private static void writeAll(WritableByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    private static String dtypeName(String key, DataType t) {
        return switch (t) {
            case FLOAT32 -> "F32";
            case FLOAT64 -> "F64";
            case FLOAT16 -> "F16";
            case BFLOAT16 -> "BF16";
            case INT64 -> "I64";
            case INT32 -> "I32";
            case INT8 -> "I8";
            case UINT8 -> "U8";
            case BOOLEAN -> "BOOL";
            default ->
                throw new CheckpointException("entry '" + key + "' has dtype " + t + ", which safetensors cannot hold");
        };
    }
}
