package dev.jimm.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** MNIST-style datasets stored as an images idx (N x H x W) and a labels idx (N): MNIST, Fashion-MNIST. */
public final class IdxDataset implements ImageDataset {
    /** Fashion-MNIST class names in label order. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** MNIST class names in label order. */
    public static final List<String> MNIST_CLASSES = List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");

    private final IdxFile images;
    private final byte[] labels;
    private final List<String> classes;
    private final String source;
    private final int h;
    private final int w;

    public IdxDataset(IdxFile images, IdxFile labels, List<String> classes, String source) {
        this(images, labels, classes, source, source);
    }

    /** As the public constructor; errors in the labels name {@code labelsSource}. */
    private IdxDataset(IdxFile images, IdxFile labels, List<String> classes, String source, String labelsSource) {
        if (images.dims().length != 3) {
            throw new IllegalArgumentException(
                    source + ": images idx must have 3 dimensions, got " + images.dims().length);
        }
        if (images.dims()[1] == 0 || images.dims()[2] == 0) {
            throw new IllegalArgumentException(
                    source + ": images idx has images of " + images.dims()[1] + "x" + images.dims()[2] + " pixels");
        }
        if (labels.dims().length != 1 || labels.count() != images.count()) {
            throw new IllegalArgumentException(labelsSource + ": labels idx has " + labels + ", expected ["
                    + images.count() + "] for the images of " + source);
        }
        for (byte b : labels.data()) {
            if ((b & 0xFF) >= classes.size()) {
                throw new IllegalArgumentException(
                        labelsSource + ": label " + (b & 0xFF) + " outside " + classes.size() + " classes");
            }
        }
        this.images = images;
        this.labels = labels.data();
        this.classes = List.copyOf(classes);
        this.source = source;
        this.h = images.dims()[1];
        this.w = images.dims()[2];
    }

    /** Fashion-MNIST from a folder holding the standard file names (gzipped or not). */
    public static IdxDataset fashionMnist(Path dir, boolean train) {
        return fromDir(dir, train ? "train" : "t10k", FASHION_MNIST_CLASSES);
    }

    /** MNIST from a folder holding the standard file names (gzipped or not). */
    public static IdxDataset mnist(Path dir, boolean train) {
        return fromDir(dir, train ? "train" : "t10k", MNIST_CLASSES);
    }

    /** Reads {@code PREFIX-images-idx3-ubyte[.gz]} and {@code PREFIX-labels-idx1-ubyte[.gz]} from dir. */
    public static IdxDataset fromDir(Path dir, String prefix, List<String> classes) {
        Path img = find(dir, prefix + "-images-idx3-ubyte");
        Path lab = find(dir, prefix + "-labels-idx1-ubyte");
        return new IdxDataset(IdxFile.read(img), IdxFile.read(lab), classes, img.toString(), lab.toString());
    }

    private static Path find(Path dir, String base) {
        for (String name :
                new String[] {base + ".gz", base, base.replace("-idx", ".idx") + ".gz", base.replace("-idx", ".idx")}) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalArgumentException(dir + ": missing " + base + "[.gz]");
    }

    public int height() {
        return h;
    }

    public int width() {
        return w;
    }

    @Override
    public int size() {
        return images.count();
    }

    @Override
    public int label(int index) {
        return labels[index] & 0xFF;
    }

    @Override
    public List<String> classes() {
        return classes;
    }

    @Override
    public DecodedImage image(int index) {
        int n = h * w;
        byte[] px = new byte[n];
        System.arraycopy(images.data(), index * n, px, 0, n);
        return new DecodedImage(w, h, 1, px, "idx");
    }

    @Override
    public String describe(int index) {
        return source + "#" + index;
    }
}
