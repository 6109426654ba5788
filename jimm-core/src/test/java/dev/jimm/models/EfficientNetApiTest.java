package dev.jimm.models;

import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Conv2dSame;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.EvoNorm2dS0;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.parity.ReferenceInit;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The timm API on efficientnet.py models: heads, pooling, feature levels, init, registrations. */
class EfficientNetApiTest {
    private static ModelOptions classes(int n) {
        return ModelOptions.builder().numClasses(n).build();
    }

    @Test
    void resetClassifierSwitchesHeads() {
        try (ImageModel m = Models.createModel("mobilenetv2_050", classes(1000));
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            assertEquals(new Shape(2, 1000), m.forward(x).getShape());
            m.resetClassifier(0, "");
            assertInstanceOf(Identity.class, m.child("classifier"));
            assertEquals(new Shape(2, 1280, 2, 2), m.forward(x).getShape());
            m.resetClassifier(7, "catavgmax");
            assertEquals(
                    new Shape(7, 2560), m.stateDict().get("classifier.weight").getShape());
            assertEquals(new Shape(2, 7), m.forward(x).getShape());
            m.resetClassifier(3);
            assertEquals(
                    new Shape(3, 2560), m.stateDict().get("classifier.weight").getShape(), "keeps catavgmax");
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("classifier.bias", keys.get(keys.size() - 1));
        }
    }

