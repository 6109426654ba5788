package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/** A fully connected layer, PyTorch's {@code nn.Linear}: {@code weight} [out, in], {@code bias}. */
public class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final Parameter weight;
    private final Parameter bias;

    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true);
    }

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = parameter("weight", outFeatures, inFeatures);
        this.bias = bias ? parameter("bias", outFeatures) : null;
    }

    /**
     * A classifier of {@code numClasses} outputs, or an {@link Identity} when there are none (timm's headless model,
     * {@code num_classes=0}, whose forward gives the pooled features).
     */
    public static Module classifier(int inFeatures, int numClasses) {
        return numClasses > 0 ? new Linear(inFeatures, numClasses) : new Identity();
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return x.getNDArrayInternal()
                .linear(x, weight.getArray(), bias == null ? null : bias.getArray())
                .singletonOrThrow();
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.torchDefault(weight.getArray(), bias == null ? null : bias.getArray(), random);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    protected String extraRepr() {
        return "Linear(in_features="
                + inFeatures
                + ", out_features="
                + outFeatures
                + (bias == null ? ", bias=False)" : ")");
    }
}
