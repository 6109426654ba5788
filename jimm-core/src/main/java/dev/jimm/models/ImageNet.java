package dev.jimm.models;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The ImageNet-1k class names in output order (index 0 is {@code tench}, 281 {@code tabby}), for models with timm's or
 * torchvision's ImageNet weights.
 *
 * <pre>{@code
 * List<String> names = ImageNet.classNames();   // 1000 names
 * }</pre>
 */
public final class ImageNet {
    /** How many classes ImageNet-1k has. */
    public static final int NUM_CLASSES = 1000;

    private static final String RESOURCE = "imagenet_classes.txt";

    private ImageNet() {}

    private static final class Holder {
        static final List<String> NAMES = read();
    }

    /** The 1,000 class names, in the order of a classifier's outputs. */
    public static List<String> classNames() {
        return Holder.NAMES;
    }

    private static List<String> read() {
        try (InputStream in = ImageNet.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the jar (package dev.jimm.models)");
            }
            List<String> names = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))
                    .lines()
                    .filter(l -> !l.isBlank())
                    .toList();
            if (names.size() != NUM_CLASSES) {
                throw new IllegalStateException(RESOURCE + " holds " + names.size() + " names, not " + NUM_CLASSES);
            }
            return names;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
