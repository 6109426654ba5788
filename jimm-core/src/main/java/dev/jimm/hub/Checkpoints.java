package dev.jimm.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.nio.file.Path;
import java.util.Map;

/** Reads a checkpoint file of any supported format into a state dict (see {@link CheckpointFile}). */
public final class Checkpoints {
    private Checkpoints() {}

    /**
     * The state dict of a checkpoint, arrays created in {@code manager}: safetensors (F16/BF16 as float32; a folder or
     * {@code *.index.json} of shards), torch.save zip or legacy files, and training checkpoints (the state dict under
     * {@code state_dict}, {@code model}, …, wrapper prefixes such as {@code module.} removed).
     */
    public static Map<String, NDArray> load(Path path, NDManager manager) {
        try (CheckpointFile f = CheckpointFile.open(path)) {
            return f.loadAll(manager);
        }
    }

    /** As {@link #load(Path, NDManager)}, then renamed by {@code mapping}. */
    public static Map<String, NDArray> load(Path path, NDManager manager, KeyMapping mapping) {
        return mapping.apply(load(path, manager), path.toString());
    }
}
