package dev.jimm.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.to_json;

import com.google.gson.GsonBuilder;
import dev.jimm.JimmException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;

/**
 * One batch job as {@code jimm spark predict|embed|eval} runs it, embedded ({@code local[*]}) or under
 * {@code spark-submit}: lists the input images, spreads them over partitions, scores them with {@link ImageInference},
 * writes the rows with Spark's commit protocol, and counts what was written.
 */
public final class BatchJob {
    /** What the rows get. */
    public enum Task {
        PREDICT,
        EMBED,
        EVALUATE
    }

    /** What a job wrote. */
    public record Result(long rows, long errors, double seconds, String out, Evaluation evaluation) {
        /** Images scored per second of the job. */
        public double imagesPerSecond() {
            return rows / seconds;
        }
    }

    /** The output formats. */
    public static final List<String> FORMATS = List.of("parquet", "json", "csv");

    private final Builder b;

    private BatchJob(Builder b) {
        this.b = b;
    }

    /**
     * A job of {@code task} with the export at {@code model} over {@code input}: a folder tree of images (or a glob), a
     * {@code .txt} file of paths (one a line), or a {@code .csv} file with a header and a {@code path} column; the rows
     * go to the folder {@code out}.
     */
    public static Builder builder(Task task, Path model, String input, String out) {
        return new Builder(task, model, input, out);
    }

    /** Runs the job in the session of {@link Builder#master} (or spark-submit's), and stops that session. */
    public Result run() {
        SparkSession.Builder sb =
                SparkSession.builder().appName("jimm spark " + b.task.name().toLowerCase(Locale.ROOT));
        String master = b.master != null ? b.master : System.getProperty("spark.master") == null ? "local[*]" : null;
        if (master != null) {
            sb.master(master);
        }
        b.conf.forEach(sb::config);
        SparkSession spark = sb.getOrCreate();
        try {
            return run(spark);
        } finally {
            spark.stop();
        }
    }

