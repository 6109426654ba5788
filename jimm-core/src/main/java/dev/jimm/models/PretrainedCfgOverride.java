package dev.jimm.models;

import java.util.List;

/**
 * A family's {@code _cfg} over the untrained default ({@link PretrainedCfg#untrained}): timm's per-family
 * interpolation, crop fraction, normalization and license, the rest kept.
 */
final class PretrainedCfgOverride {
    private PretrainedCfgOverride() {}

    /** {@code u} with another interpolation, crop fraction, mean, std and license. */
    static PretrainedCfg of(
            PretrainedCfg u,
            String interpolation,
            double cropPct,
            List<Double> mean,
            List<Double> std,
            String license) {
        return new PretrainedCfg(
                u.architecture(),
                u.tag(),
                u.hfHubId(),
                u.url(),
                u.inputSize(),
                interpolation,
                cropPct,
                u.cropMode(),
                mean,
                std,
                u.numClasses(),
                u.firstConv(),
                u.classifier(),
                license,
                u.fileSha256());
    }
}
