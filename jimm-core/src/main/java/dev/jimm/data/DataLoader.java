package dev.jimm.data;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.OwnedArrays;
import dev.jimm.transforms.SampleTransform;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SortedMap;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Batches a dataset through a per-sample transform on a pool of threads.
 *
 * <p>Determinism: the epoch's order comes from (seed, epoch) and each sample's augmentation from its own generator
 * seeded with (seed, epoch, dataset index), and batches are returned in order, so the batches are bit-identical
 * whatever the thread count. Memory: at most {@code prefetch} batches are decoded ahead, in Java arrays; the NDArrays
 * are created on the consuming thread in a child manager of {@code manager} that {@link Batch#close()} frees.
 */
public final class DataLoader implements Iterable<Batch> {
    private final Config cfg;
    private final AtomicInteger nextEpoch = new AtomicInteger();
    private final ConcurrentSkipListMap<String, String> skipped = new ConcurrentSkipListMap<>();

    /**
     * Loader settings.
     *
     * @param dataset samples
     * @param transform per-sample pipeline ending in a TensorImage
     * @param manager parent of each batch's manager
     * @param batchSize samples per batch
     * @param shuffle reshuffle every epoch
     * @param dropLast drop a final incomplete batch
     * @param seed base seed of order and augmentation
     * @param threads worker threads (0 = decode on the calling thread)
     * @param prefetch batches prepared ahead (bounds memory)
     * @param batchTransform Mixup/CutMix or null
     * @param badImages an image that fails to decode or to transform is an error (naming the file, and the step) or
     *     left out of its batch
     * @param warnings where a left-out image is reported, once per file
     */
    public record Config(
            ImageDataset dataset,
            Transform<DecodedImage, TensorImage> transform,
            NDManager manager,
            int batchSize,
            boolean shuffle,
            boolean dropLast,
            long seed,
            int threads,
            int prefetch,
            BatchTransform batchTransform,
            BadImagePolicy badImages,
            Consumer<String> warnings) {
        /** Bad images are errors. */
        public Config(
                ImageDataset dataset,
                Transform<DecodedImage, TensorImage> transform,
                NDManager manager,
                int batchSize,
                boolean shuffle,
                boolean dropLast,
                long seed,
                int threads,
                int prefetch,
                BatchTransform batchTransform) {
            this(
                    dataset,
                    transform,
                    manager,
                    batchSize,
                    shuffle,
                    dropLast,
                    seed,
                    threads,
                    prefetch,
                    batchTransform,
                    BadImagePolicy.ERROR,
                    System.err::println);
        }

        public Config {
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
            if (threads < 0 || prefetch <= 0) {
                throw new IllegalArgumentException(
                        "threads must be >= 0 and prefetch > 0, got " + threads + ", " + prefetch);
            }
            Objects.requireNonNull(dataset, "dataset");
            Objects.requireNonNull(transform, "transform");
            Objects.requireNonNull(manager, "manager");
            Objects.requireNonNull(badImages, "badImages");
            Objects.requireNonNull(warnings, "warnings");
        }
    }

    public DataLoader(Config cfg) {
        this.cfg = cfg;
    }

    public static Builder builder(ImageDataset ds, Transform<DecodedImage, TensorImage> transform, NDManager manager) {
        return new Builder(ds, transform, manager);
    }

    public Config config() {
        return cfg;
    }

    /**
     * The images left out so far under {@link BadImagePolicy#SKIP}: description (the file) to reason, sorted. A bad
     * file stays bad, so every epoch leaves out the same ones.
     */
    public SortedMap<String, String> skippedImages() {
        return Collections.unmodifiableSortedMap(new TreeMap<>(skipped));
    }

    /** Number of batches per epoch. */
    public int batchesPerEpoch() {
        int n = cfg.dataset().size();
        return cfg.dropLast() ? n / cfg.batchSize() : (n + cfg.batchSize() - 1) / cfg.batchSize();
    }

    /** Starts the next epoch (0, 1, 2, ... per call); use {@link #epoch(int)} to choose one. */
    @Override
    public EpochIterator iterator() {
        return epoch(nextEpoch.getAndIncrement());
    }

    /** Iterates epoch {@code e}. Close the iterator if you stop early, to stop its threads. */
    public EpochIterator epoch(int e) {
        return new EpochIterator(e);
    }

    /** The sample order of epoch e. */
    public int[] order(int e) {
        int n = cfg.dataset().size();
        if (!cfg.shuffle()) {
            int[] p = new int[n];
            for (int i = 0; i < n; i++) {
                p[i] = i;
            }
            return p;
        }
        return Split.permutation(n, new SplittableRandom(Seeds.derive(cfg.seed(), e, -1)));
    }

    /** A prepared batch in Java memory. */
    private record Prepared(float[] images, int n, int c, int h, int w, int[] labels, float[] targets, int[] indices) {}

    private Prepared prepare(int epoch, int batchIdx, int[] indices) {
        ImageDataset ds = cfg.dataset();
        int[] kept = new int[indices.length];
        int n = 0;
        float[] images = null;
        int c = 0, h = 0, w = 0;
        int[] labels = new int[indices.length];
        for (int idx : indices) {
            TensorImage t;
            try {
                DecodedImage img = ds.image(idx);
                t = transform(img, new SplittableRandom(Seeds.derive(cfg.seed(), epoch, idx)), epoch, idx);
            } catch (ImageDecodeException | ImageTransformException e) {
                if (cfg.badImages() == BadImagePolicy.ERROR) {
                    throw e;
                }
                if (skipped.putIfAbsent(ds.describe(idx), e.getMessage()) == null) {
                    String what = e instanceof ImageDecodeException ? "unreadable image " : "image ";
                    cfg.warnings()
                            .accept("warning: skipping " + what + e.getMessage() + " (" + skipped.size()
                                    + " skipped so far)");
                }
                continue;
            }
            if (images == null) {
                c = t.channels();
                h = t.height();
                w = t.width();
                images = new float[indices.length * c * h * w];
            } else if (t.channels() != c || t.height() != h || t.width() != w) {
                throw new IllegalStateException(ds.describe(idx) + ": transformed to " + t.channels() + "x" + t.height()
                        + "x" + t.width() + " but the batch is " + c + "x" + h + "x" + w
                        + "; add a Resize/CenterCrop so all samples share one size");
            }
            System.arraycopy(t.data(), 0, images, n * c * h * w, c * h * w);
            labels[n] = ds.label(idx);
            kept[n++] = idx;
        }
        if (n == 0) {
            return new Prepared(null, 0, 0, 0, 0, new int[0], null, new int[0]);
        }
        if (n < indices.length) {
            // skipped images shrink this batch; the rest keep their own seeds, so nothing else changes
            images = Arrays.copyOf(images, n * c * h * w);
            labels = Arrays.copyOf(labels, n);
            indices = Arrays.copyOf(kept, n);
        }
        float[] targets = null;
        if (cfg.batchTransform() != null) {
            targets = cfg.batchTransform()
                    .apply(
                            images,
                            n,
                            c,
                            h,
                            w,
                            labels,
                            ds.classes().size(),
                            new SplittableRandom(Seeds.derive(cfg.seed(), epoch, -2 - (long) batchIdx)));
        }
        return new Prepared(images, n, c, h, w, labels, targets, indices);
    }

    /**
     * Applies the transform step by step (as {@link Transform#apply} would, with the same generator), so that a failure
     * names the step that failed on the image; a {@link SampleTransform} step is told the epoch and the sample instead.
     */
    @SuppressWarnings("unchecked")
    private TensorImage transform(DecodedImage img, SplittableRandom rng, int epoch, int idx) {
        Object x = img;
        for (Transform<?, ?> step : cfg.transform().steps()) {
            try {
                x = step instanceof SampleTransform<?, ?> s
                        ? ((SampleTransform<Object, Object>) s).apply(x, cfg.seed(), epoch, idx)
                        : ((Transform<Object, Object>) step).apply(x, rng);
            } catch (ImageDecodeException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new ImageTransformException(cfg.dataset().describe(idx), Transform.describe(step), e);
            }
        }
        return (TensorImage) x;
    }

    /** Batches of one epoch, in order. */
    public final class EpochIterator implements Iterator<Batch>, AutoCloseable, BatchSource.PassingOver {
        private final int epoch;
        private final int[] order;
        private final int total;
        private final ExecutorService pool;
        private final ArrayDeque<Future<Prepared>> inFlight = new ArrayDeque<>();
        private int submitted;
        private int returned;
        private Prepared pending;
        private int pendingIndex;
        private int passedOver;

        EpochIterator(int epoch) {
            this.epoch = epoch;
            this.order = order(epoch);
            this.total = batchesPerEpoch();
            if (cfg.threads() > 0) {
                AtomicInteger k = new AtomicInteger();
                pool = Executors.newFixedThreadPool(cfg.threads(), r -> {
                    Thread t = new Thread(r, "jimm-loader-" + k.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
            } else {
                pool = null;
            }
            fill();
        }

        private int[] indicesOf(int b) {
            int from = b * cfg.batchSize();
            int to = Math.min(order.length, from + cfg.batchSize());
            return Arrays.copyOfRange(order, from, to);
        }

        private void fill() {
            if (pool == null) {
                return;
            }
            while (submitted < total && inFlight.size() < cfg.prefetch()) {
                int b = submitted++;
                int[] idx = indicesOf(b);
                inFlight.add(pool.submit(() -> prepare(epoch, b, idx)));
            }
        }

        public int epoch() {
            return epoch;
        }

        /** Batches of this epoch passed over so far because every image in them was left out. */
        @Override
        public int batchesPassedOver() {
            return passedOver;
        }

        @Override
        public boolean hasNext() {
            // a batch whose images were all left out (SKIP) is passed over, so look one batch ahead
            while (pending == null && returned < total) {
                Prepared p = take(returned++);
                if (p.n() > 0) {
                    pending = p;
                    pendingIndex = returned - 1;
                } else {
                    passedOver++;
                }
            }
            if (pending == null) {
                close();
                return false;
            }
            return true;
        }

        private Prepared take(int b) {
            if (pool == null) {
                return prepare(epoch, b, indicesOf(b));
            }
            Future<Prepared> f = inFlight.poll();
            Prepared p;
            try {
                p = f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                close();
                throw new IllegalStateException("interrupted while loading batch " + b, e);
            } catch (ExecutionException e) {
                close();
                Throwable c = e.getCause();
                if (c instanceof RuntimeException re) {
                    throw re;
                }
                throw new IllegalStateException("loading batch " + b + " failed: " + c, c);
            }
            fill();
            return p;
        }

        @Override
        public Batch next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            Prepared p = pending;
            int b = pendingIndex;
            pending = null;
            NDManager m = cfg.manager().newSubManager();
            try {
                NDArray data = OwnedArrays.of(m, p.images(), new Shape(p.n(), p.c(), p.h(), p.w()));
                long[] lab = new long[p.n()];
                for (int i = 0; i < p.n(); i++) {
                    lab[i] = p.labels()[i];
                }
                NDArray labels = OwnedArrays.of(m, lab);
                NDArray targets = p.targets() == null
                        ? null
                        : OwnedArrays.of(m, p.targets(), new Shape(p.n(), p.targets().length / p.n()));
                return new Batch(m, data, labels, targets, p.indices(), b);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
        }

        /** Stops the worker threads; batches already returned stay valid. */
        @Override
        public void close() {
            if (pool != null) {
                for (Future<Prepared> f : inFlight) {
                    f.cancel(true);
                }
                inFlight.clear();
                pool.shutdownNow();
            }
        }
    }

    /** Builder for {@link DataLoader}. */
    public static final class Builder {
        private final ImageDataset ds;
        private final Transform<DecodedImage, TensorImage> transform;
        private final NDManager manager;
        private int batchSize = 32;
        private boolean shuffle = true;
        private boolean dropLast;
        private long seed;
        private int threads = Runtime.getRuntime().availableProcessors();
        private int prefetch = -1;
        private BatchTransform batchTransform;
        private BadImagePolicy badImages = BadImagePolicy.ERROR;
        private Consumer<String> warnings = System.err::println;

        Builder(ImageDataset ds, Transform<DecodedImage, TensorImage> transform, NDManager manager) {
            this.ds = ds;
            this.transform = transform;
            this.manager = manager;
        }

        public Builder batchSize(int v) {
            batchSize = v;
            return this;
        }

        public Builder shuffle(boolean v) {
            shuffle = v;
            return this;
        }

        public Builder dropLast(boolean v) {
            dropLast = v;
            return this;
        }

        public Builder seed(long v) {
            seed = v;
            return this;
        }

        public Builder threads(int v) {
            threads = v;
            return this;
        }
        /** Batches prepared ahead; default 2 per thread. */
        public Builder prefetch(int v) {
            prefetch = v;
            return this;
        }

        public Builder batchTransform(BatchTransform v) {
            batchTransform = v;
            return this;
        }
        /** What an image that fails to decode or to transform does (default: error). */
        public Builder badImages(BadImagePolicy v) {
            badImages = v;
            return this;
        }
        /** Where left-out images are reported (default: stderr). */
        public Builder warnings(Consumer<String> v) {
            warnings = v;
            return this;
        }

        public DataLoader build() {
            int pf = prefetch > 0 ? prefetch : Math.max(2, 2 * threads);
            return new DataLoader(new Config(
                    ds,
                    transform,
                    manager,
                    batchSize,
                    shuffle,
                    dropLast,
                    seed,
                    threads,
                    pf,
                    batchTransform,
                    badImages,
                    warnings));
        }
    }
}
