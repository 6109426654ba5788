package dev.jimm.hub;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A restricted unpickler for {@code torch.save} files. It interprets the data-only opcodes that Python's pickle writes
 * (protocols 2 to 5) and resolves a global only if it is on an allow-list that the caller gives; any other global
 * ({@code posix system}, {@code builtins eval}, a model class…) is refused with a {@link CheckpointException} naming
 * it, at the GLOBAL opcode, before any call is made. Calls ({@code REDUCE}, {@code NEWOBJ}) go to the caller's
 * {@link Hooks}, which build Java values; nothing from the pickle is ever executed.
 *
 * <p>Python values become: {@code None} → null, bool → Boolean, int → Long (or BigInteger when it does not fit), float
 * → Double, str → String, bytes → byte[], list → ArrayList, tuple → {@link Tuple}, dict → LinkedHashMap, set →
 * LinkedHashSet, an allowed global → {@link Global}.
 */
public final class PickleReader {
    /** Largest integer (LONG1/LONG4) accepted, in bytes. */
    static final int MAX_LONG_BYTES = 64;
    /** Largest memo index accepted. */
    static final long MAX_MEMO = 50_000_000L;

    /** A Python tuple. */
    public record Tuple(List<Object> items) {
        public Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }

        public int size() {
            return items.size();
        }

