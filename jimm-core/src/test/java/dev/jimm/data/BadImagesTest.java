package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.jimm.transforms.Pipelines;
import dev.jimm.transforms.Preprocessing;
import dev.jimm.transforms.TimmAugment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of bad dataset input has a defined behaviour under both {@link BadImagePolicy}s. */
class BadImagesTest {
    private static final List<String> GOOD = List.of(
            "chelsea.bmp",
            "chelsea.webp",
            "chelsea_cmyk.jpg",
            "chelsea_exif_orientation6.jpg",
            "chelsea_gray.jpg",
            "chelsea_progressive.jpg",
            "chelsea_rgba.png",
            "chessboard_GRAY_U16.tif",
            "no_time_for_that_tiny.gif",
            "one_pixel.png",
            "palette_color.png",
            "wide_4000x60.jpg");
    private static final List<String> BAD = List.of(
            "bomb_100000x100000.png", "empty.jpg", "not_an_image.jpg", "truncated_half.jpg", "truncated_skimage.jpg");

    private static Path copyOdd(String name, Path to) throws Exception {
        Files.createDirectories(to.getParent());
        return Files.copy(TestFiles.resource("images/odd/" + name), to);
    }

    @Test
    void nonImageAndHiddenFilesAreSkippedAndCountedUnderBothPolicies(@TempDir Path root) throws Exception {
        copyOdd("one_pixel.png", root.resolve("a/1.png"));
        copyOdd("palette_color.png", root.resolve("b/1.png"));
        Files.writeString(root.resolve("a/notes.txt"), "x");
        Files.write(root.resolve("a/Thumbs.db"), new byte[16]);
        Files.write(root.resolve("b/.DS_Store"), new byte[16]);
        Files.write(root.resolve("b/._1.png"), new byte[16]); // macOS AppleDouble: named like an image, is not one
        Files.createDirectories(root.resolve(".git/objects"));
        for (BadImagePolicy p : BadImagePolicy.values()) {
            List<String> warn = new ArrayList<>();
            ImageFolderDataset ds = ImageFolderDataset.of(root, new ImageDecoder(), p, warn::add);
            assertEquals(List.of("a", "b"), ds.classes(), "hidden folders are no classes");
            assertEquals(2, ds.size());
            assertEquals(4, ds.scan().nonImageFiles().size(), ds.scan().toString());
            assertEquals(1, warn.size(), warn.toString());
            assertTrue(warn.get(0).contains("4 non-image file(s) skipped"), warn.get(0));
        }
    }

