package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Conv2d;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's legacy SENets (senet.py): parameter counts, their own key layout, Caffe's strides and pooling. */
class LegacySeNetApiTest {
    /** timm's published parameter counts in millions (results/results-imagenet.csv). */
    private static final Map<String, Double> PARAMS_M = Map.of(
            "legacy_seresnet18", 11.78,
            "legacy_seresnet34", 21.96,
            "legacy_seresnet50", 28.09,
            "legacy_seresnet101", 49.33,
            "legacy_seresnet152", 66.82,
            "legacy_senet154", 115.09,
            "legacy_seresnext26_32x4d", 16.79,
            "legacy_seresnext50_32x4d", 27.56,
            "legacy_seresnext101_32x4d", 48.96);

    @Test
    void parameterCountsAreTimms() {
        ModelTesting.assertFamilyParamsMillions("senet", PARAMS_M);
    }

    @Test
    void keysAreSenetsNotResnets() {
        List<String> keys =
                List.copyOf(unbuilt("legacy_seresnet50").stateDictShapes().keySet());
        assertEquals("layer0.conv1.weight", keys.get(0));
        assertEquals("last_linear.bias", keys.get(keys.size() - 1));
        // in a block: convs and norms, se_module, then downsample
        int se = keys.indexOf("layer1.0.se_module.fc2.bias");
        int bn3 = keys.indexOf("layer1.0.bn3.num_batches_tracked");
        int ds = keys.indexOf("layer1.0.downsample.0.weight");
        assertTrue(bn3 < se && se < ds, "bn3 " + bn3 + ", se_module " + se + ", downsample " + ds);
        Map<String, Shape> s = unbuilt("legacy_senet154").stateDictShapes();
        assertEquals(new Shape(64, 3, 3, 3), s.get("layer0.conv1.weight"));
        assertEquals(new Shape(128, 64, 3, 3), s.get("layer0.conv3.weight"));
        // SENet-154: 1x1 projection in layer1, 3x3 (padding 1) from layer2; block widths 2 and 4 times planes
        assertEquals(new Shape(256, 128, 1, 1), s.get("layer1.0.downsample.0.weight"));
        assertEquals(new Shape(512, 256, 3, 3), s.get("layer2.0.downsample.0.weight"));
        assertEquals(new Shape(256, 256, 1, 1), s.get("layer2.0.conv1.weight"));
        assertEquals(new Shape(512, 4, 3, 3), s.get("layer2.0.conv2.weight"));
        // SE-ResNeXt-50 32x4d: width floor(128 * 4 / 64) * 32 = 256 in layer2, SE reduction 16
        Map<String, Shape> x = unbuilt("legacy_seresnext50_32x4d").stateDictShapes();
        assertEquals(new Shape(256, 8, 3, 3), x.get("layer2.0.conv2.weight"));
        assertEquals(new Shape(32, 512, 1, 1), x.get("layer2.0.se_module.fc1.weight"));
        assertFalse(x.containsKey("layer2.1.downsample.0.weight"));
    }

    @Test
    void stridesSitWhereCaffePutThem() {
        // SE-ResNet bottlenecks stride their first 1x1 conv, SE-ResNeXt and SENet-154 their grouped 3x3
        assertEquals(2, stride(unbuilt("legacy_seresnet50"), "layer2.0.conv1"));
        assertEquals(1, stride(unbuilt("legacy_seresnet50"), "layer2.0.conv2"));
        assertEquals(1, stride(unbuilt("legacy_seresnext26_32x4d"), "layer3.0.conv1"));
        assertEquals(2, stride(unbuilt("legacy_seresnext26_32x4d"), "layer3.0.conv2"));
        assertEquals(2, stride(unbuilt("legacy_senet154"), "layer4.0.conv2"));
    }

    private static long stride(ImageModel m, String conv) {
        return ((Conv2d) m.namedModules().get(conv)).stride()[0];
    }

    @Test
    void levelsAndTheCeilModeStemPool() {
        try (ImageModel m = Models.createModel(
                        "legacy_seresnet18",
                        ModelOptions.builder().numClasses(4).build());
                NDManager s = m.getManager().newSubManager()) {
            // 70 -> 35 after layer0; pool0 (3, stride 2, ceil_mode, no padding) gives 17, where padding 1 gives 18
            NDArray x = input(s, 70);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            long[][] expected = {{64, 35}, {64, 17}, {128, 9}, {256, 5}, {512, 3}};
            ModelTesting.assertSquareLevels(maps, 2, expected);
            NDArray feats = m.forwardFeatures(x);
            assertArrayEquals(maps.get(4).toFloatArray(), feats.toFloatArray());
            ModelTesting.assertPreLogitsFeed(m, feats, "last_linear");
            assertResetTo(m, x, 6, "avgmax", "last_linear", 512);
            m.resetClassifier(0);
            assertEquals(new Shape(2, 512), m.forward(x).getShape());
        }
    }

    @Test
    void foldsForInference() {
        RexNetApiTest.assertFoldsEveryNorm("legacy_seresnet18", 64);
    }
}
