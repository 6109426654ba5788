package dev.jimm.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Average pooling with and without the padding in the count, against sums over the windows computed here. */
class Pool2dTest {
    private static final int H = 5, W = 4;

    @ParameterizedTest(name = "kernel {0} stride {1} padding {2} ceil {3} countIncludePad {4}")
    @CsvSource({
        "3, 1, 1, false, false",
        "3, 1, 1, false, true",
        "3, 2, 1, false, false",
        "3, 2, 1, true, false",
        "2, 2, 0, true, false",
        "2, 2, 0, false, true"
    })
    void averagesOverTheCountedWindow(int k, int s, int p, boolean ceil, boolean countPad) {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray in = m.randomNormal(new Shape(1, 2, H, W));
            float[] x = in.toFloatArray();
            NDArray out = Pool2d.avg(k, s, p, ceil, countPad).forward(in);
            int oh = outSize(H, k, s, p, ceil);
            int ow = outSize(W, k, s, p, ceil);
            assertEquals(new Shape(1, 2, oh, ow), out.getShape());
            float[] y = out.toFloatArray();
            for (int c = 0; c < 2; c++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        // PyTorch: the window clipped to the padded input divides with the padding counted,
                        // the window clipped to the input without
                        int h0 = i * s - p, w0 = j * s - p;
                        int h1 = Math.min(h0 + k, H + p), w1 = Math.min(w0 + k, W + p);
                        int padded = (h1 - h0) * (w1 - w0);
                        h0 = Math.max(h0, 0);
                        w0 = Math.max(w0, 0);
                        h1 = Math.min(h1, H);
                        w1 = Math.min(w1, W);
                        double sum = 0;
                        for (int a = h0; a < h1; a++) {
                            for (int b = w0; b < w1; b++) {
                                sum += x[(c * H + a) * W + b];
                            }
                        }
                        int count = countPad ? padded : (h1 - h0) * (w1 - w0);
                        assertEquals(
                                sum / count, y[(c * oh + i) * ow + j], 1e-5, "channel " + c + " at " + i + "," + j);
                    }
                }
            }
        }
    }

    private static int outSize(int size, int k, int s, int p, boolean ceil) {
        int span = size + 2 * p - k;
        int n = (ceil ? (span + s - 1) / s : span / s) + 1;
        // PyTorch drops a last window that starts in the right padding
        if (ceil && (n - 1) * s >= size + p) {
            n--;
        }
        return n;
    }
}
