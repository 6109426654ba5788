package dev.jimm.vision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import dev.jimm.data.DecodeOptions;
import dev.jimm.data.DecodedImage;
import dev.jimm.data.ImageDecoder;
import dev.jimm.layers.OwnedArrays;
import dev.jimm.models.InferenceModel;
import dev.jimm.transforms.TensorImage;
import dev.jimm.transforms.Transform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A trained classifier loaded from a jimm export (fastai's {@code load_learner} + {@code predict}): decodes an image,
 * applies the export's eval preprocessing, and returns the top classes with their probabilities. The loaded model is
 * optimized for inference in place ({@link InferenceModel}: BatchNorm folded, no autograd). Safe to use from several
 * threads at once: each call runs in its own native memory scope and the model is only read.
 */
public final class ImageClassifier implements AutoCloseable {
    /** One class and its probability. */
    public record ClassScore(String label, int index, double probability) {}

    private final VisionModel model;
    private final InferenceModel inference;
    private final List<String> classes;
    private final Preprocessing preprocessing;
    private final Transform<DecodedImage, TensorImage> transform;
    private final ImageDecoder decoder;
    private final Export.Spec spec;

    private ImageClassifier(VisionModel model, Export.Spec spec) {
        this.model = model;
        this.spec = spec;
        this.classes = spec.classes();
        this.preprocessing = spec.preprocessing();
        this.transform = preprocessing.evalTransform();
        this.decoder = new ImageDecoder(
                DecodeOptions.builder().channels(preprocessing.channels()).build());
        // the model is ours and only predicts: fold its BatchNorms and drop gradient bookkeeping
        this.inference = InferenceModel.inPlace(
                model, new Shape(1, preprocessing.channels(), preprocessing.size(), preprocessing.size()));
    }

    /**
     * Loads an export file, or the {@code model.safetensors} of a run folder.
     *
     * @throws JimmException when the path is neither
     */
    public static ImageClassifier load(Path exportOrRunDir) {
        Path file = Files.isDirectory(exportOrRunDir) ? exportOrRunDir.resolve("model.safetensors") : exportOrRunDir;
        if (!Files.isRegularFile(file)) {
            throw new JimmException(exportOrRunDir
                    + ": no exported model there (expected a run folder with model.safetensors, or an export file)");
        }
        if (!Export.isExport(file)) {
            throw new JimmException(file + ": not a jimm export (a model written by jimm train or Export.write)");
        }
        Export.Spec spec = Export.readSpec(file);
        return new ImageClassifier(Export.load(file), spec);
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
        if (flipTta && Boolean.FALSE.equals(spec.flips())) {
            throw new IllegalArgumentException("flip TTA: this model was trained without flips (augmentation '"
                    + spec.augmentation() + "'), so mirror images are not what it learned; score it without TTA");
        }
        if (images.isEmpty()) {
            return new float[0][];
        }
        try (NDManager scope = model.getManager().newSubManager()) {
            int c = preprocessing.channels();
            int s = preprocessing.size();
            float[] data = new float[images.size() * c * s * s];
            for (int i = 0; i < images.size(); i++) {
                TensorImage t = transform.apply(images.get(i));
                System.arraycopy(t.data(), 0, data, i * c * s * s, c * s * s);
            }
            NDArray x = OwnedArrays.of(scope, data, new Shape(images.size(), c, s, s));
            NDArray probs = inference.forward(x).softmax(1);
            if (flipTta) {
                probs = probs.add(inference.forward(x.flip(3)).softmax(1)).div(2f);
            }
            float[] flat = probs.toFloatArray();
            int k = classes.size();
            float[][] out = new float[images.size()][k];
            for (int i = 0; i < images.size(); i++) {
                System.arraycopy(flat, i * k, out[i], 0, k);
            }
            return out;
        }
    }

    /** The top {@code k} classes of each image of a batch. */
    public List<List<ClassScore>> predictAll(List<DecodedImage> images, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, got " + k);
        }
        List<List<ClassScore>> out = new ArrayList<>();
        for (float[] p : probabilities(images)) {
            out.add(top(p, Math.min(k, p.length)));
        }
        return out;
    }

    private List<ClassScore> top(float[] p, int k) {
        List<ClassScore> all = new ArrayList<>();
        for (int i = 0; i < p.length; i++) {
            all.add(new ClassScore(classes.get(i), i, p[i]));
        }
        // stable on ties: the lower class index first, as torch.topk on CPU returns them
        all.sort((a, b) -> a.probability() != b.probability()
                ? Double.compare(b.probability(), a.probability())
                : Integer.compare(a.index(), b.index()));
        return List.copyOf(all.subList(0, k));
    }

    @Override
    public void close() {
        model.close();
    }
}
