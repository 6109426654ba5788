package dev.jimm.models;

import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.BatchNormFolding;
import dev.jimm.layers.Module;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The timm API on Dual Path Networks, and the names they register. */
class DpnApiTest {

    @Test
    void parameterCountsAreTimms() {
        // that these are timm's 7 dpn names: RegistryTest.everyFamilyRegistersTimmsNamesOfThatFamily
        assertEquals(7, ModelTesting.registeredNames("dpn").size());
        // the reference fixture's count
        assertEquals(12_611_602L, unbuilt("dpn68").numParameters());
        // the "b" blocks split the last 1x1 conv in two behind a norm of the same width: the same count
        assertEquals(unbuilt("dpn68").numParameters(), unbuilt("dpn68b").numParameters());
        // timm's published counts, in millions
        Map<String, Double> published = Map.of("dpn92", 37.7, "dpn98", 61.6, "dpn131", 79.3, "dpn107", 86.9);
        published.forEach(
                (name, millions) -> assertEquals(millions, unbuilt(name).numParameters() / 1e6, 0.05, name));
    }

    /** Each stage's level has its residual width plus 3 increments for the first block and one for each other. */
    @Test
    void levelsCountBothPaths() {
        assertEquals(
                List.of(
                        new FeatureInfo(64, 2, "features.conv1_1"),
                        new FeatureInfo(256 + 5 * 16, 4, "features.conv2_3"),
                        new FeatureInfo(512 + 6 * 32, 8, "features.conv3_4"),
                        new FeatureInfo(1024 + 22 * 24, 16, "features.conv4_20"),
                        new FeatureInfo(2048 + 5 * 128, 32, "features.conv5_3")),
                unbuilt("dpn92").featureInfo());
        assertEquals(2688, unbuilt("dpn92").numFeatures());
    }

    @Test
    void featuresAreTheNormedConcatenationOfTheLastLevel() {
        try (ImageModel m = Models.createModel("dpn48b");
                NDManager s = m.getManager().newSubManager()) {
            InferenceModelTest.randomizeNorms(m, 3);
            NDArray x = input(s, 64);
            NDList levels = m.forwardIntermediates(x, m.allFeatureIndices());
            List<FeatureInfo> info = m.featureInfo();
            for (int i = 0; i < levels.size(); i++) {
                int side = 64 / info.get(i).reduction();
                assertEquals(
                        new Shape(2, info.get(i).numChs(), side, side),
                        levels.get(i).getShape(),
                        "level " + i);
            }
            Module bnAc = m.child("features").child("conv5_bn_ac");
            assertTrue(maxAbsDiff(bnAc.forward(levels.get(4)), m.forwardFeatures(x)) < 1e-5f);
        }
    }

    /**
     * timm's blocks build their norms with BatchNormAct2d's default ReLU whatever the model's activation; only the stem
     * and {@code conv5_bn_ac} take it. {@code fc_act_layer='elu'} never takes effect: the norm partial it is bound to
     * already holds the activation.
     */
    @Test
    void activationsFollowTimmsPartials() {
        Module silu = unbuilt("dpn48b").child("features");
        assertEquals(Activation.Kind.SILU, act(silu, "conv1_1.bn"));
        assertEquals(Activation.Kind.SILU, act(silu, "conv5_bn_ac.bn"));
        assertEquals(Activation.Kind.RELU, act(silu, "conv2_1.c1x1_a.bn"));
        assertEquals(Activation.Kind.RELU, act(silu, "conv2_1.c1x1_c.bn"));
        assertEquals(Activation.Kind.RELU, act(unbuilt("dpn68").child("features"), "conv5_bn_ac.bn"));
    }

    private static Activation.Kind act(Module root, String path) {
        return ((BatchNormAct2d) root.namedModules().get(path)).act();
    }

    @Test
    void theClassifierIsAOneByOneConv() {
        try (ImageModel m = Models.createModel("dpn48b");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            NDArray feats = m.forwardFeatures(x);
            NDArray w = m.stateDict().get("classifier.weight");
            assertEquals(new Shape(1000, 832, 1, 1), w.getShape());
            NDArray pre = m.forwardHead(feats, true);
            assertEquals(new Shape(2, 832), pre.getShape());
            NDArray expected = pre.matMul(w.reshape(1000, 832).transpose())
                    .add(m.stateDict().get("classifier.bias"));
            assertTrue(maxAbsDiff(m.forwardHead(feats, false), expected) < 1e-4f);

            // without pooling the conv classifies every pixel
            m.resetClassifier(5, "");
            assertEquals(new Shape(2, 5, 2, 2), m.forwardHead(feats, false).getShape());
            assertEquals(new Shape(2, 832, 2, 2), m.forwardHead(feats, true).getShape());
            // as timm's reset_classifier(num_classes): the pooling goes back to avg
            m.resetClassifier(5);
            assertEquals("avg", m.globalPool());
            assertEquals(new Shape(2, 5), m.forward(x).getShape());
            m.resetClassifier(3, "catavgmax");
            assertEquals(
                    new Shape(3, 1664, 1, 1),
                    m.stateDict().get("classifier.weight").getShape());
            assertEquals(new Shape(2, 3), m.forwardHead(feats, false).getShape());
            List<String> keys = List.copyOf(m.stateDict().keySet());
            assertEquals("classifier.bias", keys.get(keys.size() - 1));
            m.resetClassifier(0);
            assertFalse(m.stateDict().containsKey("classifier.weight"));
            assertEquals(new Shape(2, 832), m.forward(x).getShape());
        }
    }

    @Test
    void normsAfterConvolutionsFoldForInference() {
        try (ImageModel m = Models.createModel("dpn68b");
                NDManager s = m.getManager().newSubManager()) {
            InferenceModelTest.randomizeNorms(m, 5);
            NDArray x = input(s, 64);
            NDArray expected = m.forward(x);
            try (InferenceModel fast = m.optimizeForInference()) {
                List<String> folded = fast.foldedPairs().stream()
                        .map(BatchNormFolding.Pair::norm)
                        .toList();
                // the stem's, and in each block the 3x3 conv's norm that the "b" split reads
                assertTrue(folded.contains("features.conv1_1.bn"), folded.toString());
                assertTrue(folded.contains("features.conv3_2.c1x1_c.bn"), folded.toString());
                assertTrue(maxAbsDiff(expected, fast.forward(x))
                        < 1e-3f * expected.abs().max().getFloat());
            }
        }
    }
}
