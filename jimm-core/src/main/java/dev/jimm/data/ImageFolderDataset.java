package dev.jimm.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Images in one subfolder per class ({@code root/CLASS/*.jpg}), like torchvision's ImageFolder: classes sorted by name,
 * files sorted by path, nested folders inside a class included.
 */
public final class ImageFolderDataset extends FileListDataset {
    /** File extensions taken as images (lower case). */
    public static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp");

    private final Scan scan;

    /**
     * What the scan left out: files that are not images (by extension, or hidden), entries named like images that are
     * not readable files (skipped under {@link BadImagePolicy#SKIP} only), and class folders without images (dropped
     * under SKIP only).
     */
    public record Scan(List<Path> nonImageFiles, List<Path> unreadable, List<String> emptyClasses) {
        public Scan {
            nonImageFiles = List.copyOf(nonImageFiles);
            unreadable = List.copyOf(unreadable);
            emptyClasses = List.copyOf(emptyClasses);
        }

        /** True when nothing was left out. */
        public boolean clean() {
            return nonImageFiles.isEmpty() && unreadable.isEmpty() && emptyClasses.isEmpty();
        }

        /** One line for a warning. */
        public String summary(Path root) {
            List<String> parts = new ArrayList<>();
            if (!nonImageFiles.isEmpty()) {
                parts.add(nonImageFiles.size() + " non-image file(s) skipped (e.g. "
                        + nonImageFiles.get(0).getFileName() + ")");
            }
            if (!unreadable.isEmpty()) {
                parts.add(unreadable.size() + " unreadable entr" + (unreadable.size() == 1 ? "y" : "ies")
                        + " skipped (e.g. " + unreadable.get(0) + ")");
            }
            if (!emptyClasses.isEmpty()) {
                parts.add("empty class folder(s) " + emptyClasses + " dropped");
            }
            return root + ": " + String.join(", ", parts);
        }
    }

    private ImageFolderDataset(List<String> classes, List<Path> files, int[] labels, ImageDecoder decoder, Scan scan) {
        super(files, labels, classes, decoder);
        this.scan = scan;
    }

    /** Scans {@code root}: each subfolder is a class; bad entries are errors, warnings go to stderr. */
    public static ImageFolderDataset of(Path root, ImageDecoder decoder) {
        return of(root, null, decoder, BadImagePolicy.ERROR, System.err::println);
    }

    /**
     * Scans {@code root} with a policy for empty class folders and unreadable entries; a one-line summary of what was
     * left out goes to {@code warn}.
     */
    public static ImageFolderDataset of(Path root, ImageDecoder decoder, BadImagePolicy policy, Consumer<String> warn) {
        return of(root, null, decoder, policy, warn);
    }

    /** Scans {@code root} using the given class list (so train and valid share label indices). */
    static ImageFolderDataset of(Path root, List<String> classNames, ImageDecoder decoder) {
        return of(root, classNames, decoder, BadImagePolicy.ERROR, System.err::println);
    }

    static ImageFolderDataset of(
            Path root, List<String> classNames, ImageDecoder decoder, BadImagePolicy policy, Consumer<String> warn) {
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(root + ": not a directory; expected one subfolder per class");
        }
        List<String> found = classNames != null ? classNames : subfolders(root);
        if (found.isEmpty()) {
            throw new IllegalArgumentException(root + ": no class subfolders found; expected root/CLASS/image files");
        }
        List<String> classes = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        List<Path> nonImage = new ArrayList<>();
        List<Path> unreadable = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        for (String name : found) {
            Path dir = root.resolve(name);
            List<Path> mine = new ArrayList<>();
            if (Files.isDirectory(dir)) {
                try (Stream<Path> s = Files.walk(dir)) {
                    for (Path p : s.filter(p -> !Files.isDirectory(p)).sorted().toList()) {
                        if (!isImage(p)) {
                            nonImage.add(p);
                        } else if (!Files.isRegularFile(p) || !Files.isReadable(p)) {
                            if (policy == BadImagePolicy.ERROR) {
                                throw new IllegalArgumentException(p + ": named like an image but not a readable file"
                                        + (Files.isSymbolicLink(p) ? " (a dangling link)" : "")
                                        + "; remove it or skip bad images");
                            }
                            unreadable.add(p);
                        } else {
                            mine.add(p);
                        }
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(dir + ": cannot list files", e);
                } catch (UncheckedIOException e) {
                    throw new UncheckedIOException(
                            dir + ": cannot list files: " + e.getCause().getMessage(), e.getCause());
                }
            }
            if (mine.isEmpty() && classNames == null) {
                // a class the model could never learn: torchvision refuses it too (allow_empty=False)
                if (policy == BadImagePolicy.ERROR) {
                    throw new IllegalArgumentException(dir + ": class folder has no image files (" + EXTENSIONS
                            + "); remove it or skip bad images");
                }
                empty.add(name);
                continue;
            }
            int label = classNames != null ? classNames.indexOf(name) : classes.size();
            classes.add(name);
            for (Path p : mine) {
                files.add(p);
                labels.add(label);
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(root + ": no image files (" + EXTENSIONS + ") in class subfolders");
        }
        Scan scan = new Scan(nonImage, unreadable, empty);
        if (!scan.clean()) {
            warn.accept("warning: " + scan.summary(root));
        }
        return new ImageFolderDataset(
                classNames != null ? classNames : classes,
                files,
                labels.stream().mapToInt(Integer::intValue).toArray(),
                decoder,
                scan);
    }

    /**
     * Loads a folder that has {@code train/} and {@code valid/} (or {@code val/}) subfolders, or else splits the class
     * folders under {@code root} with a seeded random {@code validPct}.
     */
    public static Split load(Path root, double validPct, long seed, ImageDecoder decoder) {
        return load(root, validPct, seed, decoder, BadImagePolicy.ERROR, System.err::println);
    }

    /** {@link #load(Path, double, long, ImageDecoder)} with a bad-image policy and a warning sink. */
    public static Split load(
            Path root, double validPct, long seed, ImageDecoder decoder, BadImagePolicy policy, Consumer<String> warn) {
        Path train = root.resolve("train");
        Path valid = Files.isDirectory(root.resolve("valid")) ? root.resolve("valid") : root.resolve("val");
        if (Files.isDirectory(train) && Files.isDirectory(valid)) {
            ImageFolderDataset tr = of(train, null, decoder, policy, warn);
            return new Split(tr, of(valid, tr.classes(), decoder, policy, warn));
        }
        return Split.random(of(root, null, decoder, policy, warn), validPct, seed);
    }

    /** What the scan left out. */
    public Scan scan() {
        return scan;
    }

    private static List<String> subfolders(Path root) {
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> !n.startsWith("."))
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(root + ": cannot list class folders", e);
        }
    }

    /**
     * True for a name with an image extension that is not hidden ({@code .DS_Store}, {@code ._x.jpg} are not images).
     */
    public static boolean isImage(Path p) {
        String n = p.getFileName().toString();
        if (n.startsWith(".")) {
            return false;
        }
        int dot = n.lastIndexOf('.');
        return dot > 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
}
