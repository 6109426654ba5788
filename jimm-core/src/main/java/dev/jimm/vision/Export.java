package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.JimmException;
import dev.jimm.hub.CheckpointException;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.hub.SafetensorsWriter;
import dev.jimm.models.ImageModel;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A trained model packaged for prediction: one safetensors file with the weights and, in its metadata, the
 * architecture, head, class names and eval preprocessing, written atomically.
 */
public final class Export {
    static final String META_KEY = "jimm.export";

    private Export() {}

    /**
     * What an export describes besides its weights.
     *
     * @param augmentation the training augmentation policy (null in exports older than the policies)
     * @param flips whether training flipped images (null when unknown): flip TTA needs it
     */
    public record Spec(
            String arch,
            int inChans,
            FastaiHead head,
            List<String> classes,
            Preprocessing preprocessing,
            String augmentation,
            Boolean flips) {
        public Spec {
            classes = List.copyOf(classes);
        }

        /** Without a record of the training augmentation. */
        public Spec(String arch, int inChans, FastaiHead head, List<String> classes, Preprocessing preprocessing) {
            this(arch, inChans, head, classes, preprocessing, null, null);
        }
    }

    /** Writes the model and its description. */
    public static void write(Path file, VisionModel model, Spec spec) {
        SafetensorsWriter.write(file, model.stateDict(), Map.of(META_KEY, new Gson().toJson(spec)));
    }

    /**
     * The export file a path names: the path itself, or the {@code model.safetensors} of a run folder.
     *
     * @throws JimmException when the path is neither, or the file is not a jimm export
     */
    public static Path locate(Path exportOrRunDir) {
        Path file = Files.isDirectory(exportOrRunDir) ? exportOrRunDir.resolve("model.safetensors") : exportOrRunDir;
        if (!Files.isRegularFile(file)) {
            throw new JimmException(exportOrRunDir
                    + ": no exported model there (expected a run folder with model.safetensors, or an export file)");
        }
        if (!isExport(file)) {
            throw new JimmException(file + ": not a jimm export (a model written by Learner.export or Export.write)");
        }
        return file;
    }

    /** Whether the file is a jimm export. */
    public static boolean isExport(Path file) {
        if (!Files.isRegularFile(file)) {
            return false;
        }
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return f.metadata().containsKey(META_KEY);
        } catch (CheckpointException e) {
            return false;
        }
    }

    /** Reads an export's description. */
    public static Spec readSpec(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            String json = f.metadata().get(META_KEY);
            if (json == null) {
                throw new CheckpointException(file + ": not a jimm export (no " + META_KEY + " metadata)");
            }
            return new Gson().fromJson(JsonParser.parseString(json), Spec.class);
        }
    }

    /** Rebuilds the exported model with its weights, in eval mode. */
    public static VisionModel load(Path file) {
        Spec spec = readSpec(file);
        VisionModel model = VisionLearner.buildModel(
                VisionLearner.Options.of(spec.arch()).head(spec.head()).inChans(spec.inChans()),
                spec.classes().size());
        try (SafetensorsFile f = SafetensorsFile.open(file);
                NDManager scratch = model.getManager().newSubManager()) {
            model.loadStateDict(f.loadAll(scratch), true);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
        return model;
    }

    /** Loads the body weights of an export (keys {@code 0.*}) into a backbone built without a head. */
    static void loadBodyInto(Path file, ImageModel body) {
        try (SafetensorsFile f = SafetensorsFile.open(file);
                NDManager scratch = body.getManager().newSubManager()) {
            Map<String, NDArray> sd = new LinkedHashMap<>();
            for (String k : f.keys()) {
                if (k.startsWith("0.")) {
                    sd.put(k.substring(2), f.load(k, scratch));
                }
            }
            body.loadStateDict(sd, true);
        }
    }

    /** The parsed metadata object (for tools that show it). */
    public static JsonObject metadata(Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            return JsonParser.parseString(f.metadata().getOrDefault(META_KEY, "{}"))
                    .getAsJsonObject();
        }
    }
}
