package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.*;

import dev.jimm.vision.TrainRecipe;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetsTest {
    static final Path SAMPLE = TrainRecipe.samplesDir().resolve("fashion-mnist");

    /** Writes idx bytes by hand (big-endian header per the MNIST spec), independent of IdxFile.write. */
    private static byte[] idx(int[] dims, byte[] data) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(bos);
        d.writeByte(0);
        d.writeByte(0);
        d.writeByte(8);
        d.writeByte(dims.length);
        for (int v : dims) {
            d.writeInt(v);
        }
        d.write(data);
        return bos.toByteArray();
    }

    private static byte[] gz(byte[] b) throws Exception {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream g = new GZIPOutputStream(bos)) {
            g.write(b);
        }
        return bos.toByteArray();
    }

    @Test
    void idxReaderPlainAndGzipped(@TempDir Path dir) throws Exception {
        byte[] pixels = new byte[2 * 3 * 2];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 20 + 5);
        }
        Files.write(dir.resolve("train-images-idx3-ubyte"), idx(new int[] {2, 3, 2}, pixels));
        Files.write(dir.resolve("train-labels-idx1-ubyte.gz"), gz(idx(new int[] {2}, new byte[] {9, 4})));
        IdxDataset ds = IdxDataset.mnist(dir, true);
        assertEquals(2, ds.size());
        assertEquals(9, ds.label(0));
        assertEquals(4, ds.label(1));
        DecodedImage im = ds.image(1);
        assertEquals(2, im.width());
        assertEquals(3, im.height());
        assertEquals(1, im.channels());
        assertEquals(6 * 20 + 5, im.get(0, 0, 0));
        assertEquals(11 * 20 + 5, im.get(1, 2, 0)); // row-major: last pixel of item 1
        // Truncated data is an error that names the file.
        Path bad = dir.resolve("bad-idx");
        Files.write(bad, Arrays.copyOf(idx(new int[] {2, 3, 2}, pixels), 20));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> IdxFile.read(bad));
        assertTrue(e.getMessage().contains("bad-idx") && e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void bundledFashionMnistSampleIsBalancedRealData() {
        IdxDataset train = IdxDataset.fashionMnist(SAMPLE, true);
        IdxDataset test = IdxDataset.fashionMnist(SAMPLE, false);
        assertEquals(2000, train.size());
        assertEquals(500, test.size());
        int[] c = train.countsPerClass();
        for (int v : c) {
            assertEquals(200, v);
        }
        for (int v : test.countsPerClass()) {
            assertEquals(50, v);
        }
        assertEquals("Ankle boot", train.classes().get(9));
        // Fashion-MNIST's pixel mean is about 0.286; an all-zero or misaligned read would not be.
        long sum = 0;
        for (int i = 0; i < train.size(); i++) {
            for (byte b : train.image(i).pixels()) {
                sum += b & 0xFF;
            }
        }
        double mean = sum / (2000.0 * 784 * 255);
        assertEquals(0.286, mean, 0.03);
        // The first training image of Fashion-MNIST is an ankle boot (label 9).
        assertEquals(9, train.label(0));
    }

    private static void png(Path p, int v) throws Exception {
        Files.createDirectories(p.getParent());
        BufferedImage bi = new BufferedImage(4, 3, BufferedImage.TYPE_3BYTE_BGR);
        bi.setRGB(0, 0, (v << 16) | (v << 8) | v);
        ImageIO.write(bi, "png", p.toFile());
    }

    @Test
    void imageFolderSeededSplit(@TempDir Path root) throws Exception {
        for (int i = 0; i < 30; i++) {
            png(root.resolve("cat/" + i + ".png"), i);
        }
        for (int i = 0; i < 10; i++) {
            png(root.resolve("dog/" + i + ".png"), i);
        }
        Files.writeString(root.resolve("dog/notes.txt"), "not an image");
        ImageDecoder dec = new ImageDecoder();
        Split a = ImageFolderDataset.load(root, 0.25, 42, dec);
        Split b = ImageFolderDataset.load(root, 0.25, 42, dec);
        Split c = ImageFolderDataset.load(root, 0.25, 7, dec);
        assertEquals(List.of("cat", "dog"), a.train().classes());
        assertEquals(30, a.train().size());
        assertEquals(10, a.valid().size());
        assertArrayEquals(((Subset) a.valid()).indices(), ((Subset) b.valid()).indices());
        assertFalse(Arrays.equals(((Subset) a.valid()).indices(), ((Subset) c.valid()).indices()));
        Set<String> seen = new HashSet<>();
        for (ImageDataset d : List.of(a.train(), a.valid())) {
            for (int i = 0; i < d.size(); i++) {
                assertTrue(seen.add(d.describe(i)), "disjoint");
            }
        }
        assertEquals(40, seen.size());
        assertEquals(
                40,
                a.train().countsPerClass()[0]
                        + a.valid().countsPerClass()[0]
                        + a.train().countsPerClass()[1]
                        + a.valid().countsPerClass()[1]);
        DecodedImage img = a.train().image(0);
        assertEquals(4, img.width());
    }

    @Test
    void imageFolderTrainValidLayout(@TempDir Path root) throws Exception {
        png(root.resolve("train/a/1.png"), 1);
        png(root.resolve("train/b/1.png"), 2);
        png(root.resolve("train/b/2.png"), 3);
        png(root.resolve("valid/b/1.png"), 4);
        Split s = ImageFolderDataset.load(root, 0.2, 0, new ImageDecoder());
        assertEquals(3, s.train().size());
        assertEquals(1, s.valid().size());
        assertEquals(1, s.valid().label(0), "valid shares train's class indices");
        assertArrayEquals(new int[] {1, 2}, s.train().countsPerClass());
    }
}
