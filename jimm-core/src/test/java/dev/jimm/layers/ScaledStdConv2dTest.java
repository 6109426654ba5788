package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** timm's ScaledStdConv2d and ScaledStdConv2dSame on values worked out by hand. */
class ScaledStdConv2dTest {
    private static final double EPS = 1e-5;

    private static ScaledStdConv2d ready(ScaledStdConv2d c, NDManager mgr) {
        c.materialize(mgr);
        c.initialize(new SplittableRandom(0));
        c.useChannelsLast(false);
        return c;
    }

    @Test
    void keysAreWeightBiasGainAndTheGainStartsAtItsInit() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            ScaledStdConv2d c = ready(
                    ScaledStdConv2d.symmetric(4, 6, 3, Conv2d.Options.defaults().groups(2), 1.0, EPS, 0.0), mgr);
            assertEquals(
                    List.of("weight", "bias", "gain"), List.copyOf(c.stateDict().keySet()));
            assertEquals(new Shape(6, 1, 1, 1), c.gain().getArray().getShape());
            assertArrayEquals(new float[6], c.gain().getArray().toFloatArray());
            // gamma / sqrt(fan_in), fan_in = 4 / 2 groups * 3 * 3
            assertEquals(1 / Math.sqrt(18), c.scale(), 1e-12);
            assertArrayEquals(new long[] {1, 1}, c.padding());
        }
    }

    @Test
    void eachFilterIsStandardizedThenScaledByGainAndGamma() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            ScaledStdConv2d c =
                    ready(ScaledStdConv2d.symmetric(2, 1, 1, Conv2d.Options.defaults(), 3.0, EPS, 1.0), mgr);
            Module.assign(c.weight().getArray(), new float[] {1f, 3f});
            Module.assign(c.bias().getArray(), new float[] {0.5f});
            Module.assign(c.gain().getArray(), new float[] {2f});
            // filter (1, 3): mean 2, biased variance 1; scale 3 / sqrt(2); gain 2
            double k = 2 * 3 / Math.sqrt(2) / Math.sqrt(1 + EPS);
            assertArrayEquals(
                    new float[] {(float) -k, (float) k}, c.standardizedWeight().toFloatArray(), 1e-5f);
            NDArray x = mgr.create(new float[] {10f, 4f}, new Shape(1, 2, 1, 1));
            assertArrayEquals(
                    new float[] {(float) (k * (4 - 10) + 0.5)}, c.forward(x).toFloatArray(), 1e-4f);
        }
    }

    /**
     * A 3x3 stride-2 conv on ones 4x4: standardized filters sum to zero, so an output is the bias minus the taps that
     * fall on padding. SAME pads only the bottom and right (total 1), symmetric padding one pixel on every side.
     */
    @Test
    void samePaddingPadsTheBottomAndRightOnly() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            Conv2d.Options s2 = Conv2d.Options.defaults().stride(2).bias(false);
            ScaledStdConv2d same = ready(ScaledStdConv2d.same(1, 1, 3, s2, 1.0, EPS, 1.0), mgr);
            ScaledStdConv2d sym = ready(ScaledStdConv2d.symmetric(1, 1, 3, s2, 1.0, EPS, 1.0), mgr);
            float[] w = {0, 0, 0, 0, 0, 1, 0, 1, 4};
            Module.assign(same.weight().getArray(), w);
            Module.assign(sym.weight().getArray(), w);
            float[] ws = same.standardizedWeight().toFloatArray();
            NDArray ones = mgr.ones(new Shape(1, 1, 4, 4));

            // SAME: windows at rows/cols 0..2 and 2..4, the 5th row/col being padding
            float inside = 0;
            float sameCorner = ws[0] + ws[1] + ws[3] + ws[4];
            float sameRight = ws[0] + ws[1] + ws[3] + ws[4] + ws[6] + ws[7];
            float sameBottom = ws[0] + ws[1] + ws[2] + ws[3] + ws[4] + ws[5];
            assertArrayEquals(
                    new float[] {inside, sameRight, sameBottom, sameCorner},
                    same.forward(ones).toFloatArray(),
                    1e-5f);

            // symmetric: the first output's window starts one pixel above and left of the image
            float symTopLeft = ws[4] + ws[5] + ws[7] + ws[8];
            assertEquals(symTopLeft, sym.forward(ones).toFloatArray()[0], 1e-5f);
            assertEquals(new Shape(1, 1, 2, 2), sym.forward(ones).getShape());
        }
    }

    @Test
    void staticSamePaddingIsSymmetric() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            ScaledStdConv2d c = ready(ScaledStdConv2d.same(2, 2, 3, Conv2d.Options.defaults(), 1.0, EPS, 1.0), mgr);
            assertArrayEquals(new long[] {1, 1}, c.padding());
            assertEquals(
                    new Shape(1, 2, 5, 5),
                    c.forward(mgr.ones(new Shape(1, 2, 5, 5))).getShape());
        }
    }

    @Test
    void nothingFoldsIntoAStandardizedWeight() {
        try (NDManager mgr = NDManager.newBaseManager()) {
            ScaledStdConv2d c = ready(ScaledStdConv2d.symmetric(1, 1, 1, Conv2d.Options.defaults(), 1, EPS, 1), mgr);
            assertThrows(UnsupportedOperationException.class, () -> c.foldAffine(new double[] {2}, new double[] {0}));
        }
    }
}
