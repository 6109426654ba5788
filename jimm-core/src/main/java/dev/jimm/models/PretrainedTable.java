package dev.jimm.models;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pretrained weights that exist: timm's table of pretrained configs (1,737 tags of timm 1.0.29) and torchvision's
 * weights table, shipped as resources. The default tag comes first: timm's own default per architecture
 * ({@code timm_default_tags.json}, all 1,302 names of timm 1.0.29, the tag {@code timm.create_model(name,
 * pretrained=True)} loads), else the first in alphabetical order; torchvision's newest IMAGENET1K weights.
 */
public final class PretrainedTable {
    private final Map<String, List<PretrainedCfg>> byArchitecture;

    private PretrainedTable(Map<String, List<PretrainedCfg>> byArchitecture) {
        this.byArchitecture = byArchitecture;
    }

    /** Loads the shipped tables; torchvision's names get the {@code tv/} prefix. */
    public static PretrainedTable load() {
        Map<String, List<PretrainedCfg>> map = new LinkedHashMap<>();
        for (JsonElement e : readArray("timm_pretrained_cfgs.json")) {
            PretrainedCfg cfg = fromTimm(e.getAsJsonObject());
            map.computeIfAbsent(cfg.architecture(), k -> new ArrayList<>()).add(cfg);
        }
        // the table lists tags alphabetically; put timm's default first
        for (Map.Entry<String, String> d :
                readDefaultTags("timm_default_tags.json").entrySet()) {
            List<PretrainedCfg> list = map.get(d.getKey());
            if (list != null) {
                for (int i = 0; i < list.size(); i++) {
                    if (list.get(i).tag().equals(d.getValue())) {
                        list.add(0, list.remove(i));
                        break;
                    }
                }
            }
        }
        Map<String, List<PretrainedCfg>> tv = new LinkedHashMap<>();
        for (JsonElement e : readArray("torchvision_weights.json")) {
            PretrainedCfg cfg = fromTorchvision(e.getAsJsonObject());
            tv.computeIfAbsent(cfg.architecture(), k -> new ArrayList<>()).add(cfg);
        }
        // torchvision's DEFAULT is its newest IMAGENET1K_V* weights: put it first
        for (List<PretrainedCfg> list : tv.values()) {
            PretrainedCfg best = null;
            for (PretrainedCfg c : list) {
                if (c.tag().startsWith("IMAGENET1K_V")
                        && (best == null || c.tag().compareTo(best.tag()) > 0)) {
                    best = c;
                }
            }
            if (best != null) {
                list.remove(best);
                list.add(0, best);
            }
        }
        map.putAll(tv);
        Map<String, List<PretrainedCfg>> frozen = new LinkedHashMap<>();
        map.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
        return new PretrainedTable(Collections.unmodifiableMap(frozen));
    }

    /** The pretrained configs of a name, default first; empty when it has none. */
    public List<PretrainedCfg> tags(String architecture) {
        return byArchitecture.getOrDefault(architecture, List.of());
    }

