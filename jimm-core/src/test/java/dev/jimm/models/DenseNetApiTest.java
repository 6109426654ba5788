package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertPreLogitsFeed;
import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.input;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static dev.jimm.models.ModelTesting.unbuilt;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Pool2d;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The timm API on DenseNets, on densenet121 at 64x64; the other variants built without weights. */
class DenseNetApiTest {
    @Test
    void headsPoolingResetAndLevels() {
        try (ImageModel m = Models.createModel(
                        "densenet121", ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = input(s, 64);
            assertEquals(1024, m.numFeatures());
            assertEquals(new Shape(2, 1024), m.forward(x).getShape());
            assertInstanceOf(Identity.class, m.child("classifier"));
            assertFalse(m.stateDict().containsKey("classifier.weight"));
            NDArray f = m.forwardFeatures(x);
            assertEquals(new Shape(2, 1024, 2, 2), f.getShape());
            // norm5 carries the ReLU that torchvision applies in its forward
            assertTrue(f.min().getFloat() >= 0f);
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 1024, 2, 2), m.forward(x).getShape());
            m.resetClassifier(0, "catavgmax");
            assertEquals(new Shape(2, 2048), m.forward(x).getShape());
            assertResetTo(m, x, 10, "avg", "classifier", 1024);
            NDArray pre = m.forwardHead(f, true);
            NDArray mean = f.mean(new int[] {3}).mean(new int[] {2});
            assertTrue(maxAbsDiff(pre, mean) < 1e-5, "pre-logits are the average-pooled features");
            assertPreLogitsFeed(m, f, "classifier");

            List<FeatureInfo> fi = m.featureInfo();
            assertEquals(
                    List.of(
                            new FeatureInfo(64, 2, "features.norm0"),
                            new FeatureInfo(256, 4, "features.denseblock1"),
                            new FeatureInfo(512, 8, "features.denseblock2"),
                            new FeatureInfo(1024, 16, "features.denseblock3"),
                            new FeatureInfo(1024, 32, "features.norm5")),
                    fi);
            NDList maps = m.forwardIntermediates(x, m.allFeatureIndices());
            for (int i = 0; i < fi.size(); i++) {
                int side = 64 / fi.get(i).reduction();
                assertEquals(
                        new Shape(2, fi.get(i).numChs(), side, side),
                        maps.get(i).getShape(),
                        "level " + i);
            }
            assertEquals(0.0, maxAbsDiff(f, maps.get(4)), "the last level is forward_features");
            // a dense block passes its input through as its first channels
            NDArray pooledStem = Pool2d.max(3, 2, 1).forward(maps.get(0));
            assertEquals(0.0, maxAbsDiff(pooledStem, maps.get(1).get(new NDIndex(":, 0:64"))));
            NDList one = m.forwardIntermediates(x, new int[] {-3});
            assertEquals(1, one.size());
            assertEquals(new Shape(2, 512, 8, 8), one.get(0).getShape());
        }
    }

    @Test
    void blurVariantRunsWithADeepStemAndBlurredStemPool() {
        try (ImageModel m = Models.createModel(
                        "densenetblur121d", ModelOptions.builder().numClasses(0).build());
                NDManager s = m.getManager().newSubManager()) {
            NDList maps = m.forwardIntermediates(input(s, 64), m.allFeatureIndices());
            int[] chans = {64, 256, 512, 1024, 1024};
            for (int i = 0; i < chans.length; i++) {
                int side = 64 / m.featureInfo().get(i).reduction();
                assertEquals(new Shape(2, chans[i], side, side), maps.get(i).getShape(), "level " + i);
            }
            // the blur pool's binomial filter averages: the pooled stem stays within its max-pooled input
            NDArray stem = maps.get(0);
            NDArray pooled = m.child("features").child("pool0").forward(stem);
            assertEquals(new Shape(2, 64, 16, 16), pooled.getShape());
            assertTrue(pooled.max().getFloat() <= stem.max().getFloat() + 1e-6f);
            assertTrue(pooled.min().getFloat() >= 0f);
        }
    }

    @Test
    void variantsHaveTimmsStemsAndWidths() {
        ImageModel blur = unbuilt("densenetblur121d");
        var shapes = blur.stateDictShapes();
        assertEquals(new Shape(32, 3, 3, 3), shapes.get("features.conv0.weight"));
        assertEquals(new Shape(32, 32, 3, 3), shapes.get("features.conv1.weight"));
        assertEquals(new Shape(64, 32, 3, 3), shapes.get("features.conv2.weight"));
        assertEquals("features.norm2", blur.featureInfo().get(0).module());
        assertFalse(shapes.keySet().stream().anyMatch(k -> k.contains("filt")), "the blur filter is not persistent");

        ImageModel d264 = unbuilt("densenet264d");
        assertEquals(4032, d264.numFeatures());
        assertEquals(
                List.of(96, 384, 768, 3456, 4032),
                d264.featureInfo().stream().map(FeatureInfo::numChs).toList());
        assertEquals(new Shape(48, 3, 3, 3), d264.stateDictShapes().get("features.conv0.weight"));
        assertTrue(d264.stateDictShapes().containsKey("features.denseblock3.denselayer64.conv2.weight"));

        ImageModel d161 = unbuilt("densenet161");
        assertEquals(new Shape(96, 3, 7, 7), d161.stateDictShapes().get("features.conv0.weight"));
        assertEquals(
                new Shape(192, 96, 1, 1), d161.stateDictShapes().get("features.denseblock1.denselayer1.conv1.weight"));
    }

    @Test
    void torchvisionDenseNetsHaveTheSameKeysAndLevels() {
        for (String n : new String[] {"densenet121", "densenet161", "densenet169", "densenet201"}) {
            ImageModel timm = unbuilt(n);
            ImageModel tv = unbuilt("tv/" + n);
            assertEquals(
                    List.copyOf(timm.stateDictShapes().entrySet()),
                    List.copyOf(tv.stateDictShapes().entrySet()),
                    n);
            assertEquals(timm.featureInfo(), tv.featureInfo(), n);
        }
        assertEquals(
                List.of("densenet121", "densenet161", "densenet169", "densenet201", "densenet264d", "densenetblur121d"),
                Models.listModels("densenet*"));
        assertEquals(4, Models.listModels("tv/densenet*").size());
        ModelRegistry r = ModelRegistry.builtIn();
        assertEquals("bicubic", r.entry("densenet264d").fallbackCfg().interpolation());
        // the default pretrained configs of the timm names: RegistryTest, for every timm fixture
        assertFalse(r.pretrainedTags("tv/densenet121").isEmpty());
    }
}
