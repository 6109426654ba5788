package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Identity;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The timm API on torchvision's ShuffleNet v2: widths, channel shuffle, heads, levels. */
class ShuffleNetV2ApiTest {
    @Test
    void everyWidthHasTorchvisionsParameterCount() {
        ImageModel x2 = unbuilt("tv/shufflenet_v2_x2_0");
        assertEquals(
                new Shape(244, 1, 3, 3),
                x2.stateDictShapes().get("stage3.0.branch1.0.weight"),
                "depthwise on the input");
        assertEquals(new Shape(122, 122, 1, 1), x2.stateDictShapes().get("stage2.1.branch2.0.weight"));
        assertFalse(x2.stateDictShapes().containsKey("stage2.1.branch1.0.weight"), "stride-1 units have no branch1");
    }

    @Test
    void channelShuffleInterleavesTheTwoHalves() {
        try (NDManager s = NDManager.newBaseManager()) {
            NDArray x = s.arange(0f, 6f).reshape(1, 6, 1, 1);
            assertArrayEquals(
                    new float[] {0, 3, 1, 4, 2, 5},
                    ShuffleNetV2.channelShuffle(x, 2).toFloatArray());
        }
    }

    @Test
    void aStrideOneUnitNeedsMatchingWidths() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> new ShuffleNetV2.InvertedResidual(24, 116, 1));
        assertTrue(e.getMessage().contains("inp 24") && e.getMessage().contains("oup 116"), e.getMessage());
    }

    @Test
    void levelsHeadsAndReset() {
        try (ImageModel m = Models.createModel("tv/shufflenet_v2_x1_0");
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(List.of(3, 224, 224), m.pretrainedCfg().inputSize());
            assertEquals(
                    "torchvision",
                    ModelRegistry.builtIn().entry("tv/shufflenet_v2_x1_0").family());
            NDArray x = input(s, 1, 3, 224);
            List<FeatureInfo> fi = m.featureInfo();
            assertEquals(
                    List.of("conv1", "maxpool", "stage2", "stage3", "stage4"),
                    fi.stream().map(FeatureInfo::module).toList());
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            int[] channels = {24, 24, 116, 232, 464};
            for (int i = 0; i < maps.size(); i++) {
                int side = 224 / fi.get(i).reduction();
                assertEquals(new Shape(1, channels[i], side, side), maps.get(i).getShape(), "level " + i);
                assertEquals(channels[i], fi.get(i).numChs());
            }
            assertEquals(
                    new Shape(1, 232, 14, 14),
                    m.forwardIntermediates(x, new int[] {3}).singletonOrThrow().getShape());

            NDArray feats = m.forwardFeatures(x);
            assertEquals(new Shape(1, 1024, 7, 7), feats.getShape());
            assertTrue(maxAbsDiff(
                            m.forwardHead(feats, true),
                            feats.sum(new int[] {2, 3}).div(49f))
                    < 1e-5);
            assertEquals(new Shape(1, 1000), m.forwardHead(feats, false).getShape());

            m.resetClassifier(0, "");
            assertEquals(new Shape(1, 1024, 7, 7), m.forward(x).getShape());
            assertInstanceOf(Identity.class, m.child("fc"));
            m.resetClassifier(0, "avg");
            assertEquals(new Shape(1, 1024), m.forward(x).getShape());
            m.resetClassifier(10, "catavgmax");
            assertEquals(new Shape(10, 2048), m.stateDict().get("fc.weight").getShape());
            assertEquals(new Shape(1, 10), m.forward(x).getShape());
        }
    }

    @Test
    void numClassesZeroInChansAndTrainMode() {
        try (ImageModel m = Models.createModel(
                        "tv/shufflenet_v2_x0_5",
                        ModelOptions.builder().numClasses(0).inChans(1).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    new Shape(24, 1, 3, 3), m.stateDict().get("conv1.0.weight").getShape());
            assertFalse(m.stateDict().containsKey("fc.weight"));
            NDArray x = input(s, 2, 1, 64);
            assertEquals(new Shape(2, 1024), m.forward(x).getShape());
            float[] before = m.stateDict().get("conv5.1.running_mean").toFloatArray();
            m.train(true);
            m.forward(x);
            m.eval();
            assertEquals(
                    1L,
                    m.stateDict().get("stage4.3.branch2.1.num_batches_tracked").getLong());
            assertFalse(Arrays.equals(
                    before, m.stateDict().get("conv5.1.running_mean").toFloatArray()));
        }
    }
}
