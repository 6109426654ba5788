package dev.jimm.transforms;

/**
 * What a model expects of its input, as in timm's pretrained_cfg: input size (C, H, W), resize interpolation,
 * center-crop fraction and normalization.
 *
 * @param channels C (1 or 3)
 * @param height H
 * @param width W
 * @param interpolation resize filter
 * @param cropPct eval crop fraction (timm crop_pct, e.g. 0.875)
 * @param mean per-channel mean
 * @param std per-channel std
 */
public record PreprocessConfig(
        int channels, int height, int width, Interpolation interpolation, double cropPct, float[] mean, float[] std) {
    public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f};
    public static final float[] IMAGENET_STD = {0.229f, 0.224f, 0.225f};

    public PreprocessConfig {
        if (channels != 1 && channels != 3) {
            throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("input size must be positive, got " + height + "x" + width);
        }
        if (!(cropPct > 0 && cropPct <= 1)) {
            throw new IllegalArgumentException("cropPct must be in (0, 1], got " + cropPct);
        }
        if (mean.length != channels || std.length != channels) {
            throw new IllegalArgumentException(
                    "mean and std need " + channels + " values, got " + mean.length + " and " + std.length);
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** timm's default ImageNet config: 3x224x224, bicubic, crop 0.875. */
    public static PreprocessConfig imagenet(int size, Interpolation interp, double cropPct) {
        return new PreprocessConfig(3, size, size, interp, cropPct, IMAGENET_MEAN, IMAGENET_STD);
    }

    /**
     * Training augmentation options beyond timm's fixed RandomResizedCrop + flip.
     *
     * @param hflip horizontal flip probability (timm default 0.5)
     * @param colorJitter ColorJitter strength for brightness, contrast and saturation (0 = off); timm skips it when an
     *     auto-augment policy is set
     * @param randAugmentOps RandAugment number of ops (0 = off)
     * @param randAugmentMagnitude RandAugment magnitude (of 31 bins)
     * @param trivialAugment TrivialAugmentWide instead of RandAugment/ColorJitter
     * @param reProb RandomErasing probability after Normalize (0 = off)
     */
    public record Augment(
            double hflip,
            double colorJitter,
            int randAugmentOps,
            int randAugmentMagnitude,
            boolean trivialAugment,
            double reProb) {
        /** timm defaults: flip 0.5, color jitter 0.4, no auto-augment, no erasing. */
        public static Augment timmDefaults() {
            return new Augment(0.5, 0.4, 0, 9, false, 0);
        }

        /** Flip only. */
        public static Augment flipOnly() {
            return new Augment(0.5, 0, 0, 9, false, 0);
        }
    }
}
