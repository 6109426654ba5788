package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.layers.Identity;
import dev.jimm.parity.ParityFixture;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's GhostNets through the timm API: sizes, the efficient head, feature levels, V2's upsampling. */
class GhostNetApiTest {
    @Test
    void v3sDefaultInputSizeIsTimms() {
        // the other fields of the default pretrained configs: RegistryTest's check of every timm fixture
        assertEquals(
                224,
                ModelRegistry.builtIn().config("ghostnetv3_050").inputSize().get(1));
    }

    @Test
    void v2AndV3KeysFollowTimmsModules() {
        ImageModel v2 = unbuilt("ghostnetv2_100");
        Map<String, Shape> s2 = v2.stateDictShapes();
        assertFalse(s2.containsKey("blocks.1.0.ghost1.short_conv.0.weight"), "layers 0 and 1 keep the plain module");
        assertEquals(new Shape(72, 24, 1, 1), s2.get("blocks.2.0.ghost1.short_conv.0.weight"));
        assertEquals(new Shape(72, 1, 1, 5), s2.get("blocks.2.0.ghost1.short_conv.2.weight"));
        assertEquals(new Shape(72, 1, 5, 1), s2.get("blocks.2.0.ghost1.short_conv.4.weight"));
        assertFalse(s2.containsKey("blocks.2.0.ghost2.short_conv.0.weight"), "ghost2 never has attention");
        ImageModel v3 = unbuilt("ghostnetv3_100");
        Map<String, Shape> s3 = v3.stateDictShapes();
        assertEquals(new Shape(8, 16, 1, 1), s3.get("blocks.0.0.ghost1.primary_rpr_conv.2.conv.weight"));
        assertEquals(new Shape(8), s3.get("blocks.0.0.ghost1.cheap_rpr_skip.running_var"));
        assertEquals(new Shape(8, 1, 3, 3), s3.get("blocks.0.0.ghost1.cheap_rpr_conv.0.conv.weight"));
        assertEquals(new Shape(8, 1, 1, 1), s3.get("blocks.0.0.ghost1.cheap_rpr_scale.conv.weight"));
        assertEquals(new Shape(48, 1, 3, 3), s3.get("blocks.1.0.dw_rpr_conv.2.conv.weight"));
        assertEquals(new Shape(48, 1, 1, 1), s3.get("blocks.1.0.dw_rpr_scale.conv.weight"));
        assertEquals(new Shape(72, 24, 1, 1), s3.get("blocks.2.0.ghost1.short_conv.0.weight"));
        assertEquals(new Shape(960, 160, 1, 1), s3.get("blocks.9.0.conv.weight"));
    }

    @Test
    void emptyPoolRunsConvHeadAndItsReluOnTheMaps() {
        // the shapes of numClasses 0 and of an empty pool: ModelFactsTest
        try (ImageModel m = Models.createModel(
                        "ghostnet_050",
                        ModelOptions.builder().numClasses(0).globalPool("").build());
                NDManager s = m.getManager().newSubManager()) {
            assertTrue(m.forward(input(s, 64)).min().getFloat() >= 0f);
        }
    }

    @Test
    void resetClassifierAndPreLogits() {
        try (ImageModel m = Models.createModel("ghostnet_050");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 480, 2, 2), feats.getShape());
            NDArray pre = m.forwardHead(feats, true);
            NDArray logits = m.child("classifier").forward(pre);
            assertTrue(logits.sub(m.forward(x)).abs().max().getFloat() < 1e-6f);
            float[] head = m.stateDict().get("conv_head.weight").toFloatArray();
            m.resetClassifier(10, "max");
            assertEquals(
                    new Shape(10, 1280), m.stateDict().get("classifier.weight").getShape());
            assertArrayEquals(head, m.stateDict().get("conv_head.weight").toFloatArray(), "conv_head stays");
            assertEquals(new Shape(2, 10), m.forward(x).getShape());
            m.resetClassifier(0, "");
            assertInstanceOf(Identity.class, m.child("classifier"));
            assertEquals(new Shape(2, 1280, 2, 2), m.forward(x).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, "catavgmax"));
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("conv_head.bias", keys.get(keys.size() - 1));
        }
    }

    @Test
    void featureLevelsMatchTimmAndTheirShapes() {
        ParityFixture fx = ParityFixture.read(TestFixtures.parity("timm__ghostnet_100"));
        for (String name : new String[] {"ghostnet_100", "ghostnetv2_100", "ghostnetv3_050"}) {
            try (FeatureExtractor fe = Models.createFeatureExtractor(
                            name, ModelOptions.builder().build());
                    NDManager s = fe.getManager().newSubManager()) {
                List<FeatureInfo> info = fe.featureInfo();
                assertEquals(fx.featureInfo().size(), info.size());
                for (int i = 0; i < info.size(); i++) {
                    Object[] ref = fx.featureInfo().get(i);
                    assertEquals(ref[1], info.get(i).reduction(), name);
                    assertEquals(ref[2], info.get(i).module(), name);
                    if (name.equals("ghostnet_100")) {
                        assertEquals(ref[0], info.get(i).numChs());
                    }
                }
                // 72 is odd from stride 8 on (9, 5, 3): V2's pooled attention branch is then upsampled
                NDList maps = fe.forwardFeatures(input(s, 72));
                long[] sides = {36, 18, 9, 5, 3};
                for (int i = 0; i < maps.size(); i++) {
                    assertEquals(
                            new Shape(2, info.get(i).numChs(), sides[i], sides[i]),
                            maps.get(i).getShape(),
                            name + " level " + i);
                }
                NDArray feats = fe.model().forwardFeatures(input(s, 72));
                // blocks.8 and the final ConvBnAct (blocks.9) run after the last level
                assertEquals(new Shape(2, fe.model().numFeatures(), 3, 3), feats.getShape(), name);
                assertFalse(feats.isNaN().any().getBoolean(), name);
            }
        }
        try (ImageModel m = Models.createModel("ghostnet_050");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList first = m.forwardIntermediates(x, new int[] {0});
            NDArray stem = m.child("conv_stem").forward(x);
            assertEquals(
                    0f,
                    first.get(0).sub(stem).abs().max().getFloat(),
                    "timm's level 0 is conv_stem's output, before bn1");
        }
    }

    @Test
    void nearestUpsamplingPicksPyTorchsSourcePixels() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.arange(9f).reshape(1, 1, 3, 3);
            // floor(d * 3 / 7) for d = 0..6
            int[] src = {0, 0, 0, 1, 1, 2, 2};
            float[] y = GhostNet.nearest(x, 7, 7).toFloatArray();
            for (int r = 0; r < 7; r++) {
                for (int c = 0; c < 7; c++) {
                    assertEquals(src[r] * 3 + src[c], y[r * 7 + c], "pixel " + r + "," + c);
                }
            }
            float[] doubled =
                    GhostNet.nearest(m.arange(4f).reshape(1, 1, 2, 2), 4, 5).toFloatArray();
            // rows floor(d / 2), columns floor(d * 0.4)
            assertArrayEquals(new float[] {0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 2, 2, 2, 3, 3, 2, 2, 2, 3, 3}, doubled);
        }
    }
}
