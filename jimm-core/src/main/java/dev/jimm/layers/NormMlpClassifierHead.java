package dev.jimm.layers;

import ai.djl.ndarray.NDArray;

/**
 * timm's {@code NormMlpClassifierHead} for NCHW maps: {@code global_pool} (kept [N, C, 1, 1]), {@code norm} over the
 * channels, {@code flatten}, an optional {@code pre_logits} (fc and activation to a hidden width), {@code drop} and
 * {@code fc}. Without pooling the maps pass through the norm and both projections are 1x1 convolutions, as timm makes
 * them; switching between the two keeps the trained pre-logits weights.
 */
public class NormMlpClassifierHead extends Module implements ResettableHead {
    private final int inFeatures;
    private final int hiddenSize;
    private final Activation.Kind act;
    private final float dropRate;
    private final Module norm;
    private GlobalPool pool;
    private Module preLogits;
    private Module fc;

    /**
     * @param inFeatures channels of the maps
     * @param numClasses classifier outputs (0: an identity, so the pre-logits come out)
     * @param hiddenSize width of the pre-logits fc (0: none)
     * @param poolType "avg", "max", "avgmax" or "" (no pooling; catavgmax doubles the channels the norm cannot take)
     * @param dropRate dropout before the classifier (train mode only)
     * @param norm the channel norm of {@code inFeatures} (timm's {@code LayerNorm2d} by default)
     * @param act the pre-logits activation (timm's default tanh)
     */
    public NormMlpClassifierHead(
            int inFeatures,
            int numClasses,
            int hiddenSize,
            String poolType,
            double dropRate,
            Module norm,
            Activation.Kind act) {
        this.inFeatures = inFeatures;
        this.hiddenSize = hiddenSize;
        this.act = act;
        this.dropRate = (float) dropRate;
        String p = checkPool(poolType);
        pool = register("global_pool", new GlobalPool(p, false));
        this.norm = register("norm", norm);
        register("flatten", new Identity());
        preLogits = register(
                "pre_logits", hiddenSize > 0 ? preLogits(projection(inFeatures, hiddenSize, p)) : new Identity());
        register("drop", new Dropout(this.dropRate));
        fc = register("fc", classifier(numClasses, p));
    }

    private String checkPool(String poolType) {
        String p = GlobalPool.validate(poolType);
        if (GlobalPool.featureMultiplier(p) != 1) {
            throw new IllegalArgumentException("globalPool '" + p + "' doubles the channels, which the head's norm of "
                    + inFeatures + " cannot take");
        }
        return p;
    }

    private NamedSequential preLogits(Module projection) {
        return new NamedSequential().add("fc", projection).add("act", new Activation(act));
    }

    private static Module projection(int in, int out, String poolType) {
        return poolType.isEmpty() ? new Conv2d(in, out, 1, Conv2d.Options.defaults()) : new Linear(in, out);
    }

    private Module classifier(int numClasses, String poolType) {
        return numClasses > 0 ? projection(numFeatures(), numClasses, poolType) : new Identity();
    }

    /** Width of the pre-logits: the hidden size, or the input channels without one. */
    public int numFeatures() {
        return hiddenSize > 0 ? hiddenSize : inFeatures;
    }

    /** The classifier ({@code fc}): a Linear, a 1x1 conv without pooling, or an identity. */
    public Module fc() {
        return fc;
    }

    /** timm's {@code reset}: a new classifier and pooling; the norm and trained pre-logits weights stay. */
    @Override
    public void reset(int numClasses, String poolType) {
        String p = checkPool(poolType);
        Module newFc = classifier(numClasses, p);
        pool = register("global_pool", new GlobalPool(p, false));
        if (preLogits instanceof NamedSequential seq && (seq.child("fc") instanceof Conv2d) != p.isEmpty()) {
            Module old = seq.child("fc");
            float[] w = old.directParameters().get("weight").getArray().toFloatArray();
            float[] b = old.directParameters().get("bias").getArray().toFloatArray();
            Module fresh = projection(inFeatures, hiddenSize, p);
            preLogits = register("pre_logits", preLogits(fresh));
            Module.assign(fresh.directParameters().get("weight").getArray(), w);
            Module.assign(fresh.directParameters().get("bias").getArray(), b);
        }
        fc = register("fc", newFc);
    }

    /** Pooling, norm, pre-logits and dropout; then the classifier unless {@code wantPreLogits}. */
    @Override
    public NDArray forward(NDArray x, boolean wantPreLogits) {
        x = norm.forward(pool.forward(x));
        if (!pool.isIdentity()) {
            x = x.reshape(x.getShape().get(0), -1);
        }
        x = Dropout.apply(preLogits.forward(x), dropRate, isTraining());
        return wantPreLogits ? x : fc.forward(x);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return forward(x, false);
    }

    @Override
    protected String extraRepr() {
        return "NormMlpClassifierHead(in_features=" + inFeatures + ", hidden_size=" + hiddenSize + ")";
    }
}
