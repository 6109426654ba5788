package dev.jimm.spark;

import dev.jimm.JimmException;
import dev.jimm.vision.Export;
import dev.jimm.vision.ImageClassifier;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * A jimm export shipped to the executors: the driver broadcasts the file's bytes once, and each executor JVM loads the
 * classifier from them on first use and keeps it for every later task of any job (keyed by the bytes' SHA-256, so a
 * retrained model under the same name is a different model).
 */
final class SharedModel implements Serializable {
    private static final long serialVersionUID = 1L;

    /**
     * The classifiers this JVM has loaded, by content hash. Process-wide on purpose: Spark runs many tasks in one
     * executor JVM and the point is to load the model once per JVM, not once per task. An {@link ImageClassifier} is
     * safe to share between threads.
     */
    private static final ConcurrentHashMap<String, ImageClassifier> LOADED = new ConcurrentHashMap<>();

    private static final AtomicInteger LOADS = new AtomicInteger();

    private final String fileName;
    private final String sha256;
    private final List<String> classes;
    private final Broadcast<byte[]> bytes;

    private SharedModel(String fileName, String sha256, List<String> classes, Broadcast<byte[]> bytes) {
        this.fileName = fileName;
        this.sha256 = sha256;
        this.classes = List.copyOf(classes);
        this.bytes = bytes;
    }

    /** Reads an export (or a run folder's model.safetensors) on the driver and broadcasts it. */
    static SharedModel broadcast(SparkSession spark, Path exportOrRunDir) {
        Path file = Export.locate(exportOrRunDir);
        List<String> classes = Export.readSpec(file).classes();
        byte[] content;
        try {
            content = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new JimmException(file + ": cannot read (" + e.getMessage() + ")", e);
        }
        Broadcast<byte[]> b =
                JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(content);
        return new SharedModel(file.toString(), sha256(content), classes, b);
    }

    /** The model's class names, in output order. */
    List<String> classes() {
        return classes;
    }

    /** This JVM's classifier for the model, loaded from the broadcast bytes on first use. */
    ImageClassifier classifier() {
        return LOADED.computeIfAbsent(sha256, k -> load());
    }

    /** How many models this JVM has loaded from broadcasts (a test of the once-per-JVM promise). */
    static int loadsInThisJvm() {
        return LOADS.get();
    }

    /** Stops shipping the bytes to executors that have not loaded the model yet. */
    void unpersist() {
        bytes.unpersist();
    }

    private ImageClassifier load() {
        Path tmp = null;
        try {
            // Export.load reads a file: give it one on the executor's local disk, for as long as the load takes
            tmp = Files.createTempFile("jimm-model-", ".safetensors");
            Files.write(tmp, bytes.value());
            ImageClassifier c = ImageClassifier.load(tmp);
            LOADS.incrementAndGet();
            return c;
        } catch (IOException e) {
            throw new JimmException("cannot stage " + fileName + " on this executor: " + e.getMessage(), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException e) {
                    tmp.toFile().deleteOnExit();
                }
            }
        }
    }

    private static String sha256(byte[] content) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
