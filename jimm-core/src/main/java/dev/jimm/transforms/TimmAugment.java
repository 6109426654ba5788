package dev.jimm.transforms;

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
public record TimmAugment(
        double hflip,
        double colorJitter,
        int randAugmentOps,
        int randAugmentMagnitude,
        boolean trivialAugment,
        double reProb) {
    /** timm defaults: flip 0.5, color jitter 0.4, no auto-augment, no erasing. */
    public static TimmAugment timmDefaults() {
        return new TimmAugment(0.5, 0.4, 0, 9, false, 0);
    }

    /** Flip only. */
    public static TimmAugment flipOnly() {
        return new TimmAugment(0.5, 0, 0, 9, false, 0);
    }
}
