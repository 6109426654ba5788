package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.TestFixtures;
import dev.jimm.parity.ParityFixture;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real checkpoint files of fixtures/weights, read by jimm's own readers and checked independently. */
class TorchCheckpointTest {
    static Path weights(String name) {
        return TestFixtures.root().resolve("weights").resolve(name);
    }

    static Map<String, float[]> floats(Path file) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (NDManager m = NDManager.newBaseManager();
                CheckpointFile f = CheckpointFile.open(file)) {
            for (String k : f.tensors().keySet()) {
                try (NDArray a = f.load(k, m)) {
                    out.put(k, a.toType(DataType.FLOAT32, false).toFloatArray());
                }
            }
        }
        return out;
    }

    static Map<String, long[]> shapes(Path file) {
        Map<String, long[]> out = new LinkedHashMap<>();
        try (CheckpointFile f = CheckpointFile.open(file)) {
            f.tensors().forEach((k, t) -> out.put(k, t.shape().getShape()));
        }
        return out;
    }

    static void assertSameShapes(Map<String, long[]> expected, Map<String, long[]> actual, String what) {
        assertEquals(new ArrayList<>(expected.keySet()), new ArrayList<>(actual.keySet()), what + ": keys in order");
        expected.forEach((k, s) -> assertArrayEquals(s, actual.get(k), what + ": shape of " + k));
    }

    @Test
    void zipAndLegacyGiveTheSameStateDictAsTheParityFixtureDescribes() {
        Map<String, long[]> ref =
                ParityFixture.read(TestFixtures.parity("tv__squeezenet1_1")).stateDict();
        Path zip = weights("squeezenet1_1.pth");
        Path legacy = weights("squeezenet1_1.legacy.pth");
        Path ckpt = weights("squeezenet1_1.checkpoint.pth");
        assertSameShapes(ref, shapes(zip), "zip");
        assertSameShapes(ref, shapes(legacy), "legacy");
        assertSameShapes(ref, shapes(ckpt), "checkpoint dict");
        Map<String, float[]> a = floats(zip);
        Map<String, float[]> b = floats(legacy);
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), "zip vs legacy " + k);
        }
        try (CheckpointFile f = CheckpointFile.open(zip);
                CheckpointFile g = CheckpointFile.open(legacy)) {
            assertEquals(CheckpointFile.Format.TORCH_ZIP, f.format());
            assertEquals(CheckpointFile.Format.TORCH_LEGACY, g.format());
            assertEquals("", f.stateDictKey());
            assertEquals("", f.strippedPrefix());
            assertTrue(f.tensors().values().stream().allMatch(t -> t.dtype() == TensorDType.F32));
            assertEquals(1_235_496, f.floatElements());
        }
    }

    @Test
    void zipValuesAreTheRawStorageBytes() throws Exception {
        // features.0.weight is storage 0, contiguous; features.0.bias storage 1 (see the pickle)
        float[] w;
        float[] bias;
        try (ZipFile z = new ZipFile(weights("squeezenet1_1.pth").toFile())) {
            w = le(z.getInputStream(z.getEntry("squeezenet1_1/data/0")).readAllBytes());
            bias = le(z.getInputStream(z.getEntry("squeezenet1_1/data/1")).readAllBytes());
        }
        Map<String, float[]> sd = floats(weights("squeezenet1_1.pth"));
        assertEquals(64 * 27, w.length);
        assertArrayEquals(w, sd.get("features.0.weight"));
        assertArrayEquals(bias, sd.get("features.0.bias"));
        assertNotEquals(0f, w[0]);
    }

    static float[] le(byte[] b) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.length / 4];
        for (int i = 0; i < f.length; i++) {
            f[i] = bb.getFloat();
        }
        return f;
    }

    @Test
    void trainingCheckpointIsOneSgdStepFromItsOptimizerState() {
        Path ckpt = weights("squeezenet1_1.checkpoint.pth");
        Map<String, float[]> before = floats(weights("squeezenet1_1.pth"));
        Map<String, float[]> after = floats(ckpt);
        try (CheckpointFile f = CheckpointFile.open(ckpt)) {
            assertEquals("state_dict", f.stateDictKey());
            assertEquals("module.", f.strippedPrefix());
            assertEquals(
                    List.of("epoch", "arch", "best_acc1", "optimizer"),
                    new ArrayList<>(f.otherEntries().keySet()));
            assertEquals("int 5", f.otherEntries().get("epoch"));
            assertEquals("str 'squeezenet1_1'", f.otherEntries().get("arch"));
            assertEquals("tensor F32 [] = 58.1", f.otherEntries().get("best_acc1"));
        }
        // SGD(lr=0.1, momentum=0.9), first step: buf = grad, p -= 0.1 * buf. Parameters in state_dict order.
        try (TorchFile tf = TorchFile.open(ckpt);
                NDManager m = NDManager.newBaseManager()) {
            Map<?, ?> root = (Map<?, ?>) tf.root();
            Map<?, ?> state = (Map<?, ?>) ((Map<?, ?>) root.get("optimizer")).get("state");
            List<?> groups = (List<?>) ((Map<?, ?>) root.get("optimizer")).get("param_groups");
            assertEquals(0.1, ((Map<?, ?>) groups.get(0)).get("lr"));
            assertEquals(Boolean.FALSE, ((Map<?, ?>) groups.get(0)).get("nesterov"));
            int i = 0;
            double worst = 0;
            for (String k : before.keySet()) {
                TorchFile.TensorRef buf =
                        (TorchFile.TensorRef) ((Map<?, ?>) state.get((long) i++)).get("momentum_buffer");
                float[] g = tf.load(buf, m).toFloatArray();
                float[] b = before.get(k);
                float[] a = after.get(k);
                for (int j = 0; j < b.length; j++) {
                    worst = Math.max(worst, Math.abs((b[j] - 0.1f * g[j]) - a[j]));
                }
            }
            assertEquals(52, i);
            assertTrue(worst < 1e-6, "max deviation from p - lr*buf: " + worst);
        }
        assertFalse(
                Arrays.equals(before.get("classifier.1.bias"), after.get("classifier.1.bias")),
                "the checkpoint was saved after a step");
    }

    @Test
    void shardsAndBf16AreTheF32ValuesRoundedToBf16() throws Exception {
        Path single = weights("mobilenetv3_small_050.safetensors");
        Map<String, float[]> f32 = floats(single);
        Map<String, float[]> sharded = floats(weights("mobilenetv3_small_050.sharded"));
        Map<String, float[]> viaIndex = floats(weights("mobilenetv3_small_050.sharded/model.safetensors.index.json"));
        Map<String, float[]> bf16 = floats(weights("mobilenetv3_small_050.bf16.safetensors"));
        // safetensors headers list entries in their own order (by dtype and name), not the state dict's
        assertEquals(new TreeSet<>(f32.keySet()), new TreeSet<>(sharded.keySet()));
        assertEquals(new TreeSet<>(f32.keySet()), new TreeSet<>(bf16.keySet()));
        Map<String, long[]> ref = ParityFixture.read(TestFixtures.parity("timm__mobilenetv3_small_050"))
                .stateDict();
        Map<String, long[]> got = shapes(single);
        assertEquals(ref.size(), got.size(), "number of entries");
        ref.forEach((k, sh) -> assertArrayEquals(sh, got.get(k), "shape of " + k));
        for (String k : f32.keySet()) {
            // The shards hold F32 tensors whose values are the BF16 ones: make_weights.py rounded the
            // model's parameters in place (load_state_dict of the bf16 dict) before writing the shards,
            // and its `sd` shared their storage. So the shards equal the BF16 file, widened, exactly.
            assertArrayEquals(bf16.get(k), sharded.get(k), k);
            assertArrayEquals(sharded.get(k), viaIndex.get(k), k);
            float[] r = f32.get(k);
            float[] h = bf16.get(k);
            for (int i = 0; i < r.length; i++) {
                if (!k.endsWith("num_batches_tracked")) {
                    assertEquals(toBf16(r[i]), h[i], k + "[" + i + "]");
                }
            }
        }
        try (CheckpointFile f = CheckpointFile.open(weights("mobilenetv3_small_050.bf16.safetensors"));
                CheckpointFile s = CheckpointFile.open(weights("mobilenetv3_small_050.sharded"))) {
            assertEquals(TensorDType.BF16, f.tensors().get("conv_stem.weight").dtype());
            assertEquals(
                    TensorDType.I64, f.tensors().get("bn1.num_batches_tracked").dtype());
            assertEquals(CheckpointFile.Format.SAFETENSORS_SHARDED, s.format());
        }
        // known values, read from the raw bytes independently of SafetensorsFile
        byte[] all = Files.readAllBytes(single);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        JsonObject h = JsonParser.parseString(new String(all, 8, n, StandardCharsets.UTF_8))
                .getAsJsonObject();
        for (String k : List.of("conv_stem.weight", "classifier.bias", "blocks.5.0.bn1.running_var")) {
            long begin =
                    h.getAsJsonObject(k).getAsJsonArray("data_offsets").get(0).getAsLong();
            for (int i = 0; i < 3; i++) {
                assertEquals(bb.getFloat((int) (8 + n + begin + 4L * i)), f32.get(k)[i], k + "[" + i + "]");
            }
        }
    }

    /** float32 to bfloat16 (round to nearest even) and back, as torch's .to(torch.bfloat16). */
    static float toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int rounded = (bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000;
        return Float.intBitsToFloat(rounded);
    }

    @Test
    void stridedViewsOffsetsAndDtypes(@TempDir Path dir) throws Exception {
        // storage '0': 12 floats 0..11; 'a' = view [3,2] stride [1,3] at offset 0 (a transpose);
        // 'b' = [2,2] stride [4,1] at offset 5; 'c' = expanded [2,3] stride [0,1] at offset 9 → needs 9+2 < 12
        float[] base = new float[12];
        for (int i = 0; i < 12; i++) {
            base[i] = i;
        }
        Pickles p = new Pickles()
                .proto(2)
                .global("collections", "OrderedDict")
                .emptyTuple()
                .reduce()
                .mark();
        p.str("a").tensor("FloatStorage", "0", 12, 0, new long[] {3, 2}, new long[] {1, 3});
        p.str("b").tensor("FloatStorage", "0", 12, 5, new long[] {2, 2}, new long[] {4, 1});
        p.str("c").tensor("FloatStorage", "0", 12, 9, new long[] {2, 3}, new long[] {0, 1});
        p.str("h").tensor("HalfStorage", "1", 2, 0, new long[] {2}, new long[] {1});
        p.str("bf").tensor("BFloat16Storage", "2", 2, 1, new long[] {1}, new long[] {1});
        p.str("d").tensor("DoubleStorage", "3", 1, 0, new long[] {}, new long[] {});
        p.str("l").tensor("LongStorage", "4", 2, 0, new long[] {2}, new long[] {1});
        p.str("i").tensor("IntStorage", "5", 2, 0, new long[] {2}, new long[] {1});
        p.str("u").tensor("ByteStorage", "6", 3, 0, new long[] {3}, new long[] {1});
        p.str("z").tensor("BoolStorage", "7", 2, 0, new long[] {2}, new long[] {1});
        p.setitems().stop();
        Map<String, byte[]> st = new LinkedHashMap<>();
        st.put("0", Pickles.floats(base));
        st.put("1", new byte[] {0x00, 0x3c, 0x00, (byte) 0xc0}); // 1.0, -2.0 in binary16
        st.put("2", new byte[] {0x00, 0x00, (byte) 0xc0, 0x3f}); // bf16: 0, 1.5
        st.put(
                "3",
                ByteBuffer.allocate(8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putDouble(Math.PI)
                        .array());
        st.put(
                "4",
                ByteBuffer.allocate(16)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(-3)
                        .putLong(1L << 40)
                        .array());
        st.put(
                "5",
                ByteBuffer.allocate(8)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putInt(7)
                        .putInt(-8)
                        .array());
        st.put("6", new byte[] {0, (byte) 200, (byte) 255});
        st.put("7", new byte[] {1, 0});
        Path file = Pickles.torchZip(dir.resolve("views.pth"), p.bytes(), st);
        try (NDManager m = NDManager.newBaseManager();
                CheckpointFile f = CheckpointFile.open(file)) {
            assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, f.load("a", m).toFloatArray());
            assertArrayEquals(new long[] {3, 2}, f.load("a", m).getShape().getShape());
            assertArrayEquals(new float[] {5, 6, 9, 10}, f.load("b", m).toFloatArray());
            assertArrayEquals(new float[] {9, 10, 11, 9, 10, 11}, f.load("c", m).toFloatArray());
            assertArrayEquals(new float[] {1, -2}, f.load("h", m).toFloatArray());
            assertEquals(DataType.FLOAT32, f.load("h", m).getDataType());
            assertArrayEquals(new float[] {1.5f}, f.load("bf", m).toFloatArray());
            NDArray d = f.load("d", m);
            assertEquals(DataType.FLOAT64, d.getDataType());
            assertEquals(0, d.getShape().dimension());
            assertEquals(Math.PI, d.toDoubleArray()[0]);
            assertArrayEquals(new long[] {-3, 1L << 40}, f.load("l", m).toLongArray());
            assertArrayEquals(new int[] {7, -8}, f.load("i", m).toIntArray());
            assertArrayEquals(new int[] {0, 200, 255}, f.load("u", m).toUint8Array());
            assertArrayEquals(new boolean[] {true, false}, f.load("z", m).toBooleanArray());
            assertEquals(TensorDType.F16, f.tensors().get("h").dtype());
            assertEquals(TensorDType.BOOL, f.tensors().get("z").dtype());
        }
    }

    @Test
    void keyMappingAndTorchvisionDenseNetKeys() {
        Map<String, Integer> sd = new LinkedHashMap<>();
        sd.put("features.denseblock1.denselayer1.norm.1.weight", 1);
        sd.put("features.denseblock1.denselayer1.conv.2.weight", 2);
        sd.put("features.denseblock4.denselayer16.norm.2.running_var", 3);
        sd.put("features.norm5.weight", 4);
        sd.put("classifier.weight", 5);
        Map<String, Integer> fixed = KeyMapping.torchvisionDenseNet(sd);
        assertEquals(
                List.of(
                        "features.denseblock1.denselayer1.norm1.weight",
                        "features.denseblock1.denselayer1.conv2.weight",
                        "features.denseblock4.denselayer16.norm2.running_var",
                        "features.norm5.weight",
                        "classifier.weight"),
                new ArrayList<>(fixed.keySet()));
        KeyMapping km = KeyMapping.builder()
                .stripPrefix("backbone.")
                .renamePrefix("fc.", "head.fc.")
                .rename("cls", "head.cls")
                .build();
        Map<String, Integer> in = new LinkedHashMap<>();
        in.put("backbone.conv1.weight", 1);
        in.put("fc.weight", 2);
        in.put("backbone.cls", 3);
        assertEquals(
                List.of("conv1.weight", "head.fc.weight", "head.cls"),
                new ArrayList<>(km.apply(in, "x").keySet()));
        Map<String, Integer> clash = new LinkedHashMap<>();
        clash.put("backbone.a", 1);
        clash.put("a", 2);
        CheckpointException e = assertThrows(
                CheckpointException.class,
                () -> KeyMapping.builder().stripPrefix("backbone.").build().apply(clash, "ck.pth"));
        assertTrue(e.getMessage().contains("'backbone.a' and 'a'"), e.getMessage());
    }
}
