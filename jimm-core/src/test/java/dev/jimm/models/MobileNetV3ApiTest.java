package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2dSame;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.parity.ReferenceInit;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The timm API on mobilenetv3.py models, whose head pools before its conv. */
class MobileNetV3ApiTest {
    private static ModelOptions classes(int n) {
        return ModelOptions.builder().numClasses(n).build();
    }

    @Test
    void theHeadConvWidensThePooledFeatures() {
        // timm's num_features is the trunk's 576 (ModelFactsTest); head_hidden_size is the head conv's
        assertEquals(1024, ((MobileNetV3) unbuilt("mobilenetv3_small_100")).headHiddenSize());
    }

    @Test
    void preLogitsComeAfterConvHeadAndActivation() {
        try (ImageModel m = Models.createModel("mobilenetv3_large_100", classes(10));
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 64));
            NDArray pooled = feats.sum(new int[] {2, 3}, true).div(4f);
            NDArray expected = Activation.apply(
                            Activation.Kind.HARD_SWISH, ((Module) m.child("conv_head")).forward(pooled))
                    .reshape(2, 1280);
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 1280), pre.getShape());
            assertTrue(pre.sub(expected).abs().max().getFloat() < 1e-5f);
            assertEquals(new Shape(2, 10), m.forwardHead(feats, false).getShape());
        }
    }

    @Test
    void resetClassifierKeepsTheHeadConv() {
        try (ImageModel m = Models.createModel("mobilenetv3_small_050", classes(1000));
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            m.resetClassifier(5);
            assertEquals(new Shape(2, 5), m.forward(x).getShape());
            assertEquals(
                    new Shape(5, 1024), m.stateDict().get("classifier.weight").getShape());
            m.resetClassifier(0, "");
            assertInstanceOf(Identity.class, m.child("classifier"));
            assertEquals(new Shape(2, 1024, 2, 2), m.forward(x).getShape());
            m.resetClassifier(0, "max");
            assertEquals(new Shape(2, 1024), m.forward(x).getShape());
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(0, "catavgmax"));
            assertTrue(e.getMessage().contains("conv_head"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, ""));
        }
    }

    @Test
    void forwardIntermediatesIncludeTheStemWhenTheFirstBlockStrides() {
        try (ImageModel m = Models.createModel("mobilenetv3_small_100", classes(0));
                NDManager s = m.getManager().newSubManager()) {
            List<FeatureInfo> fi = m.featureInfo();
            assertEquals(
                    List.of("bn1", "blocks.0", "blocks.1", "blocks.3", "blocks.5"),
                    fi.stream().map(FeatureInfo::module).toList());
            NDList all = m.forwardIntermediates(input(s, 96), m.allFeatureIndices());
            for (int i = 0; i < fi.size(); i++) {
                int r = fi.get(i).reduction();
                assertEquals(
                        new Shape(2, fi.get(i).numChs(), 96 / r, 96 / r),
                        all.get(i).getShape(),
                        "level " + i);
            }
            NDList stem = m.forwardIntermediates(input(s, 96), new int[] {0});
            assertEquals(new Shape(2, 16, 48, 48), stem.get(0).getShape());
        }
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "lcnet_050", ModelOptions.builder().featuresOnly(-1).build());
                NDManager s = fe.getManager().newSubManager()) {
            assertEquals(
                    new Shape(2, 256, 2, 2),
                    fe.forwardFeatures(input(s, 64)).get(0).getShape());
        }
    }

    @Test
    void tensorflowPortsUseSamePaddingAndTfEps() {
        try (ImageModel m = Models.createModel("tf_mobilenetv3_small_minimal_100", classes(3));
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(1e-3f, ((BatchNorm2d) m.child("bn1")).eps(), 0f);
            assertInstanceOf(Conv2dSame.class, m.child("conv_stem"));
            assertEquals(
                    new Shape(2, 576, 3, 3), m.forwardFeatures(input(s, 65)).getShape());
            assertEquals(new Shape(2, 3), m.forward(input(s, 65)).getShape());
        }
    }

    @Test
    void everyRegisteredNameBuildsWithTimmKeys() {
        // that these are timm's 33 mobilenetv3.py names, and their default pretrained configs: RegistryTest
        for (String n : ModelTesting.registeredNames("mobilenetv3")) {
            ImageModel m = unbuilt(n);
            List<String> keys = List.copyOf(m.stateDictShapes().keySet());
            assertEquals("conv_stem.weight", keys.get(0), n);
            assertEquals("classifier.bias", keys.get(keys.size() - 1), n);
            assertEquals(32, m.featureInfo().get(m.featureInfo().size() - 1).reduction(), n);
        }
        // head_bias=False variants
        for (String n : List.of("mobilenetv3_rw", "fbnetv3_b")) {
            assertFalse(unbuilt(n).stateDictShapes().containsKey("conv_head.bias"), n);
        }
    }

    @Test
    void mobileNetV4NormsItsHeadAndHasTimmsParameterCounts() {
        try (ImageModel m = Models.createModel("mobilenetv4_conv_small", classes(4));
                NDManager s = m.getManager().newSubManager()) {
            Map<String, Shape> sd = m.stateDictShapes();
            assertFalse(sd.containsKey("conv_head.bias"), "MobileNet-V4's head conv has no bias");
            assertEquals(new Shape(1280), sd.get("norm_head.running_var"));
            // uir_r1_a5_k5_s2_e3_c96: a strided-free 5x5 depthwise start, the stride in the middle one
            assertEquals(new Shape(64, 1, 5, 5), sd.get("blocks.2.0.dw_start.conv.weight"));
            assertEquals(new Shape(192, 1, 5, 5), sd.get("blocks.2.0.dw_mid.conv.weight"));
            assertFalse(sd.containsKey("blocks.2.1.dw_start.conv.weight"), "a0: no starting depthwise conv");
            assertEquals(
                    List.of("bn1", "blocks.0", "blocks.1", "blocks.2", "blocks.4"),
                    m.featureInfo().stream().map(FeatureInfo::module).toList());
            NDArray x = input(s, 64);
            assertEquals(new Shape(2, 960, 2, 2), m.forwardFeatures(x).getShape());
            assertEquals(
                    new Shape(2, 1280),
                    m.forwardHead(m.forwardFeatures(x), true).getShape());
            assertEquals(new Shape(2, 4), m.forward(x).getShape());
        }
    }

    @Test
    void antiAliasedMobileNetV4PoolsInsteadOfStriding() {
        ImageModel plain = unbuilt("mobilenetv4_conv_medium");
        ImageModel aa = unbuilt("mobilenetv4_conv_aa_medium");
        assertEquals(plain.stateDictShapes(), aa.stateDictShapes());
        Map<String, Module> mods = aa.namedModules();
        assertInstanceOf(Pool2d.class, mods.get("blocks.0.0.aa"), "er block: avg pool after bn1");
        assertInstanceOf(Pool2d.class, mods.get("blocks.1.0.dw_mid.aa"), "uir: in the strided dw conv");
        assertFalse(
                mods.containsKey("blocks.1.0.dw_start.aa"),
                "the start dw conv does not stride when a middle one exists");
        assertFalse(mods.containsKey("blocks.1.1.dw_mid.aa"));
        try (ImageModel m = Models.createModel("mobilenetv4_conv_blur_medium", classes(0));
                NDManager s = m.getManager().newSubManager()) {
            NDList levels = m.forwardIntermediates(input(s, 64), m.allFeatureIndices());
            for (int i = 0; i < levels.size(); i++) {
                int r = m.featureInfo().get(i).reduction();
                assertEquals(
                        new Shape(2, m.featureInfo().get(i).numChs(), 64 / r, 64 / r),
                        levels.get(i).getShape());
            }
        }
    }

    @Test
    void mobileNetV4HybridsAttendWithOneSharedKeyAndValue() {
        try (ImageModel m = Models.createModel("mobilenetv4_hybrid_medium", classes(5));
                NDManager s = m.getManager().newSubManager()) {
            Map<String, Shape> sd = m.stateDictShapes();
            // mqa_r1_k3_h4_s1_v2_d64_c160: 4 query heads of 64, one key and value of 64 after a stride-2 dw conv
            assertEquals(new Shape(256, 160, 1, 1), sd.get("blocks.2.4.attn.query.proj.weight"));
            assertEquals(new Shape(160, 1, 3, 3), sd.get("blocks.2.4.attn.key.down_conv.weight"));
            assertEquals(new Shape(64, 160, 1, 1), sd.get("blocks.2.4.attn.value.proj.weight"));
            assertEquals(new Shape(160, 256, 1, 1), sd.get("blocks.2.4.attn.output.proj.weight"));
            assertEquals(new Shape(160), sd.get("blocks.2.4.layer_scale.gamma"));
            assertEquals(new Shape(160), sd.get("blocks.2.3.layer_scale.gamma"), "uir blocks of hybrids scale too");
            assertEquals(
                    1e-5f,
                    m.stateDict().get("blocks.2.4.layer_scale.gamma").max().getFloat(),
                    1e-9f);
            assertEquals(new Shape(2, 5), m.forward(input(s, 64)).getShape());

            // one position: the softmax is 1, so every head returns the value and the output is proj([v, v, v, v])
            Map<String, Module> mods = m.namedModules();
            Module attn = mods.get("blocks.2.4.attn");
            NDArray x = ReferenceInit.input(s, new Shape(1, 160, 1, 1), 9);
            NDArray v = mods.get("blocks.2.4.attn.value").forward(x);
            NDArray expected = mods.get("blocks.2.4.attn.output").forward(NDArrays.concat(new NDList(v, v, v, v), 1));
            assertTrue(attn.forward(x).sub(expected).abs().max().getFloat() < 1e-4f);
        }
    }
}
