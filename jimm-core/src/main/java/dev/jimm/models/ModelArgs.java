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
 * @param outputStride timm's output_stride: the stride of the last feature maps, 32 by default; 16 or 8 dilate the last
 *     stages instead of striding them, in the families that take it (the others build only 32)
 */
public record ModelArgs(
        int numClasses,
        int inChans,
        String globalPool,
        double dropRate,
        double dropPathRate,
        boolean zeroInitLast,
        int outputStride) {
    /** timm's default output stride: five stride-2 steps. */
    public static final int DEFAULT_OUTPUT_STRIDE = 32;

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
        if (outputStride < 1 || Integer.bitCount(outputStride) != 1) {
            throw new IllegalArgumentException("outputStride " + outputStride + " is not a power of 2 (8, 16 or 32)");
        }
    }

    /** With timm's default output stride (32). */
    public ModelArgs(
            int numClasses,
            int inChans,
            String globalPool,
            double dropRate,
            double dropPathRate,
            boolean zeroInitLast) {
        this(numClasses, inChans, globalPool, dropRate, dropPathRate, zeroInitLast, DEFAULT_OUTPUT_STRIDE);
    }

    /** With timm's default zero_init_last (on) and output stride (32). */
    public ModelArgs(int numClasses, int inChans, String globalPool, double dropRate, double dropPathRate) {
        this(numClasses, inChans, globalPool, dropRate, dropPathRate, true);
    }

    /** timm's defaults: 1000 classes, 3 channels, average pooling, no dropout. */
    public static ModelArgs defaults() {
        return new ModelArgs(1000, 3, "avg", 0, 0);
    }

    /** The same arguments with another output stride. */
    public ModelArgs withOutputStride(int stride) {
        return new ModelArgs(numClasses, inChans, globalPool, dropRate, dropPathRate, zeroInitLast, stride);
    }
}
