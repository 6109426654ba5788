package dev.jimm.vision;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.InMemoryBatches;
import dev.jimm.train.Learner;
import dev.jimm.transforms.Preprocessing;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportAndPredictTest {
    private static final int S = 16;

    /** Three classes of 1x16x16 images: bright top, bright left, bright bottom-right, with noise. */
    static float[] pixels(int n, long[] y, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * S * S];
        for (int i = 0; i < n; i++) {
            y[i] = i % 3;
            for (int py = 0; py < S; py++) {
                for (int px = 0; px < S; px++) {
                    boolean on = y[i] == 0 ? py < S / 2 : y[i] == 1 ? px < S / 2 : px >= S / 2 && py >= S / 2;
                    x[i * S * S + py * S + px] = (on ? 1f : -1f) + (float) (r.nextGaussian() * 0.3);
                }
            }
        }
        return x;
    }

    static DataLoaders data() {
        long[] ty = new long[96];
        float[] tx = pixels(96, ty, 1);
        long[] vy = new long[30];
        float[] vx = pixels(30, vy, 2);
        return new DataLoaders(
                new InMemoryBatches(tx, ty, new long[] {1, S, S}, 16, true, true, 0),
                new InMemoryBatches(vx, vy, new long[] {1, S, S}, 8, false, false, 0),
                List.of("top", "left", "corner"));
    }

    static final Preprocessing PRE = new Preprocessing(1, S, "bilinear", 1.0, List.of(0.5), List.of(0.5));

    @Test
    void interpretationCountsEveryImageAndRanksLossesFromTheModelsOutput() {
        try (Learner l = VisionLearner.create(
                data(), VisionLearner.Options.of("resnet10t").inChans(1).seed(1), b -> {})) {
            l.fit(1, 1e-3);
            Interpretation in = Interpretation.of(l, 5);
            long total = 0;
            for (long[] row : in.confusionMatrix()) {
                for (long v : row) {
                    total += v;
                }
            }
            assertEquals(30, total);
            List<Interpretation.Item> top = in.topLosses();
            assertEquals(5, top.size());
            for (int i = 1; i < top.size(); i++) {
                assertTrue(top.get(i - 1).loss() >= top.get(i).loss(), "worst first");
            }
            // recompute the worst image's loss from a fresh forward of its pixels
            Interpretation.Item w = top.get(0);
            try (NDManager s = l.model().getManager().newSubManager()) {
                l.model().eval();
                NDArray logits = l.model().forward(s.create(w.pixels(), new Shape(1, 1, S, S)));
                float[] logp = logits.logSoftmax(1).toFloatArray();
                assertEquals(-logp[w.actual()], w.loss(), 1e-4);
                int argmax = 0;
                for (int j = 1; j < 3; j++) {
                    argmax = logp[j] > logp[argmax] ? j : argmax;
                }
                assertEquals(argmax, w.predicted());
                assertEquals(Math.exp(logp[argmax]), w.probability(), 1e-5);
            }
            // the accuracy of the confusion matrix is the learner's own
            assertEquals(l.validate().metrics().getOrDefault("accuracy", in.accuracy()), in.accuracy(), 1e-9);
        }
    }

    @Test
    void reportWritesEveryPictureAndAPageThatReferencesThem(@TempDir Path dir) throws Exception {
        try (Learner l = VisionLearner.create(
                data(), VisionLearner.Options.of("resnet10t").inChans(1).seed(1), b -> {})) {
            var found = l.lrFind(1e-5, 1, 30);
            l.fitOneCycle(2, 1e-2);
            Interpretation in = Interpretation.of(l, 8);
            RunReport.write(
                    dir, l, PRE, found, 1e-2, in, Map.of("accuracy", in.accuracy()), "./jimm train x", "test run", "");
        }
        String html = Files.readString(dir.resolve("index.html"));
        for (String pic : RunReport.PICTURES) {
            BufferedImage img = ImageIO.read(dir.resolve(pic).toFile());
            assertTrue(img.getWidth() > 100 && img.getHeight() > 100, pic);
            assertTrue(html.contains("src=\"" + pic + "\""), pic);
        }
        assertTrue(html.contains("./jimm train x"));
        BufferedImage loss = ImageIO.read(dir.resolve("loss.png").toFile());
        boolean blue = false;
        for (int x = 0; x < loss.getWidth() && !blue; x++) {
            for (int y = 0; y < loss.getHeight() && !blue; y++) {
                blue = (loss.getRGB(x, y) & 0xFFFFFF) == 0x1f77b4;
            }
        }
        assertTrue(blue, "the training loss line is drawn in the first palette colour");
    }

    @Test
    void classifierPredictsLikeTheModelAndIsSafeAcrossThreads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("model.safetensors");
        long[] vy = new long[12];
        float[] vx = pixels(12, vy, 7);
        // the images as 8-bit grayscale: what the classifier sees after decoding, ToTensor and Normalize(0.5, 0.5)
        List<DecodedImage> images = new ArrayList<>();
        float[] quantized = new float[vx.length];
        for (int i = 0; i < 12; i++) {
            byte[] px = new byte[S * S];
            for (int j = 0; j < S * S; j++) {
                int v = Math.round(Math.max(0f, Math.min(1f, vx[i * S * S + j] * 0.5f + 0.5f)) * 255f);
                px[j] = (byte) v;
                quantized[i * S * S + j] = (v / 255f - 0.5f) / 0.5f;
            }
            images.add(new DecodedImage(S, S, 1, px, "png"));
        }
        float[] expected;
        try (Learner l = VisionLearner.create(
                data(), VisionLearner.Options.of("resnet10t").inChans(1).seed(1), b -> {})) {
            l.fit(2, 3e-3);
            VisionModel m = (VisionModel) l.model();
            m.eval();
            Export.write(
                    file,
                    m,
                    new Export.Spec("resnet10t", 1, FastaiHead.defaults(), List.of("top", "left", "corner"), PRE));
            try (NDManager s = m.getManager().newSubManager()) {
                expected = m.forward(s.create(quantized, new Shape(12, 1, S, S)))
                        .softmax(1)
                        .toFloatArray();
            }
        }
        try (ImageClassifier clf = ImageClassifier.load(dir)) {
            assertEquals(List.of("top", "left", "corner"), clf.classes());
            float[][] seq = clf.probabilities(images);
            for (int i = 0; i < 12; i++) {
                float sum = 0;
                for (float p : seq[i]) {
                    sum += p;
                }
                assertEquals(1f, sum, 1e-5f);
                for (int j = 0; j < 3; j++) {
                    assertEquals(expected[i * 3 + j], seq[i][j], 2e-5f, "image " + i + " class " + j);
                }
                assertEquals(
                        argmax(expected, i * 3, 3),
                        clf.predict(images.get(i), 1).get(0).index(),
                        "image " + i);
            }
            // one image at a time too, as a server answering single requests would
            float[][] single = new float[12][];
            for (int i = 0; i < 12; i++) {
                single[i] = clf.probabilities(List.of(images.get(i)))[0];
            }
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<float[][][]>> futures = new ArrayList<>();
                for (int t = 0; t < 8; t++) {
                    futures.add(pool.submit(() -> {
                        start.await(); // all eight threads in the model at once
                        float[][] one = new float[12][];
                        for (int i = 0; i < 12; i++) {
                            one[i] = clf.probabilities(List.of(images.get(i)))[0];
                        }
                        return new float[][][] {clf.probabilities(images), one, clf.probabilities(images)};
                    }));
                }
                start.countDown();
                for (Future<float[][][]> f : futures) {
                    float[][][] got = f.get(5, TimeUnit.MINUTES);
                    for (int i = 0; i < 12; i++) {
                        // exactly the sequential results: concurrency may not change a single bit
                        assertArrayEquals(seq[i], got[0][i], 0f);
                        assertArrayEquals(single[i], got[1][i], 0f);
                        assertArrayEquals(seq[i], got[2][i], 0f);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    private static int argmax(float[] a, int from, int n) {
        int best = 0;
        for (int j = 1; j < n; j++) {
            best = a[from + j] > a[from + best] ? j : best;
        }
        return best;
    }
}
