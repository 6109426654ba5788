package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * Batch normalization over channels (axis 1), PyTorch's {@code nn.BatchNorm2d}/{@code 1d}: batch statistics and a
 * running-stat update with momentum 0.1 in train mode, running stats in eval.
 */
public class BatchNorm2d extends Module {
    private final int numFeatures;
    private final float eps;
    private final float momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Buffer runningMean;
    private final Buffer runningVar;
    private final Buffer numBatchesTracked;
    private boolean folded;

    public BatchNorm2d(int numFeatures) {
        this(numFeatures, 1e-5f, 0.1f);
    }

    public BatchNorm2d(int numFeatures, float eps, float momentum) {
        this.numFeatures = numFeatures;
        this.eps = eps;
        this.momentum = momentum;
        weight = parameter("weight", numFeatures);
        bias = parameter("bias", numFeatures);
        runningMean = buffer("running_mean", DataType.FLOAT32, numFeatures);
        runningVar = buffer("running_var", DataType.FLOAT32, numFeatures);
        numBatchesTracked = buffer("num_batches_tracked", DataType.INT64);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        if (folded) {
            return x;
        }
        boolean train = isTraining();
        NDArray y = x.getNDArrayInternal()
                .batchNorm(
                        x,
                        runningMean.array(),
                        runningVar.array(),
                        weight.getArray(),
                        bias.getArray(),
                        1,
                        // DJL passes (1 - momentum) to libtorch
                        1f - momentum,
                        eps,
                        train)
                .singletonOrThrow();
        if (train) {
            numBatchesTracked.array().addi(1);
        }
        return y;
    }

    /**
     * Moves this norm's eval-mode map into {@code conv}, the convolution whose output it normalizes, and turns it into
     * the identity (a subclass's activation still runs): afterwards it has no parameters or buffers and cannot be
     * trained.
     */
    public void foldInto(Conv2d conv) {
        if (folded) {
            throw new IllegalStateException(extraRepr() + " is already folded");
        }
        if (conv.outChannels() != numFeatures) {
            throw new IllegalArgumentException("cannot fold " + extraRepr() + " into " + conv.extraRepr() + ": "
                    + numFeatures + " features, " + conv.outChannels() + " conv outputs");
        }
        float[] gamma = weight.getArray().toFloatArray();
        float[] beta = bias.getArray().toFloatArray();
        float[] mean = runningMean.array().toFloatArray();
        float[] var = runningVar.array().toFloatArray();
        double[] scale = new double[numFeatures];
        double[] shift = new double[numFeatures];
        for (int c = 0; c < numFeatures; c++) {
            scale[c] = gamma[c] / Math.sqrt((double) var[c] + eps);
            shift[c] = beta[c] - mean[c] * scale[c];
        }
        conv.foldAffine(scale, shift);
        dropOwnState();
        folded = true;
    }

    /** Whether {@link #foldInto} has moved this norm into a convolution. */
    public boolean isFolded() {
        return folded;
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        if (folded) {
            return;
        }
        Init.constant(weight.getArray(), 1f);
        Init.constant(bias.getArray(), 0f);
        Init.constant(runningMean.array(), 0f);
        Init.constant(runningVar.array(), 1f);
    }

    public Parameter weight() {
        return weight;
    }

    public Parameter bias() {
        return bias;
    }

    public Buffer runningMean() {
        return runningMean;
    }

    public Buffer runningVar() {
        return runningVar;
    }

    public float eps() {
        return eps;
    }

    public int numFeatures() {
        return numFeatures;
    }

    @Override
    protected String extraRepr() {
        return "BatchNorm(" + numFeatures + ", eps=" + eps + ", momentum=" + momentum + ")";
    }
}