    /** architecture -> timm's default tag, from a JSON object resource. */
    private static Map<String, String> readDefaultTags(String resource) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : read(resource).getAsJsonObject().entrySet()) {
            out.put(e.getKey(), e.getValue().getAsString());
        }
        return out;
    }

    private static JsonArray readArray(String resource) {
        return read(resource).getAsJsonArray();
    }

    private static JsonElement read(String resource) {
        try (InputStream in = PretrainedTable.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("resource " + resource + " is missing from the jar");
            }
            try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                return JsonParser.parseReader(r);
            }
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    private static String str(JsonObject o, String key) {
        JsonElement e = o.get(key);
        return e == null || e.isJsonNull() ? "" : e.getAsString();
    }

    /** A string, or the first of an array of strings (timm lists two heads for distilled models). */
    private static String firstString(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "";
        }
        if (e.isJsonArray()) {
            return e.getAsJsonArray().isEmpty() ? "" : e.getAsJsonArray().get(0).getAsString();
        }
        return e.getAsString();
    }

    /** A string, or the strings of an array joined by commas. */
    private static String joinedStrings(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return "";
        }
        if (e.isJsonArray()) {
            List<String> parts = new ArrayList<>();
            e.getAsJsonArray().forEach(v -> parts.add(v.getAsString()));
            return String.join(",", parts);
        }
        return e.getAsString();
    }

    private static List<Integer> ints(JsonElement e) {
        List<Integer> out = new ArrayList<>();
        e.getAsJsonArray().forEach(v -> out.add(v.getAsInt()));
        return out;
    }

    private static List<Double> doubles(JsonElement e) {
        List<Double> out = new ArrayList<>();
        e.getAsJsonArray().forEach(v -> out.add(v.getAsDouble()));
        return out;
    }

    private static PretrainedCfg fromTimm(JsonObject o) {
        JsonElement crop = o.get("crop_pct");
        // distilled DeiTs name two heads, both classifiers: kept comma-joined (PretrainedCfg.classifiers)
        String cls = joinedStrings(o.get("classifier"));
        String fc = firstString(o.get("first_conv"));
        return new PretrainedCfg(
                str(o, "architecture"),
                str(o, "tag"),
                str(o, "hf_hub_id"),
                str(o, "url"),
                ints(o.get("input_size")),
                str(o, "interpolation").isEmpty() ? "bicubic" : str(o, "interpolation"),
                crop == null || crop.isJsonNull() ? 0.875 : crop.getAsDouble(),
                str(o, "crop_mode").isEmpty() ? "center" : str(o, "crop_mode"),
                doubles(o.get("mean")),
                doubles(o.get("std")),
                o.get("num_classes") == null || o.get("num_classes").isJsonNull()
                        ? 1000
                        : o.get("num_classes").getAsInt(),
                fc,
                cls,
                str(o, "license"),
                "");
    }

    private static final Pattern CROP = Pattern.compile("crop_size=\\[(\\d+)\\]");
    private static final Pattern RESIZE = Pattern.compile("resize_size=\\[(\\d+)\\]");
    private static final Pattern MEAN = Pattern.compile("mean=\\[([^\\]]+)\\]");
    private static final Pattern STD = Pattern.compile("std=\\[([^\\]]+)\\]");
    private static final Pattern INTERP = Pattern.compile("InterpolationMode\\.(\\w+)");
    private static final Pattern URL_HASH = Pattern.compile("-([0-9a-f]{8,})\\.pth$");

    private static PretrainedCfg fromTorchvision(JsonObject o) {
        String t = str(o, "transforms");
        int crop = Integer.parseInt(group(CROP, t, "224"));
        int resize = Integer.parseInt(group(RESIZE, t, Integer.toString(crop)));
        String weights = str(o, "weights");
        String tag = weights.substring(weights.indexOf('.') + 1);
        String url = str(o, "url");
        String model = "tv/" + str(o, "model");
        return new PretrainedCfg(
                model,
                tag,
                "",
                url,
                List.of(3, crop, crop),
                group(INTERP, t, "BILINEAR").toLowerCase(Locale.ROOT),
                (double) crop / resize,
                "center",
                parseList(group(MEAN, t, "0.485, 0.456, 0.406")),
                parseList(group(STD, t, "0.229, 0.224, 0.225")),
                1000,
                "",
                "",
                "bsd-3-clause",
                group(URL_HASH, url, ""));
    }

    private static String group(Pattern p, String s, String dflt) {
        Matcher m = p.matcher(s);
        return m.find() ? m.group(1) : dflt;
    }

    private static List<Double> parseList(String s) {
        List<Double> out = new ArrayList<>();
        for (String part : s.split(",")) {
            out.add(Double.parseDouble(part.trim()));
        }
        return out;
    }
}
