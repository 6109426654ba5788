package dev.jimm.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** timm's Hieras: sizes, unroll/reroll, the abswin layout, feature levels, fixed input, checkpoint remap. */
class HieraApiTest {
    /** timm's published parameter counts (results/benchmark-infer-*.csv), millions to two decimals. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.of(
            "hiera_tiny_224", 27.91,
            "hiera_small_224", 35.01,
            "hiera_base_224", 51.52,
            "hiera_base_plus_224", 69.9,
            "hiera_large_224", 213.74,
            "hiera_huge_224", 672.78,
            "hiera_small_abswin_256", 34.36,
            "hiera_base_abswin_256", 51.27);

    @Test
    void everyNameHasTimmsParameterCount() {
        List<String> wrong = new ArrayList<>();
        for (String name : ModelTesting.registeredNames("hiera")) {
            double millions = Math.round(ModelTesting.paramCount(name) / 1e4) / 100.0;
            if (!TIMM_MILLIONS.containsKey(name) || Math.abs(millions - TIMM_MILLIONS.get(name)) > 1e-9) {
                wrong.add(name + ": " + millions + "M, timm " + TIMM_MILLIONS.get(name));
            }
        }
        assertEquals(List.of(), wrong);
        assertEquals(TIMM_MILLIONS.size(), ModelTesting.registeredNames("hiera").size());
    }

    @Test
    void unrollPutsStridesOutermostAndRerollUndoesIt() {
        try (NDManager m = NDManager.newBaseManager()) {
            // a 4x4 grid of token ids, one channel
            NDArray x = m.arange(16f).reshape(1, 16, 1);
            NDArray once = Hiera.unroll(x, 4, 4, 1);
            // first the (0,0) positions of each 2x2 cell, then (0,1), (1,0), (1,1)
            assertEquals(List.of(0f, 2f, 8f, 10f, 1f, 3f, 9f, 11f, 4f, 6f, 12f, 14f, 5f, 7f, 13f, 15f), toList(once));
            // pooling over the outermost stride is the 2x2 max pool
            assertEquals(List.of(5f, 7f, 13f, 15f), toList(Hiera.maxPool(once, 4)));
            NDArray twice = Hiera.unroll(x, 4, 4, 2);
            NDArray back = Hiera.reroll(twice, 4, 4, 2);
            assertEquals(toList(x), toList(back.reshape(1, 16, 1)));
        }
    }

    private static List<Float> toList(NDArray a) {
        List<Float> out = new ArrayList<>();
        for (float f : a.toFloatArray()) {
            out.add(f);
        }
        return out;
    }

    @Test
    void abswinVariantsHaveGlobalAndWindowEmbeddings() {
        Map<String, Shape> small =
                ModelTesting.unbuilt("hiera_small_abswin_256").stateDictShapes();
        assertEquals(new Shape(1, 96, 16, 16), small.get("pos_embed"));
        assertEquals(new Shape(1, 96, 8, 8), small.get("pos_embed_win"));
        // no expand projection: the widening concatenates max and average pools
        assertFalse(small.containsKey("blocks.1.proj.weight"));
        assertEquals(new Shape(192), small.get("blocks.1.ls1.gamma"));
        Map<String, Shape> base = ModelTesting.unbuilt("hiera_base_abswin_256").stateDictShapes();
        assertEquals(new Shape(1, 96, 14, 14), base.get("pos_embed"));
        assertEquals(new Shape(192, 96), base.get("blocks.2.proj.weight"));
        assertEquals(
                new Shape(1, 56 * 56, 96),
                ModelTesting.unbuilt("hiera_tiny_224").stateDictShapes().get("pos_embed"));
    }

    @Test
    void featureLevelsAreRerolledMaps() {
        try (ImageModel m = Models.createModel("hiera_small_abswin_256");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ModelTesting.input(s, 256);
            var maps = m.forwardIntermediates(x, new int[] {0, -1});
            assertEquals(new Shape(2, 96, 64, 64), maps.get(0).getShape());
            assertEquals(new Shape(2, 768, 8, 8), maps.get(1).getShape());
            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(2, 64, 768), feats.getShape());
            // the last stage is in raster order already: its tokens are the rerolled map's pixels
            NDArray asMap = feats.reshape(2, 8, 8, 768).transpose(0, 3, 1, 2);
            assertTrue(ModelTesting.maxAbsDiff(asMap, maps.get(1)) < 1e-6);
            ModelTesting.assertPreLogitsFeed(m, feats, "head.fc");
            ModelTesting.assertResetTo(m, x, 10, "avgmax", "head.fc", 768);
            assertThrows(IllegalArgumentException.class, () -> m.forward(ModelTesting.input(s, 224)));
        }
    }

    @Test
    void originalCheckpointsAreRenamed() {
        try (Hiera m = (Hiera) Models.createModel("hiera_tiny_224");
                NDManager s = m.getManager().newSubManager()) {
            Map<String, NDArray> orig = new LinkedHashMap<>();
            for (String k : List.of("pos_embed_abs", "encoder_norm.weight", "norm.bias", "head.projection.weight")) {
                orig.put(k, s.zeros(new Shape(1)));
            }
            assertEquals(
                    List.of("pos_embed", "head.norm.weight", "head.norm.bias", "head.fc.weight"),
                    List.copyOf(m.prepareForPretrained(orig).keySet()));
        }
    }
}
