package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertPreLogitsFeed;
import static dev.jimm.models.ModelTesting.assertResetTo;
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
import dev.jimm.parity.ReferenceInit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The timm API on VGG, timm's head and torchvision's, on one vgg11 of each at 64x64 (building a 133M-parameter model is
 * the slow part, so the tests share them and reset the heads they change).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class VggApiTest {
    private ImageModel timm;
    private ImageModel tv;
    private NDManager scratch;

    @BeforeAll
    void build() {
        tv = Models.createModel("tv/vgg11", ModelOptions.builder().seed(3).build());
        timm = Models.createModel("vgg11");
        scratch = timm.getManager().newSubManager();
    }

    @AfterAll
    void close() {
        scratch.close();
        timm.close();
        tv.close();
    }

    private NDArray input(int size) {
        return ReferenceInit.input(scratch, new Shape(2, 3, size, size), 0);
    }

    @Test
    void torchvisionHeadAndTimmsConvMlpAgreeOnTheSameWeights() {
        tv.resetClassifier(1000, "avg");
        timm.resetClassifier(1000, "avg");
        // timm's _filter_fn: classifier.0/3/6 become pre_logits.fc1/fc2 and head.fc, reshaped to convs
        Map<String, NDArray> sd = new LinkedHashMap<>();
        tv.stateDict().forEach((k, v) -> {
            String key = k.replace("classifier.0", "pre_logits.fc1")
                    .replace("classifier.3", "pre_logits.fc2")
                    .replace("classifier.6", "head.fc");
            if (k.equals("classifier.0.weight")) {
                v = v.reshape(-1, 512, 7, 7);
            } else if (k.equals("classifier.3.weight")) {
                v = v.reshape(-1, 4096, 1, 1);
            }
            sd.put(key, v);
        });
        timm.loadStateDict(sd, true);
        // at 64x64 the trunk gives 2x2 maps: both heads pool them up to 7x7 before the first layer
        NDArray x = input(64);
        NDArray a = tv.forward(x);
        NDArray b = timm.forward(x);
        assertEquals(new Shape(2, 1000), a.getShape());
        double scale = a.abs().max().getFloat();
        assertTrue(scale > 0);
        assertTrue(maxAbsDiff(a, b) <= 1e-4 * scale, "max diff " + maxAbsDiff(a, b) + " of " + scale);
        assertTrue(
                maxAbsDiff(tv.forwardHead(tv.forwardFeatures(x), true), timm.forwardHead(timm.forwardFeatures(x), true))
                        <= 1e-4 * scale,
                "the same pre-logits");
    }

    @Test
    void timmHeadPoolingAndReset() {
        NDArray x = input(64);
        NDArray f = timm.forwardFeatures(x);
        assertEquals(new Shape(2, 512, 2, 2), f.getShape());
        assertEquals(512, timm.numFeatures());
        assertEquals(4096, ((Vgg) timm).headHiddenSize());
        timm.resetClassifier(0);
        // numClasses 0: the pooled ConvMlp output (timm keeps pre_logits, the fc is an identity)
        assertEquals(new Shape(2, 4096), timm.forward(x).getShape());
        assertFalse(timm.stateDict().containsKey("head.fc.weight"));
        assertTrue(timm.stateDict().containsKey("pre_logits.fc1.weight"));
        assertInstanceOf(Identity.class, timm.child("head").child("fc"));
        timm.resetClassifier(0, "");
        // the ConvMlp's 7x7 conv over the 7x7-pooled maps gives one cell
        assertEquals(new Shape(2, 4096, 1, 1), timm.forward(x).getShape());
        assertResetTo(timm, x, 10, "avg", "head.fc", 4096);
        timm.resetClassifier(0, "catavgmax");
        assertEquals(new Shape(2, 8192), timm.forward(x).getShape());
        timm.resetClassifier(5, "max");
        assertPreLogitsFeed(timm, f, "head.fc");
        assertThrows(IllegalArgumentException.class, () -> timm.resetClassifier(10, ""));
    }

    @Test
    void intermediatesMatchFeatureInfo() {
        List<FeatureInfo> fi = timm.featureInfo();
        assertEquals(
                List.of(
                        new FeatureInfo(64, 1, "features.1"), new FeatureInfo(128, 2, "features.4"),
                        new FeatureInfo(256, 4, "features.9"), new FeatureInfo(512, 8, "features.14"),
                        new FeatureInfo(512, 16, "features.19"), new FeatureInfo(512, 32, "features.20")),
                fi);
        assertEquals(fi, tv.featureInfo(), "torchvision's trunk has the same levels");
        NDArray x = input(64);
        NDList maps = timm.forwardIntermediates(x, timm.allFeatureIndices());
        for (int i = 0; i < fi.size(); i++) {
            int side = 64 / fi.get(i).reduction();
            assertEquals(
                    new Shape(2, fi.get(i).numChs(), side, side), maps.get(i).getShape(), "level " + i);
        }
        assertEquals(0.0, maxAbsDiff(timm.forwardFeatures(x), maps.get(5)), "the last level is forward_features");
        NDList two = tv.forwardIntermediates(x, new int[] {1, -2});
        assertEquals(new Shape(2, 128, 32, 32), two.get(0).getShape());
        assertEquals(new Shape(2, 512, 4, 4), two.get(1).getShape());
        assertThrows(IllegalArgumentException.class, () -> timm.forwardIntermediates(x, new int[] {6}));
    }

    @Test
    void torchvisionHeadNumClassesPoolingAndReset() {
        NDArray x = input(64);
        tv.resetClassifier(0, "avg");
        assertEquals(new Shape(2, 4096), tv.forward(x).getShape());
        assertInstanceOf(Identity.class, tv.child("classifier").child("6"));
        assertFalse(tv.stateDict().containsKey("classifier.6.weight"));
        tv.resetClassifier(0, "");
        assertEquals(new Shape(2, 512, 2, 2), tv.forward(x).getShape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tv.resetClassifier(7));
        assertTrue(e.getMessage().contains("globalPool ''"), e.getMessage());
        tv.resetClassifier(10, "avg");
        assertEquals(
                new Shape(10, 4096), tv.stateDict().get("classifier.6.weight").getShape());
        NDArray pre = tv.forwardHead(tv.forwardFeatures(x), true);
        assertEquals(new Shape(2, 4096), pre.getShape());
        NDArray logits = tv.forward(x);
        NDArray w = tv.stateDict().get("classifier.6.weight");
        NDArray b = tv.stateDict().get("classifier.6.bias");
        assertTrue(maxAbsDiff(logits, pre.matMul(w.transpose()).add(b)) < 1e-4, "pre-logits feed classifier.6");
        e = assertThrows(IllegalArgumentException.class, () -> tv.resetClassifier(10, "max"));
        assertTrue(e.getMessage().contains("globalPool 'max'"), e.getMessage());
    }

    @Test
    void registersEveryTimmNameAndTorchvisionsWithTheirKeys() {
        assertEquals(
                List.of("vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"),
                Models.listModels("vgg*"));
        assertEquals(8, Models.listModels("tv/vgg*").size());
        ModelRegistry r = ModelRegistry.builtIn();
        assertEquals("head.fc", r.entry("vgg16").fallbackCfg().classifier());
        assertEquals("classifier.6", r.entry("tv/vgg16").fallbackCfg().classifier());
        // the default pretrained configs of the timm names: RegistryTest, for every timm fixture
        assertFalse(r.pretrainedTags("tv/vgg16_bn").isEmpty(), "torchvision's weights table covers tv/vgg16_bn");
    }
}
