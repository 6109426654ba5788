package dev.jimm.data;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A train/valid pair of datasets.
 *
 * @param train the training samples
 * @param valid the validation samples
 */
public record Split(ImageDataset train, ImageDataset valid) {
    /**
     * A seeded random split: a fraction {@code validPct} of the samples (rounded down) goes to valid. The same seed and
     * dataset size always give the same split, on any machine.
     */
    public static Split random(ImageDataset ds, double validPct, long seed) {
        if (!(validPct >= 0 && validPct < 1)) {
            throw new IllegalArgumentException("validPct must be in [0, 1), got " + validPct);
        }
        int n = ds.size();
        int[] perm = permutation(n, new SplittableRandom(seed));
        int nValid = (int) Math.floor(n * validPct);
        int[] valid = new int[nValid];
        int[] train = new int[n - nValid];
        System.arraycopy(perm, 0, valid, 0, nValid);
        System.arraycopy(perm, nValid, train, 0, n - nValid);
        Arrays.sort(valid);
        Arrays.sort(train);
        return new Split(new Subset(ds, train), new Subset(ds, valid));
    }

    /** Fisher-Yates permutation of 0..n-1. */
    public static int[] permutation(int n, SplittableRandom rng) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
