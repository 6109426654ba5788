package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;

/**
 * A model with timm's distillation pair (LeViT, EfficientFormer v1 and v2): average pooling or none, dropout, then a
 * class head {@code head} and a distillation head {@code head_dist} on the same pre-logits, averaged at inference and
 * kept apart for distilled training ({@link DistilledHeads}). The family registers the heads and says how it averages
 * its features.
 */
public abstract class DistilledHeadModel extends ImageModel {
    private final String family;
    private final String kept;

    /**
     * Checks the pooling, as every later {@link #resetClassifier} does.
     *
     * @param family the family's name, for messages
     * @param kept what the model outputs without pooling ("tokens", "maps"), for messages
     */
    protected DistilledHeadModel(ModelArgs args, String family, String kept) {
        super(args);
        this.family = family;
        this.kept = kept;
        GlobalPool.checkAvgOrNone(globalPool, numClasses, family, kept);
    }

    /**
     * Registers {@code head} and, if the model has one, {@code head_dist}, for {@code classes} outputs: by default
     * EfficientFormer's two classifier Linears (identities for 0 classes).
     */
    protected void registerHeads(int classes) {
        register("head", Linear.classifier(numFeatures(), classes));
        register("head_dist", Linear.classifier(numFeatures(), classes));
    }

    /**
     * EfficientFormer's (v1 and v2) end of the trunk and head: {@code numFeatures} channels, the final {@code norm}, a
     * {@code head_drop} and the heads.
     */
    protected final void registerNormAndHeads(int numFeatures, Module norm) {
        setNumFeatures(numFeatures);
        register("norm", norm);
        register("head_drop", new Dropout((float) dropRate));
        registerHeads(numClasses);
    }

    /** The features averaged to pre-logits [B, C]. */
    protected abstract NDArray averagePool(NDArray features);

    /** The dropout rate before the heads; a family whose heads drop themselves (LeViT) says 0. */
    protected float headDropRate() {
        return (float) dropRate;
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        if (globalPool.equals("avg")) {
            x = averagePool(x);
        }
        x = Dropout.apply(x, headDropRate(), isTraining());
        if (preLogits) {
            return x;
        }
        return DistilledHeads.averaged(this, x);
    }

    /**
     * The class head's and the distillation head's logits apart (timm's distilled training output), from the features.
     *
     * @throws IllegalStateException when the model has no distillation head
     */
    public NDList forwardHeadDistilled(NDArray features) {
        return DistilledHeads.apart(this, forwardHead(features, true));
    }

    /** Replaces the classifier (both heads where the model has a distillation head), as timm's reset_classifier. */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String p = GlobalPool.validate(newGlobalPool);
        GlobalPool.checkAvgOrNone(p, newNumClasses, family, kept);
        numClasses = newNumClasses;
        globalPool = p;
        registerHeads(newNumClasses);
    }
}
