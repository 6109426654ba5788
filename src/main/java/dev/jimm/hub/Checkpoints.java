package dev.jimm.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Reads a checkpoint file of any supported format into a state dict. */
public final class Checkpoints {
    private Checkpoints() {}

    /** The state dict of a checkpoint, arrays created in {@code manager}. */
    public static Map<String, NDArray> load(Path path, NDManager manager) {
        if (!Files.exists(path)) {
            throw new CheckpointException(path + ": no such file");
        }
        if (Files.isDirectory(path)) {
            throw new CheckpointException(path + ": is a directory, expected a checkpoint file");
        }
        byte[] magic = new byte[9];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(magic, 0, magic.length);
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read: " + e.getMessage(), e);
        }
        if (n == 0) {
            throw new CheckpointException(path + ": file is empty");
        }
        if (n == 9 && magic[8] == '{') {
            try (SafetensorsFile f = SafetensorsFile.open(path)) {
                return f.loadAll(manager);
            }
        }
        throw new CheckpointException(path + ": unrecognized checkpoint format (expected safetensors)");
    }
}
