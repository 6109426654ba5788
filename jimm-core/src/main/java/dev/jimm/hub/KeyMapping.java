package dev.jimm.hub;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renames state dict keys before loading: prefixes to strip, prefixes to replace and exact renames, applied in that
 * order; and the fixed mappings older checkpoints need (torchvision's DenseNet keys). Immutable; build with
 * {@link #builder()}.
 */
public final class KeyMapping {
    private static final KeyMapping NONE = new KeyMapping(List.of(), Map.of(), Map.of());
    /**
     * torchvision's densenet._load_state_dict pattern: {@code denselayer1.norm.1.weight} →
     * {@code denselayer1.norm1.weight}.
     */
    private static final Pattern DENSENET = Pattern.compile(
            "^(.*denselayer\\d+\\.(?:norm|relu|conv))\\.((?:[12])\\.(?:weight|bias|running_mean|running_var))$");

    private final List<String> strip;
    private final Map<String, String> prefixes;
    private final Map<String, String> renames;

    private KeyMapping(List<String> strip, Map<String, String> prefixes, Map<String, String> renames) {
        this.strip = List.copyOf(strip);
        this.prefixes = new LinkedHashMap<>(prefixes);
        this.renames = new LinkedHashMap<>(renames);
    }

    /** The identity mapping. */
    public static KeyMapping none() {
        return NONE;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this mapping's rules, to add more. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.strip.addAll(strip);
        b.prefixes.putAll(prefixes);
        b.renames.putAll(renames);
        return b;
    }

    public boolean isIdentity() {
        return strip.isEmpty() && prefixes.isEmpty() && renames.isEmpty();
    }

    /** The new name of one key. */
    public String map(String key) {
        String k = key;
        for (String p : strip) {
            if (k.startsWith(p)) {
                k = k.substring(p.length());
            }
        }
        for (Map.Entry<String, String> e : prefixes.entrySet()) {
            if (k.startsWith(e.getKey())) {
                k = e.getValue() + k.substring(e.getKey().length());
                break;
            }
        }
        return renames.getOrDefault(k, k);
    }

    /**
     * Applies the mapping to a state dict, keeping its order; two keys mapped to one name is an error naming both
     * ({@code where} names the checkpoint).
     */
    public <T> Map<String, T> apply(Map<String, T> sd, String where) {
        if (isIdentity()) {
            return sd;
        }
        Map<String, T> out = new LinkedHashMap<>();
        Map<String, String> from = new LinkedHashMap<>();
        for (Map.Entry<String, T> e : sd.entrySet()) {
            String nk = map(e.getKey());
            String prev = from.put(nk, e.getKey());
            if (prev != null) {
                throw new CheckpointException(
                        where + ": key mapping sends both '" + prev + "' and '" + e.getKey() + "' to '" + nk + "'");
            }
            out.put(nk, e.getValue());
        }
        return out;
    }

    /**
     * Renames every key of {@code sd} with {@code rename}, in order, keeping the values and the order: the rename loop
     * of timm's {@code checkpoint_filter_fn}s. A key renamed onto an earlier one's name replaces that value in its
     * place, as the Python dict does (unlike {@link #apply}, which refuses it). {@code rename} sees the keys in order,
     * so it may carry state from one key to the next.
     */
    public static <T> Map<String, T> renameEach(Map<String, T> sd, UnaryOperator<String> rename) {
        Map<String, T> out = new LinkedHashMap<>();
        sd.forEach((k, v) -> out.put(rename.apply(k), v));
        return out;
    }

    /**
     * torchvision's DenseNet key fix for checkpoints saved before its layers were renamed:
     * {@code features.denseblock1.denselayer1.norm.1.weight} becomes {@code ...denselayer1.norm1.weight} (timm's
     * densenet applies the same rule to torchvision weights). Other keys are unchanged.
     */
    public static <T> Map<String, T> torchvisionDenseNet(Map<String, T> sd) {
        Map<String, T> out = new LinkedHashMap<>();
        boolean changed = false;
        for (Map.Entry<String, T> e : sd.entrySet()) {
            Matcher m = DENSENET.matcher(e.getKey());
            if (m.matches()) {
                out.put(m.group(1) + m.group(2), e.getValue());
                changed = true;
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
        return changed ? out : sd;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        strip.forEach(p -> parts.add("strip " + p));
        prefixes.forEach((a, b) -> parts.add(a + "* -> " + b + "*"));
        renames.forEach((a, b) -> parts.add(a + " -> " + b));
        return parts.isEmpty() ? "identity" : String.join(", ", parts);
    }

    /** Builder of {@link KeyMapping}. */
    public static final class Builder {
        private final List<String> strip = new ArrayList<>();
        private final Map<String, String> prefixes = new LinkedHashMap<>();
        private final Map<String, String> renames = new LinkedHashMap<>();

        private Builder() {}

        /** Removes {@code prefix} from keys that start with it ({@code "backbone."}). */
        public Builder stripPrefix(String prefix) {
            if (prefix == null || prefix.isEmpty()) {
                throw new IllegalArgumentException("stripPrefix needs a non-empty prefix");
            }
            strip.add(prefix);
            return this;
        }

        /** Replaces the prefix {@code from} by {@code to} ({@code "fc."} → {@code "head.fc."}). */
        public Builder renamePrefix(String from, String to) {
            if (from == null || from.isEmpty() || to == null) {
                throw new IllegalArgumentException(
                        "renamePrefix needs a non-empty 'from' prefix and a 'to' prefix, got '" + from + "', '" + to
                                + "'");
            }
            prefixes.put(from, to);
            return this;
        }

        /** Renames one key exactly (after prefix stripping and replacement). */
        public Builder rename(String from, String to) {
            if (from == null || to == null || from.isEmpty() || to.isEmpty()) {
                throw new IllegalArgumentException("rename needs two non-empty keys, got '" + from + "', '" + to + "'");
            }
            renames.put(from, to);
            return this;
        }

        /** Exact renames from a map. */
        public Builder renameAll(Map<String, String> map) {
            map.forEach(this::rename);
            return this;
        }

        public KeyMapping build() {
            return new KeyMapping(strip, prefixes, renames);
        }
    }
}
