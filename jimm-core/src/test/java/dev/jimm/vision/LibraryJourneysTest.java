package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jimm.TestFixtures;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.InMemoryBatches;
import dev.jimm.data.TestFiles;
import dev.jimm.hub.SafetensorsFile;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ImageNet;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import dev.jimm.parity.ParityRunner;
import dev.jimm.parity.ReferenceInit;
import dev.jimm.train.Learner;
import dev.jimm.transforms.Preprocessing;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library's one-call paths (a model by name to an image classifier, images to a batch, a learner's export) and the
 * checks that refuse wrong inputs with a message naming the fix.
 */
class LibraryJourneysTest {
    private static final Path CHECKPOINT = TestFixtures.root().resolve("weights/mobilenetv3_small_050.safetensors");
    private static final Path CAT = TestFiles.resource("images/real/chelsea.png");

    @Test
    void classifierOfAModelGivesPytorchsProbabilitiesAndImageNetsNames() {
        // timm's mobilenetv3_small_050 checkpoint and its logits on the reference input, both written by PyTorch
        float[] logits;
        try (NDManager m = NDManager.newBaseManager();
                SafetensorsFile f =
                        SafetensorsFile.open(TestFixtures.root().resolve("weights/expected_outputs.safetensors"))) {
            logits = f.floats("mobilenetv3_small_050.f32", m);
        }
        try (ImageModel model = Models.createModel(
                        "mobilenetv3_small_050",
                        ModelOptions.builder().pretrainedFile(CHECKPOINT).build());
                ImageClassifier classifier = ImageClassifier.of(model);
                NDManager m = NDManager.newBaseManager()) {
            float[] probs = classifier
                    .probabilities(ReferenceInit.input(m, new Shape(2, 3, 224, 224), 0))
                    .toFloatArray();
            float[] expected = m.create(logits, new Shape(2, 1000)).softmax(1).toFloatArray();
            assertTrue(ParityRunner.relativeError(probs, expected) <= ParityRunner.TOLERANCE);
            assertEquals(ImageNet.classNames(), classifier.classes());
            List<ImageClassifier.ClassScore> top = classifier.predict(CAT, 5);
            assertEquals(5, top.size());
            for (ImageClassifier.ClassScore s : top) {
                assertEquals(ImageNet.classNames().get(s.index()), s.label());
            }
            assertTrue(top.get(0).probability() >= top.get(4).probability());
        }
        assertEquals("tabby", ImageNet.classNames().get(281));
    }

    @Test
    void classifierOfAModelLeavesTheModelUsableAndMatchesTheModelOnTheSameBatch() throws Exception {
        try (ImageModel model = Models.createModel(
                        "mobilenetv3_small_050",
                        ModelOptions.builder().pretrainedFile(CHECKPOINT).build());
                ImageClassifier classifier = ImageClassifier.of(model);
                NDManager m = NDManager.newBaseManager()) {
            Preprocessing pre = Preprocessing.of(model);
            assertEquals(224, pre.size());
            NDArray batch = pre.batch(m, CAT);
            assertEquals(new Shape(1, 3, 224, 224), batch.getShape());
            float[] direct = model.forward(batch).softmax(1).toFloatArray();
            float[] viaClassifier =
                    classifier.probabilities(List.of(pre.decoder().decode(CAT)))[0];
            assertArrayEquals(direct, viaClassifier, 1e-4f);
            // the same picture from memory gives the same batch
            BufferedImage image = ImageIO.read(CAT.toFile());
            assertArrayEquals(batch.toFloatArray(), pre.batch(m, image).toFloatArray(), 0f);
        }
    }

    @Test
    void classifierOfAModelWithoutImageNetOutputsAsksForItsClasses() {
        try (ImageModel model = Models.createModel(
                "mobilenetv3_small_050", ModelOptions.builder().numClasses(4).build())) {
            var e = assertThrows(IllegalArgumentException.class, () -> ImageClassifier.of(model));
            assertTrue(e.getMessage().contains("ImageClassifier.of(model, classes)"), e.getMessage());
            var wrongCount =
                    assertThrows(IllegalArgumentException.class, () -> ImageClassifier.of(model, List.of("a", "b")));
            assertTrue(wrongCount.getMessage().contains("4 outputs but 2 class names"), wrongCount.getMessage());
        }
    }

    @Test
    void anImageWithoutItsBatchAxisIsRefusedWithTheFix() {
        try (ImageModel model = Models.createModel("resnet18");
                NDManager m = NDManager.newBaseManager()) {
            NDArray one = m.zeros(new Shape(3, 224, 224));
            var e = assertThrows(IllegalArgumentException.class, () -> model.forward(one));
            assertTrue(e.getMessage().contains("x.expandDims(0)"), e.getMessage());
            assertTrue(e.getMessage().contains("[N, 3, H, W]"), e.getMessage());
        }
    }

