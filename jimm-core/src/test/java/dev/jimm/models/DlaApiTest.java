package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.paramCount;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.jimm.parity.ReferenceInit;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * DLA: every name against timm's published parameter count, the Res2Net bottleneck's chained groups on values worked
 * out by matrix products, the 1x1-conv classifier and the six feature levels.
 */
class DlaApiTest {
    /** timm's results tables (results-imagenet.csv), millions to two decimals. */
    private static final Map<String, Double> TIMM_MILLIONS = Map.ofEntries(
            Map.entry("dla34", 15.74),
            Map.entry("dla46_c", 1.30),
            Map.entry("dla46x_c", 1.07),
            Map.entry("dla60x_c", 1.32),
            Map.entry("dla60", 22.04),
            Map.entry("dla60x", 17.35),
            Map.entry("dla102", 33.27),
            Map.entry("dla102x", 26.31),
            Map.entry("dla102x2", 41.28),
            Map.entry("dla169", 53.39),
            Map.entry("dla60_res2net", 20.85),
            Map.entry("dla60_res2next", 17.03));

    @Test
    void everyNameHasTimmsParameterCount() {
        assertEquals(ModelTesting.timmNames("dla").size(), TIMM_MILLIONS.size());
        TIMM_MILLIONS.forEach((name, millions) ->
                assertEquals(millions, paramCount(name) / 1e6, 0.005, name + ": " + paramCount(name) + " parameters"));
    }

    @Test
    void res2netBottlenecksSplitTheirWidth() {
        // width = floor(out * base_width / 64) * cardinality / 2, four groups of it
        Map<String, Shape> net = unbuilt("dla60_res2net").stateDictShapes();
        assertEquals(new Shape(4 * 28, 32, 1, 1), net.get("level2.tree1.conv1.weight"), "128 * 28 / 64 / 2 = 28");
        assertEquals(new Shape(28, 28, 3, 3), net.get("level2.tree1.convs.2.weight"));
        assertFalse(net.containsKey("level2.tree1.convs.3.weight"), "the fourth group has no conv");
        assertEquals(new Shape(128, 4 * 28, 1, 1), net.get("level2.tree1.conv3.weight"));
        Map<String, Shape> next = unbuilt("dla60_res2next").stateDictShapes();
        assertEquals(
                new Shape(32, 4, 3, 3), next.get("level2.tree1.convs.0.weight"), "8 groups of 4: 128 * 4 / 64 * 8 / 2");
        // DLA-X: 128 * 4 / 64 * 32 / 2 = 128 wide, in 32 groups of 4
        assertEquals(
                new Shape(128, 4, 3, 3), unbuilt("dla60x").stateDictShapes().get("level2.tree1.conv2.weight"));
    }

    /**
     * A stride-1 Res2Net bottleneck on a 1x1 map, where each 3x3 conv is its centre tap: the groups chain (each conv
     * takes the previous group's result plus its own split) and the fourth split passes to the concatenation as it is.
     */
    @Test
    void res2netGroupsChainOneIntoTheNext() {
        try (NDManager mm = NDManager.newBaseManager()) {
            Dla.Bottle2neck b = new Dla.Bottle2neck(8, 8, 1, 4, 1, 64);
            b.materialize(mm);
            b.initialize(new SplittableRandom(3));
            b.eval();
            NDArray x = ReferenceInit.input(mm, new Shape(1, 8, 1, 1), 5);
            // width = 8 * 64 / 64 / 2 = 4; eval BatchNorm at its defaults divides by sqrt(1 + eps)
            float k = (float) (1 / Math.sqrt(1 + 1e-5));
            Map<String, NDArray> w = b.stateDict();
            NDArray v = x.reshape(8, 1);
            NDArray out = w.get("conv1.weight").reshape(16, 8).matMul(v).mul(k).maximum(0f);
            NDList spx = out.split(4, 0);
            NDArray sp = null;
            NDList cat = new NDList();
            for (int i = 0; i < 3; i++) {
                NDArray centre = w.get("convs." + i + ".weight").get(new NDIndex(":, :, 1, 1"));
                sp = i == 0 ? spx.get(0) : sp.add(spx.get(i));
                sp = centre.matMul(sp).mul(k).maximum(0f);
                cat.add(sp);
            }
            cat.add(spx.get(3));
            NDArray expected = w.get("conv3.weight")
                    .reshape(8, 16)
                    .matMul(NDArrays.concat(cat, 0))
                    .mul(k)
                    .add(v)
                    .maximum(0f);
            NDArray y = b.forward(x);
            assertTrue(maxAbsDiff(y.reshape(8, 1), expected) < 1e-5, y + " vs " + expected);
        }
    }

