package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.JimmException;
import dev.jimm.layers.BatchNormFolding;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Module;
import dev.jimm.layers.NoGrad;
import dev.jimm.layers.PrepackedConvolutions;
import java.util.List;

/**
 * A model prepared for prediction only: eval mode, BatchNorm folded into the convolution before it
 * ({@link BatchNormFolding}), convolution weights stored channels-last and pre-packed for oneDNN
 * ({@link PrepackedConvolutions}), no parameter requiring a gradient, and {@link #forward} run with grad mode off on
 * the calling thread, so no autograd graph is built or kept.
 *
 * <pre>{@code
 * try (ImageModel m = Models.createModel("resnet50", true, 1000, "avg");
 *         InferenceModel fast = m.optimizeForInference()) {
 *     NDArray logits = fast.forward(images);
 * }
 * }</pre>
 *
 * <p>{@link #of} works on a copy and leaves its source trainable; {@link #inPlace} changes the model it is given (for a
 * model loaded only to predict). A folded model has no BatchNorm keys in its state_dict and cannot be trained or saved
 * as a checkpoint of its architecture.
 */
public final class InferenceModel implements AutoCloseable {
    private final Module model;
    private final List<BatchNormFolding.Pair> folded;
    private final PrepackedConvolutions prepacked;

    private InferenceModel(Module model, Shape sampleShape) {
        this.model = model;
        this.folded = List.copyOf(BatchNormFolding.fold(model, sampleShape));
        model.setRequiresGrad(false);
        for (Module m : model.namedModules().values()) {
            if (m instanceof Conv2d c) {
                c.storeWeightChannelsLast();
            }
        }
        this.prepacked = PrepackedConvolutions.pack(model, sampleShape).orElse(null);
    }

    /**
     * An optimized copy of {@code source} (rebuilt by its registered name with its classes, pooling and input channels,
     * then given its weights); {@code source} is not changed.
     *
     * @throws JimmException when the model's name is not in the built-in registry
     */
    public static InferenceModel of(ImageModel source) {
        return of(source, sampleShape(source));
    }

    /** As {@link #of(ImageModel)}, tracing the copy on a random input of {@code sampleShape}. */
    public static InferenceModel of(ImageModel source, Shape sampleShape) {
        ImageModel copy;
        try {
            copy = Models.createModel(
                    source.name(),
                    ModelOptions.builder()
                            .numClasses(source.numClasses())
                            .globalPool(source.globalPool())
                            .inChans(source.inChans())
                            .build());
        } catch (ModelNotFoundException e) {
            throw new JimmException(
                    "cannot copy " + source.name() + " for inference: " + e.getMessage()
                            + " (InferenceModel.inPlace optimizes a model without copying it)",
                    e);
        }
        try {
            copy.loadStateDict(source.stateDict(), true);
            return new InferenceModel(copy, sampleShape);
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    /**
     * Optimizes {@code model} itself, tracing it on a random input of {@code sampleShape} (e.g. [1, 3, 224, 224]);
     * {@link #close} then closes the model if it is {@link AutoCloseable}.
     */
    public static InferenceModel inPlace(Module model, Shape sampleShape) {
        return new InferenceModel(model, sampleShape);
    }

    /** The batch-1 input a model's pretrained config describes (3x224x224 without one). */
    public static Shape sampleShape(ImageModel model) {
        PretrainedCfg cfg = model.pretrainedCfg();
        if (cfg == null || cfg.inputSize().size() != 3) {
            return new Shape(1, model.inChans(), 224, 224);
        }
        return new Shape(
                1, model.inChans(), cfg.inputSize().get(1), cfg.inputSize().get(2));
    }

    /** The model's output for {@code x}, computed without autograd; the result lives in x's manager. */
    public NDArray forward(NDArray x) {
        try (NoGrad g = NoGrad.enter()) {
            return model.forward(x);
        }
    }

    /**
     * The features the classifier's last linear layer reads (timm's {@code forward_head(forward_features(x),
     * pre_logits=True)}), computed without autograd: an embedding for search or clustering.
     *
     * @throws IllegalStateException when the model has no such notion (neither an image model nor a vision learner's)
     */
    public NDArray forwardPreLogits(NDArray x) {
        try (NoGrad g = NoGrad.enter()) {
            if (model instanceof ImageModel m) {
                m.checkInput(x);
                return m.forwardHead(m.forwardFeatures(x), true);
            }
            if (model instanceof PreLogits m) {
                return m.forwardPreLogits(x);
            }
            throw new IllegalStateException(model.getClass().getSimpleName() + " has no pre-logits features");
        }
    }

    /** A model, other than an {@link ImageModel}, that can give the features its classifier reads. */
    public interface PreLogits {
        /** The input of the last linear layer for {@code x}. */
        NDArray forwardPreLogits(NDArray x);
    }

    /** The optimized model (eval mode, folded); run it through {@link #forward} to keep grad mode off. */
    public Module model() {
        return model;
    }

    /** The conv/BatchNorm pairs folded, by module name. */
    public List<BatchNormFolding.Pair> foldedPairs() {
        return folded;
    }

    /** How many convolutions run with oneDNN's pre-packed weights ({@link PrepackedConvolutions}). */
    public int prepackedConvolutions() {
        return prepacked == null ? 0 : prepacked.size();
    }

    @Override
    public void close() {
        if (prepacked != null) {
            prepacked.close();
        }
        if (model instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + model.getClass().getSimpleName(), e);
            }
        }
    }
}
