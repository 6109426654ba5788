package dev.jimm.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The layer widths of a pruned variant, as timm's {@code adapt_model_from_file} reads them from its
 * {@code _pruned/VARIANT.txt} (shipped as resources under {@code dev/jimm/models/_pruned/}): every state_dict key with
 * its shape. A model built with them gives each convolution, norm and classifier input the listed width instead of the
 * unpruned one; a depthwise convolution stays depthwise at its new width.
 */
final class PrunedWidths {
    private final String variant;
    private final Map<String, long[]> shapes;
    private final String prefix;

    private PrunedWidths(String variant, Map<String, long[]> shapes, String prefix) {
        this.variant = variant;
        this.shapes = shapes;
        this.prefix = prefix;
    }

    /** The widths of {@code variant} ({@code efficientnet_b1_pruned}, ...), from its resource. */
    static PrunedWidths load(String variant) {
        String resource = "_pruned/" + variant + ".txt";
        try (InputStream in = PrunedWidths.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(
                        "resource " + resource + " (timm's pruned widths of " + variant + ") is missing from the jar");
            }
            return new PrunedWidths(variant, parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)), "");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** timm's adapt_model_from_string format: {@code key:[d0, d1, ...]} entries separated by {@code ***}. */
    static Map<String, long[]> parse(String text) {
        Map<String, long[]> out = new LinkedHashMap<>();
        for (String entry : text.strip().split("\\*\\*\\*")) {
            int colon = entry.lastIndexOf(':');
            if (colon < 0 || !entry.endsWith("]")) {
                throw new IllegalArgumentException("pruned widths entry '" + entry + "' is not key:[shape]");
            }
            String dims = entry.substring(colon + 2, entry.length() - 1).strip();
            long[] shape = dims.isEmpty()
                    ? new long[0]
                    : Arrays.stream(dims.split(","))
                            .mapToLong(d -> Long.parseLong(d.strip()))
                            .toArray();
            out.put(entry.substring(0, colon), shape);
        }
        return Collections.unmodifiableMap(out);
    }

    /** The widths under a module path ({@code blocks.1.0.}), for that module to read by its own names. */
    PrunedWidths at(String modulePrefix) {
        return new PrunedWidths(variant, shapes, prefix + modulePrefix);
    }

    /** Output channels of the layer {@code module} (its weight's first dimension). */
    int out(String module) {
        return dim(module, 0);
    }

    /** Input channels of the layer {@code module} (its weight's second dimension). */
    int in(String module) {
        return dim(module, 1);
    }

    /** Every key with its shape. */
    Map<String, long[]> shapes() {
        return shapes;
    }

    private int dim(String module, int axis) {
        String key = prefix + module + ".weight";
        long[] s = shapes.get(key);
        if (s == null || s.length <= axis) {
            throw new IllegalArgumentException(variant + "'s pruned widths have no " + key
                    + (s == null ? "" : " of " + (axis + 1) + " dimensions"));
        }
        return (int) s[axis];
    }
}
