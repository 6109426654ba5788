package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * Mutated image files (bit flips, random bytes, truncations, inserted and duplicated chunks, header fields set to
 * extreme values) each end in a correct decode or an {@link ImageDecodeException}, within 2 s of CPU and the pixel
 * limit. Fixed seed; {@code -Djimm.fuzz.images=N} (the fuzz profile) runs more.
 */
class ImageFuzzTest {
    private static final long MAX_PIXELS = 1 << 20;
    private static final long CPU_LIMIT_NANOS = 2_000_000_000L;

    /** Small seeds of every format the decoder reads. */
    private static Map<String, byte[]> seeds() throws Exception {
        Map<String, byte[]> m = new LinkedHashMap<>();
        for (String n : List.of("one_pixel.png", "palette_color.png", "no_time_for_that_tiny.gif")) {
            m.put(n, Files.readAllBytes(TestFiles.resource("images/odd/" + n)));
        }
        BufferedImage rgb = new BufferedImage(12, 9, BufferedImage.TYPE_INT_RGB);
        BufferedImage gray = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 9; y++) {
            for (int x = 0; x < 12; x++) {
                rgb.setRGB(x, y, (x * 20) << 16 | (y * 25) << 8 | (x * y));
                if (x < 8 && y < 8) {
                    gray.getRaster().setSample(x, y, 0, x * y * 4);
                }
            }
        }
        for (String fmt : List.of("jpeg", "png", "bmp", "gif", "tiff")) {
            m.put("small." + fmt, encode(rgb, fmt));
        }
        m.put("gray.jpeg", encode(gray, "jpeg"));
        m.put("gray.png", encode(gray, "png"));
        return m;
    }

    private static byte[] encode(BufferedImage img, String fmt) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(img, fmt, out), "no writer for " + fmt);
        return out.toByteArray();
    }

    static byte[] mutate(byte[] src, Random r) {
        byte[] m = src.clone();
        int kind = r.nextInt(6);
        switch (kind) {
            case 0 -> { // bit flips
                for (int e = 1 + r.nextInt(4); e > 0; e--) {
                    int at = r.nextInt(m.length);
                    m[at] ^= (byte) (1 << r.nextInt(8));
                }
            }
            case 1 -> { // random bytes
                for (int e = 1 + r.nextInt(8); e > 0; e--) {
                    m[r.nextInt(m.length)] = (byte) r.nextInt(256);
                }
            }
            case 2 -> m = Arrays.copyOf(m, r.nextInt(m.length)); // truncation
            case 3 -> { // inserted random chunk
                int at = r.nextInt(m.length + 1);
                byte[] chunk = new byte[1 + r.nextInt(64)];
                r.nextBytes(chunk);
                byte[] n = new byte[m.length + chunk.length];
                System.arraycopy(m, 0, n, 0, at);
                System.arraycopy(chunk, 0, n, at, chunk.length);
                System.arraycopy(m, at, n, at + chunk.length, m.length - at);
                m = n;
            }
            case 4 -> { // a header field (in the first 64 bytes) set to an extreme value
                int at = r.nextInt(Math.min(61, m.length - 3));
                int[] extremes = {0, 0xFF, 0x7F, 0x80};
                for (int i = 0; i < 4; i++) {
                    m[at + i] = (byte) extremes[r.nextInt(extremes.length)];
                }
            }
            default -> { // a chunk duplicated in place
                int from = r.nextInt(m.length);
                int len = 1 + r.nextInt(Math.min(256, m.length - from));
                byte[] n = new byte[m.length + len];
                System.arraycopy(m, 0, n, 0, from + len);
                System.arraycopy(m, from, n, from + len, m.length - from);
                m = n;
            }
        }
        return m;
    }

    @Test
    void mutatedImagesDecodeOrFailTypedWithinBoundedTimeAndMemory() throws Exception {
        int trials = Integer.getInteger("jimm.fuzz.images", 500);
        Map<String, byte[]> seeds = seeds();
        List<String> names = new ArrayList<>(seeds.keySet());
        ImageDecoder dec =
                new ImageDecoder(DecodeOptions.builder().maxPixels(MAX_PIXELS).build());
        for (String n : names) {
            DecodedImage img = dec.decode(seeds.get(n), Path.of(n));
            assertEquals(3, img.channels(), n);
        }
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        int[] outcome = new int[2];
        Random r = new Random(20261201L);
        assertTimeoutPreemptively(Duration.ofSeconds(Math.max(120, trials / 20)), () -> {
            for (int t = 0; t < trials; t++) {
                String n = names.get(r.nextInt(names.size()));
                byte[] m = mutate(seeds.get(n), r);
                Path name = Path.of("trial" + t + "-" + n);
                long cpu0 = mx.getCurrentThreadCpuTime();
                try {
                    DecodedImage img = dec.decode(m, name);
                    assertTrue((long) img.width() * img.height() <= MAX_PIXELS, name.toString());
                    assertEquals((long) img.width() * img.height() * 3, img.pixels().length, name.toString());
                    outcome[0]++;
                } catch (ImageDecodeException e) {
                    assertEquals(name, e.file());
                    assertTrue(e.getMessage().startsWith(name + ": "), e.getMessage());
                    outcome[1]++;
                } catch (Throwable e) {
                    throw new AssertionError(name + " (seed 20261201, trial " + t + ") escaped with " + e, e);
                }
                long cpu = mx.getCurrentThreadCpuTime() - cpu0;
                assertTrue(cpu < CPU_LIMIT_NANOS, name + " took " + cpu / 1e6 + " ms of CPU");
            }
        });
        System.out.println("ImageFuzzTest: " + trials + " mutations, " + outcome[0] + " decoded, " + outcome[1]
                + " ImageDecodeException");
        assertTrue(
                outcome[1] > trials / 10 && outcome[0] > trials / 20,
                "both outcomes occur: " + Arrays.toString(outcome));
    }
}
