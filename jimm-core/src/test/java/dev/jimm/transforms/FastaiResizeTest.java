package dev.jimm.transforms;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import dev.jimm.data.DecodedImage;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FastaiResizeTest {
    /** Gray image with value 10 * y + x, so every pixel names its source position. */
    static DecodedImage positions(int w, int h) {
        byte[] px = new byte[w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                px[y * w + x] = (byte) (10 * y + x);
            }
        }
        return new DecodedImage(w, h, 1, px, "test");
    }

    static int[][] rows(DecodedImage img) {
        int[][] r = new int[img.height()][img.width()];
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                r[y][x] = img.get(x, y, 0);
            }
        }
        return r;
    }

    @Test
    void referenceCasesMatchPillowAndTorchvision() throws IOException {
        // scripts/fastai_aug_reference.py: fastai's Resize on PIL images with torchvision's reflect pad
        JsonObject ref = FastaiAugmentTest.json("/transforms/fastai_resize_reference.json");
        int n = 0;
        for (JsonElement e : ref.getAsJsonArray("cases")) {
            JsonObject cs = e.getAsJsonObject();
            String name = cs.get("name").getAsString();
            DecodedImage img = new DecodedImage(
                    cs.get("width").getAsInt(),
                    cs.get("height").getAsInt(),
                    cs.get("channels").getAsInt(),
                    bytes(cs.getAsJsonArray("pixels")),
                    "test");
            FastaiResize r = new FastaiResize(
                    cs.get("targetHeight").getAsInt(),
                    cs.get("targetWidth").getAsInt(),
                    ResizeMethod.parse(cs.get("method").getAsString()),
                    cs.get("training").getAsBoolean());
            JsonArray pcts = cs.getAsJsonArray("pcts");
            DecodedImage got =
                    r.apply(img, pcts.get(0).getAsDouble(), pcts.get(1).getAsDouble());
            assertEquals(r.width(), got.width(), name);
            assertEquals(r.height(), got.height(), name);
            assertArrayEquals(bytes(cs.getAsJsonArray("expected")), got.pixels(), name);
            if (!r.training()) {
                assertArrayEquals(
                        got.pixels(), r.apply(img, new SplittableRandom(n)).pixels(), name);
            }
            n++;
        }
        assertEquals(8, n, "reference cases");
    }

    private static byte[] bytes(JsonArray a) {
        byte[] b = new byte[a.size()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) a.get(i).getAsInt();
        }
        return b;
    }

    @Test
    void cropTakesTheBoxChosenByThePcts() {
        // 8x4 to 4x4: the crop box is 4x4 (no resampling), at int(pct * 4) from the left
        FastaiResize wide = new FastaiResize(4, 4, ResizeMethod.CROP, true);
        DecodedImage img = positions(8, 4);
        assertEquals(2, rows(wide.apply(img, 0.5, 0.5))[0][0]);
        assertEquals(1, rows(wide.apply(img, 0.3, 0.9))[0][0]); // int(1.2)
        assertArrayEquals(new int[] {34, 35, 36, 37}, rows(wide.apply(img, 1.0, 0.0))[3]);
        // 3x7 to 3x3: the box moves down instead
        FastaiResize tall = new FastaiResize(3, 3, ResizeMethod.CROP, false);
        assertArrayEquals(new int[][] {{20, 21, 22}, {30, 31, 32}, {40, 41, 42}}, rows(tall.apply(positions(3, 7))));
    }

    @Test
    void padReflectsWithoutRepeatingTheEdge() {
        // 4x2 to 4x4: box 4x4, tl y = int(0.5 * -2) = -1, so one row above and one below, mirrored
        FastaiResize pad = new FastaiResize(4, 4, ResizeMethod.PAD, false);
        int[] r0 = {0, 1, 2, 3}, r1 = {10, 11, 12, 13};
        assertArrayEquals(new int[][] {r1, r0, r1, r0}, rows(pad.apply(positions(4, 2))));
        // pct 1: tl y = -2, both rows above
        assertArrayEquals(new int[][] {r0, r1, r0, r1}, rows(pad.apply(positions(4, 2), 0.5, 1.0)));
        // pct 0: tl y = 0, so fastai crops (a no-op) and never pads: the 4x2 image is stretched
        DecodedImage stretched = pad.apply(positions(4, 2), 0.5, 0.0);
        assertArrayEquals(
                PillowResize.resize(positions(4, 2), 4, 4, Interpolation.BILINEAR)
                        .pixels(),
                stretched.pixels());
        // 2x4 to 4x4: columns this time
        assertArrayEquals(new int[] {1, 0, 1, 0}, rows(pad.apply(positions(2, 4)))[0]);
        assertArrayEquals(new int[] {31, 30, 31, 30}, rows(pad.apply(positions(2, 4)))[3]);
        // pads wider than the image keep mirroring (numpy's "reflect"); a 1-pixel side is repeated
        DecodedImage strip = new DecodedImage(3, 1, 1, new byte[] {10, 20, 30}, "test");
        assertArrayEquals(
                new int[] {10, 20, 30, 20, 10, 20, 30, 20, 10, 20, 30, 20},
                rows(FastaiResize.padReflect(strip, 4, 0, 5, 0))[0]);
        assertArrayEquals(
                new int[][] {{10, 20, 30}, {10, 20, 30}, {10, 20, 30}},
                rows(FastaiResize.padReflect(strip, 0, 1, 0, 1)));
    }

    @Test
    void squishResizesTheWholeImage() {
        DecodedImage img = positions(9, 5);
        FastaiResize squish = new FastaiResize(7, 4, ResizeMethod.SQUISH, true);
        assertArrayEquals(
                PillowResize.resize(img, 4, 7, Interpolation.BILINEAR).pixels(),
                squish.apply(img, new SplittableRandom(1)).pixels());
        assertSame(img, new FastaiResize(5, 9, ResizeMethod.SQUISH, true).apply(img, new SplittableRandom(1)));
    }

    @Test
    void validationIsCentredAndTrainingVariesWithTheSeed() {
        DecodedImage img = positions(20, 9);
        for (ResizeMethod m : new ResizeMethod[] {ResizeMethod.CROP, ResizeMethod.PAD}) {
            FastaiResize valid = new FastaiResize(6, 6, m, false);
            byte[] centre = valid.apply(img, 0.5, 0.5).pixels();
            FastaiResize train = new FastaiResize(6, 6, m, true);
            Set<String> seen = new HashSet<>();
            for (int s = 0; s < 20; s++) {
                assertArrayEquals(
                        centre, valid.apply(img, new SplittableRandom(s)).pixels(), m.cliName());
                byte[] a = train.apply(img, new SplittableRandom(s)).pixels();
                assertArrayEquals(a, train.apply(img, new SplittableRandom(s)).pixels(), "same seed, same box");
                seen.add(Arrays.toString(a));
            }
            assertTrue(seen.size() > 3, m.cliName() + " gave " + seen.size() + " distinct training outputs");
        }
    }

    @Test
    void outputAlwaysHasTheTargetSize() {
        int[][] sizes = {{1, 1}, {1, 9}, {9, 1}, {5, 17}, {17, 5}, {64, 48}, {48, 64}, {30, 30}};
        int[][] targets = {{8, 8}, {6, 10}, {10, 6}};
        SplittableRandom rng = new SplittableRandom(11);
        for (int[] s : sizes) {
            for (int ch : new int[] {1, 3}) {
                byte[] px = new byte[s[0] * s[1] * ch];
                rng.nextBytes(px);
                DecodedImage img = new DecodedImage(s[0], s[1], ch, px, "test");
                for (int[] t : targets) {
                    for (ResizeMethod m : ResizeMethod.values()) {
                        for (boolean training : new boolean[] {false, true}) {
                            DecodedImage out = Transforms.fastaiResize(t[0], t[1], m, training)
                                    .apply(img, rng);
                            String what = s[0] + "x" + s[1] + " -> " + m + " " + t[0] + "x" + t[1];
                            assertEquals(t[1], out.width(), what);
                            assertEquals(t[0], out.height(), what);
                            assertEquals(ch, out.channels(), what);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aThinImageKeepsAOnePixelBox() {
        // 1x9 cropped to 10 wide x 6 high: m = 0.1 and int(0.1 * 6) = 0 rows; we keep the centre pixel
        DecodedImage out = new FastaiResize(6, 10, ResizeMethod.CROP, false).apply(positions(1, 9));
        for (byte b : out.pixels()) {
            assertEquals(40, b);
        }
    }

    @Test
    void resizeMethodParsesFastaiNames() {
        assertEquals(ResizeMethod.CROP, ResizeMethod.parse("Crop"));
        assertEquals(ResizeMethod.PAD, ResizeMethod.parse(" pad "));
        assertEquals(ResizeMethod.SQUISH, ResizeMethod.parse("SQUISH"));
        assertEquals("squish", ResizeMethod.SQUISH.cliName());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResizeMethod.parse("fit"));
        assertTrue(e.getMessage().contains("squish, crop or pad"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new FastaiResize(0, 4, ResizeMethod.CROP, false));
        assertThrows(IllegalArgumentException.class, () -> new FastaiResize(4, 4, null, false));
    }
}
