package dev.jimm.hub;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * A {@code torch.save} file, read without Python: the zip format of PyTorch 1.6+ ({@code NAME/data.pkl} with storages
 * in {@code NAME/data/KEY}, a {@code byteorder} record) and the legacy format (a magic number, protocol version and
 * system-info pickles, the object pickle, the pickled list of storage keys, then each storage as an int64 element count
 * and raw data). The object pickle is read with {@link PickleReader} under an allow-list of the globals real tensor
 * checkpoints use; tensors come out as {@link TensorRef}s whose data is read on demand.
 */
public final class TorchFile implements AutoCloseable {
    /** Magic number of the legacy format (torch/serialization.py MAGIC_NUMBER). */
    static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);
    /** Legacy protocol version (torch/serialization.py PROTOCOL_VERSION). */
    static final long LEGACY_PROTOCOL = 1001;
    /** Largest data.pkl accepted: real ones are kilobytes to a few megabytes. */
    static final long MAX_PICKLE_BYTES = 256L << 20;

    /** The globals a tensor checkpoint needs; everything else is refused. */
    public static final Set<String> ALLOWED_GLOBALS = Set.of(
            "collections.OrderedDict",
            "torch._utils._rebuild_tensor",
            "torch._utils._rebuild_tensor_v2",
            "torch._utils._rebuild_parameter",
            "torch._utils._rebuild_parameter_with_state",
            "torch.FloatStorage",
            "torch.DoubleStorage",
            "torch.HalfStorage",
            "torch.BFloat16Storage",
            "torch.LongStorage",
            "torch.IntStorage",
            "torch.ShortStorage",
            "torch.CharStorage",
            "torch.ByteStorage",
            "torch.BoolStorage",
            "torch.Size",
            "torch.device");

    private static final Map<String, TensorDType> STORAGE_TYPES = Map.of(
            "FloatStorage", TensorDType.F32,
            "DoubleStorage", TensorDType.F64,
            "HalfStorage", TensorDType.F16,
            "BFloat16Storage", TensorDType.BF16,
            "LongStorage", TensorDType.I64,
            "IntStorage", TensorDType.I32,
            "ShortStorage", TensorDType.I16,
            "CharStorage", TensorDType.I8,
            "ByteStorage", TensorDType.U8,
            "BoolStorage", TensorDType.BOOL);

    /** A storage named by a persistent id: its key, element type and element count. */
    public record StorageRef(String key, TensorDType dtype, long numel, long viewOffset) {}

    /**
     * A tensor of the checkpoint: a strided view of a storage ({@code as_strided} semantics, offsets and strides in
     * elements).
     */
    public record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
        public Shape shape() {
            return new Shape(size);
        }

        public long numel() {
            long n = 1;
            for (long d : size) {
                n *= d;
            }
            return n;
        }

        public TensorDType dtype() {
            return storage.dtype();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof TensorRef t
                    && t.storage.equals(storage)
                    && t.offset == offset
                    && Arrays.equals(t.size, size)
                    && Arrays.equals(t.stride, stride);
        }

        @Override
        public int hashCode() {
            return storage.hashCode() * 31 + Arrays.hashCode(size);
        }

        @Override
        public String toString() {
            return "tensor " + storage.dtype() + " " + Arrays.toString(size);
        }
    }

    /** Which of the two layouts the file has. */
    public enum Layout {
        ZIP,
        LEGACY
    }

    private final Path path;
    private final Layout layout;
    private final Object root;
    private final ByteOrder order;
    private final ZipFile zip;
    private final String prefix;
    private final FileChannel channel;
    private final Map<String, Long> legacyOffsets;
    private String cachedKey;
    private ByteBuffer cachedData;

    private TorchFile(
            Path path,
            Layout layout,
            Object root,
            ByteOrder order,
            ZipFile zip,
            String prefix,
            FileChannel channel,
            Map<String, Long> legacyOffsets) {
        this.path = path;
        this.layout = layout;
        this.root = root;
        this.order = order;
        this.zip = zip;
        this.prefix = prefix;
        this.channel = channel;
        this.legacyOffsets = legacyOffsets;
    }

    /** Whether the first bytes look like a torch.save file (a zip, or a legacy pickle). */
    public static boolean looksLike(byte[] head, int n) {
        boolean zip = n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4;
        boolean legacy = n >= 3 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5 && (head[2] & 0xff) == 0x8a;
        return zip || legacy;
    }

    /** Opens and unpickles a file; tensor data is read later. */
    public static TorchFile open(Path path) {
        byte[] head = new byte[4];
        int n;
        try (InputStream in = Files.newInputStream(path)) {
            n = in.readNBytes(head, 0, 4);
        } catch (IOException e) {
            throw CheckpointIo.cannotRead(path, e);
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K') {
            return openZip(path);
        }
        return openLegacy(path);
    }

    /** The unpickled object: a state dict, or a training checkpoint dict. */
    public Object root() {
        return root;
    }

    public Layout layout() {
        return layout;
    }

    public Path path() {
        return path;
    }

    private static final class Hooks implements PickleReader.Hooks {
        final String where;
        final Map<String, StorageRef> storages = new HashMap<>();
        final boolean legacy;

        Hooks(String where, boolean legacy) {
            this.where = where;
            this.legacy = legacy;
        }

        @Override
        public Object persistentLoad(Object pid) {
            if (!(pid instanceof PickleReader.Tuple t) || t.size() < 5 || !"storage".equals(t.get(0))) {
                throw new CheckpointException(where + ": persistent id " + PickleReader.describe(pid, 2)
                        + " is not a storage reference ('storage', type, key, location, numel)");
            }
            if (!(t.get(1) instanceof PickleReader.Global g)
                    || !g.module().equals("torch")
                    || !STORAGE_TYPES.containsKey(g.name())) {
                throw new CheckpointException(where + ": storage type " + PickleReader.describe(t.get(1), 1)
                        + " is not supported; expected one of torch."
                        + String.join(", torch.", STORAGE_TYPES.keySet()));
            }
            if (!(t.get(2) instanceof String key) || !(t.get(4) instanceof Long numel) || numel < 0) {
                throw new CheckpointException(where + ": malformed storage reference " + PickleReader.describe(pid, 2));
            }
            TensorDType dtype = STORAGE_TYPES.get(g.name());
            StorageRef root = storages.get(key);
            if (root == null) {
                root = new StorageRef(key, dtype, numel, 0);
                storages.put(key, root);
            } else if (root.dtype() != dtype || root.numel() != numel) {
                throw new CheckpointException(where + ": storage '" + key + "' is referenced as " + dtype + "[" + numel
                        + "] and as " + root.dtype() + "[" + root.numel() + "]");
            }
            // legacy view_metadata: (view_key, offset, view_size) into the root storage
            if (legacy
                    && t.size() >= 6
                    && t.get(5) instanceof PickleReader.Tuple view
                    && view.size() == 3
                    && view.get(1) instanceof Long off
                    && view.get(2) instanceof Long size) {
                if (off < 0 || size < 0 || off + size > numel) {
                    throw new CheckpointException(where + ": storage view [" + off + ", " + (off + size) + ") of '"
                            + key + "' lies outside its " + numel + " elements");
                }
                return new StorageRef(key, dtype, size, off);
            }
            return root;
        }

        @Override
        public Object call(PickleReader.Global fn, PickleReader.Tuple args) {
            switch (fn.qualifiedName()) {
                case "collections.OrderedDict" -> {
                    Map<Object, Object> m = new LinkedHashMap<>();
                    if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
                        for (Object p : pairs) {
                            PickleReader.Tuple kv = (PickleReader.Tuple) p;
                            m.put(kv.get(0), kv.get(1));
                        }
                    } else if (args.size() != 0) {
                        throw new CheckpointException(
                                where + ": OrderedDict called with " + PickleReader.describe(args, 2));
                    }
                    return m;
                }
                case "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2" -> {
                    return tensor(args);
                }
                case "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state" -> {
                    if (!(args.get(0) instanceof TensorRef data)) {
                        throw new CheckpointException(where + ": parameter data is a "
                                + PickleReader.typeName(args.get(0)) + ", expected a tensor");
                    }
                    return data;
                }
                case "torch.Size" -> {
                    return args.size() == 0 ? new PickleReader.Tuple(List.of()) : args.get(0);
                }
                case "torch.device" -> {
                    return args.size() == 2 && args.get(1) != null
                            ? args.get(0) + ":" + args.get(1)
                            : String.valueOf(args.get(0));
                }
                default -> throw new CheckpointException(where + ": " + fn.qualifiedName() + " cannot be called");
            }
        }

        private TensorRef tensor(PickleReader.Tuple args) {
            if (args.size() < 4
                    || !(args.get(0) instanceof StorageRef storage)
                    || !(args.get(1) instanceof Long offset)) {
                throw new CheckpointException(where + ": _rebuild_tensor_v2 arguments " + PickleReader.describe(args, 1)
                        + " are not (storage, offset, size, stride, …)");
            }
            long[] size = longs(args.get(2), "size");
            long[] stride = longs(args.get(3), "stride");
            if (size.length != stride.length) {
                throw new CheckpointException(where + ": tensor size " + Arrays.toString(size) + " and stride "
                        + Arrays.toString(stride) + " differ in length");
            }
            long numel = 1;
            long last = offset;
            try {
                for (int i = 0; i < size.length; i++) {
                    if (size[i] < 0 || stride[i] < 0) {
                        throw new CheckpointException(where + ": tensor size " + Arrays.toString(size) + " / stride "
                                + Arrays.toString(stride) + " has a negative entry");
                    }
                    numel = Math.multiplyExact(numel, size[i]);
                    if (size[i] > 0) {
                        last = Math.addExact(last, Math.multiplyExact(size[i] - 1, stride[i]));
                    }
                }
            } catch (ArithmeticException e) {
                throw new CheckpointException(where + ": tensor size " + Arrays.toString(size) + " overflows");
            }
            if (offset < 0 || (numel > 0 && last >= storage.numel())) {
                throw new CheckpointException(where + ": tensor of size " + Arrays.toString(size) + ", stride "
                        + Arrays.toString(stride) + " at offset " + offset + " reaches element " + last
                        + " of storage '"
                        + storage.key() + "', which has " + storage.numel());
            }
            if (numel > Integer.MAX_VALUE) {
                throw new CheckpointException(where + ": tensor of size " + Arrays.toString(size)
                        + " has more elements than one array can hold");
            }
            return new TensorRef(storage, offset, size, stride);
        }

        private long[] longs(Object o, String what) {
            if (!(o instanceof PickleReader.Tuple t)) {
                throw new CheckpointException(
                        where + ": tensor " + what + " is a " + PickleReader.typeName(o) + ", expected a tuple");
            }
            long[] out = new long[t.size()];
            for (int i = 0; i < out.length; i++) {
                if (!(t.get(i) instanceof Long v)) {
                    throw new CheckpointException(
                            where + ": tensor " + what + " holds a " + PickleReader.typeName(t.get(i)));
                }
                out[i] = v;
            }
            return out;
        }
    }

    /** Unpickles a zip-format data.pkl held in memory, with the same allow-list and checks (for tests and tools). */
    static Object unpickle(byte[] pkl, String where) {
        return new PickleReader(
                        new ByteArrayInputStream(pkl), pkl.length, where, ALLOWED_GLOBALS, new Hooks(where, false))
                .read();
    }

    private static TorchFile openZip(Path path) {
        return CheckpointIo.openAndParse(path, () -> openZipFile(path), zip -> parseZip(path, zip));
    }

    private static ZipFile openZipFile(Path path) throws IOException {
        try {
            return new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new CheckpointException(path + ": not a valid torch.save zip archive: " + e.getMessage(), e);
        }
    }

    private static TorchFile parseZip(Path path, ZipFile zip) throws IOException {
        String prefix = null;
        Enumeration<? extends ZipEntry> en = zip.entries();
        while (en.hasMoreElements()) {
            String name = en.nextElement().getName();
            int slash = name.indexOf('/');
            if (slash > 0 && name.substring(slash).equals("/data.pkl")) {
                if (prefix != null) {
                    throw new CheckpointException(path + ": zip archive holds more than one data.pkl");
                }
                prefix = name.substring(0, slash + 1);
            }
        }
        if (prefix == null) {
            throw new CheckpointException(path + ": zip archive without NAME/data.pkl: not a torch.save file");
        }
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        ZipEntry bo = zip.getEntry(prefix + "byteorder");
        if (bo != null) {
            String s;
            try (InputStream in = zip.getInputStream(bo)) {
                s = new String(in.readNBytes(16), StandardCharsets.US_ASCII).trim();
            }
            if (s.equals("big")) {
                order = ByteOrder.BIG_ENDIAN;
            } else if (!s.equals("little")) {
                throw new CheckpointException(
                        path + ": " + prefix + "byteorder is '" + s + "', expected little or big");
            }
        }
        ZipEntry pkl = zip.getEntry(prefix + "data.pkl");
        if (pkl.getSize() > MAX_PICKLE_BYTES) {
            throw new CheckpointException(
                    path + ": " + pkl.getName() + " of " + pkl.getSize() + " bytes exceeds " + MAX_PICKLE_BYTES);
        }
        String where = path + " (" + pkl.getName() + ")";
        Hooks hooks = new Hooks(where, false);
        Object root;
        try (InputStream in = new BufferedInputStream(zip.getInputStream(pkl))) {
            long limit = pkl.getSize() >= 0 ? pkl.getSize() : MAX_PICKLE_BYTES;
            root = new PickleReader(in, limit, where, ALLOWED_GLOBALS, hooks).read();
        }
        for (StorageRef s : hooks.storages.values()) {
            ZipEntry e = zip.getEntry(prefix + "data/" + s.key());
            if (e == null) {
                throw new CheckpointException(
                        path + ": storage '" + s.key() + "' is missing: no entry " + prefix + "data/" + s.key());
            }
            long need = s.numel() * s.dtype().size();
            if (e.getSize() >= 0 && e.getSize() != need) {
                throw new CheckpointException(path + ": storage entry " + e.getName() + " holds " + e.getSize()
                        + " bytes but " + s.numel() + " elements of " + s.dtype() + " need " + need);
            }
        }
        return new TorchFile(path, Layout.ZIP, root, order, zip, prefix, null, Map.of());
    }

    private static TorchFile openLegacy(Path path) {
        return CheckpointIo.openAndParse(
                path, () -> FileChannel.open(path, StandardOpenOption.READ), ch -> parseLegacy(path, ch));
    }

    private static TorchFile parseLegacy(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        String where = path.toString();
        Hooks hooks = new Hooks(where, true);
        long dataStart;
        Object root;
        List<String> keys = new ArrayList<>();
        try (InputStream raw = Files.newInputStream(path);
                InputStream in = new BufferedInputStream(raw)) {
            PickleReader r = new PickleReader(in, size, where, ALLOWED_GLOBALS, hooks);
            Object magic = r.read();
            if (!(magic instanceof BigInteger b && b.equals(LEGACY_MAGIC))) {
                throw new CheckpointException(path + ": not a torch.save file: the first pickle is "
                        + PickleReader.describe(magic, 1) + ", not the legacy magic number");
            }
            Object proto = r.read();
            if (!Long.valueOf(LEGACY_PROTOCOL).equals(proto)) {
                throw new CheckpointException(path + ": legacy protocol version " + PickleReader.describe(proto, 1)
                        + ", expected " + LEGACY_PROTOCOL);
            }
            Object sysInfo = r.read();
            if (sysInfo instanceof Map<?, ?> m && Boolean.FALSE.equals(m.get("little_endian"))) {
                throw new CheckpointException(path + ": written on a big-endian machine, which is not supported");
            }
            root = r.read();
            Object keyList = r.read();
            if (!(keyList instanceof List<?> l)) {
                throw new CheckpointException(path + ": the storage key list is a " + PickleReader.typeName(keyList));
            }
            for (Object k : l) {
                if (!(k instanceof String s)) {
                    throw new CheckpointException(
                            path + ": storage key " + PickleReader.describe(k, 0) + " is not a string");
                }
                keys.add(s);
            }
            dataStart = r.position();
        }
        Map<String, Long> offsets = new HashMap<>();
        long p = dataStart;
        ByteBuffer nb = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        for (String k : keys) {
            StorageRef s = hooks.storages.get(k);
            if (s == null) {
                throw new CheckpointException(path + ": storage '" + k + "' is listed but no tensor uses it");
            }
            if (p + 8 > size) {
                throw new CheckpointException(
                        path + ": truncated: storage '" + k + "' starts at byte " + p + " of " + size);
            }
            nb.clear();
            while (nb.hasRemaining()) {
                if (ch.read(nb, p + nb.position()) < 0) {
                    throw new CheckpointException(path + ": truncated at byte " + p);
                }
            }
            long numel = nb.getLong(0);
            if (numel != s.numel()) {
                throw new CheckpointException(
                        path + ": storage '" + k + "' holds " + numel + " elements, the pickle says " + s.numel());
            }
            long bytes = numel * s.dtype().size();
            if (p + 8 + bytes > size) {
                throw new CheckpointException(path + ": truncated: storage '" + k + "' needs bytes " + (p + 8) + " to "
                        + (p + 8 + bytes) + " but the file has " + size);
            }
            offsets.put(k, p + 8);
            p += 8 + bytes;
        }
        for (String k : hooks.storages.keySet()) {
            if (!offsets.containsKey(k)) {
                throw new CheckpointException(
                        path + ": storage '" + k + "' is used by a tensor but missing from the storage list");
            }
        }
        return new TorchFile(path, Layout.LEGACY, root, ByteOrder.LITTLE_ENDIAN, null, null, ch, offsets);
    }

    private ByteBuffer storageData(StorageRef s) {
        if (s.key().equals(cachedKey)) {
            return cachedData;
        }
        ByteBuffer data;
        try {
            if (layout == Layout.LEGACY) {
                long off = legacyOffsets.get(s.key());
                // the root storage's element count is what the file holds; a view starts inside it
                data = channel.map(FileChannel.MapMode.READ_ONLY, off, rootBytes(s));
            } else {
                ZipEntry e = zip.getEntry(prefix + "data/" + s.key());
                long need = rootBytes(s);
                if (need > Integer.MAX_VALUE - 16) {
                    throw new CheckpointException(
                            path + ": storage '" + s.key() + "' of " + need + " bytes is larger than 2 GB");
                }
                byte[] b;
                try (InputStream in = zip.getInputStream(e)) {
                    b = in.readNBytes((int) need);
                }
                if (b.length != need) {
                    throw new CheckpointException(path + ": storage entry " + e.getName() + " is truncated: " + b.length
                            + " of " + need + " bytes");
                }
                data = ByteBuffer.wrap(b);
            }
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot read storage '" + s.key() + "': " + e.getMessage(), e);
        }
        cachedKey = s.key();
        cachedData = data.order(order);
        return cachedData;
    }

    private long rootBytes(StorageRef s) {
        // a legacy view's numel is the view's; the file holds the root storage, whose data starts at the recorded
        // offset
        return (s.viewOffset() + s.numel()) * s.dtype().size();
    }

    /** The raw elements of a tensor, gathered into row-major order (little-endian). */
    public ByteBuffer contiguousBytes(TensorRef t) {
        ByteBuffer src = storageData(t.storage()).duplicate().order(order);
        int e = t.dtype().size();
        int n = (int) t.numel();
        long base = t.storage().viewOffset() + t.offset();
        ByteBuffer out = ByteBuffer.allocate(n * e).order(ByteOrder.LITTLE_ENDIAN);
        long[] size = t.size();
        long[] stride = t.stride();
        boolean contiguous = true;
        long expect = 1;
        for (int i = size.length - 1; i >= 0; i--) {
            if (size[i] != 1 && stride[i] != expect) {
                contiguous = false;
            }
            expect *= size[i];
        }
        if (n == 0) {
            return out.flip();
        }
        if (contiguous && order == ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer slice = src.slice(Math.toIntExact(base * e), n * e);
            out.put(slice);
            return out.flip();
        }
        long[] idx = new long[size.length];
        byte[] el = new byte[e];
        for (int k = 0; k < n; k++) {
            long off = base;
            for (int d = 0; d < size.length; d++) {
                off += idx[d] * stride[d];
            }
            src.get(Math.toIntExact(off * e), el);
            if (order == ByteOrder.BIG_ENDIAN) {
                for (int i = e - 1; i >= 0; i--) {
                    out.put(el[i]);
                }
            } else {
                out.put(el);
            }
            for (int d = size.length - 1; d >= 0; d--) {
                if (++idx[d] < size[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return out.flip();
    }

    /** A tensor as an NDArray in {@code manager} (half precision widens to float32). */
    public NDArray load(TensorRef t, NDManager manager) {
        return Tensors.toNDArray(manager, contiguousBytes(t), t.dtype(), t.shape());
    }

    @Override
    public void close() {
        cachedData = null;
        try {
            if (zip != null) {
                zip.close();
            }
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            throw new CheckpointException(path + ": cannot close: " + e.getMessage(), e);
        }
    }
}
