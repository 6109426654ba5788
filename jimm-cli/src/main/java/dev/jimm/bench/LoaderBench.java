package dev.jimm.bench;

import ai.djl.ndarray.NDManager;
import dev.jimm.data.Batch;
import dev.jimm.data.DataLoader;
import dev.jimm.data.ImageDataset;
import dev.jimm.data.ImageDecoder;
import dev.jimm.data.ImageFolderDataset;
import dev.jimm.transforms.Interpolation;
import dev.jimm.transforms.Pipelines;
import dev.jimm.transforms.Preprocessing;
import java.nio.file.Path;

/**
 * Throughput of the full train pipeline (decode, RandomResizedCrop, flip, ColorJitter, ToTensor, Normalize, batch to
 * NDArray) over an image folder; the Java side of {@code jimm bench data DIR}. Compare with
 * scripts/bench_torchvision_loader.py on the same folder.
 */
public final class LoaderBench {
    private LoaderBench() {}

    /**
     * Settings.
     *
     * @param dir image folder (one subfolder per class)
     * @param size crop size
     * @param batchSize batch size
     * @param threads worker threads
     * @param epochs passes over the folder (the first one warms up the JIT and the file cache)
     */
    public record Options(Path dir, int size, int batchSize, int threads, int epochs) {}

    /**
     * Outcome.
     *
     * @param images images through the pipeline in the timed epochs
     * @param seconds wall time of the timed epochs
     */
    public record Result(long images, double seconds) {
        public double imagesPerSecond() {
            return images / seconds;
        }
    }

    public static Result run(Options o) {
        ImageDataset ds = ImageFolderDataset.of(o.dir(), new ImageDecoder());
        Preprocessing cfg = Preprocessing.imagenet(o.size(), Interpolation.BILINEAR, 0.875);
        try (NDManager root = NDManager.newBaseManager()) {
            DataLoader loader = DataLoader.builder(ds, Pipelines.createTransform(cfg, true), root)
                    .batchSize(o.batchSize())
                    .threads(o.threads())
                    .seed(0)
                    .build();
            long images = 0;
            long t0 = 0;
            for (int e = 0; e < o.epochs(); e++) {
                if (e == 1 || o.epochs() == 1) {
                    t0 = System.nanoTime();
                    images = 0;
                }
                for (Batch b : loader) {
                    try (b) {
                        images += b.size();
                    }
                }
            }
            return new Result(images, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** {@code LoaderBench DIR [size] [batch] [threads] [epochs]}. */
    public static void main(String[] args) {
        if (args.length < 1) {
            System.err.println("usage: LoaderBench DIR [size=224] [batch=32] [threads=cores] [epochs=3]");
            System.exit(2);
        }
        Options o = new Options(
                Path.of(args[0]),
                args.length > 1 ? Integer.parseInt(args[1]) : 224,
                args.length > 2 ? Integer.parseInt(args[2]) : 32,
                args.length > 3
                        ? Integer.parseInt(args[3])
                        : Runtime.getRuntime().availableProcessors(),
                args.length > 4 ? Integer.parseInt(args[4]) : 3);
        Result r = run(o);
        System.out.printf(
                "jimm loader: %d images in %.2f s = %.1f images/s (%d threads, batch %d, size %d)%n",
                r.images(), r.seconds(), r.imagesPerSecond(), o.threads(), o.batchSize(), o.size());
    }
}
