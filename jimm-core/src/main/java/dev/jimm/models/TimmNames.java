package dev.jimm.models;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * timm's own model names by family (the timm module that registers them: {@code resnet}, {@code byobnet}, …), from the
 * list shipped with jimm (timm 1.0.29): what jimm's registry is checked against, family by family.
 */
public final class TimmNames {
    private static final String RESOURCE = "timm_models_by_family.json";

    private TimmNames() {}

    private static final class Holder {
        static final Map<String, List<String>> BY_FAMILY = read();
    }

    /** Every timm family with its model names, families sorted by name. */
    public static Map<String, List<String>> byFamily() {
        return Holder.BY_FAMILY;
    }

    private static Map<String, List<String>> read() {
        try (InputStream in = TimmNames.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the jar (package dev.jimm.models)");
            }
            JsonObject families = JsonParser.parseReader(new InputStreamReader(in, StandardCharsets.UTF_8))
                    .getAsJsonObject()
                    .getAsJsonObject("families");
            Map<String, List<String>> out = new TreeMap<>();
            for (String family : families.keySet()) {
                List<String> names = new ArrayList<>();
                families.getAsJsonArray(family).forEach(e -> names.add(e.getAsString()));
                out.put(family, List.copyOf(names));
            }
            return Collections.unmodifiableMap(out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }
}
