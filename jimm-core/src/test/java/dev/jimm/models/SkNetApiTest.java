package dev.jimm.models;

import static dev.jimm.models.ModelTesting.dropPathRates;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Conv2d;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Selective Kernel networks: timm's ResNet with selective kernel blocks. */
class SkNetApiTest {
    @Test
    void everyNameHasTimmsParameterCount() {
        // timm's documented counts (hfdocs skresnet.mdx, skresnext.mdx), to 10k
        assertEquals(11_960_000L, paramCount("skresnet18"), 5_000);
        assertEquals(22_280_000L, paramCount("skresnet34"), 5_000);
        assertEquals(27_480_000L, paramCount("skresnext50_32x4d"), 5_000);
        // skresnet50d (undocumented, as skresnet50) differs by its deep stem: three 3x3 convs of 32, 32, 64 and two
        // norms instead of the 7x7 conv
        long deepStem = 3 * 32 * 9 + 2 * 32 + 32 * 32 * 9 + 2 * 32 + 32 * 64 * 9;
        assertEquals(deepStem - 3 * 64 * 49, paramCount("skresnet50d") - paramCount("skresnet50"));
    }

    @Test
    void blocksHoldTimmsSelectiveKernelLayout() {
        Map<String, Shape> r18 = unbuilt("skresnet18").stateDictShapes();
        // the first conv is selective (split input: half the channels per path), the second a plain conv-norm
        assertEquals(new Shape(64, 32, 3, 3), r18.get("layer1.0.conv1.paths.0.conv.weight"));
        assertEquals(new Shape(16, 64, 1, 1), r18.get("layer1.0.conv1.attn.fc_reduce.weight"), "64 / 8 up to 16");
        assertEquals(new Shape(128, 128, 3, 3), r18.get("layer2.0.conv2.conv.weight"));
        assertEquals(new Shape(128), r18.get("layer2.0.conv2.bn.running_mean"));
        assertEquals(new Shape(128, 64, 1, 1), r18.get("layer2.0.downsample.0.weight"));
        Conv2d strided = (Conv2d) unbuilt("skresnet18").namedModules().get("layer2.0.conv1.paths.1.conv");
        assertArrayEquals(new long[] {2, 2}, strided.stride());
        assertArrayEquals(new long[] {2, 2}, strided.dilation());

        // skresnext: the middle conv is selective, grouped 32, whole input per path, attention 128 / 16 up to 32
        Map<String, Shape> x = unbuilt("skresnext50_32x4d").stateDictShapes();
        assertEquals(new Shape(128, 64, 1, 1), x.get("layer1.0.conv1.conv.weight"));
        assertEquals(new Shape(128, 4, 3, 3), x.get("layer1.0.conv2.paths.1.conv.weight"));
        assertEquals(new Shape(32, 128, 1, 1), x.get("layer1.0.conv2.attn.fc_reduce.weight"));
        assertEquals(new Shape(256, 128, 1, 1), x.get("layer1.0.conv3.conv.weight"));
    }

    @Test
    void blocksDoNotStartAsTheIdentityAsTimmBuildsThemWithoutZeroInitLast() {
        try (ImageModel sk = Models.createModel("skresnet18");
                ImageModel plain = Models.createModel("resnet18")) {
            NDArray skLast = sk.stateDict().get("layer1.0.conv2.bn.weight");
            assertTrue(skLast.abs().sum().getFloat() > 0, "sknet's last norm keeps its init");
            assertEquals(
                    0f, plain.stateDict().get("layer1.0.bn2.weight").abs().sum().getFloat(), "resnet's is zeroed");
        }
    }

    @Test
    void dropPathRisesOverTheBlocks() {
        ModelEntry e = ModelRegistry.builtIn().entry("skresnet18");
        ImageModel m = e.factory().apply(new ModelArgs(1000, 3, "avg", 0, 0.1));
        assertEquals(7, dropPathRates(m).size(), "8 blocks, the first at rate 0");
        assertEquals(0.1f, dropPathRates(m).get(6), 1e-6f);
    }

    @Test
    void dilatedStagesDilateBothPaths() {
        // (the subsampling check of ResNetApiTest does not apply: the attention pools the whole map, dense or not)
        ImageModel m = ModelRegistry.builtIn()
                .entry("skresnet18")
                .factory()
                .apply(ModelArgs.defaults().withOutputStride(8));
        // keep_3x3: path dilations d and 2d; a stage's first block at the previous stage's dilation
        long[][] expected = {
            // path 0 of layer3.0, path 1 of layer3.0, path 0 of layer3.1, path 1 of layer4.0, path 1 of layer4.1
            {1, 1}, {2, 2}, {2, 2}, {4, 4}, {8, 8},
        };
        String[] paths = {
            "layer3.0.conv1.paths.0.conv",
            "layer3.0.conv1.paths.1.conv",
            "layer3.1.conv1.paths.0.conv",
            "layer4.0.conv1.paths.1.conv",
            "layer4.1.conv1.paths.1.conv",
        };
        for (int i = 0; i < paths.length; i++) {
            Conv2d c = (Conv2d) m.namedModules().get(paths[i]);
            assertArrayEquals(new long[] {1, 1}, c.stride(), paths[i]);
            assertArrayEquals(expected[i], c.dilation(), paths[i]);
            assertArrayEquals(expected[i], c.padding(), paths[i]);
        }
        Conv2d second = (Conv2d) m.namedModules().get("layer3.0.conv2.conv");
        assertArrayEquals(new long[] {2, 2}, second.dilation(), "the second conv takes the stage's dilation");
        assertEquals(unbuilt("skresnet18").stateDictShapes(), m.stateDictShapes());
        try (ImageModel built = Models.createModel(
                        "skresnet18", ModelOptions.builder().outputStride(8).build());
                NDManager s = built.getManager().newSubManager()) {
            assertEquals(
                    new Shape(2, 512, 8, 8), built.forwardFeatures(input(s, 64)).getShape());
        }
    }

    @Test
    void everyNormFoldsForInference() {
        // the attention's norms (after a 1x1 conv on the pooled map) fold as the convs' do
        ModelTesting.assertEveryBatchNormFolds("skresnet18", 64);
    }
}
