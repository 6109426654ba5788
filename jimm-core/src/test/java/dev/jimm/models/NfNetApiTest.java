package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertPreLogitsFeed;
import static dev.jimm.models.ModelTesting.assertRandomOnlyInTraining;
import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
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
import dev.jimm.layers.Activation;
import dev.jimm.layers.Module;
import dev.jimm.layers.ScaledStdConv2d;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The timm API on Normalization-Free nets, and the names they register. */
class NfNetApiTest {
    /** Sets every residual branch's last gain to 1 (timm's init has 0, which hides the branches). */
    private static void openBranches(ImageModel m) {
        m.stateDict().forEach((k, v) -> {
            if (k.endsWith("conv3.gain")) {
                Module.copyInto(v, v.onesLike());
            }
        });
    }

    @Test
    void everyNameBuildsWithFiveLevelsEndingAtStride32() {
        // that these are timm's 36 nfnet names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        List<String> names = ModelTesting.registeredNames("nfnet");
        assertEquals(36, names.size());
        for (String n : names) {
            List<FeatureInfo> info = unbuilt(n).featureInfo();
            assertEquals(
                    List.of(2, 4, 8, 16, 32),
                    info.stream().map(FeatureInfo::reduction).toList(),
                    n);
        }
    }

    /**
     * An NF-ResNet's convs carry a bias and a gain where a ResNet's norms carry a weight and a bias, and the widths are
     * the same, so timm's counts agree with those of its ResNets.
     */
    @Test
    void nfResNetsCountAsManyParametersAsTheirResNets() {
        for (String[] pair : new String[][] {
            {"nf_resnet26", "resnet26"},
            {"nf_resnet50", "resnet50"},
            {"nf_resnet101", "resnet101"},
            {"nf_seresnet50", "seresnet50"},
            {"nf_seresnet101", "seresnet101"}
        }) {
            assertEquals(unbuilt(pair[1]).numParameters(), unbuilt(pair[0]).numParameters(), pair[0]);
        }
    }

    @Test
    void parameterCountsAreTimms() {
        // the reference fixtures' counts
        assertEquals(71_489_284L, unbuilt("dm_nfnet_f0").numParameters());
        assertEquals(24_143_924L, unbuilt("eca_nfnet_l0").numParameters());
        // nfnet_fN lacks the one skipinit_gain scalar per block of dm_nfnet_fN
        int[][] depths = {{1, 2, 6, 3}, {2, 4, 12, 6}, {3, 6, 18, 9}, {4, 8, 24, 12}, {5, 10, 30, 15}, {6, 12, 36, 18}};
        for (int i = 0; i < depths.length; i++) {
            int blocks = depths[i][0] + depths[i][1] + depths[i][2] + depths[i][3];
            assertEquals(
                    unbuilt("dm_nfnet_f" + i).numParameters() - blocks,
                    unbuilt("nfnet_f" + i).numParameters(),
                    "nfnet_f" + i);
        }
        // nfnet_l0 is eca_nfnet_l0 with SE (ratio 1/4 of the block width) instead of ECA (5 taps at these widths)
        long se256 = 2 * 256 * 64 + 64 + 256;
        long se512 = 2 * 512 * 128 + 128 + 512;
        long se1536 = 2 * 1536 * 384 + 384 + 1536;
        assertEquals(
                24_143_924L - 12 * 5 + se256 + 2 * se512 + 9 * se1536,
                unbuilt("nfnet_l0").numParameters());
        // timm's published counts, in millions
        Map<String, Double> published = Map.of(
                "dm_nfnet_f1", 132.6,
                "dm_nfnet_f2", 193.8,
                "dm_nfnet_f3", 254.9,
                "dm_nfnet_f4", 316.1,
                "dm_nfnet_f5", 377.2,
                "dm_nfnet_f6", 438.4,
                "eca_nfnet_l1", 41.4,
                "eca_nfnet_l2", 56.7,
                "nf_regnet_b1", 10.2);
        published.forEach(
                (name, millions) -> assertEquals(millions, unbuilt(name).numParameters() / 1e6, 0.05, name));
    }

