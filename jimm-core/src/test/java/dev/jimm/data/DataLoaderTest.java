package dev.jimm.data;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jimm.transforms.ImageOps;
import dev.jimm.transforms.MixupCutmix;
import dev.jimm.transforms.Pipelines;
import dev.jimm.transforms.Preprocessing;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.TimmAugment;
import dev.jimm.transforms.Transform;
import dev.jimm.transforms.Transforms;
import dev.jimm.vision.TrainRecipe;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class DataLoaderTest {
    static final ImageDataset SAMPLE = new Subset(
            IdxDataset.fashionMnist(TrainRecipe.samplesDir().resolve("fashion-mnist"), false),
            IntStream.range(0, 150).toArray());

    static Transform<DecodedImage, TensorImage> train() {
        Preprocessing cfg = new Preprocessing(1, 24, "bilinear", 1.0, List.of(0.286), List.of(0.353));
        return Pipelines.createTransform(cfg, true, new TimmAugment(0.5, 0.4, 0, 9, false, 0.25));
    }

    private static List<float[]> run(NDManager root, int threads, int epoch, List<long[]> labelsOut) {
        DataLoader loader = DataLoader.builder(SAMPLE, train(), root)
                .batchSize(32)
                .seed(11)
                .threads(threads)
                .prefetch(3)
                .dropLast(true)
                .batchTransform(MixupCutmix.timmDefaults())
                .build();
        List<float[]> out = new ArrayList<>();
        try (DataLoader.EpochIterator it = loader.epoch(epoch)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    assertEquals(new Shape(32, 1, 24, 24), b.data().getShape());
                    assertEquals(DataType.FLOAT32, b.data().getDataType());
                    assertEquals(new Shape(32, 10), b.targets().getShape());
                    long[] lab = b.labels().toLongArray();
                    int[] idx = b.indices();
                    for (int i = 0; i < idx.length; i++) {
                        assertEquals(SAMPLE.label(idx[i]), lab[i]);
                    }
                    labelsOut.add(lab);
                    float[] d = b.data().toFloatArray();
                    float[] t = b.targets().toFloatArray();
                    float[] all = Arrays.copyOf(d, d.length + t.length);
                    System.arraycopy(t, 0, all, d.length, t.length);
                    out.add(all);
                }
            }
        }
        return out;
    }

    @Test
    void batchesAreBitIdenticalAcrossThreadCounts() {
        try (NDManager root = NDManager.newBaseManager()) {
            List<long[]> l1 = new ArrayList<>(), l4 = new ArrayList<>(), l0 = new ArrayList<>(), le = new ArrayList<>();
            List<float[]> one = run(root, 1, 0, l1);
            List<float[]> four = run(root, 4, 0, l4);
            List<float[]> inline = run(root, 0, 0, l0);
            assertEquals(150 / 32, one.size(), "drop_last");
            for (int b = 0; b < one.size(); b++) {
                assertArrayEquals(one.get(b), four.get(b), "batch " + b);
                assertArrayEquals(one.get(b), inline.get(b), "batch " + b);
                assertArrayEquals(l1.get(b), l4.get(b));
            }
            List<float[]> nextEpoch = run(root, 4, 1, le);
            assertFalse(Arrays.equals(one.get(0), nextEpoch.get(0)), "each epoch reshuffles and re-augments");
        }
    }

    /** Eval at the samples' native 28x28 with Normalize(0, 1): ToTensor alone, exact pixels / 255. */
    private static Transform<DecodedImage, TensorImage> nativeSizeEval() {
        Preprocessing cfg = new Preprocessing(1, 28, "bilinear", 1.0, List.of(0.0), List.of(1.0));
        return Pipelines.createTransform(cfg, false);
    }

    @Test
    void evalLoaderCoversEverySampleOnceInOrder() {
        try (NDManager root = NDManager.newBaseManager()) {
            DataLoader loader = DataLoader.builder(SAMPLE, nativeSizeEval(), root)
                    .batchSize(64)
                    .shuffle(false)
                    .threads(2)
                    .build();
            assertEquals(3, loader.batchesPerEpoch());
            int seen = 0;
            for (Batch b : loader) {
                try (b) {
                    float[] d = b.data().toFloatArray();
                    for (int i = 0; i < b.size(); i++) {
                        DecodedImage img = SAMPLE.image(seen + i);
                        // Eval at the native size is ToTensor + Normalize(0, 1): exact pixels / 255.
                        assertEquals((img.pixels()[100] & 0xFF) / 255f, d[i * 784 + 100], 0f);
                    }
                    seen += b.size();
                }
            }
            assertEquals(150, seen);
        }
    }

    /** For each of SAMPLE's images: whether the loader's epoch showed it mirrored (null: the image is symmetric). */
    private static Boolean[] flippedIn(DataLoader loader, int epoch) {
        Boolean[] flipped = new Boolean[SAMPLE.size()];
        try (DataLoader.EpochIterator it = loader.epoch(epoch)) {
            while (it.hasNext()) {
                try (Batch b = it.next()) {
                    float[] d = b.data().toFloatArray();
                    int[] idx = b.indices();
                    for (int i = 0; i < idx.length; i++) {
                        float[] seen = Arrays.copyOfRange(d, i * 784, (i + 1) * 784);
                        float[] plain = Transforms.toTensor()
                                .apply(SAMPLE.image(idx[i]))
                                .data();
                        float[] mirror = Transforms.toTensor()
                                .apply(ImageOps.hflip(SAMPLE.image(idx[i])))
                                .data();
                        assertTrue(Arrays.equals(seen, plain) || Arrays.equals(seen, mirror), "image " + idx[i]);
                        flipped[idx[i]] = Arrays.equals(plain, mirror) ? null : Arrays.equals(seen, mirror);
                    }
                }
            }
        }
        return flipped;
    }

    private static DataLoader alternatingFlips(NDManager root, long seed) {
        return DataLoader.builder(SAMPLE, Transforms.alternatingFlip().andThen(Transforms.toTensor()), root)
                .batchSize(50)
                .seed(seed)
                .threads(2)
                .build();
    }

    @Test
    void alternatingFlipShowsEachImageBothWaysInEveryTwoEpochs() {
        try (NDManager root = NDManager.newBaseManager()) {
            DataLoader loader = alternatingFlips(root, 11);
            Boolean[] e0 = flippedIn(loader, 0);
            Boolean[] e1 = flippedIn(loader, 1);
            Boolean[] e2 = flippedIn(loader, 2);
            int flipped = 0;
            for (int i = 0; i < SAMPLE.size(); i++) {
                assertNotNull(e0[i], "image " + i + " is its own mirror image");
                assertNotEquals(e0[i], e1[i], "image " + i + " in epochs 0 and 1");
                assertEquals(e0[i], e2[i], "image " + i + " in epochs 0 and 2");
                flipped += e0[i] ? 1 : 0;
            }
            // a seeded half: 75 expected of 150, sd 6
            assertTrue(flipped > 50 && flipped < 100, flipped + " of 150 flipped in epoch 0");
            assertFalse(Arrays.equals(e0, flippedIn(alternatingFlips(root, 12), 0)), "another seed flips another half");
        }
    }

    @Test
    void closingABatchFreesItsArrays() {
        try (NDManager root = NDManager.newBaseManager()) {
            DataLoader loader = DataLoader.builder(SAMPLE, nativeSizeEval(), root)
                    .batchSize(50)
                    .threads(1)
                    .build();
            try (DataLoader.EpochIterator it = loader.iterator()) {
                Batch b = it.next();
                assertFalse(b.data().isReleased());
                b.close();
                assertTrue(b.data().isReleased());
                assertFalse(b.manager().isOpen());
            }
        }
    }
}
