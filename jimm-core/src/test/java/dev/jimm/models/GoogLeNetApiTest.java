package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The timm API on torchvision's GoogLeNet: heads, levels, ceil-mode pools, init, pretrained loading. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GoogLeNetApiTest {
    /** Read-only in every test. */
    private ImageModel model;

    @BeforeAll
    void build() {
        model = Models.createModel(
                "tv/googlenet", ModelOptions.builder().seed(3).build());
    }

    @AfterAll
    void close() {
        model.close();
    }

    @Test
    void sizeKeysAndDefaultsAreTorchvisions() {
        assertEquals(List.of(3, 224, 224), model.pretrainedCfg().inputSize());
        assertEquals(
                "torchvision", ModelRegistry.builtIn().entry("tv/googlenet").family());
        assertFalse(model.stateDict().keySet().stream().anyMatch(k -> k.startsWith("aux")), "no aux heads");
        assertFalse(((GoogLeNet) model).transformInput());
        assertEquals(
                new Shape(128, 48, 3, 3),
                model.stateDictShapes().get("inception5b.branch3.1.conv.weight"),
                "torchvision's 3x3 in the '5x5' branch");
    }

    @Test
    void initIsTorchvisions() {
        NDArray w = model.stateDict().get("inception5b.branch2.1.conv.weight");
        assertEquals(0.01f, (float) Math.sqrt(w.square().mean().getFloat()), 0.0002f, "trunc_normal_(std=0.01)");
        assertEquals(
                0.01f,
                (float) Math.sqrt(
                        model.stateDict().get("fc.weight").square().mean().getFloat()),
                0.0002f);
        assertEquals(1f, model.stateDict().get("conv1.bn.weight").min().getFloat());
    }

    @Test
    void ceilModePoolsAndPreLogits() {
        try (NDManager s = model.getManager().newSubManager()) {
            NDArray feats = model.forwardFeatures(input(s, 2, 3, 112));
            // ceil_mode: 56 -> 28 -> 14 -> 7 -> 4 (floor would give 27, 13, 6, 3)
            assertEquals(new Shape(2, 1024, 4, 4), feats.getShape());
            NDArray pre = model.forwardHead(feats, true);
            assertTrue(maxAbsDiff(pre, feats.sum(new int[] {2, 3}).div(16f)) < 1e-5);
            assertEquals(new Shape(2, 1000), model.forwardHead(feats, false).getShape());
        }
    }

    @Test
    void intermediatesFollowFeatureInfo() {
        List<FeatureInfo> fi = model.featureInfo();
        assertEquals(
                List.of("conv1", "conv3", "inception3b", "inception4e", "inception5b"),
                fi.stream().map(FeatureInfo::module).toList());
        try (NDManager s = model.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 224);
            NDList maps = model.forwardIntermediates(x, model.allFeatureIndices());
            int[] channels = {64, 192, 480, 832, 1024};
            for (int i = 0; i < maps.size(); i++) {
                int side = 224 / fi.get(i).reduction();
                assertEquals(new Shape(1, channels[i], side, side), maps.get(i).getShape(), "level " + i);
                assertEquals(channels[i], fi.get(i).numChs());
            }
            assertEquals(0, maxAbsDiff(maps.get(4), model.forwardFeatures(x)));
            NDList one = model.forwardIntermediates(x, new int[] {-4});
            assertEquals(0, maxAbsDiff(one.singletonOrThrow(), maps.get(1)));
        }
    }

    @Test
    void numClassesZeroAndResetClassifierSwitchHeads() {
        try (ImageModel m = Models.createModel(
                        "tv/googlenet", ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 1, 3, 64);
            assertEquals(new Shape(1, 1024), m.forward(x).getShape());
            assertFalse(m.stateDict().containsKey("fc.weight"));
            m.resetClassifier(0, "");
            assertEquals(new Shape(1, 1024, 2, 2), m.forward(x).getShape());
            assertInstanceOf(Identity.class, m.child("fc"));
            m.resetClassifier(7, "max");
            assertEquals(new Shape(1, 7), m.forward(x).getShape());
            m.resetClassifier(3, "catavgmax");
            assertEquals(new Shape(3, 2048), m.stateDict().get("fc.weight").getShape());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("fc.bias", keys.get(keys.size() - 1));
        }
    }

    @Test
    void pretrainedLoadingDropsAuxHeadsAndTurnsOnTransformInput() {
        try (ImageModel m = Models.createModel(
                        "tv/googlenet", ModelOptions.builder().seed(11).build());
                NDManager s = model.getManager().newSubManager()) {
            Map<String, NDArray> sd = new LinkedHashMap<>(model.stateDict());
            sd.put("aux1.conv.conv.weight", s.zeros(new Shape(128, 512, 1, 1)));
            sd.put("aux2.fc2.weight", s.zeros(new Shape(1000, 1024)));
            PretrainedLoader.load(m, sd);
            assertTrue(((GoogLeNet) m).transformInput());
            NDArray x = input(s, 1, 3, 64);
            NDArray mean = s.create(new float[] {0.485f, 0.456f, 0.406f}).reshape(1, 3, 1, 1);
            NDArray std = s.create(new float[] {0.229f, 0.224f, 0.225f}).reshape(1, 3, 1, 1);
            NDArray expected =
                    model.forward(x.mul(std).div(0.5f).add(mean.sub(0.5f).div(0.5f)));
            assertTrue(maxAbsDiff(m.forward(x), expected)
                    < 1e-4 * expected.abs().max().getFloat());
            ((GoogLeNet) m).setTransformInput(false);
            assertEquals(0, maxAbsDiff(m.forward(x), model.forward(x)));
        }
    }

    @Test
    void inChansBuildsTheFirstConv() {
        try (ImageModel m = Models.createModel(
                        "tv/googlenet",
                        ModelOptions.builder().inChans(1).numClasses(5).build());
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    new Shape(64, 1, 7, 7),
                    m.stateDict().get("conv1.conv.weight").getShape());
            assertEquals(new Shape(2, 5), m.forward(input(s, 2, 1, 32)).getShape());
            assertThrows(IllegalArgumentException.class, () -> ((GoogLeNet) m).setTransformInput(true));
        }
    }
}