    @Test
    void levelsFollowEachStemAndTheFinalConv() {
        // NF-ResNet: 7x7 conv (64) then max pool; no final conv, so the last level is the last stage
        List<FeatureInfo> res = unbuilt("nf_resnet50").featureInfo();
        assertEquals(new FeatureInfo(64, 2, "stem.conv"), res.get(0));
        assertEquals(new FeatureInfo(2048, 32, "stages.3"), res.get(4));
        // NF-RegNet: widths times 0.75, rounded to 8: stem 48 -> 40 (36 rounds up), final 1280 -> 960
        List<FeatureInfo> reg = unbuilt("nf_regnet_b0").featureInfo();
        assertEquals(new FeatureInfo(40, 2, "stem.conv"), reg.get(0));
        assertEquals(new FeatureInfo(40, 4, "stages.0"), reg.get(1));
        assertEquals(new FeatureInfo(960, 32, "final_conv"), reg.get(4));
        // NFNet: the deep stem's third conv (half of 128) at stride 2; the final conv twice 1536
        List<FeatureInfo> f = unbuilt("nfnet_f0").featureInfo();
        assertEquals(new FeatureInfo(64, 2, "stem.conv3"), f.get(0));
        assertEquals(new FeatureInfo(3072, 32, "final_conv"), f.get(4));
    }

    @Test
    void levelsAreTakenBeforeTheFinalActivation() {
        try (ImageModel m = Models.createModel("test_nfnet");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            assertEquals(5, levels.size());
            assertEquals(new Shape(2, 64, 32, 32), levels.get(0).getShape());
            assertEquals(new Shape(2, 192, 2, 2), levels.get(4).getShape());
            NDArray features = m.forwardFeatures(x);
            // test_nfnet's final activation is SiLU, with its gain in the conv, not the activation
            NDArray silu = Activation.apply(Activation.Kind.SILU, levels.get(4));
            assertTrue(maxAbsDiff(silu, features) < 1e-5f);
            assertTrue(levels.get(4).min().getFloat() < -0.3f, "a pre-activation map has values SiLU cannot give");
        }
    }

