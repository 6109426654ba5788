package dev.jimm.spark;

import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.pytorch.jni.JniUtils;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.TestFiles;
import dev.jimm.vision.ImageClassifier;
import dev.jimm.vision.TrainRecipe;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedded Spark ({@code local[2]}) runs a model trained by jimm's training recipe over 300 real images, a corrupt
 * file and a missing one, and every row is checked against the same model run in this process.
 */
class ImageInferenceTest {
    static final int BATCH = 16;
    static final int PER_CLASS = 30;

    @TempDir
    static Path tmp;

    static SparkSession spark;
    static Path run;
    static Path images;
    static List<String> paths = new ArrayList<>();
    static String corrupt;
    static String missing;
    static ImageClassifier reference;
    /** Per path, the reference probabilities in batches of BATCH (the good files in their listing order). */
    static Map<String, float[]> probs = new HashMap<>();

    static Map<String, float[]> embeddings = new HashMap<>();

    /** Task failures injected (local mode: the tasks run in this JVM). */
    static final AtomicInteger INJECTED = new AtomicInteger();

    @BeforeAll
    static void trainAndStart() throws IOException {
        Path letters = TrainRecipe.samplesDir().resolve("font-letters");
        run = tmp.resolve("run");
        TrainRecipe.run(
                TrainRecipe.Config.builder(letters.toString())
                        .model("resnet10t")
                        .epochs(1)
                        .imgSize(32)
                        .seed(7)
                        .out(run)
                        .build(),
                List.of());
        images = tmp.resolve("images");
        try (Stream<Path> classes =
                Files.list(letters).filter(Files::isDirectory).sorted()) {
            for (Path cls : classes.toList()) {
                Path dst =
                        Files.createDirectories(images.resolve(cls.getFileName().toString()));
                try (Stream<Path> files = Files.list(cls).sorted().limit(PER_CLASS)) {
                    for (Path f : files.toList()) {
                        paths.add(Files.copy(f, dst.resolve(f.getFileName())).toString());
                    }
                }
            }
        }
        Path bad = images.resolve("C/corrupt.png");
        byte[] png = Files.readAllBytes(Path.of(paths.get(0)));
        Files.write(bad, Arrays.copyOf(png, 40));
        corrupt = bad.toString();
        missing = images.resolve("D/missing.png").toString();

        reference = ImageClassifier.load(run);
        List<DecodedImage> decoded = new ArrayList<>();
        for (String p : paths) {
            decoded.add(reference.preprocessing().decoder().decode(Path.of(p)));
        }
        // as the Spark tasks run: batches of BATCH on one libtorch thread (spark.task.cpus = 1)
        float[][] p = onOneThread(() -> reference.probabilitiesInBatches(decoded, BATCH));
        float[][] e = onOneThread(() -> reference.embeddingsInBatches(decoded, BATCH));
        for (int i = 0; i < paths.size(); i++) {
            probs.put(paths.get(i), p[i]);
            embeddings.put(paths.get(i), e[i]);
        }
        spark = SparkSession.builder()
                .master("local[2,2]") // two threads, and a failed task is tried again once
                .appName("jimm-spark-test")
                .config("spark.ui.enabled", "false")
                .config("spark.sql.shuffle.partitions", "4")
                .getOrCreate();
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.stop();
        }
        if (reference != null) {
            reference.close();
        }
    }

    /** The 300 paths, the corrupt file and the missing one, shuffled into 3 partitions of uneven sizes. */
    static Dataset<Row> pathFrame() {
        List<Row> rows = new ArrayList<>();
        for (String p : paths) {
            rows.add(RowFactory.create(p));
        }
        rows.add(37, RowFactory.create(corrupt));
        rows.add(211, RowFactory.create(missing));
        StructType schema = new StructType().add("path", DataTypes.StringType);
        return spark.createDataFrame(rows, schema).repartition(3);
    }

    @Test
    void predictionsAreTheSameBitsAsInOneProcessAndBadFilesAreRows() {
        try (ImageInference model =
                ImageInference.builder(spark, run).batchSize(BATCH).topK(3).build()) {
            List<Row> rows = model.predict(pathFrame()).collectAsList();
            assertEquals(paths.size() + 2, rows.size());
            int checked = 0;
            for (Row r : rows) {
                String path = r.getAs("path");
                String error = r.getAs(ImageInference.ERROR);
                if (path.equals(corrupt) || path.equals(missing)) {
                    assertTrue(error != null && !error.isBlank(), path + " should carry an error");
                    assertNull(r.getAs(ImageInference.PREDICTION));
                    continue;
                }
                assertNull(error, path);
                List<ImageClassifier.ClassScore> top = reference.top(probs.get(path), 3);
                List<String> labels = r.getList(r.fieldIndex(ImageInference.TOP_LABELS));
                List<Double> p = r.getList(r.fieldIndex(ImageInference.TOP_PROBABILITIES));
                for (int k = 0; k < 3; k++) {
                    assertEquals(top.get(k).label(), labels.get(k), path);
                    // exact: the same bits, not a tolerance
                    assertEquals(top.get(k).probability(), p.get(k), 0.0, path);
                }
                assertEquals(top.get(0).label(), r.getAs(ImageInference.PREDICTION));
                checked++;
            }
            assertEquals(paths.size(), checked);
            Map<String, String> errors = new HashMap<>();
            for (Row r : rows) {
                if (r.getAs(ImageInference.ERROR) != null) {
                    errors.put(r.getAs("path"), r.getAs(ImageInference.ERROR));
                }
            }
            assertEquals(2, errors.size());
            assertTrue(errors.get(missing).contains("no such file"), errors.get(missing));
            assertTrue(errors.get(corrupt).contains("corrupt.png"), errors.get(corrupt));
        }
    }

    /**
     * {@code work} on one libtorch thread, as the Spark tasks run ({@code spark.task.cpus} = 1): the same bits need the
     * same thread count, since oneDNN may split a reduction differently on two threads.
     */
    private static <T> T onOneThread(Supplier<T> work) {
        int threads = JniUtils.getNumThreads();
        JniUtils.setNumThreads(1);
        try {
            return work.get();
        } finally {
            JniUtils.setNumThreads(threads);
        }
    }

    @Test
    void batchOfOneAgreesWithSingleImagePredictionExactly() {
        // jimm predict's default: one image per pass, no padding
        List<String> some = paths.subList(0, 12);
        try (ImageInference model =
                ImageInference.builder(spark, run).batchSize(1).build()) {
            List<Row> rows = model.predict(spark.createDataFrame(
                                    some.stream().map(RowFactory::create).toList(),
                                    new StructType().add("path", DataTypes.StringType))
                            .repartition(2))
                    .collectAsList();
            assertEquals(some.size(), rows.size());
            for (Row r : rows) {
                String path = r.getAs("path");
                ImageClassifier.ClassScore best =
                        onOneThread(() -> reference.predict(Path.of(path), 1)).get(0);
                assertEquals(best.label(), r.getAs(ImageInference.PREDICTION));
                assertEquals(best.probability(), (double) r.getAs(ImageInference.PROBABILITY), 0.0, path);
            }
        }
    }

    @Test
    void embeddingsAreTheSameBitsAsInOneProcess() {
        try (ImageInference model =
                ImageInference.builder(spark, run).batchSize(BATCH).build()) {
            List<Row> rows = model.embed(pathFrame()).collectAsList();
            assertEquals(paths.size() + 2, rows.size());
            for (Row r : rows) {
                String path = r.getAs("path");
                if (path.equals(corrupt) || path.equals(missing)) {
                    assertNull(r.getAs(ImageInference.EMBEDDING));
                    continue;
                }
                List<Float> e = r.getList(r.fieldIndex(ImageInference.EMBEDDING));
                float[] got = new float[e.size()];
                for (int i = 0; i < got.length; i++) {
                    got[i] = e.get(i);
                }
                // fastai's head: the 512 features after its hidden layer feed the last linear layer
                assertEquals(512, got.length);
                assertArrayEquals(embeddings.get(path), got, path);
            }
        }
    }

    @Test
    void evaluationCountsWhatTheReferenceCounts() {
        List<String> classes = reference.classes();
        long[][] expected = new long[classes.size()][classes.size()];
        long top3 = 0;
        for (String p : paths) {
            int truth = classes.indexOf(Path.of(p).getParent().getFileName().toString());
            List<ImageClassifier.ClassScore> top = reference.top(probs.get(p), 3);
            expected[truth][top.get(0).index()]++;
            top3 += top.stream().anyMatch(s -> s.index() == truth) ? 1 : 0;
        }
        try (ImageInference model =
                ImageInference.builder(spark, run).batchSize(BATCH).topK(3).build()) {
            Evaluation e = model.evaluate(ImageInference.withFolderLabels(pathFrame(), "label"), "label");
            assertEquals(2, e.errors());
            assertEquals(paths.size(), e.scored());
            for (int t = 0; t < classes.size(); t++) {
                assertArrayEquals(expected[t], e.confusion()[t], "true class " + classes.get(t));
            }
            assertEquals(top3, e.topKHits());
            assertTrue(e.accuracy() > 0.5, "a trained model scores above chance: " + e.accuracy());
        }
    }

    @Test
    void binaryFileSourceWithBytesAndIndexLabels() {
        Dataset<Row> files = spark.read()
                .format("binaryFile")
                .option("recursiveFileLookup", "true")
                .load(images.toString())
                .withColumn("label", lit(0));
        try (ImageInference model =
                ImageInference.builder(spark, run).batchSize(BATCH).build()) {
            List<Row> rows = model.predictLabelled(files, "label").collectAsList();
            assertEquals(paths.size() + 1, rows.size());
            assertEquals(-1, List.of(rows.get(0).schema().fieldNames()).indexOf("content"), "bytes are dropped");
            for (Row r : rows) {
                String path = r.getAs("path");
                if (path.endsWith("corrupt.png")) {
                    assertTrue(r.getAs(ImageInference.ERROR) != null);
                    continue;
                }
                String local = Path.of(URI.create(path)).toString();
                assertEquals(reference.classes().get(0), r.getAs(ImageInference.TRUE_LABEL));
                assertEquals(reference.top(probs.get(local), 1).get(0).label(), r.getAs(ImageInference.PREDICTION));
            }
        }
    }

    @Test
    void everyOddFileIsAPredictionOrAOneLineError() throws IOException {
        // CMYK, EXIF-rotated, 16-bit, palette, GIF, truncated, empty, not an image, a decompression bomb
        List<Row> files = new ArrayList<>();
        try (Stream<Path> s = Files.list(TestFiles.resource("images/odd"))) {
            s.sorted().forEach(f -> files.add(RowFactory.create(f.toString())));
        }
        try (ImageInference model =
                ImageInference.builder(spark, run).batchSize(4).build()) {
            List<Row> rows = model.predict(
                            spark.createDataFrame(files, new StructType().add("path", DataTypes.StringType))
                                    .repartition(2))
                    .collectAsList();
            assertEquals(files.size(), rows.size());
            Map<String, String> errors = new HashMap<>();
            for (Row r : rows) {
                String name = Path.of(r.<String>getAs("path")).getFileName().toString();
                String error = r.getAs(ImageInference.ERROR);
                if (error == null) {
                    assertTrue(reference.classes().contains(r.<String>getAs(ImageInference.PREDICTION)), name);
                } else {
                    assertTrue(!error.isBlank() && !error.contains("\n"), name + ": " + error);
                    errors.put(name, error);
                }
            }
            // the files the images' README calls cut short, empty, text or a bomb; every other one is a picture
            assertEquals(
                    List.of(
                            "bomb_100000x100000.png",
                            "empty.jpg",
                            "not_an_image.jpg",
                            "truncated_half.jpg",
                            "truncated_skimage.jpg"),
                    errors.keySet().stream().sorted().toList(),
                    errors.toString());
        }
    }

    @Test
    void theModelIsLoadedOncePerJvmAndBadArgumentsAreNamed() {
        int before = SharedModel.loadsInThisJvm();
        try (ImageInference model =
                ImageInference.builder(spark, run).batchSize(BATCH).build()) {
            model.predict(pathFrame()).count();
            model.embed(pathFrame()).count();
        }
        // the other tests (same export bytes) may have loaded it already; these 6 tasks load it at most once
        assertTrue(SharedModel.loadsInThisJvm() - before <= 1);
        assertTrue(SharedModel.loadsInThisJvm() >= 1);

        IllegalArgumentException noPath = assertThrows(IllegalArgumentException.class, () -> {
            try (ImageInference model = ImageInference.builder(spark, run).build()) {
                model.predict(spark.range(3).toDF("id"));
            }
        });
        assertTrue(noPath.getMessage().contains("path column 'path'"), noPath.getMessage());
        IllegalArgumentException noLabel = assertThrows(IllegalArgumentException.class, () -> {
            try (ImageInference model = ImageInference.builder(spark, run).build()) {
                model.predictLabelled(pathFrame(), "class");
            }
        });
        assertTrue(noLabel.getMessage().contains("no label column 'class'"), noLabel.getMessage());
    }

    @Test
    void aRetriedTaskWritesNoDuplicateRows() {
        SparkSession retrying = spark.newSession();
        Path out = tmp.resolve("retried");
        try (ImageInference model =
                ImageInference.builder(retrying, run).batchSize(BATCH).build()) {
            // the first attempt of the task holding paths[5] dies after its rows were scored and partly written
            MapFunction<Row, Row> failFirstAttempt = r -> {
                TaskContext t = TaskContext.get();
                if (t.attemptNumber() == 0 && r.<String>getAs("path").equals(paths.get(5))) {
                    INJECTED.incrementAndGet();
                    throw new IllegalStateException("injected task failure");
                }
                return r;
            };
            Dataset<Row> predicted = model.predict(pathFrame());
            predicted
                    .map(failFirstAttempt, Encoders.row(predicted.schema()))
                    .write()
                    .parquet(out.toString());
        }
        assertEquals(1, INJECTED.get(), "the failure was injected once");
        Dataset<Row> back = spark.read().parquet(out.toString());
        assertEquals(paths.size() + 2, back.count());
        assertEquals(paths.size() + 2, back.select("path").distinct().count());
    }
}
