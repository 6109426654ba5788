package dev.jimm.data;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.OwnedArrays;
import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Batches over samples already in memory as float32 (PyTorch's TensorDataset with a DataLoader): shuffled per epoch
 * from (seed, epoch) when asked, with or without the last partial batch.
 */
public final class InMemoryBatches implements BatchSource {
    private final float[] data;
    private final long[] labels;
    private final long[] sampleShape;
    private final int sampleSize;
    private final int batchSize;
    private final boolean shuffle;
    private final boolean dropLast;
    private final long seed;

    /**
     * @param data samples in row-major order, {@code labels.length} of shape {@code sampleShape}
     * @param labels class index per sample
     */
    public InMemoryBatches(
            float[] data,
            long[] labels,
            long[] sampleShape,
            int batchSize,
            boolean shuffle,
            boolean dropLast,
            long seed) {
        long per = 1;
        for (long d : sampleShape) {
            per *= d;
        }
        if (per * labels.length != data.length) {
            throw new IllegalArgumentException(labels.length + " samples of shape " + Arrays.toString(sampleShape)
                    + " need " + per * labels.length + " values, got " + data.length);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        this.data = data;
        this.labels = labels;
        this.sampleShape = sampleShape.clone();
        this.sampleSize = (int) per;
        this.batchSize = batchSize;
        this.shuffle = shuffle;
        this.dropLast = dropLast;
        this.seed = seed;
    }

    @Override
    public int numBatches() {
        return dropLast ? labels.length / batchSize : (labels.length + batchSize - 1) / batchSize;
    }

    @Override
    public int numSamples() {
        return dropLast ? numBatches() * batchSize : labels.length;
    }

    /** The sample order of an epoch. */
    int[] order(int epoch) {
        int[] idx = new int[labels.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        if (shuffle) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
            for (int i = idx.length - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
        }
        return idx;
    }

    @Override
    public Iterator<Batch> batches(int epoch, NDManager parent) {
        int[] idx = order(epoch);
        int n = numBatches();
        return new Iterator<>() {
            private int b;

            @Override
            public boolean hasNext() {
                return b < n;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int from = b * batchSize;
                int to = Math.min(from + batchSize, idx.length);
                b++;
                int count = to - from;
                float[] x = new float[count * sampleSize];
                long[] y = new long[count];
                for (int i = 0; i < count; i++) {
                    System.arraycopy(data, idx[from + i] * sampleSize, x, i * sampleSize, sampleSize);
                    y[i] = labels[idx[from + i]];
                }
                long[] shape = new long[sampleShape.length + 1];
                shape[0] = count;
                System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
                NDManager m = parent.newSubManager();
                return Batch.of(OwnedArrays.of(m, x, new Shape(shape)), OwnedArrays.of(m, y), m);
            }
        };
    }
}
