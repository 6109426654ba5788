package dev.jimm.cli;

import dev.jimm.hub.CheckpointFile;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jimm inspect-checkpoint FILE}: the format, every state dict key with shape and dtype, the total parameter
 * count and, for a training checkpoint, its other top-level entries. No tensor data is read (except single-element
 * entries of a training checkpoint, shown with their value).
 */
@Command(
        name = "inspect-checkpoint",
        mixinStandardHelpOptions = true,
        description = {
            "List a checkpoint's format, keys with shapes and dtypes, and parameter count (safetensors, sharded"
                    + " safetensors index or folder, torch.save zip/legacy, training checkpoint dicts).",
            "Example: jimm inspect-checkpoint resnet50.pth"
        })
final class InspectCheckpointCommand extends JimmCommand {
    @Parameters(index = "0", paramLabel = "FILE", description = "checkpoint file, *.index.json, or folder of shards")
    Path file;

    @Option(
            names = "--key",
            description = "entry of a training checkpoint that holds the state dict (default: state_dict, model, …)")
    String key = "";

    @Override
    public Integer call() {
        PrintWriter out = out();
        try (CheckpointFile f = CheckpointFile.open(file, key)) {
            out.println("file: " + file);
            out.println("format: " + f.format().label());
            if (!f.stateDictKey().isEmpty()) {
                out.println("state dict: under '" + f.stateDictKey() + "'");
            }
            if (!f.strippedPrefix().isEmpty()) {
                out.println("prefix removed: " + f.strippedPrefix());
            }
            int width = 8;
            for (String k : f.tensors().keySet()) {
                width = Math.max(width, k.length());
            }
            long params = 0;
            long elements = 0;
            for (CheckpointFile.TensorInfo t : f.tensors().values()) {
                long n = t.shape().size();
                elements += n;
                if (t.dtype().isFloating()
                        && !t.key().endsWith("running_mean")
                        && !t.key().endsWith("running_var")) {
                    params += n;
                }
                out.printf(
                        Locale.ROOT,
                        "  %-" + width + "s  %-20s %s%n",
                        t.key(),
                        Arrays.toString(t.shape().getShape()),
                        t.dtype());
            }
            out.printf(
                    Locale.ROOT,
                    "%d tensors, %,d parameters (%,d elements in all)%n",
                    f.tensors().size(),
                    params,
                    elements);
            if (!f.otherEntries().isEmpty()) {
                out.println("other entries:");
                for (Map.Entry<String, String> e : f.otherEntries().entrySet()) {
                    out.println("  " + e.getKey() + ": " + e.getValue());
                }
            }
        }
        out.flush();
        return 0;
    }
}
