package dev.jimm.train;

import dev.jimm.data.BatchSource;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.InMemoryBatches;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Synthetic data for learner tests: Gaussian blobs, one per class, as tiny 1x4x4 "images". */
final class Blobs {
    final float[] x;
    final long[] y;

    Blobs(int n, int classes, double spread, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        SplittableRandom centres = new SplittableRandom(1234);
        float[][] c = new float[classes][16];
        for (float[] row : c) {
            for (int i = 0; i < 16; i++) {
                row[i] = (float) (centres.nextDouble() * 2 - 1);
            }
        }
        x = new float[n * 16];
        y = new long[n];
        for (int i = 0; i < n; i++) {
            int k = i % classes;
            y[i] = k;
            for (int j = 0; j < 16; j++) {
                x[i * 16 + j] = (float) (c[k][j] + spread * r.nextGaussian());
            }
        }
    }

    BatchSource batches(int bs, boolean shuffle, long seed) {
        return new InMemoryBatches(x, y, new long[] {1, 4, 4}, bs, shuffle, shuffle, seed);
    }

    static DataLoaders loaders(int classes, long seed) {
        Blobs train = new Blobs(512, classes, 0.6, seed);
        Blobs valid = new Blobs(128, classes, 0.6, seed + 1);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            names.add("c" + i);
        }
        return new DataLoaders(train.batches(32, true, seed), valid.batches(64, false, 0), names);
    }
}
