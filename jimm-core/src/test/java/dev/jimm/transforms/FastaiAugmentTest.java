package dev.jimm.transforms;

import static org.junit.jupiter.api.Assertions.*;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.jimm.transforms.FastaiAugment.Options;
import dev.jimm.transforms.FastaiAugment.Params;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FastaiAugmentTest {
    /** Reads a JSON resource under src/test/resources. */
    static JsonObject json(String resource) throws IOException {
        try (InputStream in = FastaiAugmentTest.class.getResourceAsStream(resource)) {
            assertNotNull(in, "missing test resource " + resource);
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8))
                    .getAsJsonObject();
        }
    }

    static float[] floats(JsonArray a) {
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).getAsFloat();
        }
        return v;
    }

    static Params params(JsonObject p) {
        return new Params(
                p.get("flip").getAsBoolean(),
                p.get("rotateDeg").getAsDouble(),
                p.get("zoom").getAsDouble(),
                p.get("colPct").getAsDouble(),
                p.get("rowPct").getAsDouble(),
                p.get("warpX").getAsDouble(),
                p.get("warpY").getAsDouble(),
                p.get("brightness").getAsDouble(),
                p.get("contrast").getAsDouble());
    }

    /** 3x12x16 values in (0, 1) without symmetry. */
    static TensorImage image(int c, int h, int w) {
        float[] d = new float[c * h * w];
        for (int i = 0; i < d.length; i++) {
            d[i] = (float) (0.5 + 0.45 * Math.sin(0.37 * i + 0.11 * i * i % 7));
        }
        return new TensorImage(c, h, w, d);
    }

    @Test
    void referenceCasesMatchTorch() throws IOException {
        // scripts/fastai_aug_reference.py: fastai's formulas with torch's affine_grid/grid_sample in float64
        JsonObject ref = json("/transforms/fastai_aug_reference.json");
        JsonObject inputs = ref.getAsJsonObject("inputs");
        int n = 0;
        for (JsonElement e : ref.getAsJsonArray("cases")) {
            JsonObject cs = e.getAsJsonObject();
            JsonObject in = inputs.getAsJsonObject(cs.get("input").getAsString());
            JsonArray shape = in.getAsJsonArray("shape");
            TensorImage img = new TensorImage(
                    shape.get(0).getAsInt(),
                    shape.get(1).getAsInt(),
                    shape.get(2).getAsInt(),
                    floats(in.getAsJsonArray("data")));
            float[] want = floats(cs.getAsJsonArray("expected"));
            TensorImage got = FastaiAugment.apply(img, params(cs.getAsJsonObject("params")));
            assertEquals(img.height(), got.height());
            assertEquals(img.width(), got.width());
            double max = 0;
            for (int i = 0; i < want.length; i++) {
                max = Math.max(max, Math.abs(want[i] - got.data()[i]));
            }
            assertTrue(max < 1e-5, cs.get("name").getAsString() + ": max abs diff " + max);
            n++;
        }
        assertEquals(20, n, "reference cases");
    }

    @Test
    void drawsFollowFastaiDistributions() {
        SplittableRandom rng = new SplittableRandom(42);
        int draws = 20_000;
        int flips = 0, rotated = 0, zoomed = 0, warpedX = 0, warpedY = 0, brightened = 0, contrasted = 0;
        int bigRotations = 0, moreContrast = 0;
        double colSum = 0;
        for (int k = 0; k < draws; k++) {
            Params p = FastaiAugment.draw(Options.defaults(), rng);
            flips += p.flip() ? 1 : 0;
            assertTrue(Math.abs(p.rotateDeg()) <= 10, "rotate " + p.rotateDeg());
            if (p.rotateDeg() != 0) {
                rotated++;
                bigRotations += Math.abs(p.rotateDeg()) > 5 ? 1 : 0;
            }
            assertTrue(p.zoom() >= 1 && p.zoom() <= 1.1, "zoom " + p.zoom());
            zoomed += p.zoom() != 1 ? 1 : 0;
            assertTrue(Math.abs(p.warpX()) <= 0.2 && Math.abs(p.warpY()) <= 0.2);
            warpedX += p.warpX() != 0 ? 1 : 0;
            warpedY += p.warpY() != 0 ? 1 : 0;
            assertTrue(p.brightness() >= 0.4 && p.brightness() <= 0.6, "brightness " + p.brightness());
            brightened += p.brightness() != 0.5 ? 1 : 0;
            assertTrue(p.contrast() >= 0.8 - 1e-12 && p.contrast() <= 1.25 + 1e-12, "contrast " + p.contrast());
            if (p.contrast() != 1) {
                contrasted++;
                moreContrast += p.contrast() > 1 ? 1 : 0;
            }
            colSum += p.colPct();
        }
        assertRate(0.5, flips, draws, "flip");
        for (int count : new int[] {rotated, zoomed, warpedX, warpedY, brightened, contrasted}) {
            assertRate(0.75, count, draws, "p = 0.75 op");
        }
        // uniform angles: half beyond 5 degrees; log-uniform contrast: half above 1
        assertRate(0.5, bigRotations, rotated, "|rotate| > 5");
        assertRate(0.5, moreContrast, contrasted, "contrast > 1");
        assertEquals(0.5, colSum / draws, 0.01, "zoom centre mean");
    }

    private static void assertRate(double expected, int count, int total, String what) {
        double rate = (double) count / total;
        assertEquals(expected, rate, 0.02, what + " rate " + rate);
    }

    @Test
    void identityParamsReturnTheInputUnchanged() {
        TensorImage img = image(3, 12, 16);
        float[] before = img.data().clone();
        TensorImage out = FastaiAugment.apply(img, Params.identity());
        assertArrayEquals(before, out.data());
        // with every probability 0 and no flip, every draw is the identity
        Options never = new Options(false, 10, 1.0, 1.1, 0.2, 0.2, 0, 0);
        FastaiAugment aug = FastaiAugment.of(never);
        for (int s = 0; s < 20; s++) {
            assertArrayEquals(before, aug.apply(img, new SplittableRandom(s)).data());
            assertTrue(FastaiAugment.draw(never, new SplittableRandom(s)).isGeometryIdentity());
        }
        assertArrayEquals(before, img.data(), "the input is never modified");
    }

    @Test
    void noFlipOptionNeverFlipsAndZeroMagnitudesStayNeutral() {
        Options noFlip = Options.defaults().withFlip(false);
        assertFalse(noFlip.doFlip());
        assertEquals(Options.defaults().maxRotate(), noFlip.maxRotate());
        SplittableRandom rng = new SplittableRandom(3);
        for (int k = 0; k < 2000; k++) {
            assertFalse(FastaiAugment.draw(noFlip, rng).flip());
        }
        Options flipOnly = new Options(true, 0, 1.0, 1.0, 0, 0, 1, 1);
        int flips = 0;
        for (int k = 0; k < 2000; k++) {
            Params p = FastaiAugment.draw(flipOnly, rng);
            flips += p.flip() ? 1 : 0;
            assertEquals(
                    Params.identity(),
                    new Params(
                            false,
                            p.rotateDeg(),
                            p.zoom(),
                            p.colPct(),
                            p.rowPct(),
                            p.warpX(),
                            p.warpY(),
                            p.brightness(),
                            p.contrast()));
        }
        assertTrue(flips > 900 && flips < 1100, "flips " + flips);
    }

    @Test
    void flipMirrorsColumns() {
        TensorImage img = image(2, 5, 7);
        TensorImage out = FastaiAugment.apply(img, new Params(true, 0, 1, 0.5, 0.5, 0, 0, 0.5, 1));
        for (int c = 0; c < 2; c++) {
            for (int y = 0; y < 5; y++) {
                for (int x = 0; x < 7; x++) {
                    assertEquals(img.get(c, y, 6 - x), out.get(c, y, x), 1e-6);
                }
            }
        }
    }

    @Test
    void seededTransformIsReproducibleAndVaries() {
        TensorImage img = image(3, 12, 16);
        FastaiAugment aug = FastaiAugment.of(Options.defaults());
        float[] a = aug.apply(img, new SplittableRandom(7)).data();
        assertArrayEquals(a, aug.apply(img, new SplittableRandom(7)).data());
        boolean differs = false;
        for (int s = 8; s < 12 && !differs; s++) {
            differs = !Arrays.equals(a, aug.apply(img, new SplittableRandom(s)).data());
        }
        assertTrue(differs);
        for (float v : a) {
            assertTrue(v > 0 && v < 1, "value " + v);
        }
    }

    @Test
    void warpCoefficientsMapTargetCornersToTheSquare() {
        double wx = 0.17, wy = -0.11;
        double[] c = FastaiAugment.warpCoefficients(wx, wy);
        double[][] orig = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
        double[][] targ = {{-1 - wy, -1 - wx}, {-1 + wy, 1 + wx}, {1 + wy, -1 + wx}, {1 - wy, 1 - wx}};
        for (int i = 0; i < 4; i++) {
            double x = targ[i][0], y = targ[i][1];
            double d = c[6] * x + c[7] * y + 1;
            assertEquals(orig[i][0], (c[0] * x + c[1] * y + c[2]) / d, 1e-12);
            assertEquals(orig[i][1], (c[3] * x + c[4] * y + c[5]) / d, 1e-12);
        }
        assertArrayEquals(new double[] {1, 0, 0, 0, 1, 0, 0, 0}, FastaiAugment.warpCoefficients(0, 0), 1e-15);
    }

    @Test
    void reflectionFollowsPyTorch() {
        // reflect about 0 and size - 1 = 4, repeatedly
        assertEquals(1.5, FastaiAugment.reflectClip(-1.5, 5), 1e-12);
        assertEquals(2.5, FastaiAugment.reflectClip(5.5, 5), 1e-12);
        assertEquals(3.0, FastaiAugment.reflectClip(11, 5), 1e-12);
        assertEquals(3.0, FastaiAugment.reflectClip(-13, 5), 1e-12);
        assertEquals(0.0, FastaiAugment.reflectClip(3.7, 1));
    }

    @Test
    void optionsAndParamsNameTheBadField() {
        Object[][] bad = {
            {"maxRotate", (Runnable) () -> new Options(true, -1, 1, 1.1, 0.2, 0.2, 0.75, 0.75)},
            {"minZoom", (Runnable) () -> new Options(true, 10, 0, 1.1, 0.2, 0.2, 0.75, 0.75)},
            {"maxZoom", (Runnable) () -> new Options(true, 10, 1.2, 1.1, 0.2, 0.2, 0.75, 0.75)},
            {"maxLighting", (Runnable) () -> new Options(true, 10, 1, 1.1, 1, 0.2, 0.75, 0.75)},
            {"maxWarp", (Runnable) () -> new Options(true, 10, 1, 1.1, 0.2, -0.1, 0.75, 0.75)},
            {"pAffine", (Runnable) () -> new Options(true, 10, 1, 1.1, 0.2, 0.2, 1.5, 0.75)},
            {"pLighting", (Runnable) () -> new Options(true, 10, 1, 1.1, 0.2, 0.2, 0.75, Double.NaN)},
            {"zoom", (Runnable) () -> new Params(false, 0, 0, 0.5, 0.5, 0, 0, 0.5, 1)},
            {"colPct", (Runnable) () -> new Params(false, 0, 1, 1.5, 0.5, 0, 0, 0.5, 1)},
            {"brightness", (Runnable) () -> new Params(false, 0, 1, 0.5, 0.5, 0, 0, 1, 1)},
            {"contrast", (Runnable) () -> new Params(false, 0, 1, 0.5, 0.5, 0, 0, 0.5, -1)},
        };
        for (Object[] b : bad) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, ((Runnable) b[1])::run);
            assertTrue(e.getMessage().startsWith(b[0] + " must be"), e.getMessage());
        }
    }
}