    @Test
    void headPoolsAndResets() {
        try (ImageModel m = Models.createModel("test_nfnet");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(192, m.numFeatures());
            assertPreLogitsFeed(m, feats, "head.fc");
            NDArray mean = feats.sum(new int[] {2, 3}).div(4f);
            assertTrue(maxAbsDiff(m.forwardHead(feats, true), mean) < 1e-5f);
            assertResetTo(m, x, 7, "avg", "head.fc", 192);
            m.resetClassifier(3, "catavgmax");
            assertEquals(new Shape(3, 384), m.stateDict().get("head.fc.weight").getShape());
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 192, 2, 2), m.forward(x).getShape());
        }
    }

    /**
     * timm's init: a residual branch's last conv starts with gain 0 (or, in DeepMind's variants, the branch's skipinit
     * gain is 0 and the conv's gain 1), so every block starts as its shortcut; the classifier is N(0, 0.01).
     */
    @Test
    void blocksStartAsTheirShortcut() {
        try (ImageModel m = Models.createModel("test_nfnet")) {
            Map<String, NDArray> sd = m.stateDict();
            assertEquals(0f, sd.get("stages.0.0.conv3.gain").abs().sum().getFloat());
            assertEquals(1f, sd.get("stages.0.0.conv2.gain").min().getFloat());
            assertFalse(sd.containsKey("stages.0.0.skipinit_gain"));
            float std =
                    (float) Math.sqrt(sd.get("head.fc.weight").square().mean().getFloat());
            assertEquals(0.01f, std, 0.002f);
        }
        Map<String, Shape> dm = unbuilt("dm_nfnet_f0").stateDictShapes();
        assertEquals(new Shape(), dm.get("stages.0.0.skipinit_gain"), "a scalar, as timm's");
        assertEquals(
                "stages.0.0.skipinit_gain",
                dm.keySet().stream()
                        .filter(k -> k.startsWith("stages.0.0."))
                        .findFirst()
                        .orElseThrow(),
                "the block's own parameter comes before its children's");
    }

    @Test
    void deepMindVariantsPutTheGainInTheActivationsAndPadLikeTensorFlow() {
        NfNet dm = (NfNet) unbuilt("dm_nfnet_f0");
        NfNet plain = (NfNet) unbuilt("nfnet_f0");
        assertTrue(dm.config().gammaInAct()
                && dm.config().samePadding()
                && dm.config().skipinit());
        ScaledStdConv2d dmConv = (ScaledStdConv2d) dm.child("stem").child("conv1");
        ScaledStdConv2d conv = (ScaledStdConv2d) plain.child("stem").child("conv1");
        // fan_in 3 * 3 * 3; GELU's gain 1.7015... in the conv only where the activations lack it
        assertEquals(1 / Math.sqrt(27), dmConv.scale(), 1e-12);
        assertEquals(1.7015043497085571 / Math.sqrt(27), conv.scale(), 1e-12);
        // the strided stem conv pads dynamically (none in the conv itself), the stride-1 ones symmetrically
        assertEquals(0, dmConv.padding()[0]);
        assertEquals(1, ((ScaledStdConv2d) dm.child("stem").child("conv2")).padding()[0]);
        assertEquals(1, conv.padding()[0]);
    }

    @Test
    void dropPathRisesStageByStageAndActsOnlyInTraining() {
        try (ImageModel m = Models.createModel(
                        "test_nfnet", ModelOptions.builder().dropPathRate(0.3).build());
                NDManager s = m.getManager().newSubManager()) {
            // linspace(0, 0.3, 4 blocks): the first block has none
            List<Float> rates = dropPathRates(m);
            assertEquals(3, rates.size());
            assertEquals(0.1f, rates.get(0), 1e-6f);
            assertEquals(0.3f, rates.get(2), 1e-6f);
            // the init zeroes the branches; open them so that dropping one shows
            openBranches(m);
            assertRandomOnlyInTraining(m, input(s, 64));
        }
    }

    @Test
    void configChecksItsFields() {
        assertThrows(IllegalArgumentException.class, () -> NfNet.Config.nfnet(List.of(1, 2, 6)));
        assertThrows(
                IllegalArgumentException.class,
                () -> NfNet.Config.nfnet(List.of(1, 2, 6, 3)).toBuilder()
                        .act(Activation.Kind.HARD_SWISH)
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> NfNet.Config.nfnet(List.of(1, 2, 6, 3)).toBuilder()
                        .stemType("deep_quad_pool")
                        .build());
    }

    @Test
    void optimizedForInferenceComputesTheSame() {
        try (ImageModel m = Models.createModel("test_nfnet");
                NDManager s = m.getManager().newSubManager()) {
            openBranches(m);
            NDArray x = input(s, 64);
            NDArray expected = m.forward(x);
            try (InferenceModel fast = m.optimizeForInference()) {
                assertTrue(fast.foldedPairs().isEmpty(), "no norms to fold");
                assertTrue(maxAbsDiff(expected, fast.forward(x)) < 1e-4f);
            }
        }
    }

    @Test
    void stagesHoldNormFreeBlocks() {
        NfNet m = (NfNet) unbuilt("nf_regnet_b0");
        // RegNet blocks put SE between conv2 and conv3, on the bottleneck (the first block's ratio is 1)
        Map<String, Shape> sd = m.stateDictShapes();
        // 40 * 0.5 = 20, rounded to a multiple of 8: 24
        assertEquals(new Shape(24, 40, 1, 1), sd.get("stages.0.0.attn.fc1.weight"));
        assertFalse(sd.containsKey("stages.0.0.attn_last.fc1.weight"));
        assertInstanceOf(NfNet.NormFreeBlock.class, m.child("stages").child("0").child("0"));
    }
}
