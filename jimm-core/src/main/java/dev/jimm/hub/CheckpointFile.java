package dev.jimm.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * An opened checkpoint of any supported format, seen as a state dict: safetensors (one file, or shards with
 * {@code model.safetensors.index.json}), and torch.save zip and legacy files, including training checkpoints whose
 * state dict sits under {@code state_dict}, {@code model}, … with a {@code module.} prefix. Entries are listed without
 * reading their data; {@link #load} reads one.
 */
public final class CheckpointFile implements AutoCloseable {
    /** Keys under which training checkpoints keep the state dict, in the order they are tried. */
    public static final List<String> STATE_DICT_KEYS = List.of(
            "state_dict",
            "model_state_dict",
            "model",
            "net",
            "network",
            "state_dict_ema",
            "model_ema",
            "ema",
            "params");
    /** Prefixes removed when every key has them (DataParallel, torch.compile, wrappers). */
    public static final List<String> WRAPPER_PREFIXES = List.of("module.", "_orig_mod.", "model.");

    /** The file formats. */
    public enum Format {
        SAFETENSORS("safetensors"),
        SAFETENSORS_SHARDED("safetensors (sharded, index)"),
        TORCH_ZIP("torch.save zip"),
        TORCH_LEGACY("torch.save legacy (pre-1.6)");

        private final String label;

        Format(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One state dict entry: its dtype in the file and its shape. */
    public record TensorInfo(String key, TensorDType dtype, Shape shape) {}

    private final Path path;
    private final Format format;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, BiFunction<String, NDManager, NDArray>> loaders;
    private final String stateDictKey;
    private final String strippedPrefix;
    private final Map<String, String> otherEntries;
    private final List<AutoCloseable> resources;

    private CheckpointFile(
            Path path,
            Format format,
            Map<String, TensorInfo> tensors,
            Map<String, BiFunction<String, NDManager, NDArray>> loaders,
            String stateDictKey,
            String strippedPrefix,
            Map<String, String> otherEntries,
            List<AutoCloseable> resources) {
        this.path = path;
        this.format = format;
        this.tensors = Collections.unmodifiableMap(tensors);
        this.loaders = loaders;
        this.stateDictKey = stateDictKey;
        this.strippedPrefix = strippedPrefix;
        this.otherEntries = Collections.unmodifiableMap(otherEntries);
        this.resources = resources;
    }

    /** Opens a checkpoint, detecting its format from its first bytes (or the index of a folder). */
    public static CheckpointFile open(Path path) {
        return open(path, "");
    }

    /**
     * Opens a checkpoint; for a training checkpoint dict, {@code stateDictKey} picks the entry to use ("" tries
     * {@link #STATE_DICT_KEYS} in order).
     */
    public static CheckpointFile open(Path path, String stateDictKey) {
        if (!Files.exists(path)) {
            throw new CheckpointException(path + ": no such file");
        }
        if (Files.isDirectory(path)) {
            Path index = path.resolve("model.safetensors.index.json");
            if (Files.isRegularFile(index)) {
                return openSharded(index);
            }
            Path single = path.resolve("model.safetensors");
            if (Files.isRegularFile(single)) {
                return openSafetensors(single);
            }
            throw new CheckpointException(
                    path + ": is a directory without model.safetensors.index.json or model.safetensors");
        }
        if (path.getFileName().toString().endsWith(".index.json")) {
            return openSharded(path);
        }
        byte[] head = new byte[9];
        int n;
        long size;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, head.length);
            size = Files.size(path);
        } catch (IOException e) {
            throw CheckpointIo.cannotRead(path, e);
        }
        if (n == 0) {
            throw new CheckpointException(path + ": file is empty, expected a checkpoint");
        }
        if (TorchFile.looksLike(head, n)) {
            return openTorch(path, stateDictKey);
        }
        if (n == 9 && head[8] == '{') {
            return openSafetensors(path);
        }
        if (n >= 8) {
            long headerLen =
                    ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLen > size - 8 || headerLen < 0) {
                throw new CheckpointException(path
                        + ": unrecognized checkpoint format: not a torch.save file, and as safetensors its header length "
                        + Long.toUnsignedString(headerLen) + " does not fit in the file of " + size + " bytes");
            }
        }
        throw new CheckpointException(
                path + ": unrecognized checkpoint format (expected safetensors, a torch.save zip or legacy file)");
    }

    private static CheckpointFile openSafetensors(Path path) {
        SafetensorsFile f = SafetensorsFile.open(path);
        Map<String, TensorInfo> infos = new LinkedHashMap<>();
        Map<String, BiFunction<String, NDManager, NDArray>> loaders = new LinkedHashMap<>();
        for (SafetensorsFile.Entry e : f.entries().values()) {
            infos.put(e.name(), new TensorInfo(e.name(), e.dtype(), e.shape()));
            loaders.put(e.name(), f::load);
        }
        return cleaned(path, Format.SAFETENSORS, infos, loaders, "", Map.of(), List.of(f));
    }

    private static CheckpointFile openSharded(Path index) {
        JsonObject o;
        try {
            JsonElement e = JsonParser.parseString(Files.readString(index, StandardCharsets.UTF_8));
            if (!e.isJsonObject()
                    || !e.getAsJsonObject().has("weight_map")
                    || !e.getAsJsonObject().get("weight_map").isJsonObject()) {
                throw new CheckpointException(
                        index + ": not a safetensors index: expected an object with a weight_map object");
            }
            o = e.getAsJsonObject().getAsJsonObject("weight_map");
        } catch (IOException e) {
            throw CheckpointIo.cannotRead(index, e);
        } catch (JsonParseException | IllegalStateException e) {
            throw new CheckpointException(index + ": not valid JSON: " + e.getMessage());
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, SafetensorsFile> shards = new LinkedHashMap<>();
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            Map<String, TensorInfo> infos = new LinkedHashMap<>();
            Map<String, BiFunction<String, NDManager, NDArray>> loaders = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : o.entrySet()) {
                String key = e.getKey();
                if (!e.getValue().isJsonPrimitive()) {
                    throw new CheckpointException(index + ": weight_map entry '" + key + "' is not a file name");
                }
                String file = e.getValue().getAsString();
                if (file.isEmpty()
                        || file.contains("/")
                        || file.contains("\\")
                        || file.equals("..")
                        || file.equals(".")) {
                    throw new CheckpointException(index + ": weight_map entry '" + key + "' names '" + file
                            + "', expected a file name beside the index");
                }
                SafetensorsFile shard = shards.get(file);
                if (shard == null) {
                    Path p = dir.resolve(file);
                    if (!Files.isRegularFile(p)) {
                        throw new CheckpointException(
                                index + ": shard '" + file + "' of entry '" + key + "' does not exist at " + p);
                    }
                    shard = SafetensorsFile.open(p);
                    shards.put(file, shard);
                    resources.add(shard);
                }
                if (!shard.entries().containsKey(key)) {
                    throw new CheckpointException(index + ": entry '" + key + "' is not in its shard " + shard.path());
                }
                SafetensorsFile.Entry se = shard.entry(key);
                infos.put(key, new TensorInfo(key, se.dtype(), se.shape()));
                loaders.put(key, shard::load);
            }
            for (SafetensorsFile s : shards.values()) {
                for (String k : s.keys()) {
                    if (!infos.containsKey(k)) {
                        throw new CheckpointException(index + ": shard "
                                + s.path().getFileName() + " holds '" + k + "', which the weight_map does not list");
                    }
                }
            }
            CheckpointFile f = cleaned(index, Format.SAFETENSORS_SHARDED, infos, loaders, "", Map.of(), resources);
            resources = null;
            return f;
        } finally {
            if (resources != null) {
                closeAll(resources);
            }
        }
    }

    private static CheckpointFile openTorch(Path path, String wantedKey) {
        TorchFile tf = TorchFile.open(path);
        try {
            Object root = tf.root();
            Map<String, String> others = new LinkedHashMap<>();
            String usedKey = "";
            Map<?, ?> sd;
            if (!(root instanceof Map<?, ?> top)) {
                throw new CheckpointException(path + ": holds a " + PickleReader.typeName(root)
                        + ", expected a state dict (a dict of tensors)");
            }
            if (wantedKey.isEmpty() && isStateDict(top)) {
                sd = top;
            } else {
                List<String> tries = wantedKey.isEmpty() ? STATE_DICT_KEYS : List.of(wantedKey);
                sd = null;
                for (String k : tries) {
                    if (top.get(k) instanceof Map<?, ?> m && isStateDict(m)) {
                        sd = m;
                        usedKey = k;
                        break;
                    }
                }
                if (sd == null) {
                    List<String> desc = new ArrayList<>();
                    for (Map.Entry<?, ?> e : top.entrySet()) {
                        desc.add(e.getKey() + " (" + PickleReader.typeName(e.getValue()) + ")");
                        if (desc.size() == 8) {
                            desc.add("…");
                            break;
                        }
                    }
                    throw new CheckpointException(path + ": no state dict found"
                            + (wantedKey.isEmpty() ? "" : " under '" + wantedKey + "'") + ": top-level entries are "
                            + String.join(", ", desc) + "; expected a dict of tensors, or one under "
                            + String.join(", ", tries));
                }
                for (Map.Entry<?, ?> e : top.entrySet()) {
                    if (!usedKey.equals(e.getKey())) {
                        others.put(String.valueOf(e.getKey()), summarize(tf, e.getValue()));
                    }
                }
            }
            Map<String, TensorInfo> infos = new LinkedHashMap<>();
            Map<String, BiFunction<String, NDManager, NDArray>> loaders = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : sd.entrySet()) {
                String key = (String) e.getKey();
                TorchFile.TensorRef t = (TorchFile.TensorRef) e.getValue();
                infos.put(key, new TensorInfo(key, t.dtype(), t.shape()));
                TorchFile file = tf;
                loaders.put(key, (k, m) -> file.load(t, m));
            }
            Format fmt = tf.layout() == TorchFile.Layout.ZIP ? Format.TORCH_ZIP : Format.TORCH_LEGACY;
            CheckpointFile f = cleaned(path, fmt, infos, loaders, usedKey, others, List.of(tf));
            tf = null;
            return f;
        } finally {
            if (tf != null) {
                tf.close();
            }
        }
    }

    private static boolean isStateDict(Map<?, ?> m) {
        if (m.isEmpty()) {
            return false;
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getKey() instanceof String) || !(e.getValue() instanceof TorchFile.TensorRef)) {
                return false;
            }
        }
        return true;
    }

    private static String summarize(TorchFile tf, Object v) {
        if (v instanceof TorchFile.TensorRef t) {
            String s = "tensor " + t.dtype() + " " + Arrays.toString(t.size());
            if (t.numel() == 1) {
                try (NDManager m = NDManager.newBaseManager();
                        NDArray a = tf.load(t, m)) {
                    if (t.dtype() == TensorDType.F64) {
                        s += " = " + a.toDoubleArray()[0];
                    } else if (t.dtype().isFloating()) {
                        s += " = " + a.toFloatArray()[0];
                    } else if (t.dtype() == TensorDType.BOOL) {
                        s += " = " + (a.toBooleanArray()[0] ? "True" : "False");
                    } else {
                        s += " = " + a.toType(DataType.INT64, false).toLongArray()[0];
                    }
                }
            }
            return s;
        }
        if (v instanceof Map<?, ?> m) {
            int tensors = countTensors(v, 0);
            return "dict of " + m.size() + " (" + keysOf(m) + ")" + (tensors > 0 ? ", " + tensors + " tensors" : "");
        }
        if (v instanceof List<?> || v instanceof PickleReader.Tuple) {
            return PickleReader.typeName(v) + " " + PickleReader.describe(v, 1);
        }
        return PickleReader.typeName(v) + " " + PickleReader.describe(v, 0);
    }

    private static String keysOf(Map<?, ?> m) {
        List<String> ks = new ArrayList<>();
        for (Object k : m.keySet()) {
            if (ks.size() == 5) {
                ks.add("…");
                break;
            }
            ks.add(String.valueOf(k));
        }
        return String.join(", ", ks);
    }

    private static int countTensors(Object v, int depth) {
        if (depth > 8) {
            return 0;
        }
        if (v instanceof TorchFile.TensorRef) {
            return 1;
        }
        int n = 0;
        if (v instanceof Map<?, ?> m) {
            for (Object o : m.values()) {
                n += countTensors(o, depth + 1);
            }
        } else if (v instanceof List<?> l) {
            for (Object o : l) {
                n += countTensors(o, depth + 1);
            }
        } else if (v instanceof PickleReader.Tuple t) {
            for (Object o : t.items()) {
                n += countTensors(o, depth + 1);
            }
        }
        return n;
    }

    /** Strips wrapper prefixes that every key has, then builds the view. */
    private static CheckpointFile cleaned(
            Path path,
            Format format,
            Map<String, TensorInfo> infos,
            Map<String, BiFunction<String, NDManager, NDArray>> loaders,
            String stateDictKey,
            Map<String, String> others,
            List<AutoCloseable> resources) {
        StringBuilder stripped = new StringBuilder();
        boolean again = true;
        while (again && !infos.isEmpty()) {
            again = false;
            for (String p : WRAPPER_PREFIXES) {
                if (infos.keySet().stream().allMatch(k -> k.startsWith(p) && k.length() > p.length())) {
                    Map<String, TensorInfo> ni = new LinkedHashMap<>();
                    Map<String, BiFunction<String, NDManager, NDArray>> nl = new LinkedHashMap<>();
                    for (Map.Entry<String, TensorInfo> e : infos.entrySet()) {
                        String nk = e.getKey().substring(p.length());
                        BiFunction<String, NDManager, NDArray> old = loaders.get(e.getKey());
                        String ok = e.getKey();
                        ni.put(
                                nk,
                                new TensorInfo(
                                        nk, e.getValue().dtype(), e.getValue().shape()));
                        nl.put(nk, (k, m) -> old.apply(ok, m));
                    }
                    infos = ni;
                    loaders = nl;
                    stripped.append(p);
                    again = true;
                    break;
                }
            }
        }
        return new CheckpointFile(
                path, format, infos, loaders, stateDictKey, stripped.toString(), others, new ArrayList<>(resources));
    }

    public Path path() {
        return path;
    }

    public Format format() {
        return format;
    }

    /** The state dict's entries in file order, keys after prefix stripping. */
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    /** The training checkpoint's entry holding the state dict, or "" for a plain state dict. */
    public String stateDictKey() {
        return stateDictKey;
    }

    /** The wrapper prefix removed from every key ({@code module.}), or "". */
    public String strippedPrefix() {
        return strippedPrefix;
    }

    /** A training checkpoint's other top-level entries, each with a one-line summary. */
    public Map<String, String> otherEntries() {
        return otherEntries;
    }

    /** Total elements of the floating-point entries (parameters and float buffers). */
    public long floatElements() {
        long n = 0;
        for (TensorInfo t : tensors.values()) {
            if (t.dtype().isFloating()) {
                n += t.shape().size();
            }
        }
        return n;
    }

    /** One entry as an NDArray in {@code manager}. */
    public NDArray load(String key, NDManager manager) {
        BiFunction<String, NDManager, NDArray> l = loaders.get(key);
        if (l == null) {
            throw new CheckpointException(path + ": no entry '" + key + "'");
        }
        return l.apply(key, manager);
    }

    /** Every entry, in file order. */
    public Map<String, NDArray> loadAll(NDManager manager) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (String k : tensors.keySet()) {
            out.put(k, load(k, manager));
        }
        return out;
    }

    private static void closeAll(List<AutoCloseable> rs) {
        for (AutoCloseable r : rs) {
            try {
                r.close();
            } catch (Exception ignored) {
                // closing read-only files
            }
        }
    }

    @Override
    public void close() {
        closeAll(resources);
    }
}
