package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * A model's own classifier head, as timm's heads ({@code NormMlpClassifierHead} and the families' own) are used: run on
 * the feature maps with or without the classifier ({@code forward(x, pre_logits)}), and reset to another number of
 * classes and pooling ({@code reset(num_classes, pool_type)}). A family registers one with
 * {@code ImageModel.registerHead}, which then answers {@code forwardHead} and {@code resetClassifier} with it.
 */
public interface ResettableHead {
    /** The head on {@code features}: logits, or with {@code preLogits} the features before the classifier. */
    NDArray forward(NDArray features, boolean preLogits);

    /** Replaces the classifier with one of {@code numClasses} outputs and the pooling with {@code poolType}. */
    void reset(int numClasses, String poolType);
}
