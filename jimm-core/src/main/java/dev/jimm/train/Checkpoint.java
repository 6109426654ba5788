package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.hub.CheckpointException;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.hub.SafetensorsWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A training checkpoint: one safetensors file holding the model ({@code model.*}), the optimizer state ({@code opt.*})
 * and, in its metadata, the fit's schedule, where the fit is (the epochs ended, and the batches done in the next one
 * with the sum of their losses: a fit stopped between two batches resumes at the next), the seed, which parameters were
 * frozen and the epoch history. Written atomically.
 */
final class Checkpoint {
    static final String META_KEY = "jimm.checkpoint";
    /** The fields of a history row that are not metrics. */
    private static final Set<String> HISTORY_FIELDS =
            Set.of("epoch", "train_loss", "train_loss_smooth", "valid_loss", "seconds");

    private Checkpoint() {}

    /**
     * What a checkpoint says about where training was: after {@code epochsDone} ended epochs and {@code batchesDone}
     * batches of the next, whose losses (each times its batch size) sum to {@code epochLossSum} over
     * {@code epochLossCount} samples.
     */
    record State(
            Learner.FitPlan plan,
            int epochsDone,
            int batchesDone,
            double epochLossSum,
            long epochLossCount,
            JsonObject fineTune,
            double[] smoothing) {}

    static void save(Learner l, Path file) {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        l.model().stateDict().forEach((k, v) -> tensors.put("model." + k, v));
        // the step counts become arrays only for the write
        try (NDManager scratch = l.model().getManager().newSubManager()) {
            Map<String, NDArray> opt = l.optimizer().stateDict(scratch);
            opt.forEach((k, v) -> tensors.put("opt." + k, v));
            JsonObject meta = new JsonObject();
            // version 2 adds batches_done and epoch_loss: a version-1 reader would redo the epoch from the middle
            meta.addProperty("version", l.batchesDone() > 0 ? 2 : 1);
            Gson gson = new Gson();
            meta.add("plan", gson.toJsonTree(l.plan()));
            meta.addProperty("epochs_done", l.epochsDone());
            if (l.batchesDone() > 0) {
                meta.addProperty("batches_done", l.batchesDone());
                meta.add("epoch_loss", gson.toJsonTree(l.epochLoss()));
            }
            meta.addProperty("seed", l.seed());
            meta.add("smoothing", gson.toJsonTree(l.recorder().smoothingState()));
            if (l.fineTuneState() != null) {
                meta.add("fine_tune", l.fineTuneState());
            }
            JsonArray frozen = new JsonArray();
            l.model().namedParameters().forEach((k, p) -> {
                if (!p.requiresGradient()) {
                    frozen.add(k);
                }
            });
            meta.add("frozen", frozen);
            JsonArray history = new JsonArray();
            for (Recorder.EpochRow r : l.recorder().epochs()) {
                history.add(JsonParser.parseString(Callbacks.epochJson(r)));
            }
            meta.add("history", history);
            SafetensorsWriter.write(file, tensors, Map.of(META_KEY, meta.toString()));
        }
    }

    static State load(Learner l, Path file) {
        try (SafetensorsFile f = SafetensorsFile.open(file);
                NDManager scratch = l.model().getManager().newSubManager()) {
            String json = f.metadata().get(META_KEY);
            if (json == null) {
                throw new CheckpointException(file + ": not a jimm training checkpoint (no " + META_KEY + " metadata)");
            }
            JsonObject meta = JsonParser.parseString(json).getAsJsonObject();
            Map<String, NDArray> model = new LinkedHashMap<>();
            Map<String, NDArray> opt = new LinkedHashMap<>();
            for (String k : f.keys()) {
                if (k.startsWith("model.")) {
                    model.put(k.substring(6), f.load(k, scratch));
                } else if (k.startsWith("opt.")) {
                    opt.put(k.substring(4), f.load(k, scratch));
                }
            }
            l.model().loadStateDict(model, true);
            l.optimizer().loadStateDict(opt);
            List<String> frozen = new ArrayList<>();
            meta.getAsJsonArray("frozen").forEach(e -> frozen.add(e.getAsString()));
            for (Map.Entry<String, Parameter> e : l.model().namedParameters().entrySet()) {
                e.getValue().freeze(frozen.contains(e.getKey()));
            }
            List<Recorder.EpochRow> rows = new ArrayList<>();
            meta.getAsJsonArray("history").forEach(e -> {
                JsonObject o = e.getAsJsonObject();
                Map<String, Double> metrics = new LinkedHashMap<>();
                o.entrySet().forEach(m -> {
                    String k = m.getKey();
                    if (!HISTORY_FIELDS.contains(k)) {
                        metrics.put(
                                k,
                                m.getValue().isJsonNull()
                                        ? Double.NaN
                                        : m.getValue().getAsDouble());
                    }
                });
                rows.add(new Recorder.EpochRow(
                        o.get("epoch").getAsInt(),
                        num(o, "train_loss"),
                        num(o, "valid_loss"),
                        metrics,
                        num(o, "seconds"),
                        num(o, "train_loss_smooth")));
            });
            l.recorder().restoreEpochs(rows);
            Learner.FitPlan plan = new Gson().fromJson(meta.get("plan"), Learner.FitPlan.class);
            double[] smoothing =
                    meta.has("smoothing") ? new Gson().fromJson(meta.get("smoothing"), double[].class) : null;
            double[] epochLoss = meta.has("epoch_loss")
                    ? new Gson().fromJson(meta.get("epoch_loss"), double[].class)
                    : new double[] {0, 0};
            return new State(
                    plan,
                    meta.get("epochs_done").getAsInt(),
                    meta.has("batches_done") ? meta.get("batches_done").getAsInt() : 0,
                    epochLoss[0],
                    (long) epochLoss[1],
                    meta.has("fine_tune") ? meta.getAsJsonObject("fine_tune") : null,
                    smoothing);
        }
    }

    private static double num(JsonObject o, String k) {
        return o.get(k) == null || o.get(k).isJsonNull() ? Double.NaN : o.get(k).getAsDouble();
    }
}
