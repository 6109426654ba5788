package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.SplitAttention;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** ResNeSt: timm's ResNet with the split-attention bottleneck. */
class ResNeStApiTest {
    @Test
    void everyNameHasTimmsParameterCount() {
        // timm's documented counts (hfdocs resnest.mdx), to 10k
        Map<String, Long> documented = Map.of(
                "resnest14d", 10_610_000L,
                "resnest26d", 17_070_000L,
                "resnest50d", 27_480_000L,
                "resnest101e", 48_280_000L,
                "resnest200e", 70_200_000L,
                "resnest269e", 110_930_000L,
                "resnest50d_4s2x40d", 30_420_000L,
                "resnest50d_1s4x24d", 25_680_000L);
        documented.forEach((name, count) -> assertEquals(count, paramCount(name), 5_000, name));
        assertEquals(documented.keySet(), Set.copyOf(ModelTesting.registeredNames("resnest")));
    }

    @Test
    void stridedBlocksPoolBesideTheSplitAttention() {
        Map<String, Module> m = unbuilt("resnest50d").namedModules();
        assertInstanceOf(SplitAttention.class, m.get("layer2.0.conv2"));
        assertInstanceOf(Pool2d.class, m.get("layer2.0.avd_last"), "avd: the stride moves to a pool after the conv");
        assertNull(m.get("layer2.0.avd_first"));
        assertNull(m.get("layer1.0.avd_last"), "layer1 is not strided");
        assertNull(m.get("layer2.1.avd_last"));
        Map<String, Module> first = unbuilt("resnest50d_4s2x40d").namedModules();
        assertInstanceOf(Pool2d.class, first.get("layer3.0.avd_first"), "avd_first: the pool comes before the conv");
        assertNull(first.get("layer3.0.avd_last"));

        // radix 1 (1s4x24d): a sigmoid gate; 4 groups of floor(64 * 24 / 64) = 24, attention max(32, 96 / 4) = 32
        Map<String, Shape> s = unbuilt("resnest50d_1s4x24d").stateDictShapes();
        assertEquals(new Shape(96, 24, 3, 3), s.get("layer1.0.conv2.conv.weight"));
        assertEquals(new Shape(32, 24, 1, 1), s.get("layer1.0.conv2.fc1.weight"));
        assertEquals(new Shape(96, 8, 1, 1), s.get("layer1.0.conv2.fc2.weight"));
    }

    @Test
    void dilatedStagesDropTheirPoolsAndKeepTheResolution() {
        ModelEntry e = ModelRegistry.builtIn().entry("resnest14d");
        Map<String, Shape> base = unbuilt("resnest14d").stateDictShapes();
        ImageModel os8 = e.factory().apply(ModelArgs.defaults().withOutputStride(8));
        assertEquals(base, os8.stateDictShapes());
        assertNull(os8.namedModules().get("layer3.0.avd_last"), "timm's avd pools only strided blocks");
        assertInstanceOf(Pool2d.class, os8.namedModules().get("layer2.0.avd_last"));
        try (ImageModel m = Models.createModel(
                        "resnest14d", ModelOptions.builder().outputStride(8).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    new Shape(2, 2048, 8, 8), m.forwardFeatures(input(s, 64)).getShape());
        }
    }

    @Test
    void settingsTimmsBlockRefusesAreRefused() {
        ResNet.Config c = ResNeSt.config(List.of(1, 1, 1, 1), 32, 64, 1, new ResNeSt.ResNestBottleneck(2, true, false));
        IllegalArgumentException se =
                assertThrows(IllegalArgumentException.class, () -> new ResNet(c.se(), ModelArgs.defaults()));
        assertTrue(se.getMessage().contains("ResNestBottleneck"), se.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> new ResNet(c.antiAlias(ResNet.AntiAlias.AVG), ModelArgs.defaults()));
        assertThrows(IllegalArgumentException.class, () -> new ResNeSt.ResNestBottleneck(-1, true, false));
    }

    @Test
    void everyNormFoldsForInference() {
        // the attention's norms (after a 1x1 conv on the pooled map) fold as the convs' do
        ModelTesting.assertEveryBatchNormFolds("resnest14d", 64);
    }
}
