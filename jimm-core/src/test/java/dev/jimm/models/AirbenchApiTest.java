package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.layers.Module;
import dev.jimm.parity.ParityRunner;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * jimm's airbench family: the body equals the PyTorch net of {@code scripts/fashion_mnist_pytorch.py} (the fixture is
 * that script's {@code --write-fixture} output), its feature levels and its max-pooled head.
 */
class AirbenchApiTest {
    private static Path fixture() throws URISyntaxException {
        return Path.of(AirbenchApiTest.class
                .getResource("/fixtures/airbench/airbench_s.safetensors")
                .toURI());
    }

    private static ImageModel create(String name, int numClasses, String pool) {
        return Models.createModel(
                name,
                ModelOptions.builder()
                        .inChans(1)
                        .numClasses(numClasses)
                        .globalPool(pool)
                        .build());
    }

    @Test
    void theBodyGivesTheSideBySideScriptsFeatureMaps() throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                SafetensorsFile f = SafetensorsFile.open(fixture());
                ImageModel model = create("airbench_s", 0, "")) {
            Map<String, NDArray> weights = f.loadAll(m).entrySet().stream()
                    .filter(e -> !e.getKey().equals("input") && !e.getKey().equals("output"))
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            Module.LoadResult r = model.loadStateDict(weights, true);
            assertTrue(r.isClean(), r.toString());
            model.eval();
            NDArray y = model.forwardFeatures(f.load("input", m));
            assertEquals(new Shape(2, 192, 3, 3), y.getShape());
            double err = ParityRunner.relativeError(y.toFloatArray(), f.floats("output", m));
            assertTrue(err <= ParityRunner.TOLERANCE, "relative error " + err);
            // the fixture's norms are not at their defaults: a model that skipped them would not match
            assertTrue(
                    weights.get("block2.norm1.running_var").sub(1f).abs().max().getFloat() > 0.1f);
        }
    }

    @Test
    void eachGroupConvStartsWithIdentityFiltersForItsInputChannels() {
        try (NDManager m = NDManager.newBaseManager();
                ImageModel model = create("airbench_s", 10, "max")) {
            Map<String, NDArray> sd = model.stateDict();
            // block1.conv1: 24 -> 48, so filters 0-23 pass channel o through and 24-47 keep PyTorch's random init
            float[] w = sd.get("block1.conv1.weight").toFloatArray();
            int per = 24 * 9;
            for (int o = 0; o < 48; o++) {
                double sum = 0;
                for (int i = 0; i < per; i++) {
                    sum += Math.abs(w[o * per + i]);
                }
                if (o < 24) {
                    assertEquals(1f, w[o * per + o * 9 + 4], "filter " + o + " centre tap of channel " + o);
                    assertEquals(1.0, sum, 0.0, "filter " + o + " has no other tap");
                } else {
                    assertTrue(sum > 1.0, "filter " + o + " is random");
                }
            }
            // block2.conv2 (96 -> 96) is the identity: a conv through it returns its input
            Module conv2 = model.child("block2").child("conv2");
            NDArray x = m.randomNormal(new Shape(2, 96, 7, 7));
            model.eval();
            NDArray y = conv2.forward(x);
            assertEquals(0.0, y.sub(x).abs().max().getFloat(), 1e-6);
        }
    }

    @Test
    void initFromDataWhitensTheStemsFirstFilters() {
        try (NDManager m = NDManager.newBaseManager();
                ImageModel model = create("airbench_s", 10, "max")) {
            // gray images whose neighbouring pixels are correlated, as photos' are
            NDArray noise = m.randomNormal(new Shape(64, 1, 29, 29));
            NDArray images = noise.get(":, :, :28, :28")
                    .add(noise.get(":, :, 1:, :28"))
                    .add(noise.get(":, :, :28, 1:"))
                    .add(0.5f);
            float[] before = model.stateDict().get("stem.conv.weight").toFloatArray();
            ((InitFromData) model).initFromData(images);
            float[] w = model.stateDict().get("stem.conv.weight").toFloatArray();
            // 9-pixel patches: 9 filters and their negatives; channels 18-23 keep their random start
            for (int i = 0; i < 9 * 9; i++) {
                assertEquals(-w[i], w[81 + i], 0f);
            }
            for (int i = 18 * 9; i < 24 * 9; i++) {
                assertEquals(before[i], w[i], 0f);
            }
            // the stem conv maps the images' interior patches to responses with identity second moment
            model.eval();
            NDArray y = model.child("stem").child("conv").forward(images).get(":, :9, 1:27, 1:27");
            NDArray r = y.transpose(1, 0, 2, 3).reshape(9, -1);
            NDArray moment = r.matMul(r.transpose()).div(r.getShape().get(1));
            float[] mv = moment.toFloatArray();
            for (int a = 0; a < 9; a++) {
                for (int b = 0; b < 9; b++) {
                    assertEquals(a == b ? 1f : 0f, mv[a * 9 + b], 0.02f, "moment " + a + "," + b);
                }
            }
        }
    }

    @Test
    void featureLevelsHalveTheSizeAfterTheStem() {
        try (NDManager m = NDManager.newBaseManager();
                ImageModel model = create("airbench_m", 0, "")) {
            assertEquals(
                    List.of(1, 2, 4, 8),
                    model.featureInfo().stream().map(FeatureInfo::reduction).toList());
            assertEquals(
                    List.of(32, 64, 128, 256),
                    model.featureInfo().stream().map(FeatureInfo::numChs).toList());
            model.eval();
            NDList levels = model.forwardIntermediates(m.randomNormal(new Shape(1, 1, 28, 28)), new int[] {0, 1, 2, 3});
            assertEquals(new Shape(1, 32, 28, 28), levels.get(0).getShape());
            assertEquals(new Shape(1, 64, 14, 14), levels.get(1).getShape());
            assertEquals(new Shape(1, 128, 7, 7), levels.get(2).getShape());
            assertEquals(new Shape(1, 256, 3, 3), levels.get(3).getShape());
        }
        try (ImageModel model = create("airbench_w", 0, "")) {
            assertEquals(
                    List.of(16, 32, 128, 256),
                    model.featureInfo().stream().map(FeatureInfo::numChs).toList());
        }
    }

    @Test
    void theHeadMaxPoolsIntoTheClassifierByDefault() {
        try (NDManager m = NDManager.newBaseManager();
                ImageModel model = Models.createModel("airbench_s", false, 10, null)) {
            assertEquals("max", model.globalPool());
            assertEquals(192, model.numFeatures());
            model.eval();
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32));
            NDArray maps = model.forwardFeatures(x);
            NDArray pooled = model.forwardHead(maps, true);
            NDArray expected = maps.max(new int[] {3}).max(new int[] {2});
            assertEquals(0f, ModelTesting.maxAbsDiff(pooled, expected));
            NDArray w = model.stateDict().get("fc.weight");
            NDArray b = model.stateDict().get("fc.bias");
            NDArray logits = expected.matMul(w.transpose()).add(b);
            assertTrue(ModelTesting.maxAbsDiff(model.forward(x), logits) < 1e-4f);
        }
    }
}
