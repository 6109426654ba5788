package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import dev.jimm.cli.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hostile and broken files: a typed exception from the API, one line and a non-zero exit from the CLI. */
class HostileCheckpointTest {
    @TempDir
    Path dir;

    record Cli(int status, String out, String err) {}

    static Cli inspect(Path file) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(
                new String[] {"inspect-checkpoint", file.toString()}, new PrintWriter(out), new PrintWriter(err));
        return new Cli(status, out.toString(), err.toString());
    }

    /** The API throws CheckpointException whose message contains {@code expected}; the CLI prints it as one line. */
    static void assertRefused(Path file, String expected) {
        CheckpointException e = assertThrows(
                CheckpointException.class,
                () -> {
                    try (NDManager m = NDManager.newBaseManager()) {
                        Checkpoints.load(file, m);
                    }
                },
                file.toString());
        assertTrue(
                e.getMessage().contains(expected),
                "message '" + e.getMessage() + "' should contain '" + expected + "'");
        assertTrue(e.getMessage().contains(file.toString()), "message names the file: " + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        Cli r = inspect(file);
        assertNotEquals(0, r.status(), r.out() + r.err());
        assertEquals("", r.out());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("jimm: ") && r.err().contains(expected), r.err());
    }

    byte[] systemCall(String module, String name, Path marker) {
        return new Pickles()
                .proto(2)
                .global(module, name)
                .mark()
                .str("touch " + marker)
                .tuple()
                .reduce()
                .stop()
                .bytes();
    }

    @Test
    void picklesCallingSystemFunctionsAreRefusedBeforeAnythingRuns() throws Exception {
        Path marker = dir.resolve("pwned");
        Path zip = Pickles.torchZip(dir.resolve("posix.pth"), systemCall("posix", "system", marker), Map.of());
        assertRefused(zip, "refused pickle global 'posix system'");
        Path os = Pickles.torchZip(dir.resolve("os.pth"), systemCall("os", "system", marker), Map.of());
        assertRefused(os, "'os system'");
        // builtins.eval via STACK_GLOBAL (protocol 4), as a modern pickle would write it
        byte[] eval = new Pickles()
                .proto(4)
                .op(0x8c)
                .op(8)
                .raw("builtins".getBytes(StandardCharsets.US_ASCII))
                .op(0x8c)
                .op(4)
                .raw("eval".getBytes(StandardCharsets.US_ASCII))
                .op(0x93)
                .mark()
                .str("__import__('os').system('touch " + marker + "')")
                .tuple()
                .reduce()
                .stop()
                .bytes();
        assertRefused(Pickles.torchZip(dir.resolve("eval.pth"), eval, Map.of()), "'builtins eval'");
        // the legacy layout: magic number, protocol, sys_info, then the hostile object pickle
        byte[] legacy = concat(
                new Pickles()
                        .proto(2)
                        .op(0x8a)
                        .op(10)
                        .raw(
                                new BigInteger("1950a86a20f9469cfc6c", 16).toByteArray().length == 10
                                        ? reverse(new BigInteger("1950a86a20f9469cfc6c", 16).toByteArray())
                                        : new byte[0])
                        .stop()
                        .bytes(),
                new Pickles().proto(2).integer(1001).stop().bytes(),
                new Pickles().proto(2).emptyDict().stop().bytes(),
                systemCall("posix", "system", marker));
        Path lf = dir.resolve("legacy.pth");
        Files.write(lf, legacy);
        assertRefused(lf, "refused pickle global 'posix system'");
        // a whole model object (torch.save(model)) is refused the same way, naming the class
        byte[] model = new Pickles()
                .proto(2)
                .global("torchvision.models.squeezenet", "SqueezeNet")
                .emptyTuple()
                .op(0x81)
                .stop()
                .bytes();
        assertRefused(
                Pickles.torchZip(dir.resolve("model.pth"), model, Map.of()),
                "'torchvision.models.squeezenet SqueezeNet'");
        assertFalse(Files.exists(marker), "nothing was executed");
    }

    static byte[] reverse(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.writeBytes(p);
        }
        return o.toByteArray();
    }

    static byte[] safetensors(String header, int dataBytes) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return b.array();
    }

    @Test
    void brokenSafetensors() throws Exception {
        Path past = dir.resolve("past.safetensors");
        Files.write(past, safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8));
        assertRefused(past, "entry 'w' has data_offsets [0, 16] outside the data section of 8 bytes");
        Path size = dir.resolve("size.safetensors");
        Files.write(size, safetensors("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", 16));
        assertRefused(size, "shape [3] of F32 needs 12");
        Path dtype = dir.resolve("dtype.safetensors");
        Files.write(dtype, safetensors("{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16));
        assertRefused(dtype, "unknown dtype F128");
        Path longHeader = dir.resolve("long.safetensors");
        byte[] lh = safetensors("{}", 0);
        ByteBuffer.wrap(lh).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
        Files.write(longHeader, lh);
        assertRefused(longHeader, "header length 1099511627776 does not fit in the file of 10 bytes");
        // the real F32 file cut in half: its header is intact, its offsets now run past the end
        byte[] real = Files.readAllBytes(TorchCheckpointTest.weights("mobilenetv3_small_050.safetensors"));
        Path cut = dir.resolve("cut.safetensors");
        Files.write(cut, Arrays.copyOf(real, real.length / 2));
        assertRefused(cut, "outside the data section");
        Path headerCut = dir.resolve("headercut.safetensors");
        Files.write(headerCut, Arrays.copyOf(real, 200));
        assertRefused(headerCut, "does not fit in the file of 200 bytes");
    }

    @Test
    void emptyRandomAndTruncatedFiles() throws Exception {
        Path empty = dir.resolve("empty.pth");
        Files.write(empty, new byte[0]);
        assertRefused(empty, "file is empty");
        byte[] rnd = new byte[4096];
        new Random(42).nextBytes(rnd);
        Path random = dir.resolve("random.bin");
        Files.write(random, rnd);
        assertRefused(random, "unrecognized checkpoint format");
        byte[] zip = Files.readAllBytes(TorchCheckpointTest.weights("squeezenet1_1.pth"));
        Path tz = dir.resolve("truncated.pth");
        Files.write(tz, Arrays.copyOf(zip, zip.length - 1000));
        assertRefused(tz, "not a valid torch.save zip archive");
        byte[] legacy = Files.readAllBytes(TorchCheckpointTest.weights("squeezenet1_1.legacy.pth"));
        Path tl = dir.resolve("truncated.legacy.pth");
        Files.write(tl, Arrays.copyOf(legacy, legacy.length - 1000));
        assertRefused(tl, "truncated");
        Path tp = dir.resolve("truncated-pickle.legacy.pth");
        Files.write(tp, Arrays.copyOf(legacy, 4000)); // inside the object pickle
        assertRefused(tp, "is truncated");
        Path missing = dir.resolve("nope.pth");
        assertRefused(missing, "no such file");
    }

    @Test
    void legacyFilesCutAnywhereAreRefused() throws Exception {
        byte[] legacy = Files.readAllBytes(TorchCheckpointTest.weights("squeezenet1_1.legacy.pth"));
        Path f = dir.resolve("cut.pth");
        Random r = new Random(7);
        for (int i = 0; i < 25; i++) {
            int n = i < 5 ? 3 + i * 3000 : r.nextInt(legacy.length - 1) + 1;
            Files.write(f, Arrays.copyOf(legacy, n));
            assertThrows(CheckpointException.class, () -> CheckpointFile.open(f).close(), "cut at " + n);
        }
    }

    /** Random byte changes of the real data.pkl: each either loads or gives a CheckpointException, nothing else. */
    @Test
    void mutatedPicklesNeverEscapeTheTypedError() throws Exception {
        byte[] pkl;
        try (ZipFile z = new ZipFile(
                TorchCheckpointTest.weights("squeezenet1_1.checkpoint.pth").toFile())) {
            pkl = z.getInputStream(z.getEntry("squeezenet1_1.checkpoint/data.pkl"))
                    .readAllBytes();
        }
        assertInstanceOf(Map.class, TorchFile.unpickle(pkl, "orig"));
        Random r = new Random(1);
        int refused = 0;
        int trials = Integer.getInteger("jimm.fuzz.pickles", 2000);
        for (int trial = 0; trial < trials; trial++) {
            byte[] m = pkl.clone();
            int edits = 1 + r.nextInt(4);
            for (int e = 0; e < edits; e++) {
                int at = r.nextInt(m.length);
                m[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : m[at] ^ (1 << r.nextInt(8)));
            }
            if (r.nextInt(10) == 0) {
                m = Arrays.copyOf(m, r.nextInt(m.length));
            }
            try {
                TorchFile.unpickle(m, "trial " + trial);
            } catch (CheckpointException expected) {
                refused++;
                assertFalse(expected.getMessage().contains("\n"));
            }
        }
        assertTrue(refused > trials / 20, "most mutations break the pickle: " + refused);
    }

    @Test
    void picklesWithImpossibleLengthsOrIndicesAreRefused() {
        List<byte[]> bad = List.of(
                new Pickles()
                        .proto(2)
                        .op('X')
                        .raw(Pickles.le(0xfffffff0L, 4))
                        .stop()
                        .bytes(), // a 4 GB string
                new Pickles().proto(2).op('j').raw(Pickles.le(5, 4)).stop().bytes(), // memo never stored
                new Pickles()
                        .proto(2)
                        .op(0x8b)
                        .raw(Pickles.le(1 << 30, 4))
                        .stop()
                        .bytes(), // a 1 GB integer
                new Pickles().proto(2).op('s').stop().bytes(), // stack underflow
                new Pickles().proto(2).mark().mark().stop().bytes(),
                new Pickles().proto(9).none().stop().bytes(),
                new Pickles()
                        .proto(2)
                        .op('i')
                        .raw("os\nsystem\n".getBytes(StandardCharsets.US_ASCII))
                        .stop()
                        .bytes(),
                new Pickles()
                        .proto(2)
                        .global("torch._utils", "_rebuild_tensor_v2")
                        .mark()
                        .str("x")
                        .tuple()
                        .reduce()
                        .stop()
                        .bytes(),
                new Pickles().proto(2).none().op('Q').stop().bytes());
        for (byte[] b : bad) {
            assertThrows(
                    CheckpointException.class,
                    () -> TorchFile.unpickle(b, "bad"),
                    Arrays.toString(Arrays.copyOf(b, 12)));
        }
    }

    @Test
    void tensorsOutsideTheirStorageOrWithMissingStorageAreRefused() throws Exception {
        Map<String, byte[]> st = new LinkedHashMap<>();
        st.put("0", Pickles.floats(1, 2, 3, 4));
        byte[] over = new Pickles()
                .proto(2)
                .emptyDict()
                .str("w")
                .tensor("FloatStorage", "0", 4, 2, new long[] {2, 2}, new long[] {2, 1})
                .op('s')
                .stop()
                .bytes();
        assertRefused(
                Pickles.torchZip(dir.resolve("over.pth"), over, st), "reaches element 5 of storage '0', which has 4");
        byte[] missing = new Pickles()
                .proto(2)
                .emptyDict()
                .str("w")
                .tensor("FloatStorage", "9", 4, 0, new long[] {4}, new long[] {1})
                .op('s')
                .stop()
                .bytes();
        assertRefused(Pickles.torchZip(dir.resolve("missing.pth"), missing, st), "storage '9' is missing");
        byte[] wrongSize = new Pickles()
                .proto(2)
                .emptyDict()
                .str("w")
                .tensor("DoubleStorage", "0", 4, 0, new long[] {4}, new long[] {1})
                .op('s')
                .stop()
                .bytes();
        assertRefused(
                Pickles.torchZip(dir.resolve("size.pth"), wrongSize, st),
                "holds 16 bytes but 4 elements of F64 need 32");
        byte[] notTensors = new Pickles()
                .proto(2)
                .emptyDict()
                .str("epoch")
                .integer(3)
                .op('s')
                .stop()
                .bytes();
        assertRefused(
                Pickles.torchZip(dir.resolve("none.pth"), notTensors, st),
                "no state dict found: top-level entries are epoch (int)");
    }
}