        public Object get(int i) {
            return items.get(i);
        }
    }

    /** An allowed global ({@code module.name}) as a value: a class or function reference. */
    public record Global(String module, String name) {
        public String qualifiedName() {
            return module + "." + name;
        }
    }

    /** What the caller does with persistent ids and calls; both see only allowed globals. */
    public interface Hooks {
        /** The object for a persistent id (BINPERSID). */
        Object persistentLoad(Object pid);

        /** {@code callable(*args)} for REDUCE and NEWOBJ. */
        Object call(Global callable, Tuple args);
    }

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final InputStream in;
    private final String where;
    private final Set<String> allowed;
    private final Hooks hooks;
    private long pos;
    private final long limit;

    /**
     * A reader of {@code in}, at most {@code limit} bytes; {@code where} names the file in errors and {@code allowed}
     * holds the globals ({@code "module.name"}) that may appear.
     */
    public PickleReader(InputStream in, long limit, String where, Set<String> allowed, Hooks hooks) {
        this.in = in;
        this.limit = limit;
        this.where = where;
        this.allowed = Set.copyOf(allowed);
        this.hooks = hooks;
    }

    /** Bytes consumed so far. */
    public long position() {
        return pos;
    }

    private CheckpointException error(long at, String msg) {
        return new CheckpointException(where + ": pickle at byte " + at + ": " + msg);
    }

    private int u8() throws IOException {
        if (pos >= limit) {
            throw new EOFException();
        }
        int b = in.read();
        if (b < 0) {
            throw new EOFException();
        }
        pos++;
        return b;
    }

    private byte[] bytes(long n) throws IOException {
        if (n < 0 || n > limit - pos) {
            throw error(
                    pos,
                    "the pickle is truncated or corrupt: a value of " + n + " bytes runs past the end of the data ("
                            + (limit - pos) + " bytes left)");
        }
        if (n > Integer.MAX_VALUE - 16) {
            throw error(pos, "a value of " + n + " bytes is too large");
        }
        byte[] b = in.readNBytes((int) n);
        if (b.length != n) {
            throw new EOFException();
        }
        pos += n;
        return b;
    }

    private long le(int n) throws IOException {
        byte[] b = bytes(n);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    private String line() throws IOException {
        StringBuilder sb = new StringBuilder();
        while (true) {
            int c = u8();
            if (c == '\n') {
                return sb.toString();
            }
            if (sb.length() >= 256) {
                throw error(pos, "a GLOBAL name longer than 256 characters");
            }
            sb.append((char) c);
        }
    }

    private String utf8(byte[] b) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            throw error(pos, "a string that is not valid UTF-8");
        }
    }

    /** Reads one pickle (up to its STOP opcode) and returns its value. */
    public Object read() {
        List<Object> stack = new ArrayList<>();
        List<Integer> marks = new ArrayList<>();
        Map<Long, Object> memo = new HashMap<>();
        long start = pos;
        try {
            while (true) {
                long at = pos;
                int op = u8();
                switch (op) {
                    case 0x80 -> { // PROTO
                        int proto = u8();
                        if (proto > 5) {
                            throw error(at, "pickle protocol " + proto + " is not supported (at most 5)");
                        }
                    }
                    case 0x95 -> le(8); // FRAME: a length hint only
                    case '.' -> { // STOP
                        if (stack.size() != 1 || !marks.isEmpty()) {
                            throw error(at, "STOP with " + stack.size() + " values on the stack, expected 1");
                        }
                        return stack.get(0);
                    }
                    case '(' -> {
                        marks.add(stack.size());
                        stack.add(MARK);
                    }
                    case ')' -> stack.add(new Tuple(List.of()));
                    case 't' -> stack.add(new Tuple(popMark(stack, marks, at)));
                    case 0x85 -> stack.add(new Tuple(List.of(pop(stack, marks, at))));
                    case 0x86 -> {
                        Object b = pop(stack, marks, at);
                        Object a = pop(stack, marks, at);
                        stack.add(new Tuple(Arrays.asList(a, b)));
                    }
                    case 0x87 -> {
                        Object c = pop(stack, marks, at);
                        Object b = pop(stack, marks, at);
                        Object a = pop(stack, marks, at);
                        stack.add(new Tuple(Arrays.asList(a, b, c)));
                    }
                    case ']' -> stack.add(new ArrayList<>());
                    case 'l' -> stack.add(new ArrayList<>(popMark(stack, marks, at)));
                    case 'a' -> {
                        Object v = pop(stack, marks, at);
                        list(peek(stack, marks, at), at).add(v);
                    }
                    case 'e' -> {
                        List<Object> items = popMark(stack, marks, at);
                        list(peek(stack, marks, at), at).addAll(items);
                    }
                    case '}' -> stack.add(new LinkedHashMap<>());
                    case 'd' -> {
                        List<Object> items = popMark(stack, marks, at);
                        Map<Object, Object> m = new LinkedHashMap<>();
                        putAll(m, items, at);
                        stack.add(m);
                    }
                    case 's' -> {
                        Object v = pop(stack, marks, at);
                        Object k = pop(stack, marks, at);
                        dict(peek(stack, marks, at), at).put(key(k, at), v);
                    }
                    case 'u' -> {
                        List<Object> items = popMark(stack, marks, at);
                        putAll(dict(peek(stack, marks, at), at), items, at);
                    }
                    case 0x8f -> stack.add(new LinkedHashSet<>()); // EMPTY_SET
                    case 0x90 -> { // ADDITEMS
                        List<Object> items = popMark(stack, marks, at);
                        Object s = peek(stack, marks, at);
                        if (!(s instanceof Set<?>)) {
                            throw error(at, "ADDITEMS on a " + typeName(s));
                        }
                        for (Object o : items) {
                            @SuppressWarnings("unchecked")
                            Set<Object> set = (Set<Object>) s;
                            set.add(key(o, at));
                        }
                    }
                    case 0x91 -> { // FROZENSET
                        Set<Object> set = new LinkedHashSet<>();
                        for (Object o : popMark(stack, marks, at)) {
                            set.add(key(o, at));
                        }
                        stack.add(Collections.unmodifiableSet(set));
                    }
                    case 'N' -> stack.add(null);
                    case 0x88 -> stack.add(Boolean.TRUE);
                    case 0x89 -> stack.add(Boolean.FALSE);
                    case 'J' -> stack.add((long) (int) le(4));
                    case 'K' -> stack.add((long) u8());
                    case 'M' -> stack.add(le(2));
                    case 0x8a -> stack.add(longValue(bytes(u8()), at));
                    case 0x8b -> {
                        long n = (int) le(4);
                        if (n < 0 || n > MAX_LONG_BYTES) {
                            throw error(at, "an integer of " + n + " bytes (at most " + MAX_LONG_BYTES + " accepted)");
                        }
                        stack.add(longValue(bytes(n), at));
                    }
                    case 'G' ->
                        stack.add(ByteBuffer.wrap(bytes(8))
                                .order(ByteOrder.BIG_ENDIAN)
                                .getDouble());
                    case 'X' -> stack.add(utf8(bytes(le(4) & 0xffffffffL)));
                    case 0x8c -> stack.add(utf8(bytes(u8())));
                    case 0x8d -> stack.add(utf8(bytes(le(8))));
                    case 'T' -> stack.add(new String(bytes((int) le(4)), StandardCharsets.ISO_8859_1));
                    case 'U' -> stack.add(new String(bytes(u8()), StandardCharsets.ISO_8859_1));
                    case 'B' -> stack.add(bytes(le(4) & 0xffffffffL));
                    case 'C' -> stack.add(bytes(u8()));
                    case 0x8e, 0x96 -> stack.add(bytes(le(8)));
                    case 'q' -> memo.put((long) u8(), peek(stack, marks, at));
                    case 'r' -> memo.put(memoIndex(le(4) & 0xffffffffL, at), peek(stack, marks, at));
                    case 0x94 -> memo.put((long) memo.size(), peek(stack, marks, at));
                    case 'h' -> stack.add(memoGet(memo, u8(), at));
                    case 'j' -> stack.add(memoGet(memo, le(4) & 0xffffffffL, at));
                    case 'c' -> {
                        String module = line();
                        String name = line();
                        stack.add(global(module, name, at));
                    }
                    case 0x93 -> { // STACK_GLOBAL
                        Object name = pop(stack, marks, at);
                        Object module = pop(stack, marks, at);
                        if (!(module instanceof String m) || !(name instanceof String n)) {
                            throw error(
                                    at,
                                    "STACK_GLOBAL needs two strings, got " + typeName(module) + " and "
                                            + typeName(name));
                        }
                        stack.add(global(m, n, at));
                    }
                    case 'R' -> {
                        Object args = pop(stack, marks, at);
                        Object fn = pop(stack, marks, at);
                        stack.add(call(fn, args, at));
                    }
                    case 0x81 -> { // NEWOBJ: cls.__new__(cls, *args)
                        Object args = pop(stack, marks, at);
                        Object cls = pop(stack, marks, at);
                        stack.add(call(cls, args, at));
                    }
                    case 'b' -> { // BUILD: the state of allowed objects (OrderedDict's _metadata) is not needed
                        pop(stack, marks, at);
                        peek(stack, marks, at);
                    }
                    case 'Q' -> {
                        Object pid = pop(stack, marks, at);
                        stack.add(hooks.persistentLoad(pid));
                    }
                    case '0' -> pop(stack, marks, at);
                    case '1' -> popMark(stack, marks, at);
                    case '2' -> stack.add(peek(stack, marks, at));
                    default ->
                        throw error(
                                at,
                                String.format("unsupported pickle opcode 0x%02x", op)
                                        + (op == 'i' || op == 'o' || op == 0x92
                                                ? " (object construction is not allowed)"
                                                : ""));
                }
            }
        } catch (EOFException e) {
            throw new CheckpointException(
                    where + ": pickle starting at byte " + start + " is truncated: the data ends at byte " + pos
                            + " before its STOP opcode",
                    e);
        } catch (IOException e) {
            throw CheckpointIo.cannotRead(where, e);
        }
    }

    private Object global(String module, String name, long at) {
        String q = module + "." + name;
        if (!allowed.contains(q)) {
            throw new CheckpointException(
                    where + ": refused pickle global '" + module + " " + name + "' (" + q + ") at byte " + at
                            + ": only the globals a tensor checkpoint needs are allowed (collections.OrderedDict, torch._utils._rebuild_tensor_v2, "
                            + "torch.*Storage, …); nothing was executed");
        }
        return new Global(module, name);
    }

    private Object call(Object fn, Object args, long at) {
        if (!(fn instanceof Global g)) {
            throw error(at, "a call of a " + typeName(fn) + ", expected an allowed global");
        }
        if (!(args instanceof Tuple t)) {
            throw error(
                    at, "a call of " + g.qualifiedName() + " with " + typeName(args) + " arguments, expected a tuple");
        }
        try {
            return hooks.call(g, t);
        } catch (ClassCastException | IndexOutOfBoundsException | NullPointerException e) {
            throw error(at, "bad arguments for " + g.qualifiedName() + ": " + describe(t, 2));
        }
    }

    private long memoIndex(long i, long at) {
        if (i > MAX_MEMO) {
            throw error(at, "memo index " + i + " is too large");
        }
        return i;
    }

    private Object memoGet(Map<Long, Object> memo, long i, long at) {
        if (!memo.containsKey(i)) {
            throw error(at, "memo index " + i + " was never stored");
        }
        return memo.get(i);
    }

    private Object longValue(byte[] le, long at) {
        if (le.length > MAX_LONG_BYTES) {
            throw error(at, "an integer of " + le.length + " bytes (at most " + MAX_LONG_BYTES + " accepted)");
        }
        if (le.length == 0) {
            return 0L;
        }
        byte[] be = new byte[le.length];
        for (int i = 0; i < le.length; i++) {
            be[i] = le[le.length - 1 - i];
        }
        BigInteger b = new BigInteger(be);
        return b.bitLength() < 64 ? (Object) b.longValue() : b;
    }

    /** Dict keys must be hashable and cheap to hash: scalars, or tuples of scalars. */
    private Object key(Object k, long at) {
        if (k == null
                || k instanceof String
                || k instanceof Long
                || k instanceof Boolean
                || k instanceof Double
                || k instanceof BigInteger
                || k instanceof Global) {
            return k;
        }
        if (k instanceof Tuple t) {
            for (Object o : t.items()) {
                if (!(o == null
                        || o instanceof String
                        || o instanceof Long
                        || o instanceof Boolean
                        || o instanceof Double)) {
                    throw error(at, "a dict key tuple holding a " + typeName(o));
                }
            }
            return k;
        }
        throw error(at, "a dict or set key of type " + typeName(k));
    }

    private void putAll(Map<Object, Object> m, List<Object> items, long at) {
        if (items.size() % 2 != 0) {
            throw error(at, "an odd number of items (" + items.size() + ") for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            m.put(key(items.get(i), at), items.get(i + 1));
        }
    }

    @SuppressWarnings("unchecked")
    private List<Object> list(Object o, long at) {
        if (o instanceof ArrayList<?> l) {
            return (List<Object>) l;
        }
        throw error(at, "APPEND to a " + typeName(o) + ", expected a list");
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> dict(Object o, long at) {
        if (o instanceof LinkedHashMap<?, ?> m) {
            return (Map<Object, Object>) m;
        }
        throw error(at, "SETITEM on a " + typeName(o) + ", expected a dict");
    }

    private Object pop(List<Object> stack, List<Integer> marks, long at) {
        Object o = peek(stack, marks, at);
        stack.remove(stack.size() - 1);
        return o;
    }

    private Object peek(List<Object> stack, List<Integer> marks, long at) {
        if (stack.isEmpty() || stack.get(stack.size() - 1) == MARK) {
            throw error(at, "stack underflow");
        }
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark(List<Object> stack, List<Integer> marks, long at) {
        if (marks.isEmpty()) {
            throw error(at, "no MARK on the stack");
        }
        int m = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(m + 1, stack.size()));
        stack.subList(m, stack.size()).clear();
        return items;
    }

    /** A short type name of an unpickled value, for messages. */
    public static String typeName(Object o) {
        if (o == null) {
            return "None";
        }
        if (o instanceof String) {
            return "str";
        }
        if (o instanceof Long || o instanceof BigInteger) {
            return "int";
        }
        if (o instanceof Double) {
            return "float";
        }
        if (o instanceof Boolean) {
            return "bool";
        }
        if (o instanceof byte[]) {
            return "bytes";
        }
        if (o instanceof Tuple) {
            return "tuple";
        }
        if (o instanceof List<?>) {
            return "list";
        }
        if (o instanceof Map<?, ?>) {
            return "dict";
        }
        if (o instanceof Set<?>) {
            return "set";
        }
        if (o instanceof Global g) {
            return g.qualifiedName();
        }
        return o.getClass().getSimpleName();
    }

    /** A bounded one-line description of a value (depth-limited, long collections elided). */
    public static String describe(Object o, int depth) {
        StringBuilder sb = new StringBuilder();
        describe(o, depth, sb);
        return sb.length() > 200 ? sb.substring(0, 197) + "..." : sb.toString();
    }

    private static void describe(Object o, int depth, StringBuilder sb) {
        if (sb.length() > 200) {
            return;
        }
        if (o instanceof String s) {
            sb.append('\'')
                    .append(s.length() > 60 ? s.substring(0, 57) + "..." : s)
                    .append('\'');
        } else if (o == null || o instanceof Long || o instanceof Double || o instanceof BigInteger) {
            sb.append(o == null ? "None" : o);
        } else if (o instanceof Boolean b) {
            sb.append(b ? "True" : "False");
        } else if (o instanceof byte[] b) {
            sb.append("bytes[").append(b.length).append(']');
        } else if (depth <= 0
                && (o instanceof Tuple || o instanceof List<?> || o instanceof Map<?, ?> || o instanceof Set<?>)) {
            sb.append(typeName(o)).append(" of ").append(size(o));
        } else if (o instanceof Tuple t) {
            items(t.items(), depth, sb, "(", ")");
        } else if (o instanceof List<?> l) {
            items(l, depth, sb, "[", "]");
        } else if (o instanceof Set<?> s) {
            items(new ArrayList<>(s), depth, sb, "{", "}");
        } else if (o instanceof Map<?, ?> m) {
            sb.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (i > 0) {
                    sb.append(", ");
                }
                if (i++ == 4) {
                    sb.append("… ").append(m.size() - 4).append(" more");
                    break;
                }
                describe(e.getKey(), 0, sb);
                sb.append(": ");
                describe(e.getValue(), depth - 1, sb);
            }
            sb.append('}');
        } else {
            sb.append(o);
        }
    }

    private static int size(Object o) {
        if (o instanceof Tuple t) {
            return t.size();
        }
        if (o instanceof List<?> l) {
            return l.size();
        }
        if (o instanceof Map<?, ?> m) {
            return m.size();
        }
        return ((Set<?>) o).size();
    }

    private static void items(List<?> l, int depth, StringBuilder sb, String open, String close) {
        sb.append(open);
        for (int i = 0; i < l.size(); i++) {
            if (i > 0) {
                sb.append(", ");
            }
            if (i == 6) {
                sb.append("… ").append(l.size() - 6).append(" more");
                break;
            }
            describe(l.get(i), depth - 1, sb);
        }
        sb.append(close);
    }
}
