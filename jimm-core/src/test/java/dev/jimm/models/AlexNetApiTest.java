package dev.jimm.models;

import static dev.jimm.models.ModelTesting.assertFeaturesAndLogits;
import static dev.jimm.models.ModelTesting.assertPreLogitsFeed;
import static dev.jimm.models.ModelTesting.assertResetTo;
import static dev.jimm.models.ModelTesting.assertSquareFeatureLevels;
import static dev.jimm.models.ModelTesting.maxAbsDiff;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Identity;
import dev.jimm.parity.ReferenceInit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The timm API on torchvision's AlexNet. */
class AlexNetApiTest {
    @Test
    void headsPoolingResetAndLevels() {
        try (ImageModel m = Models.createModel("tv/alexnet");
                NDManager s = m.getManager().newSubManager()) {
            NDArray x = ReferenceInit.input(s, new Shape(2, 3, 224, 224), 0);
            NDArray f = assertFeaturesAndLogits(m, x, new Shape(2, 256, 6, 6), 1000);
            NDArray pre = m.forwardHead(f, true);
            assertEquals(new Shape(2, 4096), pre.getShape());
            assertTrue(pre.min().getFloat() >= 0f, "pre-logits come after classifier.5's ReLU");
            assertPreLogitsFeed(m, f, "classifier.6");

            m.resetClassifier(0);
            assertInstanceOf(Identity.class, m.child("classifier").child("6"));
            assertFalse(m.stateDict().containsKey("classifier.6.weight"));
            assertEquals(0.0, maxAbsDiff(pre, m.forward(x)), "numClasses 0 gives the pre-logits");
            m.resetClassifier(0, "");
            assertEquals(new Shape(2, 256, 6, 6), m.forward(x).getShape());
            assertResetTo(m, x, 10, "avg", "classifier.6", 4096);
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(10, "catavgmax"));
            assertThrows(IllegalArgumentException.class, () -> m.resetClassifier(10, ""));

            // unpadded 3x3 pools: 55, 27, 13, 6 rather than 224 / reduction
            assertSquareFeatureLevels(
                    m,
                    x,
                    f,
                    List.of(
                            new FeatureInfo(64, 4, "features.1"), new FeatureInfo(192, 8, "features.4"),
                            new FeatureInfo(256, 16, "features.11"), new FeatureInfo(256, 32, "features.12")),
                    new int[] {55, 27, 13, 6});
            // smaller inputs are pooled up to the 6x6 the classifier expects
            assertEquals(
                    new Shape(2, 10),
                    m.forward(ReferenceInit.input(s, new Shape(2, 3, 96, 96), 1))
                            .getShape());
        }
    }
}