    @Test
    void preLogitsAreThePooledHead() {
        try (ImageModel m = Models.createModel("mnasnet_100", classes(10));
                NDManager s = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(s, 64));
            assertEquals(new Shape(2, 1280, 2, 2), feats.getShape());
            NDArray pre = m.forwardHead(feats, true);
            assertTrue(pre.sub(feats.sum(new int[] {2, 3}).div(4f)).abs().max().getFloat() < 1e-5f);
            assertEquals(new Shape(2, 10), m.forwardHead(feats, false).getShape());
        }
    }

    @Test
    void forwardIntermediatesSelectTimmsLevels() {
        // that every level's map fits featureInfo is ModelContractTest's (on test_efficientnet)
        try (ImageModel m = Models.createModel("efficientnet_b0", classes(0));
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    List.of("blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6"),
                    m.featureInfo().stream().map(FeatureInfo::module).toList());
            NDList two = m.forwardIntermediates(input(s, 96), new int[] {1, -1});
            assertEquals(new Shape(2, 24, 24, 24), two.get(0).getShape());
            assertEquals(new Shape(2, 320, 3, 3), two.get(1).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.forwardIntermediates(input(s, 32), new int[] {5}));
        }
    }

    @Test
    void featureExtractorReturnsEveryLevel() {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "mobilenetv2_100", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 64));
            int[] chs = {16, 24, 32, 96, 320};
            int[] red = {2, 4, 8, 16, 32};
            for (int i = 0; i < chs.length; i++) {
                assertEquals(
                        new Shape(2, chs[i], 64 / red[i], 64 / red[i]),
                        maps.get(i).getShape());
            }
            assertFalse(fe.stateDict().containsKey("classifier.weight"));
        }
    }

    @Test
    void tensorflowSamePaddingHandlesOddSizes() {
        try (ImageModel m = Models.createModel("tf_efficientnet_b0", classes(0));
                NDManager s = m.getManager().newSubManager()) {
            assertInstanceOf(Conv2dSame.class, m.child("conv_stem"), "a strided conv with TF padding pads in forward");
            assertEquals(1e-3f, ((BatchNorm2d) m.child("bn1")).eps(), 0f);
            NDList levels = m.forwardIntermediates(input(s, 65), m.allFeatureIndices());
            // TF "same": every stride-2 layer gives ceil(n / 2)
            int[] sizes = {33, 17, 9, 5, 3};
            for (int i = 0; i < sizes.length; i++) {
                assertEquals(sizes[i], levels.get(i).getShape().get(2), "level " + i);
            }
        }
        try (ImageModel m = Models.createModel("tf_efficientnet_cc_b0_4e", classes(0));
                NDManager s = m.getManager().newSubManager()) {
            // the strided CondConv depthwise conv of stage 5 pads "same" in forward too
            assertEquals(
                    new Shape(2, 1280, 3, 3), m.forwardFeatures(input(s, 65)).getShape());
        }
        try (ImageModel m = Models.createModel("efficientnet_b0", classes(0))) {
            assertFalse(m.child("conv_stem") instanceof Conv2dSame);
            assertEquals(1e-5f, ((BatchNorm2d) m.child("bn1")).eps(), 0f);
        }
    }

    @Test
    void dropPathRisesLinearlyOverBlocks() {
        try (ImageModel m = Models.createModel(
                "efficientnet_b0",
                ModelOptions.builder().dropPathRate(0.2).dropRate(0.2).build())) {
            Map<String, Module> mods = m.namedModules();
            List<Float> rates = dropPathRates(m);
            // 16 blocks, rate * idx / 16; block 0 (rate 0) has none, only blocks with a skip use it
            assertTrue(mods.containsKey("blocks.6.0.drop_path"));
            assertEquals(0.2f * 15 / 16, ((DropPath) mods.get("blocks.6.0.drop_path")).rate(), 1e-6f);
            assertEquals(0.2f * 1 / 16, ((DropPath) mods.get("blocks.1.0.drop_path")).rate(), 1e-6f);
            assertEquals(15, rates.size());
        }
    }

    @Test
    void initWeightsFollowEfficientnetInitWeights() {
        try (ImageModel m = Models.createModel(
                "efficientnet_b0", ModelOptions.builder().seed(3).build())) {
            Map<String, Module> mods = m.namedModules();
            Conv2d pw = (Conv2d) mods.get("blocks.5.0.conv_pw");
            float[] w = pw.weight().getArray().toFloatArray();
            double sq = 0;
            for (float v : w) {
                sq += v * v;
            }
            double fanOut = pw.outChannels();
            assertEquals(Math.sqrt(2 / fanOut), Math.sqrt(sq / w.length), 0.05 * Math.sqrt(2 / fanOut));
            Conv2d dw = (Conv2d) mods.get("blocks.5.0.conv_dw");
            float[] d = dw.weight().getArray().toFloatArray();
            sq = 0;
            for (float v : d) {
                sq += v * v;
            }
            // depthwise: fan_out = k*k*out/groups = 25
            assertEquals(Math.sqrt(2 / 25.0), Math.sqrt(sq / d.length), 0.05 * Math.sqrt(2 / 25.0));
            assertEquals(
                    0f,
                    ((Conv2d) mods.get("blocks.1.0.se.conv_reduce"))
                            .bias()
                            .getArray()
                            .abs()
                            .max()
                            .getFloat());
            float[] fc = m.stateDict().get("classifier.weight").toFloatArray();
            float max = 0;
            for (float v : fc) {
                max = Math.max(max, Math.abs(v));
            }
            assertTrue(max <= 1 / Math.sqrt(1000) && max > 0.9 / Math.sqrt(1000), "U(+-1/sqrt(1000)), max " + max);
            assertEquals(0f, m.stateDict().get("classifier.bias").abs().max().getFloat());
            assertEquals(1f, m.stateDict().get("blocks.3.1.bn2.weight").min().getFloat());
        }
    }

    @Test
    void everyRegisteredNameBuildsWithTimmKeys() {
        // that these are timm's efficientnet.py names but the 3 pruned ones, and their default
        // pretrained configs: RegistryTest
        for (String n : ModelTesting.registeredNames("efficientnet")) {
            ImageModel m = unbuilt(n);
            List<String> keys = List.copyOf(m.stateDictShapes().keySet());
            assertEquals("conv_stem.weight", keys.get(0), n);
            assertEquals("classifier.bias", keys.get(keys.size() - 1), n);
            assertFalse(m.featureInfo().isEmpty(), n);
            // timm's builder does not count the space-to-depth stem of the X/H variants in reductions
            int reduction = n.startsWith("efficientnet_x_") || n.startsWith("efficientnet_h_") ? 16 : 32;
            assertEquals(
                    reduction, m.featureInfo().get(m.featureInfo().size() - 1).reduction(), n);
        }
    }

    @Test
    void mixNetSplitsChannelsOverKernelSizes() {
        try (ImageModel m = Models.createModel("mixnet_s", classes(10));
                NDManager s = m.getManager().newSubManager()) {
            Map<String, Shape> sd = m.stateDictShapes();
            // stage 2 block 0: ir_r1_k3.5.7_s2_e6 from 24 channels: 144 mid channels in 3 groups of 48
            assertEquals(new Shape(48, 1, 3, 3), sd.get("blocks.2.0.conv_dw.0.weight"));
            assertEquals(new Shape(48, 1, 5, 5), sd.get("blocks.2.0.conv_dw.1.weight"));
            assertEquals(new Shape(48, 1, 7, 7), sd.get("blocks.2.0.conv_dw.2.weight"));
            // a1.1: the 24 -> 72 expansion as two dense 1x1 convs of half the channels each
            assertEquals(new Shape(36, 12, 1, 1), sd.get("blocks.1.1.conv_pw.0.weight"));
            assertEquals(new Shape(36, 12, 1, 1), sd.get("blocks.1.1.conv_pw.1.weight"));
            assertEquals(new Shape(2, 10), m.forward(input(s, 64)).getShape());
            assertEquals(
                    new Shape(2, 1536, 2, 2), m.forwardFeatures(input(s, 64)).getShape());
        }
    }

    @Test
    void blurVariantMovesTheStrideIntoAConstantPadBlur() {
        ImageModel plain = unbuilt("efficientnet_b0");
        ImageModel blur = unbuilt("efficientnet_blur_b0");
        assertEquals(plain.stateDictShapes(), blur.stateDictShapes(), "the blur filter is not in the state_dict");
        try (ImageModel m = Models.createModel("efficientnet_blur_b0", classes(0));
                NDManager s = m.getManager().newSubManager()) {
            Map<String, Module> mods = m.namedModules();
            assertEquals(
                    1, ((Conv2d) mods.get("blocks.1.0.conv_dw")).stride()[0], "the strided dw conv runs at stride 1");
            Module aa = mods.get("blocks.1.0.aa");
            NDArray ones = s.ones(new Shape(1, 96, 4, 4));
            // zero padding: a corner sees 4 of the 16 filter weights' mass, 9/16
            NDArray out = aa.forward(ones);
            assertEquals(new Shape(1, 96, 2, 2), out.getShape());
            assertEquals(9f / 16, out.getFloat(0, 0, 0, 0), 1e-6f);
            assertEquals(1f, out.getFloat(0, 0, 1, 1), 1e-6f);
            NDList levels = m.forwardIntermediates(input(s, 64), m.allFeatureIndices());
            assertEquals(new Shape(2, 320, 2, 2), levels.get(4).getShape());
        }
    }

    @Test
    void condConvMixesExpertKernelsPerSample() {
        try (ImageModel m = Models.createModel("efficientnet_cc_b0_4e", classes(0));
                NDManager s = m.getManager().newSubManager()) {
            Map<String, Shape> sd = m.stateDictShapes();
            // ir_..._c112_se0.25_cc4 from 80 channels: 480 mid, 4 experts of 480*80 weights
            assertEquals(new Shape(4, 480 * 80), sd.get("blocks.4.0.conv_pw.weight"));
            assertEquals(new Shape(4, 480 * 5 * 5), sd.get("blocks.4.0.conv_dw.weight"));
            assertEquals(new Shape(4, 80), sd.get("blocks.4.0.routing_fn.weight"));
            Module block = m.namedModules().get("blocks.4.0");
            EfficientNetBlocks.CondConv2d pw =
                    (EfficientNetBlocks.CondConv2d) m.namedModules().get("blocks.4.0.conv_pw");
            NDArray x = ReferenceInit.input(s, new Shape(2, 80, 6, 6), 5);
            NDArray both = block.forward(x);
            for (int i = 0; i < 2; i++) {
                NDArray one = block.forward(x.get(i + ":" + (i + 1)));
                assertTrue(both.get(i + ":" + (i + 1)).sub(one).abs().max().getFloat() < 1e-4f, "sample " + i);
            }
            // sample 1 through conv_pw equals a plain 1x1 conv with its routed mix of expert kernels
            NDArray r = s.create(new float[] {0.1f, 0.7f, 0.3f, 0.9f, 0.5f, 0.2f, 0.8f, 0.4f}, new Shape(2, 4));
            NDArray mixed = r.get("1:2")
                    .matMul(pw.directParameters().get("weight").getArray())
                    .reshape(480, 80, 1, 1);
            NDArray plain = x.get("1:2")
                    .getNDArrayInternal()
                    .convolution(x.get("1:2"), mixed, null, new Shape(1, 1), new Shape(0, 0), new Shape(1, 1), 1)
                    .singletonOrThrow();
            assertTrue(pw.forward(x, r).get("1:2").sub(plain).abs().max().getFloat() < 1e-4f);
        }
    }

    @Test
    void normAndAttentionVariantsBuildAndRun() {
        for (String n : List.of(
                "test_efficientnet_ln",
                "test_efficientnet_evos",
                "test_efficientnet_gn",
                "gc_efficientnetv2_rw_t",
                "efficientnet_x_b3",
                "mobilenet_edgetpu_v2_s")) {
            try (ImageModel m = Models.createModel(n, classes(3));
                    NDManager s = m.getManager().newSubManager()) {
                NDArray y = m.forward(input(s, 64));
                assertEquals(new Shape(2, 3), y.getShape(), n);
                assertFalse(Float.isNaN(y.sum().getFloat()), n);
            }
        }
        Map<String, Shape> evos = unbuilt("test_efficientnet_evos").stateDictShapes();
        assertTrue(evos.containsKey("bn1.v"), "EvoNorm-S0 with its activation has v");
        assertFalse(evos.containsKey("blocks.3.0.bn3.v"), "and none where the block applies no activation");
        assertFalse(evos.containsKey("bn1.running_mean"));
        Map<String, Shape> x = unbuilt("efficientnet_x_b3").stateDictShapes();
        // space-to-depth stem block: a 2x2 stride-2 conv to 4x the channels, then a (3 + 1) / 2 = 2 depthwise kernel
        assertEquals(new Shape(160, 40, 2, 2), x.get("blocks.0.0.conv_s2d.weight"));
        assertEquals(new Shape(160, 1, 2, 2), x.get("blocks.0.0.conv_dw.weight"));
        Map<String, Shape> gc = unbuilt("gc_efficientnetv2_rw_t").stateDictShapes();
        // ir_r6_k3_s2_e4_c128_se0.25 at width 0.8 from 48 channels: 192 mid, rd = 192 * 0.25 / 4 = 12
        assertEquals(new Shape(1, 192, 1, 1), gc.get("blocks.3.0.se.conv_attn.weight"));
        assertEquals(new Shape(12, 192, 1, 1), gc.get("blocks.3.0.se.mlp_scale.fc1.weight"));
        assertEquals(new Shape(12), gc.get("blocks.3.0.se.mlp_scale.norm.weight"));
    }

    @Test
    void evoNormS0DividesByTheGroupStd() {
        try (NDManager s = NDManager.newBaseManager()) {
            EvoNorm2dS0 e = new EvoNorm2dS0(4, 2, true, 1e-5f);
            e.materialize(s);
            e.initialize(new SplittableRandom(0));
            NDArray x = ReferenceInit.input(s, new Shape(1, 4, 2, 2), 3);
            float[] v = x.toFloatArray();
            // group 0 = channels 0, 1 (8 values); v = 1: x * sigmoid(x) / std
            double mean = 0;
            for (int i = 0; i < 8; i++) {
                mean += v[i] / 8.0;
            }
            double var = 0;
            for (int i = 0; i < 8; i++) {
                var += (v[i] - mean) * (v[i] - mean) / 8.0;
            }
            double expected = v[5] / (1 + Math.exp(-v[5])) / Math.sqrt(var + 1e-5);
            assertEquals(expected, e.forward(x).toFloatArray()[5], 1e-5);
        }
    }
}
