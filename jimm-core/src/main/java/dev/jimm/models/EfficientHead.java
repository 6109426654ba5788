package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Module;

/**
 * The end of timm's "efficient head" (MobileNet-V3, GhostNet), where global pooling comes before a 1x1
 * {@code conv_head} and its activation: the flatten, the dropout and the classifier that follow them.
 */
final class EfficientHead {
    private EfficientHead() {}

    /**
     * Flattens {@code x} (the head conv's activated output) where it was pooled, applies dropout, then the classifier
     * unless the pre-logits are asked for.
     */
    static NDArray finish(
            NDArray x, boolean pooled, double dropRate, boolean training, Module classifier, boolean preLogits) {
        if (pooled) {
            x = x.reshape(x.getShape().get(0), -1);
        }
        x = Dropout.apply(x, (float) dropRate, training);
        return preLogits ? x : classifier.forward(x);
    }
}
