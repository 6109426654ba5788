package dev.jimm.transforms;

import static org.junit.jupiter.api.Assertions.*;

import dev.jimm.data.DecodedImage;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AugmentationsTest {
    static DecodedImage gray(int w, int h, int... v) {
        byte[] px = new byte[w * h];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) v[i];
        }
        return new DecodedImage(w, h, 1, px, "test");
    }

    @Test
    void randomResizedCropBoxesRespectScaleAndRatio() {
        SplittableRandom rng = new SplittableRandom(1);
        double[] scale = {0.08, 1.0}, ratio = {3.0 / 4, 4.0 / 3};
        for (int k = 0; k < 2000; k++) {
            int[] b = Augmentations.randomResizedCropBox(300, 200, scale, ratio, rng);
            assertTrue(b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= 200 && b[1] + b[3] <= 300);
            double frac = (double) b[2] * b[3] / (300 * 200);
            assertTrue(frac > 0.06 && frac <= 1.0, "area " + frac);
        }
        // A 10:1 strip never fits the ratio: torchvision falls back to the widest allowed center crop.
        int[] f =
                Augmentations.randomResizedCropBox(1000, 100, new double[] {0.99, 1.0}, ratio, new SplittableRandom(2));
        assertArrayEquals(new int[] {0, (1000 - 133) / 2, 100, 133}, f);
    }

    private static int[] unsigned(DecodedImage img) {
        int[] v = new int[img.pixels().length];
        for (int i = 0; i < v.length; i++) {
            v[i] = img.pixels()[i] & 0xFF;
        }
        return v;
    }

    @Test
    void colorJitterOpsMatchPillowImageEnhance() {
        // Expected values printed by Pillow 9.4: ImageEnhance.X(im).enhance(f) on this 3x2 RGB image
        // and on its convert("L").
        int[] in = {0, 0, 0, 255, 255, 255, 200, 30, 90, 17, 140, 250, 128, 128, 127, 61, 222, 5};
        byte[] px = new byte[in.length];
        for (int i = 0; i < in.length; i++) {
            px[i] = (byte) in[i];
        }
        DecodedImage rgb = new DecodedImage(3, 2, 3, px, "test");
        assertArrayEquals(
                new int[] {0, 0, 0, 255, 255, 255, 255, 41, 123, 23, 191, 255, 175, 175, 173, 83, 255, 6},
                unsigned(ColorOps.brightness(rgb, 1.37)));
        assertArrayEquals(
                new int[] {47, 47, 47, 203, 203, 203, 169, 66, 102, 58, 133, 200, 126, 126, 125, 85, 183, 51},
                unsigned(ColorOps.contrast(rgb, 0.61)));
        assertArrayEquals(
                new int[] {0, 0, 0, 255, 255, 255, 255, 0, 63, 0, 153, 255, 132, 132, 130, 11, 255, 0},
                unsigned(ColorOps.contrast(rgb, 1.8)));
        assertArrayEquals(
                new int[] {0, 0, 0, 255, 255, 255, 255, 0, 91, 0, 161, 255, 128, 128, 126, 0, 255, 0},
                unsigned(ColorOps.saturation(rgb, 1.9)));
        assertArrayEquals(
                new int[] {0, 0, 0, 255, 255, 255, 121, 70, 88, 86, 123, 156, 128, 128, 127, 122, 170, 105},
                unsigned(ColorOps.saturation(rgb, 0.3)));
        DecodedImage g = rgb.toGray();
        assertArrayEquals(new int[] {0, 255, 88, 116, 128, 149}, unsigned(g));
        assertArrayEquals(new int[] {0, 255, 60, 110, 132, 169}, unsigned(ColorOps.contrast(g, 1.8)));
        assertArrayEquals(new int[] {0, 114, 39, 52, 57, 67}, unsigned(ColorOps.brightness(g, 0.45)));
    }

    @Test
    void saturationOnALargeImageMatchesPillowToo() {
        // saturation is per pixel, so the 3x2 image above tiled 40x60 times (above the size where
        // ColorOps switches to its table) must give Pillow's values in every tile
        int[] in = {0, 0, 0, 255, 255, 255, 200, 30, 90, 17, 140, 250, 128, 128, 127, 61, 222, 5};
        int[] at19 = {0, 0, 0, 255, 255, 255, 255, 0, 91, 0, 161, 255, 128, 128, 126, 0, 255, 0};
        int[] at03 = {0, 0, 0, 255, 255, 255, 121, 70, 88, 86, 123, 156, 128, 128, 127, 122, 170, 105};
        int w = 3 * 40, h = 2 * 60;
        assertTrue(w * h >= ColorOps.SATURATION_TABLE_MIN_PIXELS);
        byte[] px = new byte[w * h * 3];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < 3; c++) {
                    px[(y * w + x) * 3 + c] = (byte) in[((y % 2) * 3 + x % 3) * 3 + c];
                }
            }
        }
        DecodedImage big = new DecodedImage(w, h, 3, px, "test");
        for (double factor : new double[] {1.9, 0.3}) {
            int[] expected = factor == 1.9 ? at19 : at03;
            int[] got = unsigned(ColorOps.saturation(big, factor));
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int c = 0; c < 3; c++) {
                        assertEquals(
                                expected[((y % 2) * 3 + x % 3) * 3 + c],
                                got[(y * w + x) * 3 + c],
                                "factor " + factor + " at " + x + "," + y + " channel " + c);
                    }
                }
            }
        }
    }

    @Test
    void histogramOpsFollowPillow() {
        DecodedImage g = gray(4, 1, 10, 20, 30, 40);
        // autocontrast stretches [10, 40] to [0, 255]
        DecodedImage ac = ColorOps.autoContrast(g);
        assertEquals(0, ac.get(0, 0, 0));
        assertEquals(255, ac.get(3, 0, 0));
        assertEquals(85, ac.get(1, 0, 0)); // int(20 * 8.5 - 85)
        assertEquals(0b1100_0000, ColorOps.posterize(gray(1, 1, 0xFF), 2).get(0, 0, 0));
        assertEquals(255 - 200, ColorOps.solarize(gray(1, 1, 200), 128).get(0, 0, 0));
        assertEquals(100, ColorOps.solarize(gray(1, 1, 100), 128).get(0, 0, 0));
        DecodedImage eq = ColorOps.equalize(gray(4, 1, 0, 0, 100, 200));
        // Pillow: step = (4 - 1) // 255 = 0 -> identity
        assertEquals(100, eq.get(2, 0, 0));
        assertEquals(0, ColorOps.brightness(gray(1, 1, 77), 0).get(0, 0, 0));
        assertEquals(154, ColorOps.brightness(gray(1, 1, 77), 2).get(0, 0, 0));
    }

    @Test
    void rotationAndFlipMovePixelsWhereExpected() {
        DecodedImage g = gray(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        DecodedImage r = ColorOps.rotate(g, 90); // counter-clockwise
        assertEquals(3, r.get(0, 0, 0));
        assertEquals(9, r.get(2, 0, 0));
        assertEquals(1, r.get(0, 2, 0));
        assertEquals(3, ImageOps.hflip(g).get(0, 0, 0));
        assertEquals(7, ImageOps.vflip(g).get(0, 0, 0));
    }

    @Test
    void everyAutoAugmentOpKeepsSizeAndRuns() {
        byte[] px = new byte[40 * 30 * 3];
        new SplittableRandom(3).nextBytes(px);
        DecodedImage img = new DecodedImage(40, 30, 3, px, "test");
        for (Augmentations.Op op : Augmentations.Op.values()) {
            for (boolean wide : new boolean[] {false, true}) {
                double m = Augmentations.magnitude(op, 20, 31, 40, 30, wide);
                DecodedImage out = Augmentations.applyOp(img, op, m);
                assertEquals(40, out.width(), op.name());
                assertEquals(30, out.height(), op.name());
            }
        }
        assertEquals(4, Augmentations.magnitude(Augmentations.Op.POSTERIZE, 30, 31, 1, 1, false));
        assertEquals(2, Augmentations.magnitude(Augmentations.Op.POSTERIZE, 30, 31, 1, 1, true));
        assertEquals(0.3 * 9 / 30, Augmentations.magnitude(Augmentations.Op.SHEAR_X, 9, 31, 1, 1, false), 1e-12);
    }

    @Test
    void randomErasingErasesABoxOrNothing() {
        TensorImage t = new TensorImage(1, 20, 20, new float[400]);
        Arrays.fill(t.data(), 1f);
        int erasedImages = 0;
        for (int s = 0; s < 50; s++) {
            TensorImage e = Augmentations.randomErasing(0.5).apply(t, new SplittableRandom(s));
            int zeros = 0;
            for (float v : e.data()) {
                zeros += v == 0f ? 1 : 0;
            }
            if (zeros > 0) {
                erasedImages++;
                assertTrue(zeros >= 4 && zeros <= 0.4 * 400, "erased " + zeros);
            }
        }
        assertTrue(erasedImages > 10 && erasedImages < 40, "p = 0.5 gave " + erasedImages + "/50");
    }

    @Test
    void mixupAndCutmixTargetsMatchTheMixedPixels() {
        int n = 4, c = 1, h = 8, w = 8;
        for (MixupCutmix m : new MixupCutmix[] {new MixupCutmix(0.8, 0, 1, 0, 0), new MixupCutmix(0, 1.0, 1, 1, 0)}) {
            float[] x = new float[n * c * h * w];
            int[] labels = {0, 1, 2, 3};
            for (int i = 0; i < n; i++) {
                Arrays.fill(x, i * 64, (i + 1) * 64, i == 0 ? 1f : 0f);
            }
            float[] t = m.apply(x, n, c, h, w, labels, 5, new SplittableRandom(9));
            for (int i = 0; i < n; i++) {
                float sum = 0;
                for (int k = 0; k < 5; k++) {
                    sum += t[i * 5 + k];
                }
                assertEquals(1f, sum, 1e-5);
            }
            // Sample 0 (all ones) mixed with sample 3 (all zeros): its mean pixel is its own weight lam.
            float mean0 = 0;
            for (int k = 0; k < 64; k++) {
                mean0 += x[k] / 64;
            }
            assertEquals(t[0], mean0, 1e-5, "target weight of class 0 equals the share of sample 0's pixels");
            assertEquals(1 - t[0], t[3], 1e-5);
        }
    }
}
