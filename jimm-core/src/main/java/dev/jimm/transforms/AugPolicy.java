package dev.jimm.transforms;

import java.util.Locale;

/**
 * A named training-augmentation policy, chosen by {@code jimm train --aug} or by the data's regime.
 *
 * <ul>
 *   <li>{@link #NONE}: the item resize only, as fastai's {@code ImageDataLoaders.from_folder(item_tfms=Resize(n))}
 *       without batch transforms.
 *   <li>{@link #FASTAI}: fastai's {@code aug_transforms()}: flip, rotate up to 10°, zoom 1-1.1, perspective warp 0.2,
 *       brightness and contrast 0.2, each geometric op with p 0.75 and lighting with p 0.75 ({@link FastaiAugment}).
 *   <li>{@link #TIMM}: timm's ImageNet train transform: RandomResizedCrop(0.08-1), flip, colour jitter 0.4 or
 *       RandAugment/TrivialAugment, optional RandomErasing and Mixup/CutMix; evaluated with timm's crop_pct.
 *   <li>{@link #SMALL}: pad-and-crop (a shift of up to 1/8 of the size) for images at or near their native size, the
 *       classic CIFAR/MNIST augmentation.
 * </ul>
 */
public enum AugPolicy {
    NONE,
    FASTAI,
    TIMM,
    SMALL;

    /** The policy named {@code text} (case-insensitive). */
    public static AugPolicy parse(String text) {
        for (AugPolicy p : values()) {
            if (p.cliName().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new IllegalArgumentException("--aug must be auto, none, fastai, timm or small, got '" + text + "'");
    }

    /** The name on the command line and in config.json. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Whether random erasing ({@code --reprob}) can follow this policy's transforms: timm's and small's. */
    public boolean allowsRandomErasing() {
        return this == TIMM || this == SMALL;
    }

    /**
     * Whether flips can alternate by epoch ({@code --alternating-flip}) under this policy: small's and none's, whose
     * flip is a step of its own (fastai's and timm's flip inside their own augmentations).
     */
    public boolean allowsAlternatingFlip() {
        return this == SMALL || this == NONE;
    }
}
