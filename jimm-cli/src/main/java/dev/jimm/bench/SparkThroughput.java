package dev.jimm.bench;

import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecodeException;
import dev.jimm.data.ImageDecoder;
import dev.jimm.data.ImageFolderDataset;
import dev.jimm.spark.ImageInference;
import dev.jimm.vision.ImageClassifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code jimm spark bench}: the same images through the same export, once as {@code jimm predict} runs them (one
 * process, one stream of batches on every core's libtorch threads, reading and decoding in the loop) and once as a
 * Spark job in local mode (tasks on the cores, one libtorch thread each), in one JVM. Reports images/s and their ratio,
 * the cold job (model broadcast and load, Spark's first-job costs) apart from the warm ones, and the cost of one more
 * task, from the same images cut into few and into many partitions.
 */
public final class SparkThroughput {
    /** The figures of one run. */
    public record Report(
            int images,
            int cores,
            double singleProcess,
            double sparkCold,
            double sparkWarm,
            double perTaskSeconds,
            int fewPartitions,
            int manyPartitions) {
        /** Spark's warm throughput over the single process's. */
        public double ratio() {
            return sparkWarm / singleProcess;
        }

        /** A Markdown table of the figures. */
        public String table() {
            return String.format(
                    Locale.ROOT,
                    "| run | images/s | vs single process |%n|---|---:|---:|%n"
                            + "| jimm predict (one process, batches of the job's size) | %.1f | 1.00 |%n"
                            + "| jimm spark, cold (first job: Spark start-up costs, model broadcast and load) | %.1f | %.2f |%n"
                            + "| jimm spark, warm (%d partitions, %d cores) | %.1f | %.2f |%n%n"
                            + "%d images; one more task costs %.3f s (%d vs %d partitions, warm)%n",
                    singleProcess,
                    sparkCold,
                    sparkCold / singleProcess,
                    fewPartitions,
                    cores,
                    sparkWarm,
                    ratio(),
                    images,
                    perTaskSeconds,
                    manyPartitions,
                    fewPartitions);
        }
    }

    private SparkThroughput() {}

    /** Runs both sides over the images under {@code folder} with the export at {@code model}. */
    public static Report run(Path model, Path folder, String master, int batchSize, int rounds, Consumer<String> log) {
        List<Path> files = imageFiles(folder);
        double single = 0;
        try (ImageClassifier clf = ImageClassifier.load(model)) {
            ImageDecoder decoder = clf.preprocessing().decoder();
            for (int r = 0; r < rounds; r++) {
                long t0 = System.nanoTime();
                for (int start = 0; start < files.size(); start += batchSize) {
                    List<DecodedImage> batch = new ArrayList<>();
                    for (Path f : files.subList(start, Math.min(files.size(), start + batchSize))) {
                        try {
                            batch.add(decoder.decode(f));
                        } catch (ImageDecodeException e) {
                            // as jimm predict: a line for it, and on
                        }
                    }
                    clf.probabilitiesInBatches(batch, batchSize);
                }
                double ips = files.size() / ((System.nanoTime() - t0) / 1e9);
                log.accept(String.format(Locale.ROOT, "single process, round %d: %.1f images/s", r + 1, ips));
                single = Math.max(single, ips);
            }
        }
        SparkSession spark = SparkSession.builder()
                .master(master)
                .appName("jimm spark bench")
                .config("spark.ui.enabled", "false")
                .getOrCreate();
        try (ImageInference inference =
                ImageInference.builder(spark, model).batchSize(batchSize).build()) {
            int cores = spark.sparkContext().defaultParallelism();
            int few = 4 * cores;
            int many = Math.max(few * 4, files.size() / batchSize);
            double cold = files.size() / job(spark, inference, folder, few);
            log.accept(String.format(Locale.ROOT, "spark, cold job: %.1f images/s", cold));
            double warm = 0;
            double fewSeconds = Double.MAX_VALUE;
            double manySeconds = Double.MAX_VALUE;
            for (int r = 0; r < rounds; r++) {
                double s = job(spark, inference, folder, few);
                fewSeconds = Math.min(fewSeconds, s);
                warm = Math.max(warm, files.size() / s);
                manySeconds = Math.min(manySeconds, job(spark, inference, folder, many));
                log.accept(String.format(
                        Locale.ROOT,
                        "spark, warm round %d: %.1f images/s (%d partitions), %.2f s with %d partitions",
                        r + 1,
                        files.size() / s,
                        few,
                        manySeconds,
                        many));
            }
            // the extra tasks run `cores` at a time
            double perTask = (manySeconds - fewSeconds) * cores / (many - few);
            return new Report(files.size(), cores, single, cold, warm, perTask, few, many);
        } finally {
            spark.stop();
        }
    }

    /** Seconds of one job that scores every image and counts the scored rows. */
    private static double job(SparkSession spark, ImageInference inference, Path folder, int partitions) {
        long t0 = System.nanoTime();
        Dataset<Row> images =
                ImageInference.readImages(spark, folder.toString()).repartition(partitions);
        inference.predict(images).filter(ImageInference.ERROR + " is null").count();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static List<Path> imageFiles(Path folder) {
        try (Stream<Path> s = Files.walk(folder)) {
            return s.filter(Files::isRegularFile)
                    .filter(ImageFolderDataset::isImage)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new UncheckedIOException(folder + ": cannot list", e);
        }
    }
}