    /** Runs the job in {@code spark} (left running). */
    public Result run(SparkSession spark) {
        checkOutput(spark);
        if (b.progress != null) {
            spark.sparkContext().addSparkListener(new PartitionProgress(b.progress));
        }
        Dataset<Row> images = read(spark);
        int partitions =
                b.partitions > 0 ? b.partitions : 4 * spark.sparkContext().defaultParallelism();
        images = images.repartition(partitions);
        long start = System.nanoTime();
        ImageInference.Builder options =
                ImageInference.builder(spark, b.model).batchSize(b.batchSize).topK(b.topK);
        if (b.threadsPerTask != null) {
            options.threadsPerTask(b.threadsPerTask);
        }
        try (ImageInference model = options.build()) {
            Dataset<Row> rows;
            Evaluation evaluation = null;
            switch (b.task) {
                case PREDICT -> rows = model.predict(images);
                case EMBED -> rows = model.embed(images);
                default -> {
                    String label = b.labelColumn;
                    if (label == null) {
                        label = "label";
                        if (!List.of(images.columns()).contains(label)) {
                            images = ImageInference.withFolderLabels(images, label);
                        }
                    }
                    rows = model.predictLabelled(images, label).persist(StorageLevel.MEMORY_AND_DISK());
                }
            }
            write(rows);
            long n;
            long errors;
            if (b.task == Task.EVALUATE) {
                evaluation = model.evaluation(rows);
                rows.unpersist();
                n = evaluation.scored() + evaluation.errors();
                errors = evaluation.errors();
                writeText(spark, "_evaluation.json", evaluationJson(evaluation));
            } else {
                Dataset<Row> written = reader(spark).load(b.out);
                n = written.count();
                errors = written.filter(col(ImageInference.ERROR).isNotNull()).count();
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return new Result(n, errors, seconds, b.out, evaluation);
        }
    }

    private Dataset<Row> read(SparkSession spark) {
        String lower = b.input.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".csv")) {
            Dataset<Row> rows = spark.read().option("header", "true").csv(b.input);
            if (!List.of(rows.columns()).contains("path")) {
                throw new JimmException(b.input + ": no 'path' column in the CSV header " + List.of(rows.columns()));
            }
            return rows;
        }
        if (lower.endsWith(".txt")) {
            return spark.read().text(b.input).withColumnRenamed("value", "path");
        }
        return ImageInference.readImages(spark, b.input);
    }

    private void write(Dataset<Row> rows) {
        Dataset<Row> out = rows;
        if (b.format.equals("csv")) {
            // CSV holds no arrays: they go as JSON text ("[0.91,0.05]")
            for (StructField f : rows.schema().fields()) {
                if (f.dataType() instanceof ArrayType) {
                    out = out.withColumn(f.name(), to_json(new Column(f.name())));
                }
            }
        }
        out.write()
                .mode(b.overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists)
                .format(b.format)
                .option("header", "true")
                .save(b.out);
    }

    private DataFrameReader reader(SparkSession spark) {
        return spark.read().format(b.format).option("header", "true");
    }

    private void checkOutput(SparkSession spark) {
        try {
            if (!b.overwrite && HadoopFiles.exists(spark.sparkContext().hadoopConfiguration(), b.out)) {
                throw new JimmException("--out " + b.out + " exists already (choose a new folder, or --overwrite)");
            }
        } catch (IOException e) {
            throw new JimmException("--out " + b.out + ": " + e.getMessage(), e);
        }
    }

    private void writeText(SparkSession spark, String name, String text) {
        try {
            HadoopFiles.writeText(spark.sparkContext().hadoopConfiguration(), b.out, name, text);
        } catch (IOException e) {
            throw new JimmException(b.out + "/" + name + ": cannot write (" + e.getMessage() + ")", e);
        }
    }

    private static String evaluationJson(Evaluation e) {
        Map<String, Object> m = new LinkedHashMap<>(e.toMap());
        return new GsonBuilder().setPrettyPrinting().create().toJson(m) + "\n";
    }

    /** How a {@link BatchJob} runs. */
    public static final class Builder {
        private final Task task;
        private final Path model;
        private final String input;
        private final String out;
        private String master;
        private String format = "parquet";
        private int batchSize = 32;
        private int topK = 5;
        private int partitions;
        private Integer threadsPerTask;
        private String labelColumn;
        private boolean overwrite;
        private Consumer<String> progress;
        private final Map<String, String> conf = new LinkedHashMap<>();

        private Builder(Task task, Path model, String input, String out) {
            this.task = task;
            this.model = model;
            this.input = input;
            this.out = out;
        }

        /** Spark's master URL (default: spark-submit's, else {@code local[*]}). */
        public Builder master(String v) {
            this.master = v;
            return this;
        }

        /** parquet (default), json or csv. */
        public Builder format(String v) {
            if (!FORMATS.contains(v)) {
                throw new IllegalArgumentException("format '" + v + "' is not one of " + FORMATS);
            }
            this.format = v;
            return this;
        }

        /** Images per forward pass ({@link ImageInference.Builder#batchSize}). */
        public Builder batchSize(int v) {
            this.batchSize = v;
            return this;
        }

        /** Classes per row ({@link ImageInference.Builder#topK}). */
        public Builder topK(int v) {
            this.topK = v;
            return this;
        }

        /** libtorch threads per task ({@link ImageInference.Builder#threadsPerTask}). */
        public Builder threadsPerTask(int v) {
            this.threadsPerTask = ImageInference.Builder.checkAtLeastOne("threadsPerTask", v);
            return this;
        }

        /** Partitions the images are spread over (default: 4 per core of the session). */
        public Builder partitions(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("partitions must be at least 1, got " + v);
            }
            this.partitions = v;
            return this;
        }

        /** For evaluation: the label column (default {@code label} if the input has it, else the parent folder). */
        public Builder labelColumn(String v) {
            this.labelColumn = v;
            return this;
        }

        /** Replace {@code out} if it exists (default: refuse). */
        public Builder overwrite(boolean v) {
            this.overwrite = v;
            return this;
        }

        /** A line per finished partition goes here (default: none). */
        public Builder progress(Consumer<String> v) {
            this.progress = v;
            return this;
        }

        /** A Spark setting for the session {@link BatchJob#run()} creates. */
        public Builder conf(String key, String value) {
            conf.put(key, value);
            return this;
        }

        public BatchJob build() {
            ImageInference.Builder.checkAtLeastOne("batchSize", batchSize);
            ImageInference.Builder.checkAtLeastOne("topK", topK);
            return new BatchJob(this);
        }
    }
}
