package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;

/** Builds timm's train and eval pipelines from a model's {@link Preprocessing}. */
public final class Pipelines {
    private Pipelines() {}

    /** {@link #createTransform(Preprocessing, boolean, TimmAugment)} with timm's defaults. */
    public static Transform<DecodedImage, TensorImage> createTransform(Preprocessing cfg, boolean training) {
        return createTransform(cfg, training, TimmAugment.timmDefaults());
    }

    /**
     * Eval: Resize(floor(size / cropPct)) on the shorter side (or both sides when H != W), CenterCrop, ToTensor,
     * Normalize. Train: RandomResizedCrop(size, (0.08, 1), (3/4, 4/3)), horizontal flip, then TrivialAugmentWide,
     * RandAugment or ColorJitter (in that order of preference), ToTensor, Normalize, optional RandomErasing. Images are
     * first converted to the model's channel count.
     */
    public static Transform<DecodedImage, TensorImage> createTransform(
            Preprocessing cfg, boolean training, TimmAugment aug) {
        Transform<DecodedImage, DecodedImage> px = Transforms.channels(cfg.channels());
        if (training) {
            px = px.andThen(Augmentations.randomResizedCrop(
                    cfg.size(),
                    cfg.size(),
                    new double[] {0.08, 1.0},
                    new double[] {3.0 / 4, 4.0 / 3},
                    cfg.interpolationFilter()));
            if (aug.hflip() > 0) {
                px = px.andThen(Transforms.horizontalFlip(aug.hflip()));
            }
            if (aug.trivialAugment()) {
                px = px.andThen(Augmentations.trivialAugmentWide());
            } else if (aug.randAugmentOps() > 0) {
                px = px.andThen(Augmentations.randAugment(aug.randAugmentOps(), aug.randAugmentMagnitude(), 31));
            } else if (aug.colorJitter() > 0) {
                double j = aug.colorJitter();
                px = px.andThen(Augmentations.colorJitter(j, j, j, 0));
            }
        } else {
            if (cfg.size() == cfg.size()) {
                px = px.andThen(
                        Transforms.resize((int) Math.floor(cfg.size() / cfg.cropPct()), cfg.interpolationFilter()));
            } else {
                px = px.andThen(Transforms.resize(
                        (int) Math.floor(cfg.size() / cfg.cropPct()),
                        (int) Math.floor(cfg.size() / cfg.cropPct()),
                        cfg.interpolationFilter()));
            }
            px = px.andThen(Transforms.centerCrop(cfg.size(), cfg.size()));
        }
        Transform<DecodedImage, TensorImage> t =
                px.andThen(Transforms.toNormalizedTensor(cfg.meanArray(), cfg.stdArray()));
        if (training && aug.reProb() > 0) {
            t = t.andThen(Augmentations.timmRandomErasing(aug.reProb()));
        }
        return t;
    }
}
