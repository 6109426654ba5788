package dev.jimm.models;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Every model name jimm can build, with its family, default config and pretrained tags. The registry is immutable once
 * built; {@link #builtIn()} holds the families found on the class path.
 */
public final class ModelRegistry {
    private final Map<String, ModelEntry> entries;
    private final PretrainedTable pretrained;

    private ModelRegistry(Map<String, ModelEntry> entries, PretrainedTable pretrained) {
        this.entries = entries;
        this.pretrained = pretrained;
    }

    private static final class Holder {
        static final ModelRegistry BUILT_IN = fromFamilies(ServiceLoader.load(ModelFamily.class));
    }

    /** The registry of every family on the class path (found once, then shared; it is immutable). */
    public static ModelRegistry builtIn() {
        return Holder.BUILT_IN;
    }

    /** A registry of the given families. */
    public static ModelRegistry fromFamilies(Iterable<? extends ModelFamily> families) {
        Map<String, ModelEntry> map = new TreeMap<>();
        for (ModelFamily f : families) {
            for (ModelEntry e : f.models()) {
                ModelEntry old = map.put(e.name(), e);
                if (old != null) {
                    throw new IllegalStateException(
                            "model name " + e.name() + " is registered by both " + old.family() + " and " + e.family());
                }
            }
        }
        return new ModelRegistry(Collections.unmodifiableMap(map), PretrainedTable.load());
    }

    /** Whether the name (without a tag) is registered. */
    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The entry of a name, or an error that suggests close names. */
    public ModelEntry entry(String name) {
        ModelEntry e = entries.get(name);
        if (e == null) {
            throw new ModelNotFoundException("unknown model '" + name + "'" + suggestions(name));
        }
        return e;
    }

    private String suggestions(String name) {
        String stem = name.replaceAll("[^a-z]", "").toLowerCase(Locale.ROOT);
        List<String> close = new ArrayList<>();
        for (String n : entries.keySet()) {
            if (n.startsWith(name.length() > 3 ? name.substring(0, 4) : name)
                    || n.replaceAll("[^a-z]", "").equals(stem)) {
                close.add(n);
            }
            if (close.size() == 6) {
                break;
            }
        }
        return close.isEmpty()
                ? "; `jimm models` lists the known names"
                : "; did you mean " + String.join(", ", close) + "?";
    }

    /** Names matching a wildcard pattern ({@code *} and {@code ?}); all names for null or "". */
    public List<String> list(String pattern) {
        return list(pattern, false);
    }

    /** As {@link #list(String)}, only names with pretrained weights when {@code pretrainedOnly}. */
    public List<String> list(String pattern, boolean pretrainedOnly) {
        Pattern p = pattern == null || pattern.isEmpty() ? null : wildcard(pattern);
        List<String> out = new ArrayList<>();
        for (String n : entries.keySet()) {
            if ((p == null || p.matcher(n).matches())
                    && (!pretrainedOnly || !pretrained.tags(n).isEmpty())) {
                out.add(n);
            }
        }
        return out;
    }

    private static Pattern wildcard(String glob) {
        StringBuilder re = new StringBuilder();
        for (char c : glob.toCharArray()) {
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString());
    }

    /** The pretrained configs of a name, default first (empty when it has none). */
    public List<PretrainedCfg> pretrainedTags(String name) {
        entry(name);
        return pretrained.tags(name);
    }

    /**
     * The config for {@code name} or {@code name.tag}: the named tag's, else the default tag's, else the family's
     * defaults. An unknown tag is an error listing the tags that exist.
     */
    public PretrainedCfg config(String nameWithTag) {
        String name = baseName(nameWithTag);
        String tag = tagOf(nameWithTag);
        ModelEntry e = entry(name);
        List<PretrainedCfg> tags = pretrained.tags(name);
        if (tag.isEmpty()) {
            return tags.isEmpty() ? e.fallbackCfg() : withLayerNames(tags.get(0), e.fallbackCfg());
        }
        for (PretrainedCfg c : tags) {
            if (c.tag().equals(tag)) {
                return withLayerNames(c, e.fallbackCfg());
            }
        }
        throw new ModelNotFoundException("model " + name + " has no pretrained tag '" + tag + "'; "
                + (tags.isEmpty() ? "it has no pretrained weights" : "its tags are " + tagNames(tags)));
    }

    /**
     * torchvision's weights table names no first conv or classifier: take the family's, so that a pretrained load can
     * adapt the stem and skip a resized head.
     */
    private static PretrainedCfg withLayerNames(PretrainedCfg c, PretrainedCfg family) {
        if (!c.firstConv().isEmpty() && !c.classifier().isEmpty()) {
            return c;
        }
        return new PretrainedCfg(
                c.architecture(),
                c.tag(),
                c.hfHubId(),
                c.url(),
                c.inputSize(),
                c.interpolation(),
                c.cropPct(),
                c.cropMode(),
                c.mean(),
                c.std(),
                c.numClasses(),
                c.firstConv().isEmpty() ? family.firstConv() : c.firstConv(),
                c.classifier().isEmpty() ? family.classifier() : c.classifier(),
                c.license(),
                c.fileSha256());
    }

    /** Comma-separated tags, for messages. */
    public static String tagNames(List<PretrainedCfg> tags) {
        List<String> names = new ArrayList<>();
        tags.forEach(t -> names.add(t.tag()));
        return String.join(", ", names);
    }

    /** The name without its tag: {@code resnet50.a1_in1k} gives {@code resnet50}. */
    public static String baseName(String nameWithTag) {
        int dot = nameWithTag.indexOf('.');
        return dot < 0 ? nameWithTag : nameWithTag.substring(0, dot);
    }

    /** The tag of {@code name.tag}, or "". */
    public static String tagOf(String nameWithTag) {
        int dot = nameWithTag.indexOf('.');
        return dot < 0 ? "" : nameWithTag.substring(dot + 1);
    }

    /** Number of registered names per family. */
    public Map<String, Integer> countsByFamily() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (ModelEntry e : entries.values()) {
            counts.merge(e.family(), 1, Integer::sum);
        }
        return counts;
    }

    public int size() {
        return entries.size();
    }
}
