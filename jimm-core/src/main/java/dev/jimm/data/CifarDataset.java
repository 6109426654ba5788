package dev.jimm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * CIFAR-10 and CIFAR-100, binary version. Each record is 1 label byte (CIFAR-100: coarse then fine) followed by 3072
 * bytes: the 1024 red, then green, then blue values of a 32x32 image, row-major.
 */
public final class CifarDataset extends LabelledDataset {
    /** CIFAR-10 class names (batches.meta.txt). */
    public static final List<String> CIFAR10_CLASSES =
            List.of("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck");

    private static final int PIXELS = 32 * 32;

    private final byte[] images;
    private final String source;

    private CifarDataset(byte[] images, int[] labels, List<String> classes, String source) {
        super(labels, classes);
        this.images = images;
        this.source = source;
    }

    /**
     * CIFAR-10 from {@code dir} (the extracted {@code cifar-10-batches-bin} folder or its parent): data_batch_1..5.bin
     * for train, test_batch.bin for test.
     */
    public static CifarDataset cifar10(Path dir, boolean train) {
        Path d = Files.isDirectory(dir.resolve("cifar-10-batches-bin")) ? dir.resolve("cifar-10-batches-bin") : dir;
        List<Path> files = new ArrayList<>();
        if (train) {
            for (int i = 1; i <= 5; i++) {
                files.add(d.resolve("data_batch_" + i + ".bin"));
            }
        } else {
            files.add(d.resolve("test_batch.bin"));
        }
        List<String> names = readNames(d.resolve("batches.meta.txt"), CIFAR10_CLASSES);
        return read(files, 1, 0, names);
    }

    /**
     * CIFAR-100 from {@code dir} (the extracted {@code cifar-100-binary} folder or its parent): train.bin / test.bin;
     * fine (100) labels, or coarse (20) labels when {@code coarse}.
     */
    public static CifarDataset cifar100(Path dir, boolean train, boolean coarse) {
        Path d = Files.isDirectory(dir.resolve("cifar-100-binary")) ? dir.resolve("cifar-100-binary") : dir;
        int n = coarse ? 20 : 100;
        List<String> fallback = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            fallback.add(Integer.toString(i));
        }
        List<String> names = readNames(d.resolve(coarse ? "coarse_label_names.txt" : "fine_label_names.txt"), fallback);
        return read(List.of(d.resolve(train ? "train.bin" : "test.bin")), 2, coarse ? 0 : 1, names);
    }

    private static List<String> readNames(Path p, List<String> fallback) {
        if (!Files.isRegularFile(p)) {
            return fallback;
        }
        try {
            List<String> names = Files.readAllLines(p).stream()
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .toList();
            if (names.size() != fallback.size()) {
                throw new IllegalArgumentException(
                        p + ": " + names.size() + " class names, expected " + fallback.size());
            }
            return names;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(p + ": class names are not UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": cannot read class names", e);
        }
    }

    private static CifarDataset read(List<Path> files, int labelBytes, int labelAt, List<String> classes) {
        int rec = labelBytes + 3 * PIXELS;
        List<byte[]> parts = new ArrayList<>();
        int total = 0;
        for (Path f : files) {
            byte[] b;
            try {
                b = Files.readAllBytes(f);
            } catch (NoSuchFileException e) {
                throw new IllegalArgumentException(f + ": missing CIFAR binary file", e);
            } catch (IOException e) {
                throw new UncheckedIOException(f + ": cannot read", e);
            }
            if (b.length == 0 || b.length % rec != 0) {
                throw new IllegalArgumentException(f + ": " + b.length + " bytes is not a whole number of " + rec
                        + "-byte CIFAR records (truncated or wrong CIFAR version?)");
            }
            parts.add(b);
            total += b.length / rec;
        }
        byte[] images = new byte[total * 3 * PIXELS];
        int[] labels = new int[total];
        int k = 0;
        for (int p = 0; p < parts.size(); p++) {
            byte[] b = parts.get(p);
            for (int off = 0; off < b.length; off += rec, k++) {
                int label = b[off + labelAt] & 0xFF;
                if (label >= classes.size()) {
                    throw new IllegalArgumentException(files.get(p) + ": record " + off / rec + " has label " + label
                            + ", expected < " + classes.size());
                }
                labels[k] = label;
                System.arraycopy(b, off + labelBytes, images, k * 3 * PIXELS, 3 * PIXELS);
            }
        }
        return new CifarDataset(images, labels, classes, files.get(0).toString());
    }

    @Override
    public DecodedImage image(int index) {
        // Planar R, G, B to interleaved RGB.
        int base = index * 3 * PIXELS;
        byte[] px = new byte[3 * PIXELS];
        for (int i = 0; i < PIXELS; i++) {
            px[3 * i] = images[base + i];
            px[3 * i + 1] = images[base + PIXELS + i];
            px[3 * i + 2] = images[base + 2 * PIXELS + i];
        }
        return new DecodedImage(32, 32, 3, px, "cifar");
    }

    @Override
    public String describe(int index) {
        return source + "#" + index;
    }

    @Override
    public String toString() {
        return "CifarDataset(" + size() + " images, classes " + Arrays.toString(countsPerClass()) + ")";
    }
}
