package dev.jimm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Images in one subfolder per class ({@code root/CLASS/*.jpg}), like torchvision's ImageFolder: classes
 * sorted by name, files sorted by path, nested folders inside a class included.
 */
public final class ImageFolderDataset implements ImageDataset {
    /** File extensions taken as images (lower case). */
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp");

    private final List<String> classes;
    private final List<Path> files;
    private final int[] labels;
    private final ImageDecoder decoder;

    private ImageFolderDataset(List<String> classes, List<Path> files, int[] labels, ImageDecoder decoder) {
        this.classes = List.copyOf(classes);
        this.files = List.copyOf(files);
        this.labels = labels;
        this.decoder = decoder;
    }

    /** Scans {@code root}: each subfolder is a class. */
    public static ImageFolderDataset of(Path root, ImageDecoder decoder) {
        return of(root, null, decoder);
    }

    /** Scans {@code root} using the given class list (so train and valid share label indices). */
    static ImageFolderDataset of(Path root, List<String> classNames, ImageDecoder decoder) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(root + ": not a directory; expected one subfolder per class");
        }
        List<String> classes = classNames != null ? classNames : subfolders(root);
        if (classes.isEmpty()) {
            throw new IllegalArgumentException(root + ": no class subfolders found; expected root/CLASS/image files");
        }
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            Path dir = root.resolve(classes.get(c));
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                for (Path p : s.filter(Files::isRegularFile).filter(ImageFolderDataset::isImage).sorted().toList()) {
                    files.add(p);
                    labels.add(c);
                }
            } catch (IOException e) {
                throw new UncheckedIOException(dir + ": cannot list files", e);
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(root + ": no image files (" + EXTENSIONS + ") in class subfolders");
        }
        return new ImageFolderDataset(classes, files, labels.stream().mapToInt(Integer::intValue).toArray(), decoder);
    }

    /**
     * Loads a folder that has {@code train/} and {@code valid/} (or {@code val/}) subfolders, or else
     * splits the class folders under {@code root} with a seeded random {@code validPct}.
     */
    public static Split load(Path root, double validPct, long seed, ImageDecoder decoder) {
        Path train = root.resolve("train");
        Path valid = Files.isDirectory(root.resolve("valid")) ? root.resolve("valid") : root.resolve("val");
        if (Files.isDirectory(train) && Files.isDirectory(valid)) {
            ImageFolderDataset tr = of(train, decoder);
            return new Split(tr, of(valid, tr.classes(), decoder));
        }
        return Split.random(of(root, decoder), validPct, seed);
    }

    private static List<String> subfolders(Path root) {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(root + ": cannot list class folders", e);
        }
    }

    static boolean isImage(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    /** The image file of sample i. */
    public Path file(int index) {
        return files.get(index);
    }

    @Override public int size() { return files.size(); }
    @Override public int label(int index) { return labels[index]; }
    @Override public List<String> classes() { return classes; }
    @Override public DecodedImage image(int index) { return decoder.decode(files.get(index)); }
    @Override public String describe(int index) { return files.get(index).toString(); }
}
