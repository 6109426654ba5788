package dev.jimm.cli;

import dev.jimm.JimmException;
import dev.jimm.bench.SparkThroughput;
import dev.jimm.spark.BatchJob;
import dev.jimm.spark.Evaluation;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code jimm spark predict|embed|eval MODEL INPUT --out DIR}: a trained model over a whole image store on Apache
 * Spark, embedded in local mode or under {@code spark-submit}. This class names no Spark type, so the other commands
 * run without Spark's jars; the work is {@link BatchJob}'s.
 */
@Command(
        name = "spark",
        mixinStandardHelpOptions = true,
        description = {
            "Run a trained model over many images on Apache Spark: top-k predictions, embeddings or an evaluation,"
                    + " written as Parquet, JSON or CSV rows (an unreadable image is a row with an error).",
            "Embedded (local mode): jimm spark predict runs/letters photos/ --out predictions",
            "On a cluster: spark-submit --class dev.jimm.cli.Main jimm-cli/target/jimm-job.jar spark predict ..."
        },
        subcommands = {
            SparkCommand.Predict.class,
            SparkCommand.Embed.class,
            SparkCommand.Eval.class,
            SparkCommand.Bench.class
        })
final class SparkCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** What the three jobs share. */
    abstract static class Job extends JimmCommand {
        @Parameters(index = "0", paramLabel = "MODEL", description = "A run folder or an export file.")
        Path model;

        @Parameters(
                index = "1",
                paramLabel = "INPUT",
                description = "A folder of images (searched recursively; any Hadoop path or URI), a glob, a .txt file"
                        + " of paths or a .csv file with a 'path' column.")
        String input;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the rows go (a folder).")
        String out;

        @Option(
                names = "--master",
                paramLabel = "URL",
                description = "Spark's master (default: spark-submit's, else local[*]: every core of this machine).")
        String master;

        @Option(
                names = "--format",
                paramLabel = "FORMAT",
                defaultValue = "parquet",
                description = "parquet, json or csv (arrays as JSON text) (default: ${DEFAULT-VALUE}).")
        String format;

        @Option(
                names = "--batch-size",
                paramLabel = "N",
                defaultValue = "32",
                description = "Images per forward pass; with the same N and threads, an image gets the same bits as"
                        + " from jimm predict --batch-size N --threads T (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(
                names = "--top-k",
                paramLabel = "K",
                defaultValue = "5",
                description = "Classes per image (default: ${DEFAULT-VALUE}).")
        int topK;

        @Option(
                names = "--threads-per-task",
                paramLabel = "N",
                description = "libtorch threads per task (default: spark.task.cpus, 1 unless set).")
        Integer threadsPerTask;

        @Option(
                names = "--partitions",
                paramLabel = "N",
                description = "Partitions the images are spread over (default: 4 per core).")
        Integer partitions;

        @Option(names = "--overwrite", description = "Replace --out if it exists (default: refuse).")
        boolean overwrite;

        @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "A Spark setting (repeatable).")
        Map<String, String> conf = new LinkedHashMap<>();

        @Option(names = "--json", description = "End with one JSON line of the figures instead of text.")
        boolean json;

        abstract BatchJob.Task task();

        String labelColumn() {
            return null;
        }

        @Override
        public Integer call() {
            requireAtLeast("--batch-size", batchSize, 1);
            requireAtLeast("--top-k", topK, 1);
            if (partitions != null) {
                requireAtLeast("--partitions", partitions, 1);
            }
            if (!BatchJob.FORMATS.contains(format)) {
                throw new IllegalArgumentException("--format " + format + ": expected one of " + BatchJob.FORMATS);
            }
            requireSpark();
            PrintWriter err = err();
            BatchJob.Builder job = BatchJob.builder(task(), model, input, out)
                    .master(master)
                    .format(format)
                    .batchSize(batchSize)
                    .topK(topK)
                    .labelColumn(labelColumn())
                    .overwrite(overwrite)
                    .progress(line -> {
                        err.println(line);
                        err.flush();
                    });
            if (partitions != null) {
                job.partitions(partitions);
            }
            if (threadsPerTask != null) {
                requireAtLeast("--threads-per-task", threadsPerTask, 1);
                job.threadsPerTask(threadsPerTask);
            }
            conf.forEach(job::conf);
            BatchJob.Result r = job.build().run();
            report(r);
            return 0;
        }

        private void report(BatchJob.Result r) {
            Evaluation e = r.evaluation();
            if (json) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("rows", r.rows());
                m.put("errors", r.errors());
                m.put("seconds", r.seconds());
                m.put("images_per_second", r.imagesPerSecond());
                m.put("out", r.out());
                if (e != null) {
                    Map<String, Object> figures = e.toMap();
                    m.put("accuracy", figures.get("accuracy"));
                    m.put("top" + e.topK() + "_accuracy", figures.get("top" + e.topK() + "_accuracy"));
                }
                printJson(m);
                return;
            }
            PrintWriter o = out();
            if (e != null) {
                o.print(e.summary());
            }
            o.println(String.format(
                    Locale.ROOT,
                    "%d rows (%d errors) in %.1f s, %.1f images/s: %s",
                    r.rows(),
                    r.errors(),
                    r.seconds(),
                    r.imagesPerSecond(),
                    r.out()));
            o.flush();
        }
    }

    /** {@code jimm spark predict}. */
    @Command(
            name = "predict",
            mixinStandardHelpOptions = true,
            description = "Top-k classes of every image: columns prediction, probability, top_labels,"
                    + " top_probabilities, error.")
    static final class Predict extends Job {
        @Override
        BatchJob.Task task() {
            return BatchJob.Task.PREDICT;
        }
    }

    /** {@code jimm spark embed}. */
    @Command(
            name = "embed",
            mixinStandardHelpOptions = true,
            description = "The embedding of every image (the features the classifier's last linear layer reads):"
                    + " columns embedding, error.")
    static final class Embed extends Job {
        @Override
        BatchJob.Task task() {
            return BatchJob.Task.EMBED;
        }
    }

    /** {@code jimm spark eval}. */
    @Command(
            name = "eval",
            mixinStandardHelpOptions = true,
            description = "Score labelled images: the rows (true_label, prediction, correct...), then accuracy,"
                    + " per-class figures and the confusion matrix in DIR/_evaluation.json.")
    static final class Eval extends Job {
        @Option(
                names = "--label-column",
                paramLabel = "NAME",
                description = "The CSV's label column (class names or indices) (default: 'label' if the input has it,"
                        + " else each image's folder name).")
        String label;

        @Override
        BatchJob.Task task() {
            return BatchJob.Task.EVALUATE;
        }

        @Override
        String labelColumn() {
            return label;
        }
    }

    /** {@code jimm spark bench}. */
    @Command(
            name = "bench",
            mixinStandardHelpOptions = true,
            description = {
                "Throughput of a Spark job in local mode against one process (as jimm predict runs), on the same"
                        + " images with the same model, in one run; and the cost of one more task.",
                "Example: jimm spark bench runs/letters samples/font-letters --master local[2]"
            })
    static final class Bench extends JimmCommand {
        @Parameters(index = "0", paramLabel = "MODEL", description = "A run folder or an export file.")
        Path model;

        @Parameters(index = "1", paramLabel = "FOLDER", description = "A local folder of images.")
        Path folder;

        @Option(
                names = "--master",
                paramLabel = "URL",
                defaultValue = "local[*]",
                description = "Spark's master (default: ${DEFAULT-VALUE}).")
        String master;

        @Option(
                names = "--batch-size",
                paramLabel = "N",
                defaultValue = "32",
                description = "Images per forward pass on both sides (default: ${DEFAULT-VALUE}).")
        int batchSize;

        @Option(
                names = "--rounds",
                paramLabel = "N",
                defaultValue = "3",
                description = "Warm rounds per side; the best counts (default: ${DEFAULT-VALUE}).")
        int rounds;

        @Override
        public Integer call() {
            requireAtLeast("--batch-size", batchSize, 1);
            requireAtLeast("--rounds", rounds, 1);
            requireSpark();
            PrintWriter err = err();
            SparkThroughput.Report r = SparkThroughput.run(model, folder, master, batchSize, rounds, line -> {
                err.println(line);
                err.flush();
            });
            out().print(r.table());
            out().flush();
            return 0;
        }
    }

    /** Fails with the fix when Spark's jars are not on the class path (the launcher adds them for this command). */
    static void requireSpark() {
        try {
            Class.forName("org.apache.spark.sql.SparkSession", false, SparkCommand.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new JimmException("Apache Spark is not on the class path: run `./jimm spark ...` (the launcher adds"
                    + " jimm-spark/target/spark-lib) or spark-submit jimm-cli/target/jimm-job.jar");
        }
    }
}
