package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecoder;
import dev.jimm.models.ImageModel;
import dev.jimm.models.ImageNet;
import dev.jimm.models.InferenceModel;
import dev.jimm.transforms.Preprocessing;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * A classifier of image files (fastai's {@code load_learner} + {@code predict}): decodes an image, applies the eval
 * preprocessing, and returns the top classes with their probabilities. Made from a jimm export ({@link #load}) or from
 * any model built by name with its pretrained config ({@link #of(ImageModel)}). The classifier runs an optimized model
 * ({@link InferenceModel}: BatchNorm folded, no autograd) that it owns and frees on {@link #close}. Safe to use from
 * several threads at once: each call runs in its own native memory scope and the model is only read.
 *
 * <pre>{@code
 * try (ImageModel model = Models.createModel("resnet50.a1_in1k", ModelOptions.builder().pretrained(true).build());
 *         ImageClassifier classifier = ImageClassifier.of(model)) {        // ImageNet's class names
 *     for (ImageClassifier.ClassScore s : classifier.predict(Path.of("cat.jpg"), 5)) {
 *         System.out.println(s.label() + " " + s.probability());
 *     }
 * }
 * }</pre>
 */
public final class ImageClassifier implements AutoCloseable {
    /** One class and its probability. */
    public record ClassScore(String label, int index, double probability) {}

    private final InferenceModel inference;
    private final List<String> classes;
    private final Preprocessing preprocessing;
    private final ImageDecoder decoder;
    /** Whether the model was trained with mirror images (null: unknown, as for a model built by name). */
    private final Boolean flips;

    private final String augmentation;

    private ImageClassifier(
            InferenceModel inference,
            List<String> classes,
            Preprocessing preprocessing,
            Boolean flips,
            String augmentation) {
        this.inference = inference;
        this.classes = List.copyOf(classes);
        this.preprocessing = preprocessing;
        this.decoder = preprocessing.decoder();
        this.flips = flips;
        this.augmentation = augmentation;
    }

    /**
     * Loads an export file, or the {@code model.safetensors} of a run folder.
     *
     * @throws JimmException when the path is neither
     */
    public static ImageClassifier load(Path exportOrRunDir) {
        Path file = Export.locate(exportOrRunDir);
        Export.Spec spec = Export.readSpec(file);
        Preprocessing p = spec.preprocessing();
        VisionModel model = Export.load(file);
        // the model is ours and only predicts: fold its BatchNorms and drop gradient bookkeeping
        InferenceModel inference = InferenceModel.inPlace(model, new Shape(1, p.channels(), p.size(), p.size()));
        return new ImageClassifier(inference, spec.classes(), p, spec.flips(), spec.augmentation());
    }

    /**
     * A classifier of ImageNet's 1,000 classes ({@link ImageNet#classNames()}) from a model with ImageNet weights, with
     * the preprocessing of its pretrained config. {@code model} is copied, not changed: the caller still owns and
     * closes it.
     *
     * @throws IllegalArgumentException when the model does not have 1,000 outputs (give its classes with
     *     {@link #of(ImageModel, List)})
     */
    public static ImageClassifier of(ImageModel model) {
        if (model.numClasses() != ImageNet.NUM_CLASSES) {
            throw new IllegalArgumentException(model.name() + " has " + model.numClasses()
                    + " outputs, not ImageNet's 1000: name them with ImageClassifier.of(model, classes)");
        }
        return of(model, ImageNet.classNames());
    }

    /**
     * A classifier of the given classes (in output order) from a model built by name, with the preprocessing of its
     * pretrained config ({@link Preprocessing#of(ImageModel)}). {@code model} is copied, not changed: the caller still
     * owns and closes it.
     */
    public static ImageClassifier of(ImageModel model, List<String> classes) {
        return of(model, classes, Preprocessing.of(model));
    }

    /** As {@link #of(ImageModel, List)}, with the given preprocessing. */
    public static ImageClassifier of(ImageModel model, List<String> classes, Preprocessing preprocessing) {
        if (classes.size() != model.numClasses()) {
            throw new IllegalArgumentException(model.name() + " has " + model.numClasses() + " outputs but "
                    + classes.size() + " class names were given; they must match one to one");
        }
        if (preprocessing.channels() != model.inChans()) {
            throw new IllegalArgumentException("the preprocessing gives " + preprocessing.channels() + " channels but "
                    + model.name() + " takes " + model.inChans());
        }
        InferenceModel inference = InferenceModel.of(
                model, new Shape(1, preprocessing.channels(), preprocessing.size(), preprocessing.size()));
        return new ImageClassifier(inference, classes, preprocessing, null, null);
    }

    /** The class names, in output order. */
    public List<String> classes() {
        return classes;
    }

    public Preprocessing preprocessing() {
        return preprocessing;
    }

    /** The top {@code k} classes of an image file. */
    public List<ClassScore> predict(Path image, int k) {
        return predict(decoder.decode(image), k);
    }

    /** The top {@code k} classes of an image in memory. */
    public List<ClassScore> predict(BufferedImage image, int k) {
        return predict(decoder.decode(image), k);
    }

    /** The top {@code k} classes of a decoded image. */
    public List<ClassScore> predict(DecodedImage image, int k) {
        return predictAll(List.of(image), k).get(0);
    }

    /** Class probabilities [N, classes] of a batch of decoded images, as float arrays. */
    public float[][] probabilities(List<DecodedImage> images) {
        return probabilities(images, false);
    }

    /**
     * As {@link #probabilities(List)}; with {@code flipTta} each row is the mean of the probabilities of the image and
     * of its mirror image (left-right), as {@code Learner.validate(true)} scores.
     *
     * @throws IllegalArgumentException for flip TTA on a model whose export says it was trained without flips
     */
    public float[][] probabilities(List<DecodedImage> images, boolean flipTta) {
        if (flipTta && Boolean.FALSE.equals(flips)) {
            throw new IllegalArgumentException("flip TTA: this model was trained without flips (augmentation '"
                    + augmentation + "'), so mirror images are not what it learned; score it without TTA");
        }
        if (images.isEmpty()) {
            return new float[0][];
        }
        try (NDManager scope = NDManager.newBaseManager()) {
            NDArray probs = probabilities(preprocessing.batch(scope, images), flipTta);
            float[] flat = probs.toFloatArray();
            int k = classes.size();
            float[][] out = new float[images.size()][k];
            for (int i = 0; i < images.size(); i++) {
                System.arraycopy(flat, i * k, out[i], 0, k);
            }
            return out;
        }
    }

    /**
     * Class probabilities {@code [N, classes]} of a batch already prepared as {@link #preprocessing()} prepares images
     * ({@code Preprocessing.batch}); the result lives in the batch's manager.
     */
    public NDArray probabilities(NDArray batch) {
        return probabilities(batch, false);
    }

    private NDArray probabilities(NDArray x, boolean flipTta) {
        NDArray probs = inference.forward(x).softmax(1);
        if (flipTta) {
            probs = probs.add(inference.forward(x.flip(3)).softmax(1)).div(2f);
        }
        return probs;
    }

    /**
     * The embeddings {@code [N, D]} of a batch prepared as {@link #preprocessing()} prepares images: the features the
     * classifier's last linear layer reads (timm's {@code forward_head(x, pre_logits=True)}); the result lives in the
     * batch's manager.
     */
    public NDArray embeddings(NDArray batch) {
        return inference.forwardPreLogits(batch);
    }

    /** The embeddings of decoded images, one row each (see {@link #embeddings(NDArray)}). */
    public float[][] embeddings(List<DecodedImage> images) {
        return rows(images, images.size(), this::embeddings);
    }

    /**
     * As {@link #probabilities(List)}, running the images in batches of exactly {@code batchSize}: the last batch is
     * padded with copies of its last image, whose rows are dropped. libtorch picks its kernels, and how it splits their
     * sums between threads, by batch size and thread count, so an image's scores can differ in the last bits between a
     * batch of 1 and a batch of 32, or between 1 and 2 threads. With every batch the same size and the same threads
     * they do not depend on which images share the batch or where the batches start: two runs with the same
     * {@code batchSize} and threads (jimm predict, a Spark job's partitions) give the same bits for the same image.
     */
    public float[][] probabilitiesInBatches(List<DecodedImage> images, int batchSize) {
        return rows(images, batchSize, this::probabilities);
    }

    /**
     * As {@link #embeddings(List)}, in padded batches of exactly {@code batchSize} ({@link #probabilitiesInBatches}).
     */
    public float[][] embeddingsInBatches(List<DecodedImage> images, int batchSize) {
        return rows(images, batchSize, this::embeddings);
    }

    private float[][] rows(List<DecodedImage> images, int batchSize, UnaryOperator<NDArray> output) {
        if (batchSize < 1 && !images.isEmpty()) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        float[][] out = new float[images.size()][];
        for (int start = 0; start < images.size(); start += batchSize) {
            int end = Math.min(images.size(), start + batchSize);
            List<DecodedImage> chunk = new ArrayList<>(images.subList(start, end));
            while (chunk.size() < batchSize) {
                chunk.add(images.get(end - 1));
            }
            try (NDManager scope = NDManager.newBaseManager()) {
                NDArray result = output.apply(preprocessing.batch(scope, chunk));
                int width = (int) (result.size() / chunk.size());
                float[] flat = result.toFloatArray();
                for (int i = start; i < end; i++) {
                    out[i] = Arrays.copyOfRange(flat, (i - start) * width, (i - start + 1) * width);
                }
            }
        }
        return out;
    }

    /** The top {@code k} classes of each image of a batch. */
    public List<List<ClassScore>> predictAll(List<DecodedImage> images, int k) {
        List<List<ClassScore>> out = new ArrayList<>();
        for (float[] p : probabilities(images)) {
            out.add(top(p, k));
        }
        return out;
    }

    /**
     * The top {@code k} classes of a row of probabilities (fewer when there are fewer classes), the most probable
     * first; ties go to the lower class index, as {@code torch.topk} on CPU returns them.
     */
    public List<ClassScore> top(float[] p, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        if (p.length != classes.size()) {
            throw new IllegalArgumentException(
                    "a row of " + p.length + " probabilities for a classifier of " + classes.size() + " classes");
        }
        k = Math.min(k, p.length);
        List<ClassScore> all = new ArrayList<>();
        for (int i = 0; i < p.length; i++) {
            all.add(new ClassScore(classes.get(i), i, p[i]));
        }
        all.sort((a, b) -> a.probability() != b.probability()
                ? Double.compare(b.probability(), a.probability())
                : Integer.compare(a.index(), b.index()));
        return List.copyOf(all.subList(0, k));
    }

    /** Frees the classifier's model (a model given to {@link #of} stays the caller's). */
    @Override
    public void close() {
        inference.close();
    }
}
