package dev.jimm.models;

import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Module;
import dev.jimm.parity.ReferenceInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The timm API on Swin V2, its init and buffers, and torchvision's V2 against timm's. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SwinTransformerV2ApiTest {
    private static final String TINY = "swinv2_tiny_window8_256";
    private static ImageModel tiny;

    @BeforeAll
    static void createModel() {
        tiny = Models.createModel(TINY, ModelOptions.builder().numClasses(0).build());
    }

    @AfterAll
    static void closeModel() {
        tiny.close();
    }

    @Test
    @Order(1) // before the other tests overwrite the shared model's weights
    void timmInitZeroesThePostNormsAndSetsTheTemperature() {
        Map<String, NDArray> sd = tiny.stateDict();
        for (String k : List.of(
                "layers.0.blocks.0.norm1.weight", "layers.2.blocks.5.norm2.weight", "layers.3.blocks.1.norm1.bias")) {
            assertEquals(0f, sd.get(k).abs().max().getFloat(), k + ": res-post-norm starts at zero");
        }
        assertEquals(1f, sd.get("norm.weight").min().getFloat(), "the final norm keeps weight 1");
        assertEquals(1f, sd.get("layers.1.downsample.norm.weight").min().getFloat());
        NDArray scale = sd.get("layers.1.blocks.0.attn.logit_scale");
        assertEquals(new Shape(6, 1, 1), scale.getShape());
        assertEquals((float) Math.log(10), scale.max().getFloat(), 1e-6f);
        assertEquals(0f, sd.get("layers.1.blocks.0.attn.q_bias").abs().max().getFloat());
        float std = (float) Math.sqrt(
                sd.get("layers.2.blocks.0.mlp.fc1.weight").square().mean().getFloat());
        assertEquals(0.02f, std, 0.001f, "Linear weights ~ N(0, .02)");
        assertTrue(
                sd.keySet().stream().noneMatch(k -> k.contains("k_bias") || k.contains("relative_")),
                "k_bias and the position tables are non-persistent in timm");
    }

    @Test
    void coordinateTableIsLogSpacedAndNormalizedByThePretrainedWindow() {
        Module attn = tiny.namedModules().get("layers.0.blocks.0.attn");
        NDArray table = attn.directBuffers().get("relative_coords_table").array();
        assertEquals(new Shape(1, 15, 15, 2), table.getShape());
        float[] t = table.toFloatArray();
        float corner = (float) (Math.log(9) / Math.log(2) / 3); // -7/7*8 = -8: log2(9)/3
        assertEquals(-corner, t[0], 1e-6f);
        assertEquals(-corner, t[1], 1e-6f);
        assertEquals(0f, t[(7 * 15 + 7) * 2], "the centre is (0, 0)");
        assertEquals(corner, t[(14 * 15 + 7) * 2], 1e-6f, "dy = +7 at the bottom row");
        // a window of 8 normalized by a pretrained window of 6: -7/5*8 = -11.2
        float[] p = SwinTransformerV2.WindowAttentionV2.coordsTable(8, 6);
        assertEquals((float) (-Math.log(12.2) / Math.log(2) / 3), p[0], 1e-6f);
    }

    @Test
    void headsAndIntermediates() {
        ImageModel m = tiny;
        try (NDManager s = m.getManager().newSubManager()) {
            ReferenceInit.apply(m);
            m.resetClassifier(0, "avg");
            NDArray x = ReferenceInit.input(s, new Shape(1, 3, 256, 256), 0);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            for (int i = 0; i < 4; i++) {
                FeatureInfo f = m.featureInfo().get(i);
                assertEquals("layers." + i, f.module());
                assertEquals(
                        new Shape(1, f.numChs(), 256 / f.reduction(), 256 / f.reduction()),
                        levels.get(i).getShape());
            }
            NDArray feats = ((LayerNorm) m.child("norm")).forward(levels.get(3).transpose(0, 2, 3, 1));
            assertEquals(new Shape(1, 8, 8, 768), feats.getShape());
            NDArray pooled = m.forwardHead(feats, false);
            assertEquals(new Shape(1, 768), pooled.getShape(), "numClasses 0: pooled features");
            assertTrue(maxAbsDiff(feats.mean(new int[] {1}).mean(new int[] {1}), pooled) < 1e-5f);
            m.resetClassifier(0, "");
            assertEquals(new Shape(1, 8, 8, 768), m.forwardHead(feats, false).getShape());
            m.resetClassifier(3, "avg");
            assertEquals(new Shape(1, 3), m.forwardHead(feats, false).getShape());
            assertEquals(new Shape(3, 768), m.stateDict().get("head.fc.weight").getShape());
            m.resetClassifier(0, "avg");
            assertFalse(m.stateDict().containsKey("head.fc.weight"));
        }
    }

    @Test
    void torchvisionSwinV2MatchesTimmsUnderTheSameWeights() {
        // torchvision's V2 is the same network: q/v biases live in qkv.bias (k zero), other names differ
        try (ImageModel v = Models.createModel(
                        "tv/swin_v2_t", ModelOptions.builder().numClasses(0).build());
                NDManager s = tiny.getManager().newSubManager()) {
            ReferenceInit.apply(tiny);
            tiny.resetClassifier(0, "avg");
            Map<String, NDArray> src = tiny.stateDict();
            Map<String, NDArray> mapped = new LinkedHashMap<>();
            Pattern stage = Pattern.compile("^layers\\.(\\d+)\\.(downsample|blocks\\.(\\d+))\\.(.*)$");
            for (Map.Entry<String, NDArray> e : src.entrySet()) {
                String n = e.getKey()
                        .replace("patch_embed.proj", "features.0.0")
                        .replace("patch_embed.norm", "features.0.2")
                        .replace("mlp.fc1", "mlp.0")
                        .replace("mlp.fc2", "mlp.3");
                Matcher m = stage.matcher(n);
                if (m.matches()) {
                    int i = Integer.parseInt(m.group(1));
                    n = m.group(2).equals("downsample")
                            ? "features." + 2 * i + "." + m.group(4)
                            : "features." + (2 * i + 1) + "." + m.group(3) + "." + m.group(4);
                }
                if (n.endsWith("attn.q_bias")) {
                    NDArray q = e.getValue();
                    NDArray vb = src.get(e.getKey().replace("q_bias", "v_bias"));
                    mapped.put(
                            n.replace("q_bias", "qkv.bias"),
                            q.concat(s.zeros(q.getShape())).concat(vb));
                } else if (!n.endsWith("attn.v_bias")) {
                    mapped.put(n, e.getValue());
                }
            }
            Map<String, NDArray> own = v.stateDict();
            List<String> onlyTv = new ArrayList<>();
            for (String k : own.keySet()) {
                if (!mapped.containsKey(k)) {
                    onlyTv.add(k);
                    mapped.put(k, own.get(k));
                }
            }
            assertTrue(
                    onlyTv.stream()
                            .allMatch(
                                    k -> k.contains("relative_coords_table") || k.contains("relative_position_index")),
                    "only torchvision's persistent tables are extra: " + onlyTv);
            assertEquals(2 * 12, onlyTv.size());
            NDArray x = ReferenceInit.input(s, new Shape(1, 3, 256, 256), 0);
            NDArray before = v.forward(x);
            v.loadStateDict(mapped, true);
            NDArray ref = tiny.forward(x);
            NDArray ours = v.forward(x);
            assertTrue(maxAbsDiff(before, ref) > 0.1f, "differently initialized models differ");
            float err = maxAbsDiff(ours, ref) / ref.abs().max().getFloat();
            assertTrue(err < 1e-5f, "relative error " + err);
        }
    }

    @Test
    void gradientsReachTemperatureBiasesAndThePositionMlp() {
        // 64 / 4 = 16, 8, 4, 2: a window of 2 fits every stage (a window cut to 1 divides by zero, as in timm)
        SwinTransformerV2.Config small =
                new SwinTransformerV2.Config(64, 2, 8, List.of(2, 2, 2, 2), List.of(1, 1, 2, 2), List.of(0, 0, 0, 0));
        try (NDManager s = NDManager.newBaseManager()) {
            ImageModel m = new SwinTransformerV2(small, new ModelArgs(5, 3, "avg", 0, 0));
            m.materialize(s);
            m.initialize(new SplittableRandom(1));
            ReferenceInit.apply(m); // timm's zeroed post-norms would block the attention gradients
            m.train(true);
            try (var gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(m.forward(ReferenceInit.input(s, new Shape(2, 3, 64, 64), 0))
                        .square()
                        .mean());
            }
            SwinTesting.assertGradientsReach(
                    m,
                    List.of(
                            "layers.0.blocks.1.attn.logit_scale",
                            "layers.0.blocks.1.attn.q_bias",
                            "layers.0.blocks.1.attn.v_bias",
                            "layers.0.blocks.1.attn.cpb_mlp.0.weight",
                            "layers.0.blocks.1.attn.cpb_mlp.2.weight",
                            "layers.2.downsample.norm.weight"));
            assertFalse(m.namedParameters().containsKey("layers.0.blocks.1.attn.k_bias"), "k_bias is a fixed zero");
        }
    }

    @Test
    void everySwinV2IsBuiltForItsDefaultInputSize() {
        // that these are timm's 12 swin_transformer_v2 names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        SwinTesting.assertBuiltForDefaultInputSize(
                "swin_transformer_v2", SwinTransformerV2.class, m -> m.config().imgSize());
        // a 16 window on the last 8x8 map is cut to 8 (so is its bias MLP's table): no shift there
        SwinTransformerV2 w16 = (SwinTransformerV2) unbuilt("swinv2_tiny_window16_256");
        assertEquals(
                0, w16.namedModules().get("layers.3.blocks.1").directBuffers().size());
        assertEquals(
                1, w16.namedModules().get("layers.1.blocks.1").directBuffers().size(), "32x32 map, window 16: shifted");
        assertEquals(
                new Shape(1, 15, 15, 2),
                w16.namedModules()
                        .get("layers.3.blocks.0.attn")
                        .directBuffers()
                        .get("relative_coords_table")
                        .shape());
    }
}
