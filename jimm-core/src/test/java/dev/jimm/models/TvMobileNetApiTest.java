package dev.jimm.models;

import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Identity;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** torchvision's mobile nets through the timm API: sizes, heads, feature levels, init. */
class TvMobileNetApiTest {
    @Test
    void fallbackInputSizeIsTheCropOfTorchvisionsWeights() {
        // their parameter counts: ModelFactsTest
        ModelRegistry registry = ModelRegistry.builtIn();
        for (String pattern : List.of("tv/mobilenet*", "tv/efficientnet*", "tv/mnasnet*")) {
            for (String n : Models.listModels(pattern)) {
                assertEquals(
                        registry.config(n).inputSize(),
                        registry.entry(n).fallbackCfg().inputSize(),
                        n);
            }
        }
    }

    @Test
    void mnasNetLayoutIsTorchvisionsVersion2() {
        // torchvision's mnasnet.py (_version 2): the stem scales with alpha, 16 inverted residuals
        // of 3 convs + 3 norms, a 1280-wide last conv; 314 state_dict entries
        Map<String, Shape> a05 = unbuilt("tv/mnasnet0_5").stateDictShapes();
        assertEquals(314, a05.size());
        assertEquals(new Shape(16, 3, 3, 3), a05.get("layers.0.weight"));
        assertEquals(new Shape(16, 1, 3, 3), a05.get("layers.3.weight"));
        assertEquals(new Shape(8, 16, 1, 1), a05.get("layers.6.weight"));
        assertEquals(new Shape(24, 8, 1, 1), a05.get("layers.8.0.layers.0.weight"));
        assertEquals(new Shape(24, 1, 3, 3), a05.get("layers.8.0.layers.3.weight"));
        assertEquals(new Shape(16, 24, 1, 1), a05.get("layers.8.0.layers.6.weight"));
        Map<String, Shape> a10 = unbuilt("tv/mnasnet1_0").stateDictShapes();
        assertEquals(new Shape(32, 3, 3, 3), a10.get("layers.0.weight"));
        assertEquals(new Shape(576, 1, 5, 5), a10.get("layers.12.0.layers.3.weight"));
        assertEquals(new Shape(1280, 320, 1, 1), a10.get("layers.14.weight"));
        assertEquals(new Shape(1280), a10.get("layers.15.running_var"));
        assertEquals(new Shape(1000, 1280), a10.get("classifier.1.weight"));
        List<String> keys = new ArrayList<>(a10.keySet());
        assertEquals("classifier.1.bias", keys.get(keys.size() - 1));
    }

