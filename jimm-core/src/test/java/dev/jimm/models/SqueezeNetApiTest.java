package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertFeaturesAndLogits;
import static dev.jimm.models.ModelTesting.assertSquareFeatureLevels;
import static dev.jimm.models.ModelTesting.assertSquareLevels;
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
import java.util.List;
import org.junit.jupiter.api.Test;

/** The timm API on torchvision's SqueezeNets, and their init. */
class SqueezeNetApiTest {
    @Test
    void headsPoolingResetAndLevels() {
        try (ImageModel m = Models.createModel("tv/squeezenet1_1");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ReferenceInit.input(s, new Shape(2, 3, 224, 224), 0);
            NDArray f = assertFeaturesAndLogits(m, x, new Shape(2, 512, 13, 13), 1000);
            assertTrue(m.forward(x).min().getFloat() >= 0f, "torchvision pools the ReLU'd class maps");
            NDArray pre = m.forwardHead(f, true);
            assertEquals(0.0, maxAbsDiff(pre, f.mean(new int[] {3}).mean(new int[] {2})), 1e-6);

            m.resetClassifier(0);
            assertInstanceOf(Identity.class, m.child("classifier").child("1"));
            assertFalse(m.stateDict().containsKey("classifier.1.weight"));
            assertEquals(0.0, maxAbsDiff(pre, m.forward(x)), 1e-6, "numClasses 0 gives the pooled features");
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 512, 13, 13), m.forward(x).getShape());
            m.resetClassifier(0, "catavgmax");
            assertEquals(new Shape(2, 1024), m.forward(x).getShape());
            m.resetClassifier(10, "");
            assertEquals(
                    new Shape(2, 10, 13, 13),
                    m.forward(x).getShape(),
                    "a conv classifier without pooling gives class maps");
            m.resetClassifier(10, "max");
            assertEquals(
                    new Shape(10, 512, 1, 1),
                    m.stateDict().get("classifier.1.weight").getShape());
            NDArray maxLogits = m.forward(x);
            assertEquals(new Shape(2, 10), maxLogits.getShape());
            m.resetClassifier(10, "");
            NDArray maps = m.forward(x);
            assertEquals(
                    0.0,
                    maxAbsDiff(maxLogits, maps.max(new int[] {3}).max(new int[] {2})),
                    1e-6,
                    "'max' is the maximum of the class maps");
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(10, "catavgmax"));
            assertTrue(e.getMessage().contains("catavgmax"), e.getMessage());

            // unpadded stride-2 conv, then ceil-mode 3x3 pools: 111, 55, 27, 13
            assertSquareFeatureLevels(
                    m,
                    x,
                    f,
                    List.of(
                            new FeatureInfo(64, 2, "features.1"), new FeatureInfo(128, 4, "features.4"),
                            new FeatureInfo(256, 8, "features.7"), new FeatureInfo(512, 16, "features.12")),
                    new int[] {111, 55, 27, 13});
        }
    }

    @Test
    void version10LevelsAndTorchvisionInit() {
        try (ImageModel m = Models.createModel(
                        "tv/squeezenet1_0", ModelOptions.builder().seed(5).build());
                NDManager s = m.getManager().newSubManager()) {
            NDList levels = m.forwardIntermediates(
                    ReferenceInit.input(s, new Shape(1, 3, 224, 224), 0), new int[] {0, 1, 2, 3});
            assertSquareLevels(levels, 1, new int[] {96, 256, 512, 512}, new int[] {109, 54, 27, 13});
            // the final conv is N(0, 0.01); the others kaiming_uniform_, U(-sqrt(6/fan_in), +); biases 0
            NDArray fin = m.stateDict().get("classifier.1.weight");
            double std = Math.sqrt(fin.square().mean().getFloat());
            assertTrue(Math.abs(std - 0.01) < 0.0005, "final conv std " + std);
            NDArray first = m.stateDict().get("features.0.weight");
            double bound = Math.sqrt(6.0 / (3 * 7 * 7));
            assertTrue(first.abs().max().getFloat() <= bound);
            assertTrue(first.abs().max().getFloat() > 0.95 * bound);
            assertEquals(
                    0f,
                    m.stateDict().get("features.3.expand3x3.bias").abs().max().getFloat());
            assertEquals(0f, m.stateDict().get("classifier.1.bias").abs().max().getFloat());
        }
    }
}
