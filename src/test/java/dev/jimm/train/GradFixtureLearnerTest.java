package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.jimm.TestFixtures;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import dev.jimm.parity.ParityFixture;
import dev.jimm.parity.ParityRunner;
import dev.jimm.parity.ReferenceInit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The train-mode fixtures through the Learner's own forward, loss and backward. */
class GradFixtureLearnerTest {
    @ParameterizedTest
    @ValueSource(strings = {"timm__resnet18", "tv__resnet18"})
    void learnerStepMatchesReference(String name) {
        ParityFixture fx = ParityFixture.read(TestFixtures.grads(name));
        JsonObject meta = fx.meta();
        long[] in = fx.inputSize();
        int n = 2;
        float[] x;
        try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {
            x = ReferenceInit.input(m, new Shape(n, in[0], in[1], in[2]), fx.inputSeed()).toFloatArray();
        }
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = meta.getAsJsonArray("train_target").get(i).getAsLong();
        }
        BatchSource one = new InMemoryBatches(x, y, in, n, false, false, 0);
        DataLoaders dls = new DataLoaders(one, one, java.util.Collections.nCopies(fx.numClasses(), "c"));
        Map<String, Double> norms = new LinkedHashMap<>();
        double[] loss = new double[1];
        float[][] logits = new float[1][];
        float[][] runningMean = new float[1][];
        String rmName = meta.getAsJsonObject("running_mean_after").get("name").getAsString();
        try (ImageModel model = Models.createModel(fx.jimmName(), ModelOptions.builder().numClasses(fx.numClasses()).build())) {
            ReferenceInit.apply(model);
            try (Learner l = Learner.builder(model, dls).optimizer((g, m) -> new Sgd(g, m, 0, false, 0)).callbacks(new Callback() {
                @Override
                public void afterBackward(Learner learner) {
                    loss[0] = learner.lastLoss();
                    logits[0] = learner.lastPrediction().toFloatArray();
                    runningMean[0] = learner.model().stateDict().get(rmName).toFloatArray();
                    learner.model().namedParameters().forEach((k, p) -> {
                        try (NDArray g = p.getArray().getGradient()) {
                            norms.put(k, Math.sqrt(g.toType(DataType.FLOAT64, false).square().sum().getDouble()));
                        }
                    });
                }
            }).build()) {
                l.fit(1, 1e-3);
            }
        }
        assertEquals(meta.get("train_loss").getAsDouble(), loss[0], 1e-4 * meta.get("train_loss").getAsDouble());
        try (SafetensorsFile f = SafetensorsFile.open(fx.file()); var m = ai.djl.ndarray.NDManager.newBaseManager()) {
            double err = ParityRunner.relativeError(logits[0], f.floats("train_logits", m));
            assertTrue(err <= 1e-4, "train logits relative error " + err);
        }
        int checked = 0;
        for (Map.Entry<String, JsonElement> e : meta.getAsJsonObject("grad_norms").entrySet()) {
            double ref = e.getValue().getAsDouble();
            double ours = norms.get(e.getKey());
            assertEquals(ref, ours, 1e-3 * Math.max(ref, 1e-6), e.getKey());
            checked++;
        }
        assertEquals(norms.size(), checked, "a reference norm for every parameter");
        List<JsonElement> rm = meta.getAsJsonObject("running_mean_after").getAsJsonArray("values").asList();
        for (int i = 0; i < rm.size(); i++) {
            assertEquals(rm.get(i).getAsDouble(), runningMean[0][i], 1e-6, "running_mean[" + i + "]");
        }
    }
}