    @Test
    void anEmptyClassFolderIsAnErrorOrDropped(@TempDir Path root) throws Exception {
        copyOdd("one_pixel.png", root.resolve("a/1.png"));
        copyOdd("palette_color.png", root.resolve("c/1.png"));
        Files.createDirectories(root.resolve("b"));
        Files.writeString(root.resolve("b/readme.txt"), "only text");
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.ERROR, w -> {}));
        assertTrue(e.getMessage().startsWith(root.resolve("b") + ": class folder has no image files"), e.getMessage());
        List<String> warn = new ArrayList<>();
        ImageFolderDataset ds = ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.SKIP, warn::add);
        assertEquals(List.of("a", "c"), ds.classes());
        assertEquals(1, ds.label(1), "labels are renumbered without the dropped class");
        assertEquals(List.of("b"), ds.scan().emptyClasses());
        assertTrue(warn.get(0).contains("empty class folder(s) [b] dropped"), warn.get(0));
    }

    @Test
    void aDanglingLinkIsAnErrorOrSkippedAndAFolderNamedLikeAnImageIsAFolder(@TempDir Path root) throws Exception {
        copyOdd("one_pixel.png", root.resolve("a/1.png"));
        copyOdd("palette_color.png", root.resolve("b/1.png"));
        Path link = Files.createSymbolicLink(root.resolve("a/gone.jpg"), root.resolve("nowhere.jpg"));
        copyOdd("one_pixel.png", root.resolve("b/album.jpg/2.png"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.ERROR, w -> {}));
        assertTrue(
                e.getMessage().startsWith(link + ": named like an image but not a readable file (a dangling link)"),
                e.getMessage());
        ImageFolderDataset ds = ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.SKIP, w -> {});
        assertEquals(List.of(link), ds.scan().unreadable());
        assertEquals(3, ds.size(), "a/1.png, b/1.png and b/album.jpg/2.png");
        assertEquals(root.resolve("b/album.jpg/2.png"), ds.file(2));
    }

    /** A folder with every good odd image in class "good" and every undecodable one in class "bad". */
    private static Path mixedFolder(Path root) throws Exception {
        for (String n : GOOD) {
            copyOdd(n, root.resolve("good/" + n));
        }
        for (String n : BAD) {
            copyOdd(n, root.resolve("bad/" + n));
        }
        copyOdd("one_pixel.png", root.resolve("bad/vanished.png"));
        return root;
    }

    private static DataLoader loader(ImageDataset ds, int channels, NDManager m, BadImagePolicy p, List<String> warn) {
        Preprocessing pre = new Preprocessing(
                channels,
                32,
                "bilinear",
                0.875,
                channels == 3 ? Preprocessing.IMAGENET_MEAN : List.of(0.5),
                channels == 3 ? Preprocessing.IMAGENET_STD : List.of(0.25));
        return DataLoader.builder(ds, Pipelines.createTransform(pre, true, TimmAugment.flipOnly()), m)
                .batchSize(4)
                .shuffle(true)
                .seed(3)
                .threads(2)
                .badImages(p)
                .warnings(warn::add)
                .build();
    }

    @Test
    void undecodableImagesFailTheLoaderWithTheFileNamedOrAreLeftOut(@TempDir Path tmp) throws Exception {
        Path root = mixedFolder(tmp);
        ImageFolderDataset ds = ImageFolderDataset.of(root, new ImageDecoder(), BadImagePolicy.ERROR, w -> {});
        Files.delete(root.resolve("bad/vanished.png")); // gone between the scan and its first use
        try (NDManager m = NDManager.newBaseManager()) {
            // ERROR: a worker thread's failure reaches the caller as the typed exception naming the file
            DataLoader strict = loader(ds, 3, m, BadImagePolicy.ERROR, new ArrayList<>());
            ImageDecodeException e = assertTimeoutPreemptively(
                    Duration.ofSeconds(60),
                    () -> assertThrows(ImageDecodeException.class, () -> {
                        for (Batch b : strict) {
                            b.close();
                        }
                    }));
            assertTrue(e.file().startsWith(root.resolve("bad")), e.getMessage());
            assertTrue(e.getMessage().startsWith(e.file() + ": "), e.getMessage());

            // SKIP: every epoch gives exactly the good images, each bad file is reported once
            List<String> warn = Collections.synchronizedList(new ArrayList<>());
            DataLoader lenient = loader(ds, 3, m, BadImagePolicy.SKIP, warn);
            for (int epoch = 0; epoch < 2; epoch++) {
                Set<Integer> seen = new TreeSet<>();
                try (DataLoader.EpochIterator it = lenient.epoch(epoch)) {
                    while (it.hasNext()) {
                        try (Batch b = it.next()) {
                            assertEquals(b.size(), b.data().getShape().get(0));
                            for (int i : b.indices()) {
                                assertTrue(seen.add(i));
                                assertTrue(
                                        ds.file(i).startsWith(root.resolve("good")),
                                        ds.file(i).toString());
                            }
                        }
                    }
                }
                assertEquals(GOOD.size(), seen.size(), "epoch " + epoch);
            }
            Set<String> expected = new TreeSet<>();
            BAD.forEach(n -> expected.add(root.resolve("bad/" + n).toString()));
            expected.add(root.resolve("bad/vanished.png").toString());
            assertEquals(expected, lenient.skippedImages().keySet());
            assertEquals(expected.size(), warn.size(), "one warning per bad file, not per epoch: " + warn);
        }
    }

    @Test
    void mixedSizesAndModesAllComeOutAsTheModelsChannelsAndSize(@TempDir Path tmp) throws Exception {
        Path root = tmp.resolve("data");
        for (String n : GOOD) {
            copyOdd(n, root.resolve("a/" + n));
        }
        copyOdd("one_pixel.png", root.resolve("b/1.png"));
        copyOdd("chessboard_GRAY_U16.tif", root.resolve("b/2.tif"));
        try (NDManager m = NDManager.newBaseManager()) {
            for (int ch : new int[] {3, 1}) {
                ImageFolderDataset ds = ImageFolderDataset.of(
                        root,
                        new ImageDecoder(DecodeOptions.builder().channels(ch).build()),
                        BadImagePolicy.ERROR,
                        w -> {});
                int n = 0;
                for (Batch b : loader(ds, ch, m, BadImagePolicy.ERROR, new ArrayList<>())) {
                    try (b) {
                        assertEquals(
                                List.of((long) b.size(), (long) ch, 32L, 32L),
                                List.of(
                                        b.data().getShape().get(0),
                                        b.data().getShape().get(1),
                                        b.data().getShape().get(2),
                                        b.data().getShape().get(3)));
                        float[] px = b.data().toFloatArray();
                        for (float v : px) {
                            assertTrue(Float.isFinite(v) && Math.abs(v) < 10, "normalized pixel " + v);
                        }
                        n += b.size();
                    }
                }
                assertEquals(GOOD.size() + 2, n, ch + " channel(s)");
            }
        }
    }
}
