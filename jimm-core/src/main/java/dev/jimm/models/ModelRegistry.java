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
    /** The prefix of torchvision's names, whose modules and keys differ from timm's models of the same name. */
    public static final String TV_PREFIX = "tv/";

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

    /**
     * What to say after an unknown name: the torchvision twin ({@code squeezenet1_1} is {@code tv/squeezenet1_1}) or
     * the timm one, else names that share its start or letters, else how to list them.
     */
    private String suggestions(String name) {
        if (entries.containsKey(TV_PREFIX + name)) {
            return "; torchvision's models are named with tv/: did you mean " + TV_PREFIX + name + "?";
        }
        if (name.startsWith(TV_PREFIX) && entries.containsKey(name.substring(TV_PREFIX.length()))) {
            return "; torchvision has no such model, timm does: did you mean " + name.substring(TV_PREFIX.length())
                    + "?";
        }
        String stem = name.replaceAll("[^a-z]", "").toLowerCase(Locale.ROOT);
        String start = name.length() > 3 ? name.substring(0, 4) : name;
        List<String> close = new ArrayList<>();
        for (String n : list(null)) {
            String bare = n.startsWith(TV_PREFIX) ? n.substring(TV_PREFIX.length()) : n;
            if ((bare.startsWith(start) || bare.replaceAll("[^a-z]", "").equals(stem)) && close.size() < 6) {
                close.add(n);
            }
        }
        return close.isEmpty()
                ? "; Models.listModels(\"*\") lists the known names"
                : "; did you mean " + String.join(", ", close) + "?";
    }

    /**
     * Names matching a wildcard pattern ({@code *} and {@code ?}), in timm's natural order ({@link NaturalOrder}); all
     * names for null or "".
     */
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
        out.sort(NaturalOrder.INSTANCE);
        return out;
    }

    /**
     * Every pretrained weight as {@code name.tag} (timm's {@code list_pretrained}): a pattern without a tag matches the
     * name ({@code resnet5*} gives {@code resnet50.a1_in1k}, ...), one with a tag matches both ({@code *.fb_in22k*});
     * in natural order, each name's default tag first.
     */
    public List<String> listPretrained(String pattern) {
        Pattern p = pattern == null || pattern.isEmpty() ? null : wildcard(pattern);
        List<String> out = new ArrayList<>();
        for (String n : list(null)) {
            for (PretrainedCfg c : pretrained.tags(n)) {
                String full = n + "." + c.tag();
                if (p == null || p.matcher(n).matches() || p.matcher(full).matches()) {
                    out.add(full);
                }
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
