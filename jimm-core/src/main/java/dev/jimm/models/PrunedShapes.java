package dev.jimm.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The layer widths of one of timm's pruned models ({@code timm/models/_pruned/NAME.txt}, shipped as resources under
 * {@code dev/jimm/models/_pruned/}): the weight shape of each conv, norm and classifier, by module name. timm builds
 * the unpruned model and swaps in layers of these widths ({@code adapt_model_from_file}); jimm's families ask for the
 * width of each layer as they build it.
 */
final class PrunedShapes {
    private static final Pattern SEPARATOR = Pattern.compile(Pattern.quote("***"));

    private final String variant;
    private final Map<String, int[]> shapes;

    private PrunedShapes(String variant, Map<String, int[]> shapes) {
        this.variant = variant;
        this.shapes = shapes;
    }

    /** The shapes of timm's pruned {@code variant} ({@code ecaresnet50d_pruned}). */
    static PrunedShapes load(String variant) {
        String resource = "_pruned/" + variant + ".txt";
        try (InputStream in = PrunedShapes.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no pruned channel file for " + variant + " (resource " + resource
                        + " beside " + PrunedShapes.class.getName() + ")");
            }
            return parse(variant, new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + resource, e);
        }
    }

    /** timm's adapt_model_from_string: {@code key:[d0, d1, ...]} entries separated by {@code ***}. */
    static PrunedShapes parse(String variant, String text) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        for (String entry : SEPARATOR.split(text.strip())) {
            int colon = entry.lastIndexOf(':');
            String body = colon < 0 ? "" : entry.substring(colon + 1).strip();
            if (colon < 0 || !body.startsWith("[") || !body.endsWith("]")) {
                throw new IllegalArgumentException(variant + ": pruned entry '" + entry + "' is not key:[d0, d1, ...]");
            }
            String dims = body.substring(1, body.length() - 1).strip();
            if (!dims.isEmpty()) {
                shapes.put(
                        entry.substring(0, colon).strip(),
                        Arrays.stream(dims.split(","))
                                .mapToInt(d -> Integer.parseInt(d.strip()))
                                .toArray());
            }
        }
        return new PrunedShapes(variant, Collections.unmodifiableMap(shapes));
    }

    /** The variant these widths are of. */
    String variant() {
        return variant;
    }

    /** Every {@code module.weight} shape of the file, in its order. */
    Map<String, int[]> shapes() {
        return shapes;
    }

    /** The output channels of {@code module} (dim 0 of its weight). */
    int outChannels(String module) {
        return weightShape(module)[0];
    }

    /** The input channels of conv or linear {@code module} (dim 1 of its weight). */
    int inChannels(String module) {
        int[] s = weightShape(module);
        if (s.length < 2) {
            throw new IllegalArgumentException(
                    variant + ": " + module + ".weight has shape " + Arrays.toString(s) + ", no input channels");
        }
        return s[1];
    }

    private int[] weightShape(String module) {
        int[] s = shapes.get(module + ".weight");
        if (s == null) {
            throw new IllegalArgumentException(variant + "'s pruned widths have no " + module + ".weight");
        }
        return s;
    }
}
