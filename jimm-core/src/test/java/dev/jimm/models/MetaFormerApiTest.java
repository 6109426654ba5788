package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Module;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * MetaFormer (PoolFormer v1/v2, ConvFormer, CAFormer): every name's parameter count against timm's, the norms, scales
 * and token mixers each variant has, the two heads (Linear, MlpHead) and their reset, CAFormer's attention stages, the
 * features-only levels and the original checkpoints' key renaming.
 */
class MetaFormerApiTest {
    /** timm's published counts (results/results-imagenet.csv, millions to two decimals). */
    private static final Map<String, Double> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("poolformer_s12", 11.92),
            Map.entry("poolformer_s24", 21.39),
            Map.entry("poolformer_s36", 30.86),
            Map.entry("poolformer_m36", 56.17),
            Map.entry("poolformer_m48", 73.47),
            Map.entry("poolformerv2_s12", 11.89),
            Map.entry("poolformerv2_s24", 21.34),
            Map.entry("poolformerv2_s36", 30.79),
            Map.entry("poolformerv2_m36", 56.08),
            Map.entry("poolformerv2_m48", 73.35),
            Map.entry("convformer_s18", 26.77),
            Map.entry("convformer_s36", 40.01),
            Map.entry("convformer_m36", 57.05),
            Map.entry("convformer_b36", 99.88),
            Map.entry("caformer_s18", 26.34),
            Map.entry("caformer_s36", 39.30),
            Map.entry("caformer_m36", 56.20),
            Map.entry("caformer_b36", 98.75));

    @Test
    void everyNameHasTimmsParameterCount() {
        for (Map.Entry<String, Double> e : TIMM_MILLIONS.entrySet()) {
            long n = ModelTesting.paramCount(e.getKey());
            assertEquals(e.getValue(), Math.round(n / 1e4) / 100.0, 1e-9, e.getKey() + ": " + n);
        }
        assertEquals(TIMM_MILLIONS.keySet(), Set.copyOf(ModelTesting.timmNames("metaformer")));
    }

    @Test
    void variantsHaveTheirNormsScalesAndMixers() {
        Map<String, Shape> v1 = ModelTesting.unbuilt("poolformer_s12").stateDictShapes();
        assertTrue(v1.containsKey("stages.0.blocks.0.norm1.bias"), "GroupNorm1 has a bias");
        assertEquals(new Shape(64), v1.get("stages.0.blocks.0.layer_scale1.scale"));
        assertFalse(v1.containsKey("stem.norm.weight"), "v1: no stem norm");
        assertFalse(v1.containsKey("stages.2.blocks.0.res_scale1.scale"));
        assertEquals(new Shape(256), v1.get("stages.0.blocks.0.mlp.fc1.bias"));

        Map<String, Shape> v2 = ModelTesting.unbuilt("poolformerv2_s12").stateDictShapes();
        assertFalse(v2.containsKey("stages.0.blocks.0.norm1.bias"), "GroupNorm1NoBias");
        assertFalse(v2.containsKey("stages.0.blocks.0.layer_scale1.scale"));
        assertFalse(v2.containsKey("stages.1.blocks.0.res_scale1.scale"), "res scale only in stages 2 and 3");
        assertEquals(new Shape(320), v2.get("stages.2.blocks.0.res_scale1.scale"));
        assertEquals(new Shape(1), v2.get("stages.0.blocks.0.mlp.act.scale"), "StarReLU");
        assertEquals(new Shape(64), v2.get("stem.norm.weight"));
        assertEquals(new Shape(1000, 512), v2.get("head.fc.weight"), "v2 keeps the Linear head");

        Map<String, Shape> ca = ModelTesting.unbuilt("caformer_s18").stateDictShapes();
        assertEquals(new Shape(256, 1, 7, 7), ca.get("stages.1.blocks.0.token_mixer.dwconv.weight"));
        assertEquals(new Shape(960, 320), ca.get("stages.2.blocks.0.token_mixer.qkv.weight"));
        assertNull(ca.get("stages.2.blocks.0.token_mixer.qkv.bias"));
        assertEquals(new Shape(1280, 320), ca.get("stages.2.blocks.0.mlp.fc1.weight"), "Linear MLP on tokens");
        assertEquals(new Shape(128), ca.get("stages.2.downsample.norm.weight"), "the norm before the conv");
        assertEquals(new Shape(2048, 512), ca.get("head.fc.fc1.weight"));
        assertEquals(new Shape(1000, 2048), ca.get("head.fc.fc2.weight"));
    }

    @Test
    void mlpHeadAndItsReset() {
        try (ImageModel m = Models.createModel(
                        "caformer_s18", ModelOptions.builder().seed(3).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(512, m.headHiddenSize());
            NDArray x = input(s, 2, 3, 64);
            NDArray features = m.forwardFeatures(x);
            assertEquals(new Shape(2, 512, 2, 2), features.getShape());
            NDArray pre = m.forwardHead(features, true);
            assertEquals(new Shape(2, 512), pre.getShape());
            // the pre-logits are the pooled maps through the head's LayerNorm2d (weight 1, bias 0 at init)
            NDArray pooled = features.mean(new int[] {3}).mean(new int[] {2});
            NDArray mu = pooled.mean(new int[] {1}, true);
            NDArray var = pooled.sub(mu).square().mean(new int[] {1}, true);
            NDArray expected = pooled.sub(mu).div(var.add(1e-6f).sqrt());
            assertTrue(ModelTesting.maxAbsDiff(expected, pre) < 1e-4f);
            assertEquals(new Shape(2, 1000), m.forwardHead(features, false).getShape());

            Module norm = m.child("head").child("norm");
            Module.assign(norm.stateDict().get("weight"), filled(512, 2f));
            m.resetClassifier(7, "max");
            assertArrayEquals(
                    filled(512, 2f), m.stateDict().get("head.norm.weight").toFloatArray(), "norm kept");
            assertEquals(
                    new Shape(7, 2048), m.stateDict().get("head.fc.fc2.weight").getShape());
            assertEquals(new Shape(2, 7), m.forward(x).getShape());
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(5, ""));
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(5, "catavgmax"));
            m.resetClassifier(0, "");
            assertEquals(0, ModelTesting.maxAbsDiff(m.forwardHead(features, false), features));
            assertFalse(m.stateDict().keySet().stream().anyMatch(k -> k.startsWith("head.")));
        }
    }

    @Test
    void aLinearHeadHasNoDropoutHoweverItIsCalled() {
        // timm's head.drop is an Identity before a Linear fc (PoolFormer v1, v2): dropRate acts only before an MlpHead
        for (String name : List.of("poolformer_s12", "poolformerv2_s12")) {
            try (ImageModel m = Models.createModel(
                            name,
                            ModelOptions.builder()
                                    .dropRate(0.5)
                                    .numClasses(5)
                                    .seed(1)
                                    .build());
                    NDManager s = m.getManager().newSubManager()) {
                NDArray maps = s.randomNormal(new Shape(4, 512, 3, 3));
                m.train(false);
                NDArray eval = m.forwardHead(maps, false);
                m.train(true);
                Module head = m.child("head");
                assertEquals(0, ModelTesting.maxAbsDiff(eval, m.forwardHead(maps, false)), name + " forwardHead");
                assertEquals(0, ModelTesting.maxAbsDiff(eval, head.forward(maps)), name + " the head module");
            }
        }
        try (ImageModel m = Models.createModel(
                        "convformer_s18",
                        ModelOptions.builder().dropRate(0.5).numClasses(5).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray maps = s.randomNormal(new Shape(4, 512, 3, 3));
            m.train(true);
            assertTrue(
                    ModelTesting.maxAbsDiff(m.forwardHead(maps, true), m.forwardHead(maps, true)) > 0,
                    "the MlpHead's input drops out in training");
        }
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    @Test
    void featuresOnlyGivesTheStages() {
        try (FeatureExtractor fe = Models.createFeatureExtractor(
                        "caformer_s18", ModelOptions.builder().build());
                NDManager s = fe.getManager().newSubManager()) {
            NDList maps = fe.forwardFeatures(input(s, 1, 3, 64));
            assertEquals(
                    List.of("stages.0", "stages.1", "stages.2", "stages.3"),
                    fe.featureInfo().stream().map(FeatureInfo::module).toList());
            int[] chs = {64, 128, 320, 512};
            for (int i = 0; i < 4; i++) {
                int side = 16 >> i;
                assertEquals(new Shape(1, chs[i], side, side), maps.get(i).getShape(), "level " + i);
            }
        }
    }

    @Test
    void originalPoolFormerCheckpointKeysAreRenamed() {
        try (ImageModel m = Models.createModel(
                        "poolformer_s12", ModelOptions.builder().build());
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> original = new LinkedHashMap<>();
            original.put("patch_embed.proj.weight", s.zeros(new Shape(64, 3, 7, 7)));
            original.put("network.0.0.mlp.fc1.weight", s.zeros(new Shape(256, 64, 1, 1)));
            original.put("network.0.1.layer_scale_1", s.zeros(new Shape(64)));
            original.put("network.1.proj.weight", s.zeros(new Shape(128, 64, 3, 3)));
            original.put("network.6.1.norm2.weight", s.zeros(new Shape(512)));
            original.put("norm.weight", s.zeros(new Shape(512)));
            original.put("head.weight", s.zeros(new Shape(1000, 512)));
            List<String> keys = List.copyOf(m.prepareForPretrained(original).keySet());
            assertEquals(
                    List.of(
                            "stem.conv.weight",
                            "stages.0.blocks.0.mlp.fc1.weight",
                            "stages.0.blocks.1.layer_scale1.scale",
                            "stages.1.downsample.conv.weight",
                            "stages.3.blocks.1.norm2.weight",
                            "head.norm.weight",
                            "head.fc.weight"),
                    keys);
            assertTrue(m.stateDictShapes().keySet().containsAll(keys));
        }
    }
}