    @Test
    void grayInputToAnRgbModelIsRefusedWithTheFix() {
        try (ImageModel model = Models.createModel("resnet18");
                NDManager m = NDManager.newBaseManager()) {
            var gray =
                    assertThrows(IllegalArgumentException.class, () -> model.forward(m.zeros(new Shape(2, 1, 64, 64))));
            assertTrue(gray.getMessage().contains("x.repeat(1, 3)"), gray.getMessage());
            assertTrue(gray.getMessage().contains("inChans(1)"), gray.getMessage());
            var channelsLast =
                    assertThrows(IllegalArgumentException.class, () -> model.forward(m.zeros(new Shape(2, 64, 64, 3))));
            assertTrue(channelsLast.getMessage().contains("x.transpose(0, 3, 1, 2)"), channelsLast.getMessage());
            var bytes = assertThrows(
                    IllegalArgumentException.class,
                    () -> model.forward(m.zeros(new Shape(2, 3, 64, 64), DataType.UINT8)));
            assertTrue(bytes.getMessage().contains("normalize"), bytes.getMessage());
        }
    }

    @Test
    void aLearnerForRgbOnGrayDataIsRefusedAtCreation() {
        DataLoaders gray =
                tinyData(1).withPreprocessing(new Preprocessing(1, 16, "bilinear", 1.0, List.of(0.5), List.of(0.5)));
        var e = assertThrows(
                IllegalArgumentException.class,
                () -> VisionLearner.create(gray, VisionLearner.Options.of("resnet18"), b -> {}));
        assertTrue(e.getMessage().contains("VisionLearner.Options.of(\"resnet18\").inChans(1)"), e.getMessage());
    }

    @Test
    void learnerExportCarriesTheDataClassesAndPreprocessing(@TempDir Path dir) {
        Preprocessing pre = new Preprocessing(1, 16, "bilinear", 1.0, List.of(0.25), List.of(0.5));
        Path file = dir.resolve("tiny.safetensors");
        try (Learner learn = VisionLearner.create(
                tinyData(1).withPreprocessing(pre),
                VisionLearner.Options.of("resnet10t").inChans(1).seed(1),
                b -> {})) {
            learn.fit(1, 1e-3);
            learn.export(file);
        }
        try (ImageClassifier c = ImageClassifier.load(file)) {
            assertEquals(List.of("class0", "class1"), c.classes());
            assertEquals(pre, c.preprocessing());
            assertEquals(2, c.predict(CAT, 2).size());
        }
    }

    @Test
    void aLearnerWithoutPreprocessingRefusesToExportAndSaysWhy(@TempDir Path dir) {
        try (Learner learn = VisionLearner.create(
                tinyData(1), VisionLearner.Options.of("resnet10t").inChans(1), b -> {})) {
            var e = assertThrows(IllegalStateException.class, () -> learn.export(dir.resolve("x.safetensors")));
            assertTrue(e.getMessage().contains("DataLoaders.withPreprocessing"), e.getMessage());
        }
    }

    @Test
    void aFixedSizeArchitectureIsBuiltAtTheDataSize() {
        // a ViT is built for one input size (timm's img_size): the learner gives it the data's, a ResNet ignores it
        try (VisionModel vit = VisionLearner.buildModel(
                VisionLearner.Options.of("vit_tiny_patch16_224").imgSize(32), 2)) {
            assertEquals(32, vit.body().pretrainedCfg().inputSize().get(1));
            // a 2x2 grid of 16-pixel patches and the class token
            assertEquals(
                    new Shape(1, 5, 192),
                    vit.body().stateDict().get("pos_embed").getShape());
        }
        try (VisionModel resnet = VisionLearner.buildModel(
                        VisionLearner.Options.of("resnet10t").imgSize(32), 2);
                NDManager m = NDManager.newBaseManager()) {
            assertEquals(
                    new Shape(2, 2),
                    resnet.forward(m.zeros(new Shape(2, 3, 32, 32))).getShape());
        }
    }

    @Test
    void theFashionMnistSampleHasItsStatistics() {
        NamedDataset d = NamedDataset.fashionMnistSample();
        assertEquals(2000, d.train().size());
        assertEquals(500, d.test().size());
        assertEquals(10, d.train().classes().size());
        assertEquals(new Preprocessing(1, 28, "bilinear", 1.0, List.of(0.2860), List.of(0.3530)), d.preprocessing());
        var e = assertThrows(IllegalArgumentException.class, () -> NamedDataset.of("fashion", null));
        assertTrue(e.getMessage().contains("fashion-mnist-sample"), e.getMessage());
    }

    /** Two classes of 16x16 images of {@code channels} channels, in memory. */
    private static DataLoaders tinyData(int channels) {
        int n = 8;
        int size = channels * 16 * 16;
        float[] x = new float[n * size];
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            for (int j = 0; j < size; j++) {
                x[i * size + j] = (float) Math.sin(0.05 * j * (1 + y[i]));
            }
        }
        return new DataLoaders(
                new InMemoryBatches(x, y, new long[] {channels, 16, 16}, 4, true, true, 0),
                new InMemoryBatches(x, y, new long[] {channels, 16, 16}, 4, false, false, 0),
                List.of("class0", "class1"));
    }
}
