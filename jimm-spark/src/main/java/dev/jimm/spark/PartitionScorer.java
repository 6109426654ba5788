package dev.jimm.spark;

import ai.djl.pytorch.jni.JniUtils;
import dev.jimm.JimmException;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecodeException;
import dev.jimm.data.ImageDecoder;
import dev.jimm.vision.ImageClassifier;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema;
import org.apache.spark.sql.types.StructType;

/**
 * The work of one task: reads and decodes a partition's images, runs them through the executor's classifier in batches
 * of exactly {@code batchSize}, and gives each input row one output row (the kept input columns, then the mode's
 * columns, then {@code error}). Lazy: at most one batch of images is in memory at a time.
 */
final class PartitionScorer implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;

    /** What the rows get. */
    enum Mode {
        PREDICT,
        EMBED,
        EVALUATE
    }

    /** Where a row's image and label are, and which input columns the output keeps. */
    record Columns(int path, int content, int label, int[] kept) implements Serializable {
        private static final long serialVersionUID = 1L;
    }

    private final SharedModel model;
    private final ImageFiles files;
    private final Mode mode;
    private final Columns columns;
    private final int batchSize;
    private final int topK;
    private final int threads;
    private final StructType schema;

    PartitionScorer(
            SharedModel model,
            ImageFiles files,
            Mode mode,
            Columns columns,
            StructType schema,
            int batchSize,
            int topK,
            int threads) {
        this.schema = schema;
        this.model = model;
        this.files = files;
        this.mode = mode;
        this.columns = columns;
        this.batchSize = batchSize;
        this.topK = topK;
        this.threads = threads;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> input) {
        ImageClassifier classifier = model.classifier();
        // libtorch's intra-op threads for this task: the task's share of the executor's cores (spark.task.cpus)
        JniUtils.setNumThreads(threads);
        return new Iterator<>() {
            private final ArrayDeque<Row> ready = new ArrayDeque<>();

            @Override
            public boolean hasNext() {
                if (ready.isEmpty() && input.hasNext()) {
                    ready.addAll(scoreBatch(classifier, input));
                }
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return ready.poll();
            }
        };
    }

    /** The next up-to-{@code batchSize} rows of the partition, scored. */
    private List<Row> scoreBatch(ImageClassifier classifier, Iterator<Row> input) {
        ImageDecoder decoder = classifier.preprocessing().decoder();
        List<Row> rows = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        List<DecodedImage> images = new ArrayList<>();
        while (rows.size() < batchSize && input.hasNext()) {
            Row row = input.next();
            rows.add(row);
            String error = labelError(row);
            if (error == null) {
                try {
                    images.add(decode(decoder, row));
                } catch (ImageDecodeException | JimmException | IOException | InvalidPathException e) {
                    error = reason(e);
                }
            }
            errors.add(error);
        }
        float[][] outputs = mode == Mode.EMBED
                ? classifier.embeddingsInBatches(images, batchSize)
                : classifier.probabilitiesInBatches(images, batchSize);
        List<Row> out = new ArrayList<>(rows.size());
        int next = 0;
        for (int i = 0; i < rows.size(); i++) {
            float[] values = errors.get(i) == null ? outputs[next++] : null;
            out.add(outputRow(classifier, rows.get(i), values, errors.get(i)));
        }
        return out;
    }

    private DecodedImage decode(ImageDecoder decoder, Row row) throws IOException {
        String path = columns.path() >= 0 ? row.getString(columns.path()) : null;
        Path name = Path.of(path == null ? "<bytes>" : path);
        byte[] bytes;
        if (columns.content() >= 0 && !row.isNullAt(columns.content())) {
            bytes = row.getAs(columns.content());
        } else if (path == null) {
            throw new IOException(columns.path() >= 0 ? "no path (null)" : "no image bytes (null content)");
        } else {
            bytes = files.read(path);
        }
        return decoder.decode(bytes, name);
    }

    /** Why a labelled row cannot be scored (its label is not one of the model's classes), or null. */
    private String labelError(Row row) {
        if (mode != Mode.EVALUATE) {
            return null;
        }
        if (row.isNullAt(columns.label())) {
            return "no label (null)";
        }
        return labelName(row) == null
                ? "label '" + row.get(columns.label()) + "' is not one of the model's "
                        + model.classes().size() + " classes"
                : null;
    }

    /** The class name a row's label means: a name of the model's classes, or a class index; null when neither. */
    private String labelName(Row row) {
        Object label = row.get(columns.label());
        List<String> classes = model.classes();
        if (label instanceof Number n) {
            long i = n.longValue();
            return n.doubleValue() == i && i >= 0 && i < classes.size() ? classes.get((int) i) : null;
        }
        String s = label.toString();
        return classes.contains(s) ? s : null;
    }

    private Row outputRow(ImageClassifier classifier, Row in, float[] values, String error) {
        int[] kept = columns.kept();
        Object[] out = new Object[schema.size()];
        for (int i = 0; i < kept.length; i++) {
            out[i] = in.get(kept[i]);
        }
        int at = kept.length;
        if (mode == Mode.EVALUATE) {
            out[at++] = in.isNullAt(columns.label()) ? null : labelName(in);
        }
        if (values != null && mode == Mode.EMBED) {
            out[at] = boxed(values);
        } else if (values != null) {
            List<ImageClassifier.ClassScore> top = classifier.top(values, topK);
            String[] labels = new String[top.size()];
            Double[] probs = new Double[top.size()];
            for (int i = 0; i < top.size(); i++) {
                labels[i] = top.get(i).label();
                probs[i] = top.get(i).probability();
            }
            out[at] = labels[0];
            out[at + 1] = probs[0];
            out[at + 2] = labels;
            out[at + 3] = probs;
            if (mode == Mode.EVALUATE) {
                String truth = labelName(in);
                out[at + 4] = truth.equals(labels[0]);
                out[at + 5] = List.of(labels).contains(truth);
            }
        }
        out[out.length - 1] = error;
        // with its schema, so that row.getAs("path") works in a user's map over the output
        return new GenericRowWithSchema(out, schema);
    }

    private static Float[] boxed(float[] v) {
        Float[] out = new Float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = v[i];
        }
        return out;
    }

    /** One line saying why an image could not be used. */
    private static String reason(Exception e) {
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m.replace('\n', ' ');
    }
}
