package dev.jimm.models;

/**
 * The arguments every model constructor takes (timm's create_model keyword arguments).
 *
 * @param numClasses classifier outputs; 0 means no classifier (pooled features come out)
 * @param inChans input channels
 * @param globalPool "avg", "max", "avgmax", "catavgmax", or "" for no pooling
 * @param dropRate dropout before the classifier
 * @param dropPathRate stochastic depth rate, spread linearly over the blocks
 * @param zeroInitLast timm's zero_init_last: residual blocks start with their last norm's weight at zero, so each block
 *     begins as the identity (families without it ignore it)
 */
public record ModelArgs(
        int numClasses, int inChans, String globalPool, double dropRate, double dropPathRate, boolean zeroInitLast) {
    public ModelArgs {
        if (numClasses < 0) {
            throw new IllegalArgumentException("numClasses " + numClasses + " is negative; use 0 for no classifier");
        }
        if (inChans < 1) {
            throw new IllegalArgumentException("inChans " + inChans + " must be at least 1");
        }
        if (dropRate < 0 || dropRate >= 1) {
            throw new IllegalArgumentException("dropRate " + dropRate + " is not in [0, 1)");
        }
        if (dropPathRate < 0 || dropPathRate >= 1) {
            throw new IllegalArgumentException("dropPathRate " + dropPathRate + " is not in [0, 1)");
        }
    }

    /** With timm's default zero_init_last (on). */
    public ModelArgs(int numClasses, int inChans, String globalPool, double dropRate, double dropPathRate) {
        this(numClasses, inChans, globalPool, dropRate, dropPathRate, true);
    }

    /** timm's defaults: 1000 classes, 3 channels, average pooling, no dropout. */
    public static ModelArgs defaults() {
        return new ModelArgs(1000, 3, "avg", 0, 0);
    }
}
