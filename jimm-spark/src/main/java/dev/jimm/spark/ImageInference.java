package dev.jimm.spark;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.split;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.jimm.data.ImageFolderDataset;
import dev.jimm.vision.ImageClassifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A jimm export run over a DataFrame of images: top-k predictions, embeddings, or an evaluation against a label column.
 *
 * <p>The input is any DataFrame with a path column (local paths, {@code file:} URIs, or any Hadoop store the cluster
 * reaches), optionally with the bytes in a binary column, as Spark's {@code binaryFile} source gives them
 * ({@link #readImages} lists a folder tree without reading the bytes on the driver). The output keeps the input's
 * columns (except the bytes) and adds the mode's columns and {@value #ERROR}: null for a scored row, else one line
 * saying why the image could not be used. The rows are lazy, as everywhere in Spark: writing them
 * ({@code df.write().parquet(dir)}) goes through Spark's commit protocol, so a retried task leaves no duplicate rows.
 *
 * <pre>{@code
 * try (ImageInference model = ImageInference.builder(spark, Path.of("runs/letters")).topK(3).build()) {
 *     Dataset<Row> images = ImageInference.readImages(spark, "hdfs:///photos");
 *     model.predict(images).write().parquet("hdfs:///photos-predicted");
 *     Evaluation e = model.evaluate(ImageInference.withFolderLabels(images, "label"), "label");
 * }
 * }</pre>
 *
 * <p>Each executor JVM loads the model once (from one broadcast of the export's bytes) and shares it between its tasks;
 * a task decodes its images and runs them in batches of exactly {@link Builder#batchSize} (the last one padded) on
 * {@link Builder#threadsPerTask} libtorch threads (Spark's {@code spark.task.cpus} by default). An image then gets the
 * same bits as from {@code jimm predict --batch-size N --threads T} or {@link ImageClassifier#probabilitiesInBatches}
 * with the same N and T, whatever the partitioning.
 */
public final class ImageInference implements AutoCloseable {
    /** Why a row was not scored, or null. */
    public static final String ERROR = "error";
    /** The top class's name. */
    public static final String PREDICTION = "prediction";
    /** The top class's probability. */
    public static final String PROBABILITY = "probability";
    /** The top k class names, most probable first. */
    public static final String TOP_LABELS = "top_labels";
    /** Their probabilities. */
    public static final String TOP_PROBABILITIES = "top_probabilities";
    /** The features the classifier's last linear layer reads (timm's pre-logits), as an array of floats. */
    public static final String EMBEDDING = "embedding";
    /** The class name the label column means (evaluation). */
    public static final String TRUE_LABEL = "true_label";
    /** Whether the prediction is the true label (evaluation). */
    public static final String CORRECT = "correct";
    /** Whether the true label is among the top k (evaluation). */
    public static final String TOP_K_CORRECT = "top_k_correct";

    /** The image file extensions {@link #readImages} lists: those of an image folder ({@link ImageFolderDataset}). */
    public static final List<String> IMAGE_EXTENSIONS = List.copyOf(new TreeSet<>(ImageFolderDataset.EXTENSIONS));

    private final SparkSession spark;
    private final SharedModel model;
    private final Builder options;

    private ImageInference(SparkSession spark, SharedModel model, Builder options) {
        this.spark = spark;
        this.model = model;
        this.options = options;
    }

    /** Options for the export (a run folder of {@code jimm train}, or a file of {@code Learner.export}). */
    public static Builder builder(SparkSession spark, Path exportOrRunDir) {
        return new Builder(spark, exportOrRunDir);
    }

    /** The model's class names, in output order. */
    public List<String> classes() {
        return model.classes();
    }

    /**
     * The top {@code k} classes of each image: columns {@value #PREDICTION}, {@value #PROBABILITY},
     * {@value #TOP_LABELS}, {@value #TOP_PROBABILITIES}, {@value #ERROR}.
     */
    public Dataset<Row> predict(Dataset<Row> images) {
        return run(images, PartitionScorer.Mode.PREDICT, null);
    }

    /** The embedding of each image: columns {@value #EMBEDDING} (array of floats) and {@value #ERROR}. */
    public Dataset<Row> embed(Dataset<Row> images) {
        return run(images, PartitionScorer.Mode.EMBED, null);
    }

    /**
     * The predictions of labelled images, for {@link #evaluation}: {@value #TRUE_LABEL} (the class the label means: a
     * class name, or a class index), the prediction columns, {@value #CORRECT}, {@value #TOP_K_CORRECT} and
     * {@value #ERROR} (also for a label that is not one of the model's classes).
     */
    public Dataset<Row> predictLabelled(Dataset<Row> images, String labelColumn) {
        return run(images, PartitionScorer.Mode.EVALUATE, labelColumn);
    }

    /** Scores labelled images and counts the results ({@link #predictLabelled}, then {@link #evaluation}). */
    public Evaluation evaluate(Dataset<Row> images, String labelColumn) {
        return evaluation(predictLabelled(images, labelColumn));
    }

    /** Counts the rows of {@link #predictLabelled} (or those rows read back from where they were written). */
    public Evaluation evaluation(Dataset<Row> labelledPredictions) {
        List<String> classes = model.classes();
        long[][] confusion = new long[classes.size()][classes.size()];
        long topKHits = 0;
        long errors = 0;
        List<Row> counts = labelledPredictions
                .groupBy(
                        col(TRUE_LABEL), col(PREDICTION), col(ERROR).isNotNull().as("failed"))
                .agg(count(lit(1)).as("n"), sum(when(col(TOP_K_CORRECT), 1L).otherwise(0L)))
                .collectAsList();
        for (Row r : counts) {
            long n = r.getLong(3);
            if (r.getBoolean(2)) {
                errors += n;
                continue;
            }
            int t = classes.indexOf(r.getString(0));
            int p = classes.indexOf(r.getString(1));
            if (t < 0 || p < 0) {
                throw new IllegalArgumentException("rows with true label '" + r.getString(0) + "' and prediction '"
                        + r.getString(1) + "' are not of this model's classes " + classes);
            }
            confusion[t][p] += n;
            topKHits += r.isNullAt(4) ? 0 : r.getLong(4);
        }
        return new Evaluation(classes, confusion, options.topK, topKHits, errors);
    }

    /**
     * The image files under {@code paths} (folders searched recursively, by {@link #IMAGE_EXTENSIONS}, any case), as
     * Spark's {@code binaryFile} source lists them: {@code path}, {@code modificationTime}, {@code length}. The bytes
     * are left for the executors to read, so the driver never holds them and repartitioning moves only names.
     */
    public static Dataset<Row> readImages(SparkSession spark, String... paths) {
        List<String> globs = new ArrayList<>();
        for (String ext : IMAGE_EXTENSIONS) {
            StringBuilder g = new StringBuilder("*.");
            for (char c : ext.toCharArray()) {
                g.append('[').append(c).append(Character.toUpperCase(c)).append(']');
            }
            globs.add(g.toString());
        }
        return spark.read()
                .format("binaryFile")
                .option("recursiveFileLookup", "true")
                .option("pathGlobFilter", "{" + String.join(",", globs) + "}")
                .load(paths)
                .select("path", "modificationTime", "length");
    }

    /**
     * Adds {@code labelColumn}: the name of each image's parent folder, as an image folder (one subfolder per class)
     * labels its images.
     */
    public static Dataset<Row> withFolderLabels(Dataset<Row> images, String labelColumn) {
        return images.withColumn(labelColumn, element_at(split(col("path"), "/"), -2));
    }

    private Dataset<Row> run(Dataset<Row> images, PartitionScorer.Mode mode, String labelColumn) {
        StructType in = images.schema();
        int path = fieldIndex(in, options.pathColumn);
        int content = fieldIndex(in, options.contentColumn);
        if (content >= 0 && !in.fields()[content].dataType().equals(DataTypes.BinaryType)) {
            throw new IllegalArgumentException("column '" + options.contentColumn + "' holds "
                    + in.fields()[content].dataType().simpleString() + ", not the image bytes (binary)");
        }
        int label = labelColumn == null ? -1 : fieldIndex(in, labelColumn);
        if (labelColumn != null && label < 0) {
            throw new IllegalArgumentException("no label column '" + labelColumn + "'; the DataFrame has "
                    + Arrays.toString(in.fieldNames()) + " (ImageInference.withFolderLabels labels by folder)");
        }
        if (path >= 0 && !in.fields()[path].dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("column '" + options.pathColumn + "' holds "
                    + in.fields()[path].dataType().simpleString() + ", not file paths (string)");
        }
        if (path < 0 && content < 0) {
            throw new IllegalArgumentException("the images need a path column '" + options.pathColumn
                    + "' or a bytes column '" + options.contentColumn + "'; the DataFrame has "
                    + Arrays.toString(in.fieldNames())
                    + " (name yours with ImageInference.Builder.pathColumn/contentColumn)");
        }
        List<StructField> fields = new ArrayList<>();
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < in.fields().length; i++) {
            if (i != content) {
                fields.add(in.fields()[i]);
                kept.add(i);
            }
        }
        for (StructField f : outputFields(mode)) {
            if (Arrays.asList(in.fieldNames()).contains(f.name())) {
                throw new IllegalArgumentException("the input already has a column '" + f.name() + "', which the "
                        + mode.name().toLowerCase(Locale.ROOT) + " output adds; rename it");
            }
            fields.add(f);
        }
        StructType schema = new StructType(fields.toArray(StructField[]::new));
        PartitionScorer scorer = new PartitionScorer(
                model,
                new ImageFiles(spark.sparkContext().hadoopConfiguration(), options.maxImageBytes),
                mode,
                new PartitionScorer.Columns(
                        path,
                        content,
                        label,
                        kept.stream().mapToInt(Integer::intValue).toArray()),
                schema,
                options.batchSize,
                options.topK,
                options.threadsPerTask);
        return images.mapPartitions(scorer, Encoders.row(schema));
    }

    private static List<StructField> outputFields(PartitionScorer.Mode mode) {
        List<StructField> f = new ArrayList<>();
        if (mode == PartitionScorer.Mode.EMBED) {
            f.add(DataTypes.createStructField(EMBEDDING, DataTypes.createArrayType(DataTypes.FloatType, false), true));
        } else {
            if (mode == PartitionScorer.Mode.EVALUATE) {
                f.add(DataTypes.createStructField(TRUE_LABEL, DataTypes.StringType, true));
            }
            f.add(DataTypes.createStructField(PREDICTION, DataTypes.StringType, true));
            f.add(DataTypes.createStructField(PROBABILITY, DataTypes.DoubleType, true));
            f.add(DataTypes.createStructField(
                    TOP_LABELS, DataTypes.createArrayType(DataTypes.StringType, false), true));
            f.add(DataTypes.createStructField(
                    TOP_PROBABILITIES, DataTypes.createArrayType(DataTypes.DoubleType, false), true));
            if (mode == PartitionScorer.Mode.EVALUATE) {
                f.add(DataTypes.createStructField(CORRECT, DataTypes.BooleanType, true));
                f.add(DataTypes.createStructField(TOP_K_CORRECT, DataTypes.BooleanType, true));
            }
        }
        f.add(DataTypes.createStructField(ERROR, DataTypes.StringType, true));
        return f;
    }

    private static int fieldIndex(StructType schema, String name) {
        return Arrays.asList(schema.fieldNames()).indexOf(name);
    }

    /** Stops shipping the model to executors (those that loaded it keep it for later jobs in their JVM). */
    @Override
    public void close() {
        model.unpersist();
    }

    /** How {@link ImageInference} runs. */
    public static final class Builder {
        private final SparkSession spark;
        private final Path model;
        private int batchSize = 32;
        private int topK = 5;
        private int threadsPerTask;
        private String pathColumn = "path";
        private String contentColumn = "content";
        private long maxImageBytes = 256L << 20;

        private Builder(SparkSession spark, Path model) {
            this.spark = spark;
            this.model = model;
            this.threadsPerTask = Integer.parseInt(spark.conf().get("spark.task.cpus", "1"));
        }

        /** Images per forward pass, every pass exactly this many (default 32). */
        public Builder batchSize(int n) {
            this.batchSize = atLeastOne("batchSize", n);
            return this;
        }

        /** Classes per row in {@value #TOP_LABELS} (default 5; fewer when the model has fewer). */
        public Builder topK(int k) {
            this.topK = atLeastOne("topK", k);
            return this;
        }

        /** libtorch's threads per task (default: {@code spark.task.cpus}, Spark's cores per task). */
        public Builder threadsPerTask(int n) {
            this.threadsPerTask = atLeastOne("threadsPerTask", n);
            return this;
        }

        /** The column of image paths or URIs (default {@code path}). */
        public Builder pathColumn(String name) {
            this.pathColumn = name;
            return this;
        }

        /** The column of image bytes, used when present and not null (default {@code content}). */
        public Builder contentColumn(String name) {
            this.contentColumn = name;
            return this;
        }

        /** Files larger than this are error rows, not read (default 256 MiB). */
        public Builder maxImageBytes(long n) {
            if (n < 1 || n > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("maxImageBytes must be in [1, 2^31 - 9], got " + n);
            }
            this.maxImageBytes = n;
            return this;
        }

        /** Reads the export on the driver and broadcasts it. */
        public ImageInference build() {
            return new ImageInference(spark, SharedModel.broadcast(spark, model), this);
        }

        static int checkAtLeastOne(String what, int n) {
            return atLeastOne(what, n);
        }

        private static int atLeastOne(String what, int n) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be at least 1, got " + n);
            }
            return n;
        }
    }
}
