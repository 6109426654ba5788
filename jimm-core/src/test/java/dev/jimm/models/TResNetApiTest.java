package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.BlurPool2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * timm's TResNets: parameter counts, block layouts, space-to-depth, the leaky ReLUs, the original checkpoint layout,
 * and (TResNet-M being above ModelContractTest's size limit) the contract's head and feature checks.
 */
class TResNetApiTest {
    /** timm's published parameter counts in millions (results/results-imagenet.csv). */
    private static final Map<String, Double> PARAMS_M = Map.of(
            "tresnet_m", 31.39,
            "tresnet_l", 55.99,
            "tresnet_xl", 78.44,
            "tresnet_v2_l", 46.17);

    @Test
    void parameterCountsAreTimms() {
        ModelTesting.assertFamilyParamsMillions("tresnet", PARAMS_M);
    }

    @Test
    void blocksFollowTimm() {
        ImageModel m = unbuilt("tresnet_m");
        Map<String, Shape> s = m.stateDictShapes();
        assertEquals(new Shape(64, 48, 3, 3), s.get("body.conv1.conv.weight"), "3 x 16 channels after space-to-depth");
        // SE: max(planes / 4, 64) in basic blocks, max(4 planes / 8, 64) on the bottleneck's 3x3 output
        assertEquals(new Shape(64, 64, 1, 1), s.get("body.layer1.0.se.fc1.weight"));
        assertEquals(new Shape(128, 256, 1, 1), s.get("body.layer3.0.se.fc1.weight"));
        assertFalse(s.containsKey("body.layer4.0.se.fc1.weight"), "no SE in the last stage");
        // average-pool shortcut: pool, then the 1x1 ConvNormAct
        assertEquals(new Shape(1024, 128, 1, 1), s.get("body.layer3.0.downsample.1.conv.weight"));
        // anti-aliasing: the strided 3x3 runs at stride 1, a blur pool strides
        Map<String, Module> mods = m.namedModules();
        assertEquals(1, ((Conv2d) mods.get("body.layer2.0.conv1.conv")).stride()[0]);
        assertInstanceOf(BlurPool2d.class, mods.get("body.layer2.0.conv1.aa"));
        assertEquals(1, ((Conv2d) mods.get("body.layer4.0.conv2.conv")).stride()[0]);
        assertInstanceOf(BlurPool2d.class, mods.get("body.layer4.0.conv2.aa"));
        assertFalse(mods.containsKey("body.layer1.0.conv1.aa"), "no anti-aliasing without a stride");
        // V2: bottlenecks from the first stage (a stride-1 projection), widths rounded to 8
        Map<String, Shape> v2 = unbuilt("tresnet_v2_l").stateDictShapes();
        assertEquals(new Shape(256, 64, 1, 1), v2.get("body.layer1.0.downsample.0.conv.weight"));
        assertEquals(new Shape(64, 64, 1, 1), v2.get("body.layer1.0.conv1.conv.weight"));
        // tresnet_l: int(64 * 1.2) = 76 channels, 8 x 76 x 4 = 2432 features
        assertEquals(
                new Shape(1000, 2432), unbuilt("tresnet_l").stateDictShapes().get("head.fc.weight"));
    }

    @Test
    void spaceToDepthPutsTheOffsetsOutermost() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            int c = 2;
            int side = 8;
            NDArray x = mgr.arange((float) (c * side * side)).reshape(1, c, side, side);
            float[] y = new TResNet.SpaceToDepth().forward(x).toFloatArray();
            // output channel (i * 4 + j) * C + ch at (h, w) is input ch at (4 h + i, 4 w + j)
            int out = side / 4;
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 4; j++) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int h = 0; h < out; h++) {
                            for (int w = 0; w < out; w++) {
                                int oc = (i * 4 + j) * c + ch;
                                float expected = (ch * side + 4 * h + i) * side + 4 * w + j;
                                assertEquals(expected, y[(oc * out + h) * out + w], "channel " + oc);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void originalCheckpointsAreRenamedAndTheirNormWeightsMadePositive() {
        assertEquals("body.conv1.conv.weight", TResNet.renameOriginalKey("body.conv1.0.weight"));
        assertEquals("body.conv1.bn.running_var", TResNet.renameOriginalKey("body.conv1.1.running_var"));
        assertEquals("body.layer2.0.conv1.conv.weight", TResNet.renameOriginalKey("body.layer2.0.conv1.0.0.weight"));
        assertEquals("body.layer2.0.conv1.bn.bias", TResNet.renameOriginalKey("body.layer2.0.conv1.0.1.bias"));
        assertEquals(
                "body.layer3.0.downsample.1.bn.weight",
                TResNet.renameOriginalKey("body.layer3.0.downsample.1.1.weight"));
        assertEquals("body.layer1.0.se.fc1.weight", TResNet.renameOriginalKey("body.layer1.0.se.fc1.weight"));
        TResNet model = (TResNet) unbuilt("tresnet_m");
        try (NDManager mgr = NDManager.newBaseManager()) {
            Map<String, NDArray> original = new LinkedHashMap<>();
            original.put("body.conv1.0.weight", mgr.ones(new Shape(64, 48, 3, 3)));
            original.put("body.conv1.1.weight", mgr.create(new float[] {-0.5f, 0f, 2f}));
            original.put("body.conv1.1.bias", mgr.create(new float[] {-0.5f, 0f, 2f}));
            Map<String, NDArray> out = model.prepareForPretrained(original);
            assertEquals(
                    List.of("body.conv1.conv.weight", "body.conv1.bn.weight", "body.conv1.bn.bias"),
                    List.copyOf(out.keySet()));
            float[] w = out.get("body.conv1.bn.weight").toFloatArray();
            assertEquals(0.5f + 1e-5f, w[0], 1e-9f);
            assertEquals(1e-5f, w[1], 1e-9f);
            assertEquals(2f + 1e-5f, w[2], 1e-7f);
            assertEquals(-0.5f, out.get("body.conv1.bn.bias").toFloatArray()[0], "only norm weights change");
            // a checkpoint in timm's layout passes untouched
            Map<String, NDArray> timm = Map.of("body.conv1.conv.weight", mgr.ones(new Shape(1)));
            assertSame(timm, model.prepareForPretrained(timm));
        }
    }

    @Test
    void slopesZeroInitLevelsAndHead() {
        try (ImageModel m = Models.createModel(
                        "tresnet_m", ModelOptions.builder().numClasses(5).build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, Module> mods = m.namedModules();
            // eval-mode norms at their init (mean 0, var 1, weight 1, bias 0): the leaky ReLU's slope shows
            NDArray neg = s.full(new Shape(1, 64, 1, 1), -100f);
            assertEquals(-1f, mods.get("body.conv1.bn").forward(neg).getFloat(0, 0, 0, 0), 1e-3f, "stem slope 0.01");
            assertEquals(
                    -0.1f,
                    mods.get("body.layer1.0.conv1.bn").forward(neg).getFloat(0, 0, 0, 0),
                    1e-4f,
                    "block slope 0.001");
            assertEquals(
                    0f,
                    mods.get("body.layer1.0.conv2.bn").forward(neg).getFloat(0, 0, 0, 0),
                    "no activation after the last conv; its weight starts at zero");
            assertEquals(
                    0f,
                    m.stateDict()
                            .get("body.layer3.0.conv3.bn.weight")
                            .abs()
                            .max()
                            .getFloat());

            NDArray x = input(s, 64);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            // level 0, the stem conv, is listed at /2 as timm lists it but comes out at /4
            long[][] expected = {{64, 16}, {64, 16}, {128, 8}, {1024, 4}, {2048, 2}};
            ModelTesting.assertSquareLevels(maps, 2, expected);
            NDArray feats = m.forwardFeatures(x);
            assertTrue(ModelTesting.maxAbsDiff(maps.get(4), feats) == 0f);
            ModelTesting.assertPreLogitsFeed(m, feats, "head.fc");
            assertResetTo(m, x, 3, "max", "head.fc", 2048);
            m.resetClassifier(0);
            assertEquals(new Shape(2, 2048), m.forward(x).getShape());
        }
        // timm's features_only default: levels 1 to 4
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "tresnet_m",
                        ModelOptions.builder().featuresOnly(1, 2, 3, 4).build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 64));
            assertEquals(4, maps.size());
            assertEquals(new Shape(2, 2048, 2, 2), maps.get(3).getShape());
            assertFalse(fe.model().stateDict().containsKey("head.fc.weight"));
        }
    }

    @Test
    void foldsForInference() {
        RexNetApiTest.assertFoldsEveryNorm("tresnet_m", 64);
    }
}
