package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertRandomOnlyInTraining;
import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Identity;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Module;
import dev.jimm.parity.ReferenceInit;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The timm API on Swin v1 (timm and torchvision): heads, pooling, levels, buffers, sizes. */
class SwinTransformerApiTest {
    private static final String TINY = "swin_tiny_patch4_window7_224";
    // model creation dominates the time of these tests: one of each, shared (each test sets its head)
    private static ImageModel tiny;
    private static ImageModel tv;

    @BeforeAll
    static void createModels() {
        tiny = Models.createModel(TINY, ModelOptions.builder().numClasses(0).build());
        ReferenceInit.apply(tiny);
        tv = Models.createModel(
                "tv/swin_t", ModelOptions.builder().numClasses(0).build());
    }

    @AfterAll
    static void closeModels() {
        tiny.close();
        tv.close();
    }

    @Test
    void headsPoolingAndIntermediatesOfTimmSwin() {
        ImageModel m = tiny;
        try (NDManager s = m.getManager().newSubManager()) {
            m.resetClassifier(0, "avg");
            NDArray x = input(s, 1, 3, 224);
            assertEquals(768, m.numFeatures());
            assertFalse(m.stateDict().containsKey("head.fc.weight"), "no classifier keys when numClasses is 0");
            NDArray pooled = m.forward(x);
            assertEquals(new Shape(1, 768), pooled.getShape());

            // levels: NCHW maps of each stage (before the final norm), as timm's forward_intermediates
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            List<FeatureInfo> info = m.featureInfo();
            assertEquals(4, levels.size());
            for (int i = 0; i < 4; i++) {
                FeatureInfo f = info.get(i);
                assertEquals("layers." + i, f.module());
                assertEquals(
                        new Shape(1, f.numChs(), 224 / f.reduction(), 224 / f.reduction()),
                        levels.get(i).getShape());
            }
            NDArray last = levels.get(3).transpose(0, 2, 3, 1);
            NDArray feats = ((LayerNorm) m.child("norm")).forward(last);
            assertEquals(new Shape(1, 7, 7, 768), feats.getShape(), "forward_features is NHWC");
            // the pooled output is the spatial mean of the normed last level
            assertTrue(maxAbsDiff(feats.mean(new int[] {1}).mean(new int[] {1}), pooled) < 1e-5f);
            assertEquals(2, m.forwardIntermediates(x, new int[] {1, -1}).size());
            assertEquals(
                    new Shape(1, 384, 14, 14),
                    m.forwardIntermediates(x, new int[] {-2}).get(0).getShape());

            // heads, on the same features
            m.resetClassifier(0, "");
            assertEquals(new Shape(1, 7, 7, 768), m.forwardHead(feats, false).getShape(), "no pooling: NHWC maps");
            m.resetClassifier(10, "avg");
            assertEquals(new Shape(1, 10), m.forwardHead(feats, false).getShape());
            assertEquals(new Shape(1, 768), m.forwardHead(feats, true).getShape());
            assertEquals(new Shape(10, 768), m.stateDict().get("head.fc.weight").getShape());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("head.fc.bias", keys.get(keys.size() - 1), "the new head keeps the classifier's place");
            m.resetClassifier(0, "catavgmax");
            NDArray cat = m.forwardHead(feats, false);
            assertEquals(new Shape(1, 1536), cat.getShape());
            assertTrue(maxAbsDiff(cat.get(":, :768"), pooled) < 1e-5f, "catavgmax starts with the average");
            assertInstanceOf(Identity.class, m.child("head").child("fc"));
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(5, ""));
        }
    }

    @Test
    void timmSwinIsBuiltForOneInputSize() {
        try (NDManager s = tiny.getManager().newSubManager()) {
            ImageModel m = tiny;
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> m.forward(input(s, 1, 3, 192)));
            assertTrue(e.getMessage().contains("224x224") && e.getMessage().contains("192"), e.getMessage());
        }
    }

    @Test
    void positionIndexAndShiftMaskAreBuffersOutsideTimmsStateDict() {
        {
            ImageModel m = tiny;
            assertTrue(m.stateDict().keySet().stream()
                    .noneMatch(k -> k.contains("relative_position_index") || k.contains("attn_mask")));
            Module attn = m.namedModules().get("layers.0.blocks.0.attn");
            long[] index =
                    attn.directBuffers().get("relative_position_index").array().toLongArray();
            assertEquals(49 * 49, index.length);
            // (dh + 6) * 13 + (dw + 6): 84 on the diagonal, 0 for (0, 48), 168 for (48, 0)
            assertEquals(84, index[0]);
            assertEquals(84, index[49 * 49 - 1]);
            assertEquals(0, index[48]);
            assertEquals(168, index[48 * 49]);
            assertEquals(83, index[1], "a key one step right: dw one lower");
            assertEquals(71, index[7], "a key one row down: dh one lower");

            assertTrue(m.namedModules().get("layers.0.blocks.0").directBuffers().isEmpty(), "block 0 is not shifted");
            float[] mask = m.namedModules()
                    .get("layers.0.blocks.1")
                    .directBuffers()
                    .get("attn_mask")
                    .array()
                    .toFloatArray();
            assertEquals(64 * 49 * 49, mask.length, "56x56 map: 8x8 windows of 7x7");
            for (int i = 0; i < 49 * 49; i++) {
                assertEquals(0f, mask[i], "the top-left window lies in one region");
            }
            int crossing = 0;
            int base = 63 * 49 * 49;
            for (int i = 0; i < 49 * 49; i++) {
                crossing += mask[base + i] == -100f ? 1 : 0;
            }
            // the bottom-right window holds four regions of 4x4, 4x3, 3x4, 3x3 tokens
            int same = 16 * 16 + 12 * 12 + 12 * 12 + 9 * 9;
            assertEquals(49 * 49 - same, crossing);
            assertFalse(
                    m.namedModules().get("layers.3.blocks.1").directBuffers().containsKey("attn_mask"),
                    "a 7x7 map is one window: no shift in the last stage");
        }
    }

    @Test
    void windowHelpersMatchTorchSemantics() {
        try (NDManager s = NDManager.newBaseManager()) {
            NDArray x = s.arange(0f, 2 * 4 * 5 * 3).reshape(2, 4, 5, 3);
            NDArray r = SwinTransformer.Windows.roll(x, -1, 2);
            // torch.roll: out[(i + shift) % n] = x[i]
            assertEquals(x.get("0, 1, 0, 0").getFloat(), r.get("0, 0, 2, 0").getFloat());
            assertEquals(x.get("1, 0, 4, 2").getFloat(), r.get("1, 3, 1, 2").getFloat());
            assertArrayEquals(
                    x.toFloatArray(), SwinTransformer.Windows.roll(r, 1, -2).toFloatArray());
            NDArray y = s.arange(0f, 1 * 4 * 6 * 2).reshape(1, 4, 6, 2);
            NDArray w = SwinTransformer.Windows.partition(y, 2, 3);
            assertEquals(new Shape(4, 6, 2), w.getShape());
            assertEquals(y.get("0, 2, 3, 1").getFloat(), w.get("3, 0, 1").getFloat(), "window 3 starts at (2, 3)");
            assertArrayEquals(
                    y.toFloatArray(),
                    SwinTransformer.Windows.reverse(w, 2, 3, 4, 6).toFloatArray());
            NDArray merged = SwinTransformer.Windows.mergePatches(y);
            assertEquals(new Shape(1, 2, 3, 8), merged.getShape());
            // torchvision's order x0, x1, x2, x3 = (0,0), (1,0), (0,1), (1,1)
            assertArrayEquals(
                    y.get("0, 1, 0").toFloatArray(), merged.get("0, 0, 0, 2:4").toFloatArray());
            assertArrayEquals(
                    y.get("0, 0, 1").toFloatArray(), merged.get("0, 0, 0, 4:6").toFloatArray());
        }
    }

    @Test
    void torchvisionSwinTakesAnyInputSizeAndKeepsItsIndexInTheStateDict() {
        ImageModel m = tv;
        try (NDManager s = m.getManager().newSubManager()) {
            m.resetClassifier(0, "avg");
            assertEquals(
                    new Shape(2401),
                    m.stateDict()
                            .get("features.1.0.attn.relative_position_index")
                            .getShape());
            assertEquals(
                    168,
                    m.stateDict()
                            .get("features.7.1.attn.relative_position_index")
                            .toLongArray()[48 * 49]);
            List<String> modules = new ArrayList<>();
            m.featureInfo().forEach(f -> modules.add(f.module()));
            assertEquals(List.of("features.1", "features.3", "features.5", "features.7"), modules);
            // 72 -> 18, 9, 5 (9 padded to 10 before merging), 3: windows pad every map
            NDArray x = input(s, 72);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            int[] sizes = {18, 9, 5, 3};
            for (int i = 0; i < 4; i++) {
                assertEquals(
                        new Shape(2, 96 << i, sizes[i], sizes[i]), levels.get(i).getShape());
            }
            NDArray pooled = m.forward(x);
            assertEquals(new Shape(2, 768), pooled.getShape());
            NDArray normed = ((LayerNorm) m.child("norm")).forward(levels.get(3).transpose(0, 2, 3, 1));
            assertTrue(maxAbsDiff(normed.mean(new int[] {1}).mean(new int[] {1}), pooled) < 1e-5f);
            m.resetClassifier(7, "avg");
            assertEquals(new Shape(7, 768), m.stateDict().get("head.weight").getShape());
            assertEquals(new Shape(2, 7), m.forward(x).getShape());
        }
    }

    @Test
    void dropPathRisesLinearlyAndActsOnlyInTraining() {
        // construction alone declares the layers: no arrays needed to read the rates
        ImageModel built = ModelRegistry.builtIn().entry(TINY).factory().apply(new ModelArgs(1000, 3, "avg", 0, 0.2));
        List<Float> rates = dropPathRates(built);
        // 12 blocks, two DropPaths each, none in block 0 (rate 0)
        assertEquals(22, rates.size());
        assertEquals(0.2f / 11, rates.get(0), 1e-6f);
        assertEquals(0.2f, rates.get(rates.size() - 1), 1e-6f);

        // a small torchvision-layout Swin, to run train and eval cheaply
        SwinTransformer.Config small = new SwinTransformer.Config(
                32, 4, 8, List.of(2, 2, 2, 2), List.of(1, 1, 2, 2), List.of(2, 2, 2, 2), 2.0, true);
        try (NDManager s = NDManager.newBaseManager()) {
            ImageModel m = new TvSwinTransformer(small, new ModelArgs(5, 3, "avg", 0, 0.5), false);
            m.materialize(s);
            m.initialize(new SplittableRandom(1));
            assertRandomOnlyInTraining(m, input(s, 32));
        }
    }

    @Test
    void gradientsReachTheBiasTableAndEveryLinear() {
        SwinTransformer.Config small = new SwinTransformer.Config(
                32, 4, 8, List.of(2, 2, 2, 2), List.of(1, 1, 2, 2), List.of(2, 2, 2, 2), 2.0, true);
        try (NDManager s = NDManager.newBaseManager()) {
            ImageModel m = new SwinTransformer(small, new ModelArgs(5, 3, "avg", 0, 0));
            m.materialize(s);
            m.initialize(new SplittableRandom(1));
            ReferenceInit.apply(m);
            m.train(true);
            try (var gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(m.forward(input(s, 32)).square().mean());
            }
            SwinTesting.assertGradientsReach(
                    m,
                    List.of(
                            "layers.0.blocks.1.attn.relative_position_bias_table",
                            "layers.0.blocks.1.attn.qkv.weight",
                            "layers.1.downsample.reduction.weight",
                            "patch_embed.proj.weight",
                            "head.fc.bias"));
        }
    }

    @Test
    void everySwinIsBuiltForItsDefaultInputSize() {
        // that these are timm's 9 swin_transformer names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        SwinTesting.assertBuiltForDefaultInputSize(
                "swin_transformer", SwinTransformer.class, m -> m.config().imgSize());
        for (String n : ModelTesting.registeredNames("swin_transformer")) {
            assertEquals(4, unbuilt(n).featureInfo().size(), n);
        }
    }
}
