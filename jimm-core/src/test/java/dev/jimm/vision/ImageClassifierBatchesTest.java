package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jimm.data.DecodedImage;
import dev.jimm.layers.NoGrad;
import dev.jimm.models.ImageModel;
import dev.jimm.models.Models;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Embeddings (pre-logits) and fixed-size padded batches of {@link ImageClassifier}. */
class ImageClassifierBatchesTest {
    static List<DecodedImage> letters(ImageClassifier c, int n) throws IOException {
        try (Stream<Path> s = Files.walk(TrainRecipe.samplesDir().resolve("font-letters"))) {
            List<DecodedImage> out = new ArrayList<>();
            for (Path p : s.filter(f -> f.toString().endsWith(".png"))
                    .sorted()
                    .limit(n)
                    .toList()) {
                out.add(c.preprocessing().decoder().decode(p));
            }
            return out;
        }
    }

    @Test
    void embeddingsAreTheInputOfTheLastLinearLayer() throws IOException {
        List<String> classes = List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j");
        try (ImageModel model = Models.createModel("resnet10t", false, 10, "avg");
                ImageClassifier c = ImageClassifier.of(model, classes);
                NDManager m = NDManager.newBaseManager()) {
            List<DecodedImage> images = letters(c, 3);
            float[][] e = c.embeddings(images);
            assertEquals(3, e.length);
            assertEquals(model.numFeatures(), e[0].length);
            NDArray x = c.preprocessing().batch(m, images);
            model.eval();
            float[] expected;
            try (NoGrad g = NoGrad.enter()) {
                expected = model.forwardHead(model.forwardFeatures(x), true).toFloatArray();
            }
            // the classifier's copy has its BatchNorms folded into the convolutions: equal up to rounding
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < e[i].length; j++) {
                    assertEquals(
                            expected[i * e[i].length + j],
                            e[i][j],
                            1e-4 + 1e-4 * Math.abs(expected[i * e[i].length + j]));
                }
            }
        }
    }

    @Test
    void fixedBatchesPadTheLastWithItsLastImage() throws IOException {
        List<String> classes = List.of("a", "b", "c");
        try (ImageModel model = Models.createModel("resnet10t", false, 3, "avg");
                ImageClassifier c = ImageClassifier.of(model, classes)) {
            List<DecodedImage> images = letters(c, 7);
            float[][] got = c.probabilitiesInBatches(images, 3);
            List<List<DecodedImage>> batches = List.of(
                    images.subList(0, 3), images.subList(3, 6), List.of(images.get(6), images.get(6), images.get(6)));
            int row = 0;
            for (List<DecodedImage> b : batches) {
                float[][] p = c.probabilities(b);
                for (int i = 0; i < 3 && row < 7; i++) {
                    assertArrayEquals(p[i], got[row++], "image " + (row - 1));
                }
            }
            assertEquals(0, c.probabilitiesInBatches(List.of(), 4).length);
            assertThrows(IllegalArgumentException.class, () -> c.probabilitiesInBatches(images, 0));
            assertEquals(3, c.top(got[0], 10).size(), "k is capped at the class count");
            IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> c.top(new float[5], 1));
            assertEquals("a row of 5 probabilities for a classifier of 3 classes", wrong.getMessage());
        }
    }
}
