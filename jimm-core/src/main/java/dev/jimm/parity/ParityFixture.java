package dev.jimm.parity;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.hub.CheckpointException;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.layers.Module;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A parity fixture: the outputs of a timm or torchvision model under the reference init, and its metadata (model,
 * classes, input, the expected state_dict keys and shapes, feature levels).
 *
 * @param file the fixture file
 * @param kind "timm" or "tv"
 * @param model the Python model name
 * @param numClasses classes the model was built with
 * @param inputSize C, H, W of the reference input
 * @param inputSeed seed of the reference input
 * @param stateDict expected keys with shapes, in order
 * @param featureInfo expected feature levels as (channels, reduction, module), or empty
 * @param weights a checkpoint beside the fixture to load instead of the reference init, or null
 * @param outputs names of the expected output tensors in the file
 * @param meta the whole metadata object (train-mode fixtures keep their targets, loss, gradient norms and running
 *     statistics there)
 */
public record ParityFixture(
        Path file,
        String kind,
        String model,
        int numClasses,
        long[] inputSize,
        long inputSeed,
        Map<String, long[]> stateDict,
        List<Object[]> featureInfo,
        Path weights,
        List<String> outputs,
        JsonObject meta) {

    /**
     * The gain g of the reference init ({@code meta.init_gain}, 1 where absent): the fixture's tensors of 2 or more
     * dimensions were built as g · s_k · sqrt(6 / fan_in).
     */
    public double initGain() {
        return meta.has("init_gain") ? meta.get("init_gain").getAsDouble() : 1.0;
    }

    /** Sets every floating-point state_dict entry of {@code module} to this fixture's reference init. */
    public void applyReferenceInit(Module module) {
        ReferenceInit.apply(module, initGain());
    }

    /** Whether the fixture holds a train-mode step (grads/ fixtures). */
    public boolean hasTrainStep() {
        return outputs.contains("train_logits") && meta.has("grad_norms");
    }

    /** The jimm name: timm names as they are, torchvision names under {@code tv/}. */
    public String jimmName() {
        return kind.equals("tv") ? "tv/" + model : model;
    }

    /** Reads a fixture's metadata. */
    public static ParityFixture read(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String metaJson = f.metadata().get("meta");
            if (metaJson == null) {
                throw new CheckpointException(file + ": not a parity fixture (no meta in __metadata__)");
            }
            JsonObject meta = JsonParser.parseString(metaJson).getAsJsonObject();
            Map<String, long[]> sd = new LinkedHashMap<>();
            for (JsonElement e : meta.getAsJsonArray("state_dict")) {
                var row = e.getAsJsonArray();
                var dims = row.get(1).getAsJsonArray();
                long[] shape = new long[dims.size()];
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = dims.get(i).getAsLong();
                }
                sd.put(row.get(0).getAsString(), shape);
            }
            List<Object[]> fi = new ArrayList<>();
            if (meta.has("feature_info")) {
                for (JsonElement e : meta.getAsJsonArray("feature_info")) {
                    JsonObject o = e.getAsJsonObject();
                    fi.add(new Object[] {
                        o.get("num_chs").getAsInt(),
                        o.get("reduction").getAsInt(),
                        o.get("module").getAsString()
                    });
                }
            }
            var in = meta.getAsJsonArray("input_size");
            long[] inputSize = {
                in.get(0).getAsLong(), in.get(1).getAsLong(), in.get(2).getAsLong()
            };
            Path weights = meta.has("weights") && !meta.get("weights").isJsonNull()
                    ? file.resolveSibling(meta.get("weights").getAsString())
                    : null;
            return new ParityFixture(
                    file,
                    meta.get("kind").getAsString(),
                    meta.get("model").getAsString(),
                    meta.get("num_classes").getAsInt(),
                    inputSize,
                    meta.has("input_seed") ? meta.get("input_seed").getAsLong() : 0,
                    sd,
                    fi,
                    weights,
                    new ArrayList<>(f.keys()),
                    meta);
        } catch (IllegalStateException | NullPointerException | UnsupportedOperationException e) {
            throw new CheckpointException(file + ": malformed parity metadata: " + e.getMessage(), e);
        }
    }
}