    @Test
    void resetClassifierKeepsMobileNetV3sHiddenLayer() {
        try (ImageModel m = Models.createModel("tv/mobilenet_v3_small");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            float[] hidden = m.stateDict().get("classifier.0.weight").toFloatArray();
            m.resetClassifier(10);
            assertEquals(
                    new Shape(10, 1024),
                    m.stateDict().get("classifier.3.weight").getShape());
            assertArrayEquals(
                    hidden, m.stateDict().get("classifier.0.weight").toFloatArray(), "the hidden Linear stays");
            assertEquals(new Shape(2, 10), m.forward(x).getShape());
            m.resetClassifier(0, "");
            assertInstanceOf(Identity.class, m.child("classifier").child("3"));
            assertEquals(new Shape(2, 576, 2, 2), m.forward(x).getShape());
            m.resetClassifier(5, "catavgmax");
            assertEquals(
                    new Shape(1024, 1152),
                    m.stateDict().get("classifier.0.weight").getShape());
            assertEquals(new Shape(2, 5), m.forward(x).getShape());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("classifier.3.bias", keys.get(keys.size() - 1));
        }
        try (ImageModel m = Models.createModel("tv/efficientnet_b0");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 1280, 2, 2), m.forward(x).getShape());
            m.resetClassifier(7, "catavgmax");
            assertEquals(
                    new Shape(7, 2560), m.stateDict().get("classifier.1.weight").getShape());
            assertEquals(new Shape(2, 7), m.forward(x).getShape());
        }
    }

    @Test
    void preLogitsAreWhatTheLastLinearSees() {
        try (ImageModel m = Models.createModel("tv/mobilenet_v2");
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 64));
            assertEquals(new Shape(2, 1280, 2, 2), feats.getShape());
            NDArray pre = m.forwardHead(feats, true);
            assertTrue(pre.sub(feats.sum(new int[] {2, 3}).div(4f)).abs().max().getFloat() < 1e-5f);
        }
        try (ImageModel m = Models.createModel("tv/mobilenet_v3_small");
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 64));
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 1024), pre.getShape());
            NDArray viaLast = m.child("classifier").child("3").forward(pre);
            assertTrue(viaLast.sub(m.forwardHead(feats, false)).abs().max().getFloat() < 1e-6f);
            assertEquals(1024, ((TvMobileNet) m).headHiddenSize());
            assertEquals(576, m.numFeatures());
        }
    }

    /** Five levels at reductions 2 to 32: {@code channels[i]} channels from module {@code prefix.modules[i]}. */
    private static List<FeatureInfo> levels(String prefix, int[] channels, int... modules) {
        List<FeatureInfo> levels = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            levels.add(new FeatureInfo(channels[i], 2 << i, prefix + "." + modules[i]));
        }
        return levels;
    }

    @Test
    void featureLevelsAreTheLastModuleAtEachReduction() {
        Map<String, List<FeatureInfo>> expected = new LinkedHashMap<>();
        expected.put("tv/mobilenet_v2", levels("features", new int[] {16, 24, 32, 96, 1280}, 1, 3, 6, 13, 18));
        expected.put("tv/mobilenet_v3_small", levels("features", new int[] {16, 16, 24, 48, 576}, 0, 1, 3, 8, 12));
        expected.put("tv/efficientnet_b0", levels("features", new int[] {16, 24, 40, 112, 1280}, 1, 2, 3, 5, 8));
        expected.put("tv/mnasnet0_5", levels("layers", new int[] {8, 16, 24, 48, 1280}, 7, 8, 9, 11, 16));
        for (Map.Entry<String, List<FeatureInfo>> e : expected.entrySet()) {
            try (FeatureExtractor fe = Models.createFeatureExtractor(
                            e.getKey(), ModelOptions.builder().build());
                    NDManager s = fe.getManager().newSubManager()) {
                assertEquals(e.getValue(), fe.featureInfo(), e.getKey());
                NDList maps = fe.forwardFeatures(input(s, 64));
                assertEquals(5, maps.size());
                for (int i = 0; i < 5; i++) {
                    FeatureInfo fi = e.getValue().get(i);
                    assertEquals(
                            new Shape(2, fi.numChs(), 64 / fi.reduction(), 64 / fi.reduction()),
                            maps.get(i).getShape(),
                            e.getKey() + " level " + i);
                }
                if (!e.getKey().contains("mnasnet")) {
                    // the deepest level is forwardFeatures' output
                    NDArray x = input(s, 64);
                    NDArray last =
                            fe.model().forwardIntermediates(x, new int[] {-1}).get(0);
                    assertTrue(
                            last.sub(fe.model().forwardFeatures(x)).abs().max().getFloat() == 0f);
                }
            }
        }
    }

    @Test
    void stochasticDepthRisesLinearlyOverEfficientNetBlocks() {
        ImageModel m = ModelRegistry.builtIn()
                .entry("tv/efficientnet_b0")
                .factory()
                .apply(new ModelArgs(1000, 3, "avg", 0.2, 0.2));
        List<Float> rates = dropPathRates(m);
        assertEquals(16, rates.size());
        // torchvision: p * block_id / total_blocks, so the first is 0 and the last 15/16 p
        assertEquals(0f, rates.get(0));
        assertEquals(0.2f * 15 / 16, rates.get(15), 1e-7f);
        assertEquals(0.2f * 7 / 16, rates.get(7), 1e-7f);
    }

    @Test
    void torchvisionInitSchemes() {
        try (ImageModel m = Models.createModel("tv/mobilenet_v2")) {
            float[] w = m.stateDict().get("classifier.1.weight").toFloatArray();
            assertEquals(0.01, std(w), 0.0005, "MobileNet: Linear N(0, 0.01)");
            assertEquals(0f, m.stateDict().get("classifier.1.bias").abs().max().getFloat());
            // kaiming_normal_(fan_out): std sqrt(2 / (1280 * 1 * 1)) for the last 1x1 conv
            assertEquals(
                    Math.sqrt(2.0 / 1280),
                    std(m.stateDict().get("features.18.0.weight").toFloatArray()),
                    0.001);
        }
        try (ImageModel m = Models.createModel("tv/efficientnet_b0")) {
            NDArray w = m.stateDict().get("classifier.1.weight");
            double bound = 1 / Math.sqrt(1000);
            assertTrue(
                    w.abs().max().getFloat() <= bound && w.abs().max().getFloat() > 0.99 * bound,
                    "EfficientNet: Linear U(-1/sqrt(out), 1/sqrt(out))");
            assertEquals(
                    0f,
                    m.stateDict()
                            .get("features.1.0.block.1.fc1.bias")
                            .abs()
                            .max()
                            .getFloat(),
                    "SE conv bias zero");
        }
        try (ImageModel m = Models.createModel("tv/mnasnet0_5")) {
            NDArray w = m.stateDict().get("classifier.1.weight");
            double bound = Math.sqrt(3.0 / 1000);
            assertTrue(
                    w.abs().max().getFloat() <= bound && w.abs().max().getFloat() > 0.99 * bound,
                    "MNASNet: kaiming_uniform_(fan_out, sigmoid)");
        }
    }

    @Test
    void batchNormConstantsAreTorchvisions() {
        Map<String, Float> eps = new LinkedHashMap<>();
        eps.put("tv/mobilenet_v2", 1e-5f);
        eps.put("tv/mobilenet_v3_large", 1e-3f);
        eps.put("tv/efficientnet_b4", 1e-5f);
        eps.put("tv/efficientnet_b5", 1e-3f);
        eps.put("tv/efficientnet_v2_s", 1e-3f);
        eps.put("tv/mnasnet1_0", 1e-5f);
        for (Map.Entry<String, Float> e : eps.entrySet()) {
            ImageModel m = unbuilt(e.getKey());
            long norms = m.namedModules().values().stream()
                    .filter(x -> x instanceof BatchNorm2d)
                    .count();
            assertTrue(norms > 10, e.getKey());
            m.namedModules().forEach((n, x) -> {
                if (x instanceof BatchNorm2d bn) {
                    assertEquals(e.getValue(), bn.eps(), e.getKey() + " " + n);
                }
            });
        }
    }

    @Test
    void mnasNetUsesTensorFlowsBatchNormMomentum() {
        try (ImageModel m = Models.createModel(
                        "tv/mnasnet0_5", ModelOptions.builder().numClasses(3).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 32);
            m.train(true);
            m.forward(x);
            float[] after = m.stateDict().get("layers.1.running_mean").toFloatArray();
            // momentum 1 - 0.9997 from a zero mean: 0.0003 x the batch mean of the stem conv's output
            NDArray conv = m.child("layers").child("0").forward(x);
            float batchMean = conv.get(":, 0").sum().getFloat() / (2 * 16 * 16);
            assertEquals((float) (1 - 0.9997) * batchMean, after[0], 1e-7f);
            assertTrue(Math.abs(after[0]) > 0f);
        }
    }

    private static double std(float[] v) {
        double mean = Arrays.stream(toDouble(v)).average().orElse(0);
        return Math.sqrt(Arrays.stream(toDouble(v))
                .map(d -> (d - mean) * (d - mean))
                .average()
                .orElse(0));
    }

    private static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        return d;
    }
}
