package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.models.ByobNet.AttnLayer;
import dev.jimm.models.ByobNet.BlockCfg;
import dev.jimm.models.ByobNet.BlockType;
import dev.jimm.models.ByobNet.Config;
import dev.jimm.models.ByobNet.HeadType;
import dev.jimm.models.ByobNet.StemPool;
import dev.jimm.models.ByobNet.StemType;
import dev.jimm.parity.ParityRunner;
import dev.jimm.parity.ReferenceInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * What is particular to timm's byobnet family: every name's parameter count, the RepVGG/MobileOne re-parameterisation,
 * the CLIP attention-pool and MLP heads, the stems' feature levels, EvoNorm and BAT variants, and OpenAI's CLIP
 * checkpoint names.
 */
class ByobNetApiTest {
    /**
     * timm's published parameter counts (results/benchmark-*.csv, millions to two decimals), with the classes of each
     * name's default weights (the CLIP heads project to the text width, the _gap variants have none).
     */
    private static final Map<String, Double> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("bat_resnext26ts", 10.73),
            Map.entry("eca_resnet33ts", 19.68),
            Map.entry("eca_resnext26ts", 10.30),
            Map.entry("gcresnet33ts", 19.88),
            Map.entry("gcresnet50t", 25.90),
            Map.entry("gcresnext26ts", 10.48),
            Map.entry("gcresnext50ts", 15.67),
            Map.entry("gernet_l", 31.08),
            Map.entry("gernet_m", 21.14),
            Map.entry("gernet_s", 8.17),
            Map.entry("mobileone_s0", 5.29),
            Map.entry("mobileone_s1", 4.83),
            Map.entry("mobileone_s2", 7.88),
            Map.entry("mobileone_s3", 10.17),
            Map.entry("mobileone_s4", 14.95),
            Map.entry("regnetz_b16", 9.72),
            Map.entry("regnetz_b16_evos", 9.74),
            Map.entry("regnetz_c16", 13.46),
            Map.entry("regnetz_c16_evos", 13.49),
            Map.entry("regnetz_d32", 27.58),
            Map.entry("regnetz_d8", 23.37),
            Map.entry("regnetz_d8_evos", 23.46),
            Map.entry("regnetz_e8", 57.70),
            Map.entry("repvgg_a0", 9.11),
            Map.entry("repvgg_a1", 14.09),
            Map.entry("repvgg_a2", 28.21),
            Map.entry("repvgg_b0", 15.82),
            Map.entry("repvgg_b1", 57.42),
            Map.entry("repvgg_b1g4", 39.97),
            Map.entry("repvgg_b2", 89.02),
            Map.entry("repvgg_b2g4", 61.76),
            Map.entry("repvgg_b3", 123.09),
            Map.entry("repvgg_b3g4", 83.83),
            Map.entry("repvgg_d2se", 133.33),
            Map.entry("resnet101_clip", 56.26),
            Map.entry("resnet101_clip_gap", 42.52),
            Map.entry("resnet32ts", 17.96),
            Map.entry("resnet33ts", 19.68),
            Map.entry("resnet50_clip", 38.32),
            Map.entry("resnet50_clip_gap", 23.53),
            Map.entry("resnet50_mlp", 26.65),
            Map.entry("resnet50x16_clip", 167.33),
            Map.entry("resnet50x16_clip_gap", 136.20),
            Map.entry("resnet50x4_clip", 87.14),
            Map.entry("resnet50x4_clip_gap", 65.62),
            Map.entry("resnet50x64_clip", 420.38),
            Map.entry("resnet50x64_clip_gap", 365.03),
            Map.entry("resnet51q", 35.70),
            Map.entry("resnet61q", 36.85),
            Map.entry("resnext26ts", 10.30),
            Map.entry("seresnet33ts", 19.78),
            Map.entry("seresnext26ts", 10.39),
            Map.entry("test_byobnet", 0.46));

    /** timm's counts after {@code reparameterize()} (the benchmark tables list the fused models too). */
    private static final Map<String, Double> FUSED_MILLIONS = Map.of("mobileone_s0", 2.08, "repvgg_a0", 8.31);

    private static double millions(long n) {
        return Math.round(n / 1e4) / 100.0;
    }

    /** A registered name built unmaterialized with the classes of its default weights. */
    private static ImageModel unbuiltWithDefaultClasses(String name) {
        ModelRegistry reg = ModelRegistry.builtIn();
        ModelEntry e = reg.entry(name);
        List<PretrainedCfg> tags = reg.pretrainedTags(name);
        int classes = tags.isEmpty() ? 1000 : tags.get(0).numClasses();
        return e.factory().apply(new ModelArgs(classes, 3, e.defaultGlobalPool(), 0, 0));
    }

    /** A model built outside the registry, materialized under the reference init, eval mode, default layout. */
    private static <M extends ImageModel> M referenceInit(M m) {
        M built = RegNetApiTest.make(m);
        ReferenceInit.apply(built);
        built.setChannelsLast(false);
        return built;
    }

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        List<String> names = ModelTesting.registeredNames("byobnet");
        for (String name : names) {
            Double expected = TIMM_MILLIONS.get(name);
            long n = paramCount(unbuiltWithDefaultClasses(name));
            if (expected == null || Math.abs(millions(n) - expected) > 1e-9) {
                wrong.add(name + ": " + n + " (" + millions(n) + "M), timm " + expected + "M");
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(53, names.size());
    }

    // ---- re-parameterisation ----------------------------------------------------------------------

    /** Fuses {@code m} and checks that eval outputs and feature maps stay, and that no branch is left. */
    private static void assertFusingKeepsOutputs(ByobNet m, int size) {
        try (NDManager s = m.getManager().newSubManager()) {
            NDArray x = ReferenceInit.input(s, new Shape(2, 3, size, size), 0);
            float[] before = m.forward(x).toFloatArray();
            NDList levelsBefore = m.forwardIntermediates(x, m.allFeatureIndices());
            List<float[]> mapsBefore = new ArrayList<>();
            levelsBefore.forEach(a -> mapsBefore.add(a.toFloatArray()));

            assertTrue(m.reparameterize() == m, "reparameterize fuses in place");
            m.setChannelsLast(false);
            Set<String> keys = m.stateDictShapes().keySet();
            assertFalse(
                    keys.stream()
                            .anyMatch(k -> k.contains("conv_kxk")
                                    || k.contains("identity")
                                    || k.contains("conv_1x1")
                                    || k.contains("conv_scale")),
                    "branches remain: " + keys);
            assertTrue(keys.contains("stem.reparam_conv.weight") && keys.contains("stem.reparam_conv.bias"));

            float[] after = m.forward(x).toFloatArray();
            double err = ParityRunner.relativeError(after, before);
            assertTrue(err < 1e-5, "fused logits differ by " + err + " of the largest");
            NDList levelsAfter = m.forwardIntermediates(x, m.allFeatureIndices());
            for (int i = 0; i < mapsBefore.size(); i++) {
                double e = ParityRunner.relativeError(levelsAfter.get(i).toFloatArray(), mapsBefore.get(i));
                assertTrue(e < 1e-5, "level " + i + " differs by " + e);
            }
            // a second call finds nothing left to fuse
            Map<String, Shape> fused = m.stateDictShapes();
            m.reparameterize();
            assertEquals(fused, m.stateDictShapes());
        }
    }

    @Test
    void mobileOneFusesToTimmsInferenceModel() {
        try (ByobNet m = referenceInit((ByobNet) ModelTesting.unbuilt("mobileone_s0"))) {
            // four kxk branches, a 1x1 scale branch and a BN identity per depthwise block
            assertTrue(m.stateDictShapes().containsKey("stages.0.1.conv_kxk.3.conv.weight"));
            assertTrue(m.stateDictShapes().containsKey("stages.0.2.identity.running_var"));
            assertFusingKeepsOutputs(m, 64);
            assertEquals(FUSED_MILLIONS.get("mobileone_s0"), millions(paramCount(m)));
            assertEquals(new Shape(48, 1, 3, 3), m.stateDictShapes().get("stages.0.0.reparam_conv.weight"));
            assertEquals(new Shape(48, 48, 1, 1), m.stateDictShapes().get("stages.0.1.reparam_conv.weight"));
        }
    }

    @Test
    void repVggFusesToTimmsInferenceModel() {
        try (ByobNet m = referenceInit((ByobNet) ModelTesting.unbuilt("repvgg_a0"))) {
            assertFusingKeepsOutputs(m, 64);
            assertEquals(FUSED_MILLIONS.get("repvgg_a0"), millions(paramCount(m)));
        }
    }

    @Test
    void groupedAndAttentiveBlocksFuseToo() {
        // RepVGG g4 (every second block grouped, its identity kernel per group) with SE, and MobileOne with SE
        Config rep = ByobNet.Family.repVgg(new int[] {2, 3, 2, 1}, new double[] {0.5, 0.5, 0.5, 0.5}, 4, 16)
                .attn(AttnLayer.se(0.25))
                .build();
        try (ByobNet m = referenceInit(new ByobNet(rep, ModelArgs.defaults()))) {
            assertEquals(new Shape(32, 8, 3, 3), m.stateDictShapes().get("stages.0.1.conv_kxk.conv.weight"));
            assertTrue(m.stateDictShapes().containsKey("stem.attn.fc1.weight"), "the model's SE reaches the stem");
            assertFusingKeepsOutputs(m, 64);
            assertEquals(new Shape(32, 8, 3, 3), m.stateDictShapes().get("stages.0.1.reparam_conv.weight"));
            assertTrue(m.stateDictShapes().containsKey("stages.0.1.attn.fc2.weight"));
        }
        Config one = ByobNet.Family.mobileOne(new double[] {0.25, 0.25, 0.25, 0.25}, new int[] {0, 1, 2, 1}, 2, 16);
        try (ByobNet m = referenceInit(new ByobNet(one, ModelArgs.defaults()))) {
            assertTrue(m.stateDictShapes().containsKey("stages.2.19.attn.fc1.weight"));
            assertFalse(m.stateDictShapes().containsKey("stages.2.15.attn.fc1.weight"), "SE on the last 2 pairs");
            assertFusingKeepsOutputs(m, 64);
        }
    }

    @Test
    void optimizeForInferenceFusesAndFoldsACopy() {
        Config rep = ByobNet.Family.repVgg(new int[] {1, 2, 2, 1}, new double[] {0.25, 0.25, 0.25, 0.25}, 0, 16)
                .build();
        try (ByobNet m = referenceInit(new ByobNet(rep, ModelArgs.defaults()));
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            float[] expected = m.forward(x).toFloatArray();
            for (int round = 0; round < 2; round++) {
                try (InferenceModel inf = m.optimizeForInference()) {
                    double err = ParityRunner.relativeError(inf.forward(x).toFloatArray(), expected);
                    assertTrue(err < 1e-5, "optimized copy differs by " + err);
                    Set<String> keys = inf.model().stateDictShapes().keySet();
                    assertTrue(keys.contains("stages.1.1.reparam_conv.bias"), "fused: " + keys);
                    assertFalse(keys.stream().anyMatch(k -> k.contains("running_")), "no BatchNorm left: " + keys);
                }
                // the source is left as it was; the second round optimizes an already fused source
                assertEquals(round == 1, m.isReparameterized());
                m.reparameterize();
            }
        }
    }

    @Test
    void otherBlocksStayAsTheyAre() {
        try (ByobNet m = RegNetApiTest.make((ByobNet) ModelTesting.unbuilt("gernet_s"))) {
            Map<String, Shape> before = m.stateDictShapes();
            m.reparameterize();
            assertEquals(before, m.stateDictShapes(), "blocks that are not re-parameterisable stay");
        }
    }

    // ---- heads ----------------------------------------------------------------------------------

    @Test
    void clipNamesHaveTheAttentionPoolHead() {
        ImageModel rn50 = unbuiltWithDefaultClasses("resnet50_clip");
        Map<String, Shape> s = rn50.stateDictShapes();
        assertEquals(new Shape(50, 2048), s.get("head.pos_embed"), "7x7 tokens and the mean token");
        assertEquals(new Shape(2048, 2048), s.get("head.q.weight"));
        assertEquals(new Shape(1024, 2048), s.get("head.proj.weight"), "projected to CLIP's embedding width");
        assertEquals("token", rn50.globalPool());
        assertEquals(2048, rn50.numFeatures());
        assertEquals(2048, rn50.headHiddenSize());
        assertEquals(
                new Shape(82, 2560),
                unbuilt("resnet50x4_clip").stateDictShapes().get("head.pos_embed"),
                "9x9 at 288");
        assertEquals(
                new Shape(197, 4096),
                unbuilt("resnet50x64_clip").stateDictShapes().get("head.pos_embed"));
        // the anti-aliased stride: conv at stride 1, then a 2x2 average pool, no parameters of its own
        assertEquals(new Shape(128, 128, 3, 3), s.get("stages.1.0.conv2_kxk.conv.weight"));
        assertTrue(s.containsKey("stages.1.0.shortcut.conv.conv.weight"), "average-pool downsample");
        Map<String, Shape> gap = unbuiltWithDefaultClasses("resnet50_clip_gap").stateDictShapes();
        assertFalse(gap.keySet().stream().anyMatch(k -> k.startsWith("head.")), "no classes, no head weights");
        assertThrows(
                IllegalArgumentException.class,
                () -> new ByobNet(((ByobNet) rn50).config(), ModelArgs.defaults()),
                "the attention head pools by token, not avg");
    }

    /** A CLIP ResNet at a quarter width for 64-pixel inputs (2x2 final maps), so that it runs quickly. */
    private static Config smallClip() {
        return ((ByobNet) unbuilt("resnet50_clip"))
                .config().toBuilder().widthFactor(0.25).imgSize(64).build();
    }

    @Test
    void attentionPoolHeadPoolsResetsAndResamples() {
        ModelArgs args = new ModelArgs(7, 3, "token", 0, 0);
        try (ByobNet m = referenceInit(new ByobNet(smallClip(), args));
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(new Shape(5, 512), m.stateDictShapes().get("head.pos_embed"));
            NDArray x = input(s, 64);
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 512, 2, 2), feats.getShape());
            assertEquals(new Shape(2, 7), m.forwardHead(feats, false).getShape());
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 512), pre.getShape());
            ModelTesting.assertPreLogitsFeed(m, feats, "head.proj");

            // another input size resamples the position embedding (timm's resample_abs_pos_embed)
            assertEquals(new Shape(2, 7), m.forward(input(s, 96)).getShape());

            m.resetClassifier(0);
            assertEquals(new Shape(2, 512), m.forwardHead(feats, false).getShape());
            assertNull(m.stateDictShapes().get("head.proj.weight"));
            m.resetClassifier(3, "");
            assertEquals(new Shape(2, 3, 2, 2), m.forwardHead(feats, false).getShape(), "per-position outputs");
            assertEquals("", m.globalPool());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(3, "avg"));
        }
    }

    @Test
    void mlpHeadNormsPoolsAndWidens() {
        Map<String, Shape> s = unbuilt("resnet50_mlp").stateDictShapes();
        assertEquals(new Shape(2048), s.get("head.norm.running_mean"));
        assertEquals(new Shape(1024, 2048), s.get("head.pre_logits.fc.weight"));
        assertEquals(new Shape(1000, 1024), s.get("head.fc.weight"));
        assertEquals(1024, unbuilt("resnet50_mlp").headHiddenSize());

        Config small = smallClip().toBuilder()
                .headType(HeadType.MLP)
                .headHiddenSize(64)
                .imgSize(0)
                .build();
        try (ByobNet m = referenceInit(new ByobNet(small, ModelArgs.defaults()));
                NDManager sm = m.getManager().newSubManager()) {
            NDArray feats = m.forwardFeatures(input(sm, 64));
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 64), pre.getShape());
            // pre-logits: ReLU(fc(BN(mean)))
            Map<String, NDArray> sd = m.stateDict();
            NDArray mean = feats.mean(new int[] {3}).mean(new int[] {2});
            NDArray bn = mean.sub(sd.get("head.norm.running_mean"))
                    .div(sd.get("head.norm.running_var").add(1e-5f).sqrt())
                    .mul(sd.get("head.norm.weight"))
                    .add(sd.get("head.norm.bias"));
            NDArray expected = bn.matMul(sd.get("head.pre_logits.fc.weight").transpose())
                    .add(sd.get("head.pre_logits.fc.bias"))
                    .maximum(0f);
            assertTrue(ModelTesting.maxAbsDiff(pre, expected)
                    < 1e-4 * expected.abs().max().getFloat());
            ModelTesting.assertPreLogitsFeed(m, feats, "head.fc");

            // without pooling the projections become 1x1 convs on the maps, keeping the trained weights
            float[] before = m.forwardHead(feats, true).toFloatArray();
            m.resetClassifier(5, "");
            assertEquals(new Shape(64, 512, 1, 1), m.stateDictShapes().get("head.pre_logits.fc.weight"));
            NDArray maps = m.forwardHead(feats, false);
            assertEquals(new Shape(2, 5, 2, 2), maps.getShape());
            m.resetClassifier(5, "avg");
            float[] again = m.forwardHead(feats, true).toFloatArray();
            assertTrue(ParityRunner.relativeError(again, before) < 1e-6, "pre-logits weights survive the round trip");
        }
    }

    // ---- stems, levels, norms and attention ---------------------------------------------------------

    private static List<String> levels(ImageModel m) {
        List<String> out = new ArrayList<>();
        m.featureInfo().forEach(f -> out.add(f.numChs() + "/" + f.reduction() + "/" + f.module()));
        return out;
    }

    @Test
    void stemLevelsFollowTimmsStem() {
        // tiered stem (24, 32, 64) with max pool: the level before the pool, then the stages
        assertEquals(
                List.of(
                        "64/2/stem.conv3",
                        "256/4/stages.0",
                        "512/8/stages.1",
                        "1024/16/stages.2",
                        "2048/32/final_conv"),
                levels(unbuilt("resnext26ts")));
        // tiered stem without pool: its last conv strides, the level is the conv before it
        assertEquals(
                List.of(
                        "32/2/stem.conv2",
                        "256/4/stages.0",
                        "512/8/stages.1",
                        "1536/16/stages.2",
                        "1280/32/final_conv"),
                levels(unbuilt("resnet33ts")));
        // quad stem with two bare convs (16, 32) and two conv-norm-acts (64, 128)
        Map<String, Shape> q = unbuilt("resnet51q").stateDictShapes();
        assertEquals(new Shape(16, 3, 3, 3), q.get("stem.conv1.weight"));
        assertEquals(new Shape(32, 16, 3, 3), q.get("stem.conv2.weight"));
        assertEquals(new Shape(64, 32, 3, 3), q.get("stem.conv3.conv.weight"));
        assertEquals(new Shape(128, 64, 3, 3), q.get("stem.conv4.conv.weight"));
        assertEquals("64/2/stem.conv3", levels(unbuilt("resnet51q")).get(0));
        // CLIP's stem: 3 convs then a 2x2 average pool
        assertEquals("64/2/stem.conv3", levels(unbuilt("resnet50_clip")).get(0));
        assertEquals("80/2/stem.conv3", levels(unbuilt("resnet50x4_clip")).get(0), "widths scale by 1.25");
        // a last stage of stride 1 is no level of its own: gernet's final conv follows it
        assertEquals(
                List.of("32/2/stem", "128/4/stages.0", "192/8/stages.1", "640/16/stages.2", "2560/32/final_conv"),
                levels(unbuilt("gernet_l")));
    }

    @Test
    void intermediatesComeFromBeforeTheStemPool() {
        // half width keeps ResNeXt's group size of 32 dividing the bottlenecks
        Config c = ((ByobNet) unbuilt("resnext26ts"))
                .config().toBuilder().widthFactor(0.5).build();
        try (ByobNet m = referenceInit(new ByobNet(c, ModelArgs.defaults()));
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDList all = m.forwardIntermediates(x, m.allFeatureIndices());
            long[] sides = {32, 16, 8, 4, 2};
            for (int i = 0; i < sides.length; i++) {
                FeatureInfo f = m.featureInfo().get(i);
                assertEquals(
                        new Shape(2, f.numChs(), sides[i], sides[i]), all.get(i).getShape(), f.module());
            }
            // the last level is the features, and asking for one level stops early with the same map
            float[] feats = m.forwardFeatures(x).toFloatArray();
            assertEquals(0.0, ParityRunner.relativeError(all.get(4).toFloatArray(), feats));
            NDList second = m.forwardIntermediates(x, new int[] {1});
            assertEquals(
                    0.0,
                    ParityRunner.relativeError(
                            second.get(0).toFloatArray(), all.get(1).toFloatArray()));
        }
    }

    @Test
    void evoNormVariantsReplaceEveryBatchNorm() {
        Map<String, Shape> s = unbuilt("regnetz_b16_evos").stateDictShapes();
        assertFalse(s.keySet().stream().anyMatch(k -> k.contains("running_")), "EvoNorm has no running statistics");
        assertEquals(new Shape(32), s.get("stem.bn.v"), "activated norms carry v");
        assertFalse(s.containsKey("stages.0.0.conv3_1x1.bn.v"), "the block's last norm is not activated");
        assertTrue(s.containsKey("stages.0.0.conv3_1x1.bn.weight"));
        Map<String, Shape> d = unbuilt("regnetz_d8_evos").stateDictShapes();
        assertEquals(new Shape(64, 64, 3, 3), d.get("stem.conv2.conv.weight"), "deep stem: three full-width convs");
        try (ByobNet m = referenceInit((ByobNet) unbuilt("regnetz_b16_evos"));
                NDManager sm = m.getManager().newSubManager()) {
            NDArray out = m.forward(input(sm, 64));
            assertEquals(new Shape(2, 1000), out.getShape());
            assertTrue(out.isNaN().none().getBoolean());
        }
    }

    @Test
    void regnetZBlocksHaveNoShortcutWhereTheShapeChanges() {
        Map<String, Shape> s = unbuilt("regnetz_b16").stateDictShapes();
        assertFalse(s.keySet().stream().anyMatch(k -> k.contains("shortcut")), "downsample '': no projections");
        // bottleneck from the input width: 32 * 3 = 96 in the first block, 48 * 3 = 144 in the second
        assertEquals(new Shape(96, 32, 1, 1), s.get("stages.0.0.conv1_1x1.conv.weight"));
        assertEquals(new Shape(144, 48, 1, 1), s.get("stages.0.1.conv1_1x1.conv.weight"));
        // SE of a quarter of the bottleneck rounded to a multiple of 8 (144 / 4 = 36 -> 40), groups of 16 channels
        assertEquals(new Shape(24, 96, 1, 1), s.get("stages.0.0.attn.fc1.weight"));
        assertEquals(new Shape(40, 144, 1, 1), s.get("stages.0.1.attn.fc1.weight"));
        assertEquals(new Shape(144, 16, 3, 3), s.get("stages.0.1.conv2_kxk.conv.weight"));
    }

    @Test
    void attentionVariantsPlaceTheirModules() {
        assertTrue(unbuilt("gcresnext26ts").stateDictShapes().containsKey("stages.0.0.attn.mlp_add.norm.weight"));
        assertEquals(
                new Shape(1, 1, 5), unbuilt("eca_resnet33ts").stateDictShapes().get("stages.3.1.attn.conv.weight"));
        Map<String, Shape> bat = unbuilt("bat_resnext26ts").stateDictShapes();
        // mid width 64, BAT reduces to 16 and mixes 8x8 blocks in 2 groups
        assertEquals(new Shape(16, 64, 1, 1), bat.get("stages.0.0.attn.conv1.conv.weight"));
        assertEquals(new Shape(128, 2, 8, 1), bat.get("stages.0.0.attn.ba.conv_p.weight"));
        // ResNet-61Q: the edge block of the first stage keeps its own (empty) options, the bottlenecks get a second kxk
        Map<String, Shape> q = unbuilt("resnet61q").stateDictShapes();
        assertTrue(q.containsKey("stages.1.0.conv2b_kxk.conv.weight"));
        assertTrue(q.containsKey("stages.0.0.conv1_kxk.conv.weight"));
        assertFalse(q.keySet().stream().anyMatch(k -> k.startsWith("stages.0.0.conv2b")));
    }

    @Test
    void batNeedsMapsInWholeBlocks() {
        Config c = ((ByobNet) unbuilt("bat_resnext26ts"))
                .config().toBuilder().widthFactor(0.5).build();
        try (ByobNet m = referenceInit(new ByobNet(c, ModelArgs.defaults()));
                NDManager s = m.getManager().newSubManager()) {
            // 256 gives 8x8 last maps, 224 gives 7x7, which 8x8 blocks cannot tile (timm asserts the same)
            assertEquals(
                    new Shape(1, 1000),
                    m.forward(ReferenceInit.input(s, new Shape(1, 3, 256, 256), 0))
                            .getShape());
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> m.forward(ReferenceInit.input(s, new Shape(1, 3, 224, 224), 0)));
            assertTrue(e.getMessage().contains("block size 8"), e.getMessage());
        }
    }

    @Test
    void dropPathRisesOverTheBlocks() {
        ModelEntry e = ModelRegistry.builtIn().entry("resnet33ts");
        ImageModel m = e.factory().apply(new ModelArgs(1000, 3, "avg", 0, 0.09));
        // torch.linspace(0, 0.09, 10) over the 2 + 3 + 3 + 2 blocks; the first block's 0 is an identity
        List<Float> rates = ModelTesting.dropPathRates(m);
        assertEquals(9, rates.size());
        for (int i = 0; i < 9; i++) {
            assertEquals(0.01f * (i + 1), rates.get(i), 1e-6f);
        }
    }

    @Test
    void configsAreChecked() {
        assertThrows(IllegalArgumentException.class, () -> Config.builder().build(), "no stages");
        assertThrows(
                IllegalArgumentException.class,
                () -> Config.builder()
                        .blocks(BlockCfg.of(BlockType.BASIC, 1, 32, 2, 0, 1))
                        .headType(HeadType.ATTN_ABS)
                        .build(),
                "the attention head needs an image size");
        assertThrows(IllegalArgumentException.class, () -> BlockCfg.of(BlockType.BOTTLE, 0, 32, 2, 0, 1));
        // a group size that does not divide the width is refused when the block is built
        Config bad = Config.builder()
                .blocks(BlockCfg.of(BlockType.BOTTLE, 1, 64, 2, 24, 1))
                .stemType(StemType.CONV3X3)
                .stemPool(StemPool.NONE)
                .act(Activation.Kind.SILU)
                .build();
        assertThrows(IllegalArgumentException.class, () -> new ByobNet(bad, ModelArgs.defaults()));
    }

    // ---- OpenAI CLIP checkpoints --------------------------------------------------------------------

    /** The visual keys of OpenAI's ModifiedResNet with these stage depths (its module names). */
    private static List<String> openAiResNetKeys(int[] depths) {
        List<String> keys = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            keys.add("visual.conv" + i + ".weight");
            bn(keys, "visual.bn" + i);
        }
        for (int l = 0; l < 4; l++) {
            for (int b = 0; b < depths[l]; b++) {
                String p = "visual.layer" + (l + 1) + "." + b + ".";
                for (int i = 1; i <= 3; i++) {
                    keys.add(p + "conv" + i + ".weight");
                    bn(keys, p + "bn" + i);
                }
                if (b == 0) {
                    keys.add(p + "downsample.0.weight");
                    bn(keys, p + "downsample.1");
                }
            }
        }
        keys.add("visual.attnpool.positional_embedding");
        for (String proj : new String[] {"k_proj", "q_proj", "v_proj", "c_proj"}) {
            keys.add("visual.attnpool." + proj + ".weight");
            keys.add("visual.attnpool." + proj + ".bias");
        }
        return keys;
    }

    private static void bn(List<String> keys, String prefix) {
        for (String s : new String[] {"weight", "bias", "running_mean", "running_var", "num_batches_tracked"}) {
            keys.add(prefix + "." + s);
        }
    }

    @Test
    void openAiClipCheckpointNamesMapOntoTheModel() {
        Map<String, NDArray> sd = new LinkedHashMap<>();
        for (String k : openAiResNetKeys(new int[] {3, 4, 6, 3})) {
            sd.put(k, null);
        }
        sd.put("transformer.resblocks.0.attn.in_proj_weight", null);
        sd.put("logit_scale", null);
        Set<String> converted =
                new TreeSet<>(ByobNet.convertOpenAiClip(sd, true).keySet());
        assertEquals(new TreeSet<>(unbuilt("resnet50_clip").stateDictShapes().keySet()), converted);
        assertTrue(converted.contains("stages.1.0.shortcut.conv.bn.running_var"));
        assertTrue(converted.contains("head.pos_embed"));
        Set<String> gap = new TreeSet<>(ByobNet.convertOpenAiClip(sd, false).keySet());
        Set<String> gapModel = new TreeSet<>(
                unbuiltWithDefaultClasses("resnet50_clip_gap").stateDictShapes().keySet());
        assertEquals(gapModel, gap, "the _gap model drops the attention pool");
    }

    @Test
    void blocksInitLikeTimm() {
        try (ByobNet m = RegNetApiTest.make((ByobNet) unbuilt("test_byobnet"))) {
            Map<String, NDArray> sd = m.stateDict();
            // zero_init_last: the last norm of a residual block with a shortcut starts at zero
            assertEquals(
                    0f, sd.get("stages.3.0.conv3_1x1.bn.weight").abs().max().getFloat());
            assertEquals(1f, sd.get("stages.3.0.conv1_1x1.bn.weight").min().getFloat());
        }
        try (ByobNet m = RegNetApiTest.make((ByobNet) unbuilt("repvgg_a0"))) {
            // RepVGG's BN init N(0.1, 0.1): not the ones of the default init
            float[] w = m.stateDict().get("stages.1.1.identity.weight").toFloatArray();
            double mean = 0;
            for (float v : w) {
                mean += v / w.length;
            }
            assertTrue(Math.abs(mean - 0.1) < 0.05, "mean " + mean);
        }
    }
}
