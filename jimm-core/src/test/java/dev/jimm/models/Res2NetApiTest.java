package dev.jimm.models;

import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Pool2d;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Res2Net and Res2NeXt: timm's ResNet with the Bottle2neck block. */
class Res2NetApiTest {
    @Test
    void everyNameHasTimmsParameterCount() {
        // timm's documented counts (hfdocs res2net.mdx, res2next.mdx), to 10k
        Map<String, Long> documented = Map.of(
                "res2net50_26w_4s", 25_700_000L,
                "res2net101_26w_4s", 45_210_000L,
                "res2net50_26w_6s", 37_050_000L,
                "res2net50_26w_8s", 48_400_000L,
                "res2net50_48w_2s", 25_290_000L,
                "res2net50_14w_8s", 25_060_000L,
                "res2next50", 24_670_000L);
        documented.forEach((name, count) -> assertEquals(count, paramCount(name), 5_000, name));
        // the d variants (undocumented) trade the 7x7 stem conv (3*64*49) for three 3x3 convs of 32, 32, 64 channels
        // and their two norms; avg-down shortcuts add nothing
        long deepStem = 3 * 32 * 9 + 2 * 32 + 32 * 32 * 9 + 2 * 32 + 32 * 64 * 9;
        long stem7x7 = 3 * 64 * 49;
        assertEquals(deepStem - stem7x7, paramCount("res2net50d") - paramCount("res2net50_26w_4s"));
        assertEquals(deepStem - stem7x7, paramCount("res2net101d") - paramCount("res2net101_26w_4s"));
    }

    @Test
    void theBlockSplitsItsWidthIntoScales() {
        Map<String, Shape> s8 = unbuilt("res2net50_26w_8s").stateDictShapes();
        // width floor(64 * 26 / 64) = 26 per scale, 8 scales: 208 channels, 7 3x3 convs
        assertEquals(new Shape(208, 64, 1, 1), s8.get("layer1.0.conv1.weight"));
        assertEquals(new Shape(26, 26, 3, 3), s8.get("layer1.0.convs.6.weight"));
        assertEquals(new Shape(26), s8.get("layer1.0.bns.6.running_var"));
        assertFalse(s8.containsKey("layer1.0.convs.7.weight"), "the last scale passes without a conv");
        assertEquals(new Shape(256, 208, 1, 1), s8.get("layer1.0.conv3.weight"));
        assertEquals(new Shape(104 * 8, 512, 1, 1), s8.get("layer3.0.conv1.weight"));
        // Res2NeXt: 8 groups of floor(64 * 4 / 64) = 4: 32 per scale
        Map<String, Shape> x = unbuilt("res2next50").stateDictShapes();
        assertEquals(new Shape(32, 4, 3, 3), x.get("layer1.0.convs.0.weight"));

        ImageModel m = unbuilt("res2net50_26w_4s");
        // a stage's first block average-pools its last scale to the stride; the others pass it as it is
        Pool2d pool = assertInstanceOf(Pool2d.class, m.namedModules().get("layer2.0.pool"));
        assertTrue(pool.toString().contains("stride=2"), pool.toString());
        assertInstanceOf(Pool2d.class, m.namedModules().get("layer1.0.pool"), "layer1's projection makes it first");
        assertNull(m.namedModules().get("layer2.1.pool"));
    }

    @Test
    void dropPathIsIgnoredAsTimmsBlockDoes() {
        ModelEntry e = ModelRegistry.builtIn().entry("res2net50_14w_8s");
        ImageModel m = e.factory().apply(new ModelArgs(1000, 3, "avg", 0, 0.2));
        assertTrue(dropPathRates(m).isEmpty(), "Bottle2neck takes no drop_path");
    }

    @Test
    void dilatedFeaturesSubsampledAreTheStridedOnes() {
        // the scale convs take the block's first dilation, the last scale's pool stride 1
        ResNetApiTest.assertDilationKeepsTheStridedFeatures("res2net50_48w_2s", 16, 96);
    }
}
