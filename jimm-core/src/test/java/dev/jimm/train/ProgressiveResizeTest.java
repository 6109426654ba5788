package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jimm.layers.AdaptiveAvgPool2d;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link ProgressiveResize}: the size schedule, and in a fit that the model's training batches arrive at the epoch's
 * size as the area means of the loader's images (computed here cell by cell), while validation keeps the full size.
 */
class ProgressiveResizeTest {
    /** Records each forward pass's mode and input size, then brings the input back to 4x4 for a linear layer. */
    private static final class SizeRecordingNet extends Module {
        final List<String> seen = new ArrayList<>();
        private final Module fc;

        SizeRecordingNet(int classes) {
            fc = register("fc", new Linear(16, classes));
            materialize(NDManager.newBaseManager());
            initialize(new SplittableRandom(7));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            seen.add((isTraining() ? "train " : "eval ") + x.getShape().get(2) + "x"
                    + x.getShape().get(3));
            NDArray full = AdaptiveAvgPool2d.apply(x, 4, 4);
            return fc.forward(full.reshape(full.getShape().get(0), -1));
        }
    }

    /** The first training batch of each epoch: the loader's images and what the forward pass was given. */
    private static final class FirstBatches implements Callback {
        final List<float[]> loaded = new ArrayList<>();
        final List<float[]> given = new ArrayList<>();
        final List<long[]> givenShapes = new ArrayList<>();
        private int lastEpoch = -1;

        @Override
        public void beforeBatch(Learner l) {
            if (l.epoch() != lastEpoch) {
                lastEpoch = l.epoch();
                loaded.add(l.batch().x().toFloatArray());
                given.add(l.inputs().toFloatArray());
                givenShapes.add(l.inputs().getShape().getShape());
            }
        }
    }

    @Test
    void theLongerSideGrowsLinearlyOverTheRampThenStaysFull() {
        ProgressiveResize r = new ProgressiveResize(20, 4);
        int[] sizes = new int[6];
        for (int e = 0; e < sizes.length; e++) {
            sizes[e] = r.sizeAt(e, 28);
        }
        assertArrayEquals(new int[] {20, 22, 24, 26, 28, 28}, sizes);
        assertEquals(16, new ProgressiveResize(16, 3).sizeAt(0, 28));
        assertEquals(20, new ProgressiveResize(16, 3).sizeAt(1, 28));
        assertEquals(24, new ProgressiveResize(16, 3).sizeAt(2, 28));
        assertEquals(28, new ProgressiveResize(32, 3).sizeAt(0, 28), "a first size above the full one is the full one");
    }

    @Test
    void parsesTheCommandLinesFormAndNamesWhatIsWrong() {
        ProgressiveResize r = ProgressiveResize.parse("20:4");
        assertEquals(new ProgressiveResize(20, 4), r);
        assertEquals("20:4", r.toString());
        for (String bad : List.of("20", "20:x", "0:4", "20:0", "a:b:c")) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> ProgressiveResize.parse(bad));
            assertTrue(e.getMessage().contains(bad) || e.getMessage().contains("at least"), e.getMessage());
        }
    }

    @Test
    void trainingBatchesShrinkToTheEpochsSizeByAreaMeansAndValidationStaysFull() {
        SizeRecordingNet net = new SizeRecordingNet(3);
        FirstBatches first = new FirstBatches();
        try (Learner l = Learner.builder(net, Blobs.loaders(3, 5))
                .seed(5)
                .callbacks(new ProgressiveResize(2, 2), first)
                .build()) {
            l.fitOneCycle(4, 1e-2);
        }
        // the 4x4 blobs: epoch 0 at 2x2, epoch 1 at 3x3 (2 + 2 * 1/2), then 4x4
        List<String> trainSizes = new ArrayList<>();
        for (String s : net.seen) {
            if (s.startsWith("train")
                    && (trainSizes.isEmpty()
                            || !trainSizes.get(trainSizes.size() - 1).equals(s))) {
                trainSizes.add(s);
            }
        }
        assertEquals(List.of("train 2x2", "train 3x3", "train 4x4"), trainSizes);
        assertTrue(net.seen.contains("eval 4x4"));
        assertTrue(net.seen.stream().filter(s -> s.startsWith("eval")).allMatch(s -> s.equals("eval 4x4")));

        int[] outSizes = {2, 3, 4, 4};
        for (int e = 0; e < 4; e++) {
            long[] shape = first.givenShapes.get(e);
            assertEquals(outSizes[e], shape[2], "epoch " + e);
            assertEquals(outSizes[e], shape[3], "epoch " + e);
            float[] expected = areaMeans(first.loaded.get(e), (int) shape[0], 4, outSizes[e]);
            assertArrayEquals(expected, first.given.get(e), 1e-6f, "epoch " + e);
        }
    }

    /** PyTorch's adaptive average pooling of n one-channel s x s images to o x o, cell by cell. */
    private static float[] areaMeans(float[] x, int n, int s, int o) {
        float[] out = new float[n * o * o];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < o; i++) {
                int r0 = Math.floorDiv(i * s, o);
                int r1 = -Math.floorDiv(-(i + 1) * s, o);
                for (int j = 0; j < o; j++) {
                    int c0 = Math.floorDiv(j * s, o);
                    int c1 = -Math.floorDiv(-(j + 1) * s, o);
                    double sum = 0;
                    for (int r = r0; r < r1; r++) {
                        for (int c = c0; c < c1; c++) {
                            sum += x[b * s * s + r * s + c];
                        }
                    }
                    out[b * o * o + i * o + j] = (float) (sum / ((r1 - r0) * (c1 - c0)));
                }
            }
        }
        return out;
    }
}
