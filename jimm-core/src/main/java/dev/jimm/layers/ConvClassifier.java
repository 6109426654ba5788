package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code create_classifier(..., use_conv=True)} as static pieces: pooling that keeps NCHW and a 1x1 conv
 * classifier. The model registers the pool and the conv under its own names (so its state_dict keys stay its own);
 * without pooling the conv classifies every pixel.
 */
public final class ConvClassifier {
    private ConvClassifier() {}

    /** The 1x1 conv classifier over the pooled channels, or an identity for 0 classes. */
    public static Module fc(int numFeatures, int numClasses, String poolType) {
        int in = numFeatures * GlobalPool.featureMultiplier(poolType);
        return numClasses > 0 ? new Conv2d(in, numClasses, 1, Conv2d.Options.defaults()) : new Identity();
    }

    /** Pooling, dropout, the classifier unless {@code preLogits}; flattened to [N, K] only after real pooling. */
    public static NDArray forward(
            GlobalPool pool, Module fc, NDArray x, float dropRate, boolean training, boolean preLogits) {
        x = pool.forward(x);
        x = Dropout.apply(x, dropRate, training);
        if (!preLogits) {
            x = fc.forward(x);
        }
        return pool.isIdentity() ? x : x.reshape(x.getShape().get(0), -1);
    }
}
