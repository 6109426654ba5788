package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.data.DecodedImage;
import dev.jimm.models.ImageModel;
import dev.jimm.models.Models;
import dev.jimm.train.Learner;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Closing a model, a learner or a classifier frees every native array it held: the count of arrays live under DJL's
 * system manager ({@link NDManager#getManagedArrays()}, which walks the whole manager tree) is back to what it was
 * before it was created.
 */
class NativeMemoryTest {
    private static int live() {
        try (NDManager probe = NDManager.newBaseManager()) {
            return probe.getParentManager().getManagedArrays().size();
        }
    }

    @Test
    void closingAModelFreesItsArrays() {
        int before = live();
        try (ImageModel m = Models.createModel("resnet10t", false, 5, "avg");
                NDManager s = NDManager.newBaseManager()) {
            m.eval();
            NDArray out = m.forward(s.randomNormal(new Shape(2, 3, 32, 32)));
            assertEquals(new Shape(2, 5), out.getShape());
            assertTrue(live() > before + 20, "the model's parameters are native arrays: " + (live() - before));
        }
        assertEquals(before, live(), "arrays left after closing the model");
    }

    @Test
    void closingALearnerAfterAFitAndAClassifierAfterPredictingFreesTheirArrays(@TempDir Path dir) {
        int before = live();
        try (Learner l = VisionLearner.create(
                ReportAndPredictTest.data(),
                VisionLearner.Options.of("resnet10t").inChans(1).seed(1),
                b -> {})) {
            l.fit(1, 1e-3);
            l.validate();
            Export.write(
                    dir.resolve("model.safetensors"),
                    (VisionModel) l.model(),
                    new Export.Spec(
                            "resnet10t",
                            1,
                            FastaiHead.defaults(),
                            List.of("top", "left", "corner"),
                            ReportAndPredictTest.PRE));
            assertTrue(live() > before + 20, "model and optimizer state are live: " + (live() - before));
        }
        // the data loaders' arrays (batches are closed after use) belong to their own manager, closed below
        int afterLearner = live();
        assertEquals(before, afterLearner, "arrays left after closing the learner");
        try (ImageClassifier clf = ImageClassifier.load(dir)) {
            byte[] px = new byte[16 * 16];
            for (int i = 0; i < px.length; i++) {
                px[i] = (byte) (i * 7);
            }
            DecodedImage img = new DecodedImage(16, 16, 1, px, "png");
            for (int i = 0; i < 5; i++) {
                float[][] p = clf.probabilities(List.of(img, img));
                assertEquals(2, p.length);
                assertEquals(3, p[0].length);
            }
            assertTrue(live() > before + 20, "the classifier's model is live");
        }
        assertEquals(before, live(), "arrays left after closing the classifier");
    }
}
