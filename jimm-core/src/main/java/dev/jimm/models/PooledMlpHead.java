package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Module;

/**
 * An MLP classifier head as InceptionNeXt, MambaOut and MetaFormer build it (timm's {@code MlpClassifierHead},
 * {@code MlpHead} and {@code ClNormMlpClassifierHead}): the family's pooling and hidden layers make the pre-logits,
 * then dropout and the classifier. The families name and order their parts as timm does, so each registers its own, the
 * classifier last with {@link #classifier}. A head without a classifier holds nothing and passes the feature maps
 * through: the features-only form, since timm's features-only model has no head at all.
 */
abstract class PooledMlpHead extends Module {
    private final float dropRate;
    private Module classifier;

    /** A head the family fills; {@code dropRate} is the dropout before the classifier (train mode only). */
    PooledMlpHead(double dropRate) {
        this.dropRate = (float) dropRate;
    }

    /** Registers the classifier under {@code name}, or replaces it in its place (timm's {@code reset}). */
    final void classifier(String name, Module fc) {
        classifier = register(name, fc);
    }

    /** The features-only form: no parts, the maps pass through. */
    final boolean isEmpty() {
        return classifier == null;
    }

    /** Pooling and the hidden layers: the pre-logits before dropout. */
    abstract NDArray hidden(NDArray maps);

    /** The logits, or with {@code preLogits} the features the classifier takes; an empty head returns the maps. */
    final NDArray forward(NDArray maps, boolean preLogits) {
        if (isEmpty()) {
            return maps;
        }
        NDArray x = Dropout.apply(hidden(maps), dropRate, isTraining());
        return preLogits ? x : classifier.forward(x);
    }

    @Override
    protected final NDArray forwardImpl(NDArray x) {
        return forward(x, false);
    }
}
