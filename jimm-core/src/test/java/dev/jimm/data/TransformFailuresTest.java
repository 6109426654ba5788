package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.jimm.transforms.RandomCrop;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import dev.jimm.transforms.Transforms;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step of the loader's transform that throws on an image follows the bad-image policy as a decode failure does: an
 * error naming the file and the step, or the image left out with a warning naming it.
 */
class TransformFailuresTest {
    /** Two classes of real images, one of which (a/tiny.png, 1x1 pixel) is smaller than an 8x8 crop. */
    private static Path folder(Path root) throws Exception {
        for (String n : List.of("chelsea.bmp", "chelsea_gray.jpg", "palette_color.png")) {
            copy(n, root.resolve("a/" + n));
            copy(n, root.resolve("b/" + n));
        }
        copy("one_pixel.png", root.resolve("a/tiny.png"));
        return root;
    }

    private static void copy(String name, Path to) throws Exception {
        Files.createDirectories(to.getParent());
        Files.copy(TestFiles.resource("images/odd/" + name), to);
    }

    private static DataLoader loader(
            ImageDataset ds,
            Transform<DecodedImage, TensorImage> tf,
            NDManager m,
            BadImagePolicy p,
            List<String> warnings) {
        return DataLoader.builder(ds, tf, m)
                .batchSize(3)
                .shuffle(true)
                .seed(5)
                .threads(2)
                .badImages(p)
                .warnings(warnings::add)
                .build();
    }

    /** Every index the loader's epoch gives, each once. */
    private static Set<Integer> drain(DataLoader loader, int epoch) {
        Set<Integer> seen = new TreeSet<>();
        try (DataLoader.EpochIterator it = loader.epoch(epoch)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    assertEquals(b.size(), b.data().getShape().get(0));
                    for (int i : b.indices()) {
                        assertTrue(seen.add(i), "index " + i + " twice");
                    }
                }
            }
        }
        return seen;
    }

    @Test
    void aCropThatRefusesASmallImageIsAnErrorNamingFileAndStepOrTheImageIsLeftOut(@TempDir Path tmp) throws Exception {
        Path root = folder(tmp);
        ImageFolderDataset ds = ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.ERROR, w -> {});
        Path tiny = root.resolve("a/tiny.png");
        Transform<DecodedImage, TensorImage> tf =
                Transforms.channels(3).andThen(new RandomCrop(8, 8, 0)).andThen(Transforms.toTensor());
        try (NDManager m = NDManager.newBaseManager()) {
            ImageTransformException e = assertThrows(
                    ImageTransformException.class,
                    () -> drain(loader(ds, tf, m, BadImagePolicy.ERROR, new ArrayList<>()), 0));
            assertEquals(tiny.toString(), e.image());
            assertEquals("RandomCrop(8x8, padding 0)", e.step());
            assertEquals(
                    tiny + ": transform RandomCrop(8x8, padding 0) failed: RandomCrop 8x8 is larger than the padded"
                            + " image 1x1",
                    e.getMessage());
            assertEquals(IllegalArgumentException.class, e.getCause().getClass(), "the step's own exception");

            List<String> warnings = Collections.synchronizedList(new ArrayList<>());
            DataLoader lenient = loader(ds, tf, m, BadImagePolicy.SKIP, warnings);
            for (int epoch = 0; epoch < 2; epoch++) {
                Set<Integer> seen = drain(lenient, epoch);
                assertEquals(ds.size() - 1, seen.size(), "every image but the tiny one, epoch " + epoch);
                seen.forEach(i -> assertTrue(!ds.file(i).equals(tiny)));
            }
            assertEquals(Set.of(tiny.toString()), lenient.skippedImages().keySet());
            assertEquals(1, warnings.size(), "one warning per file, not per epoch: " + warnings);
            assertEquals(
                    "warning: skipping image " + e.getMessage() + " (1 skipped so far)",
                    warnings.get(0),
                    "the warning names the file and the step");
        }
    }

    @Test
    void aUserStepThatThrowsIsNamedByWhereItWasWrittenAndFollowsThePolicy(@TempDir Path tmp) throws Exception {
        Path root = folder(tmp);
        ImageFolderDataset ds = ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.ERROR, w -> {});
        Transform<DecodedImage, DecodedImage> picky = (img, rng) -> {
            if (img.width() < 2) {
                throw new IllegalStateException("no single pixels");
            }
            return img;
        };
        Transform<DecodedImage, TensorImage> tf = Transforms.channels(3)
                .andThen(picky)
                .andThen(Transforms.centerCrop(8))
                .andThen(Transforms.toTensor());
        assertEquals(
                "channels(3) -> a lambda in TransformFailuresTest -> centerCrop(8x8) -> toTensor",
                tf.toString(),
                "a pipeline lists its steps");
        try (NDManager m = NDManager.newBaseManager()) {
            ImageTransformException e = assertThrows(
                    ImageTransformException.class,
                    () -> drain(loader(ds, tf, m, BadImagePolicy.ERROR, new ArrayList<>()), 0));
            assertEquals(
                    root.resolve("a/tiny.png")
                            + ": transform a lambda in TransformFailuresTest failed: no single pixels",
                    e.getMessage());
            List<String> warnings = Collections.synchronizedList(new ArrayList<>());
            assertEquals(
                    ds.size() - 1,
                    drain(loader(ds, tf, m, BadImagePolicy.SKIP, warnings), 0).size());
            assertEquals(1, warnings.size(), warnings.toString());
        }
    }

    @Test
    void steppingThroughAPipelineGivesWhatApplyingItGives(@TempDir Path tmp) throws Exception {
        Path root = folder(tmp);
        ImageFolderDataset ds = ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.ERROR, w -> {});
        // random steps: the loader applies them one by one with the sample's generator, as apply does
        Transform<DecodedImage, TensorImage> tf = Transforms.channels(3)
                .andThen(new RandomCrop(8, 8, 2))
                .andThen(Transforms.horizontalFlip(0.5))
                .andThen(Transforms.toTensor());
        assertEquals(4, tf.steps().size());
        try (NDManager m = NDManager.newBaseManager()) {
            DataLoader loader = DataLoader.builder(ds, tf, m)
                    .batchSize(2)
                    .shuffle(false)
                    .seed(9)
                    .threads(0)
                    .build();
            try (Batch b = loader.epoch(0).next()) {
                float[] got = b.data().toFloatArray();
                int per = 3 * 8 * 8;
                for (int k = 0; k < 2; k++) {
                    int idx = b.indices()[k];
                    float[] expected = tf.apply(ds.image(idx), new SplittableRandom(Seeds.derive(9, 0, idx)))
                            .data();
                    for (int i = 0; i < per; i++) {
                        assertEquals(expected[i], got[k * per + i], "sample " + idx + " element " + i);
                    }
                }
            }
        }
    }
}