    @Test
    void aStridedRes2netBottleneckPoolsItsLastGroup() {
        Dla.Bottle2neck strided = new Dla.Bottle2neck(8, 8, 2, 4, 1, 64);
        assertTrue(strided.children().containsKey("pool"));
        assertFalse(new Dla.Bottle2neck(8, 8, 1, 4, 1, 64).children().containsKey("pool"));
        try (NDManager mm = NDManager.newBaseManager()) {
            strided.materialize(mm);
            strided.initialize(new SplittableRandom(1));
            strided.eval();
            NDArray y = strided.forward(
                    ReferenceInit.input(mm, new Shape(1, 8, 8, 8), 0),
                    ReferenceInit.input(mm, new Shape(1, 8, 4, 4), 1));
            assertEquals(new Shape(1, 8, 4, 4), y.getShape());
        }
    }

    @Test
    void sixLevelsAndAConvClassifier() {
        try (ImageModel m = Models.createModel("dla46x_c");
                NDManager s = m.getManager().newSubManager()) {
            assertEquals(
                    List.of(
                            new FeatureInfo(16, 1, "level0"),
                            new FeatureInfo(32, 2, "level1"),
                            new FeatureInfo(64, 4, "level2"),
                            new FeatureInfo(64, 8, "level3"),
                            new FeatureInfo(128, 16, "level4"),
                            new FeatureInfo(256, 32, "level5")),
                    m.featureInfo());
            NDArray x = input(s, 2, 3, 64);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            for (int i = 0; i < 6; i++) {
                FeatureInfo f = m.featureInfo().get(i);
                int side = 64 / f.reduction();
                assertEquals(new Shape(2, f.numChs(), side, side), maps.get(i).getShape(), f.module());
            }
            NDArray features = m.forwardFeatures(x);
            assertEquals(0f, maxAbsDiff(features, maps.get(5)), "the last level is the features");

            // the classifier is a 1x1 conv on the pooled features: a linear map of the pre-logits
            assertEquals(
                    new Shape(1000, 256, 1, 1), m.stateDict().get("fc.weight").getShape());
            NDArray pre = m.forwardHead(features, true);
            assertEquals(new Shape(2, 256), pre.getShape());
            NDArray expected = pre.matMul(
                            m.stateDict().get("fc.weight").reshape(1000, 256).transpose())
                    .add(m.stateDict().get("fc.bias"));
            assertTrue(maxAbsDiff(m.forwardHead(features, false), expected) < 1e-4);

            // without pooling the conv classifies every position, as timm's
            m.resetClassifier(7, "");
            assertEquals(new Shape(2, 7, 2, 2), m.forwardHead(features, false).getShape());
            m.resetClassifier(5, "catavgmax");
            assertEquals(new Shape(5, 512, 1, 1), m.stateDict().get("fc.weight").getShape());
            assertEquals(new Shape(2, 5), m.forward(x).getShape());
            m.resetClassifier(0);
            assertEquals(new Shape(2, 512), m.forward(x).getShape());
        }
    }

    @Test
    void timmsFeaturesOnlyLevelsAreTheStridedOnes() {
        // timm's dla builds features_only with out_indices (1, 2, 3, 4, 5)
        ModelOptions o = ModelOptions.builder().featuresOnly(1, 2, 3, 4, 5).build();
        try (FeatureExtractor fe = Models.createFeatureExtractor("dla46_c", o);
                NDManager s = fe.getManager().newSubManager()) {
            assertEquals(
                    List.of(2, 4, 8, 16, 32),
                    fe.featureInfo().stream().map(FeatureInfo::reduction).toList());
            NDList maps = fe.forwardFeatures(input(s, 1, 3, 64));
            assertEquals(new Shape(1, 32, 32, 32), maps.get(0).getShape());
            assertEquals(new Shape(1, 256, 2, 2), maps.get(4).getShape());
        }
    }
}
