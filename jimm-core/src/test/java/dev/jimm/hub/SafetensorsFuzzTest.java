package dev.jimm.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutated safetensors files (header bytes changed, length prefix changed, truncated, extended) each load completely or
 * give a {@link CheckpointException}. Fixed seed; {@code -Djimm.fuzz.safetensors=N}.
 */
class SafetensorsFuzzTest {
    @Test
    void mutatedSafetensorsLoadOrFailTyped(@TempDir Path dir) throws Exception {
        int trials = Integer.getInteger("jimm.fuzz.safetensors", 300);
        Path orig = dir.resolve("orig.safetensors");
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> t = new LinkedHashMap<>();
            t.put("conv.weight", m.arange(0f, 24f).reshape(new Shape(2, 3, 2, 2)));
            t.put("bn.num_batches_tracked", m.create(new long[] {7}));
            t.put("fc.bias", m.create(new float[] {1, 2, 3}));
            SafetensorsWriter.write(orig, t, Map.of("format", "pt"));
        }
        byte[] src = Files.readAllBytes(orig);
        int headerEnd = 8 + (int) (src[0] & 0xFF | (src[1] & 0xFF) << 8);
        Random r = new Random(20261201L);
        Path f = dir.resolve("m.safetensors");
        int[] outcome = new int[2];
        try (NDManager m = NDManager.newBaseManager()) {
            for (int trial = 0; trial < trials; trial++) {
                byte[] b = src.clone();
                switch (r.nextInt(4)) {
                    case 0 -> { // JSON header characters
                        for (int e = 1 + r.nextInt(3); e > 0; e--) {
                            b[8 + r.nextInt(headerEnd - 8)] = (byte)
                                    (r.nextBoolean() ? r.nextInt(128) : "0123456789[]{},\":-".charAt(r.nextInt(18)));
                        }
                    }
                    case 1 -> b[r.nextInt(8)] = (byte) r.nextInt(256); // the length prefix
                    case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length)); // truncated
                    default -> b = Arrays.copyOf(b, b.length + 1 + r.nextInt(64)); // trailing bytes
                }
                Files.write(f, b);
                try (SafetensorsFile sf = SafetensorsFile.open(f);
                        NDManager s = m.newSubManager()) {
                    for (String k : sf.keys()) {
                        sf.load(k, s);
                    }
                    outcome[0]++;
                } catch (CheckpointException expected) {
                    assertTrue(
                            expected.getMessage().contains(f.toString())
                                    || expected.getMessage().contains("m.safetensors"),
                            expected.getMessage());
                    outcome[1]++;
                } catch (Throwable e) {
                    throw new AssertionError("trial " + trial + " (seed 20261201) escaped with " + e, e);
                }
            }
        }
        System.out.println("SafetensorsFuzzTest: " + trials + " mutations, " + outcome[0] + " loaded, " + outcome[1]
                + " CheckpointException");
        assertEquals(trials, outcome[0] + outcome[1]);
        assertTrue(outcome[1] > trials / 4, "most mutations are refused: " + Arrays.toString(outcome));
    }
}
