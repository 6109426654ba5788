package dev.jimm.models;

/**
 * The arguments every model constructor takes (timm's create_model keyword arguments).
 *
 * @param numClasses classifier outputs; 0 means no classifier (pooled features come out)
 * @param inChans input channels
 * @param globalPool "avg", "max", "avgmax", "catavgmax", or "" for no pooling
 * @param dropRate dropout before the classifier
 * @param userDropPathRate the stochastic depth rate the caller chose (spread linearly over the blocks), or null when
 *     unset: the variant's own default then applies ({@link #dropPathRate(double)})
 * @param zeroInitLast timm's zero_init_last: residual blocks start with their last norm's weight at zero, so each block
 *     begins as the identity (families without it ignore it)
 * @param outputStride timm's output_stride: the stride of the last feature maps, 32 by default; 16 or 8 dilate the last
 *     stages instead of striding them, in the families that take it (the others build only 32)
 * @param imgSize the input size for families built for one size (timm's {@code img_size}: ViT, DeiT, Swin), or null for
 *     the variant's own ({@link #imgSize(int)}); other families ignore it
 */
public record ModelArgs(
        int numClasses,
        int inChans,
        String globalPool,
        double dropRate,
        Double userDropPathRate,
        boolean zeroInitLast,
        Integer imgSize,
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
        if (userDropPathRate != null && (userDropPathRate < 0 || userDropPathRate >= 1)) {
            throw new IllegalArgumentException("dropPathRate " + userDropPathRate + " is not in [0, 1)");
        }
        if (imgSize != null && imgSize < 1) {
            throw new IllegalArgumentException("imgSize " + imgSize + " must be positive");
        }
        if (outputStride < 1 || Integer.bitCount(outputStride) != 1) {
            throw new IllegalArgumentException("outputStride " + outputStride + " is not a power of 2 (8, 16 or 32)");
        }
    }

    /** With an explicit drop-path rate (0 stays 0) and the variant's own input size. */
    public ModelArgs(
            int numClasses,
            int inChans,
            String globalPool,
            double dropRate,
            double dropPathRate,
            boolean zeroInitLast) {
        this(
                numClasses,
                inChans,
                globalPool,
                dropRate,
                (Double) dropPathRate,
                zeroInitLast,
                null,
                DEFAULT_OUTPUT_STRIDE);
    }

    /** With timm's default zero_init_last (on), an explicit drop-path rate and the variant's own input size. */
    public ModelArgs(int numClasses, int inChans, String globalPool, double dropRate, double dropPathRate) {
        this(numClasses, inChans, globalPool, dropRate, dropPathRate, true);
    }

    /** timm's defaults: 1000 classes, 3 channels, average pooling, no dropout, each variant's own drop-path rate. */
    public static ModelArgs defaults() {
        return new ModelArgs(1000, 3, "avg", 0, null, true, null, DEFAULT_OUTPUT_STRIDE);
    }

    /**
     * The drop-path rate the caller set, else 0. Families whose variants have a default rate of their own (timm's or
     * torchvision's constructor argument) read {@link #dropPathRate(double)} instead.
     */
    public double dropPathRate() {
        return userDropPathRate == null ? 0 : userDropPathRate;
    }

    /** The drop-path rate the caller set (an explicit 0 included), else {@code variantDefault}. */
    public double dropPathRate(double variantDefault) {
        return userDropPathRate == null ? variantDefault : userDropPathRate;
    }

    /**
     * The same arguments with an unset drop-path rate set to {@code variantDefault}: what a registration passes on for
     * a variant whose reference constructor has a default rate (an explicit rate, 0 included, stays).
     */
    public ModelArgs withDefaultDropPathRate(double variantDefault) {
        return userDropPathRate != null
                ? this
                : new ModelArgs(
                        numClasses, inChans, globalPool, dropRate, variantDefault, zeroInitLast, imgSize, outputStride);
    }

    /** The input size the caller set, else {@code variantDefault}. */
    public int imgSize(int variantDefault) {
        return imgSize == null ? variantDefault : imgSize;
    }

    /** The same arguments at another input size (null: the variant's own). */
    public ModelArgs withImgSize(Integer size) {
        return new ModelArgs(
                numClasses, inChans, globalPool, dropRate, userDropPathRate, zeroInitLast, size, outputStride);
    }

    /** The same arguments with another output stride. */
    public ModelArgs withOutputStride(int stride) {
        return new ModelArgs(
                numClasses, inChans, globalPool, dropRate, userDropPathRate, zeroInitLast, imgSize, stride);
    }
}
