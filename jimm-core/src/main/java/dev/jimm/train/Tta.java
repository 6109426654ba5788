package dev.jimm.train;

/**
 * Test-time augmentation at the final evaluation.
 *
 * <ul>
 *   <li>{@link #NONE}: one plain pass.
 *   <li>{@link #FLIP}: the mean of the probabilities of each image and its mirror image (timm's cheapest TTA); only for
 *       models trained with flips.
 *   <li>{@link #SHIFT}: airbench's: the flip mean at the image (weight 1/2) and at one-pixel shifts down-right and
 *       up-left (1/4 each); only for models trained with flips and shifts (pad-and-crop).
 *   <li>{@link #AUG}: fastai's {@code Learner.tta()}: the mean probabilities of {@code n} passes through the training
 *       transforms, blended with the plain pass as {@code lerp(aug, plain, beta)}.
 * </ul>
 */
public enum Tta {
    NONE,
    FLIP,
    SHIFT,
    AUG;

    /** fastai's default number of augmented passes. */
    public static final int FASTAI_PASSES = 4;
    /** fastai's default weight of the plain pass. */
    public static final double FASTAI_BETA = 0.25;

    /** The mode named {@code text}: none, flip, shift or aug (case-insensitive). */
    public static Tta parse(String text) {
        return CliNames.parse(values(), text, "--tta");
    }

    /** The name on the command line and in config.json. */
    public String cliName() {
        return CliNames.of(this);
    }
}
