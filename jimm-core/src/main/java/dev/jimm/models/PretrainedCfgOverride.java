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

    /**
     * An untrained config (ImageNet statistics, center crop) with a family's own interpolation, crop and license: the
     * {@code _cfg} shape that VovNet, SelecSLS, CSPNet, DenseNet and RexNet share.
     */
    static PretrainedCfg untrained(
            String name,
            int size,
            String firstConv,
            String classifier,
            String interpolation,
            double cropPct,
            String license) {
        PretrainedCfg u = PretrainedCfg.untrained(name, size, firstConv, classifier);
        return of(u, interpolation, cropPct, u.mean(), u.std(), license);
    }
}
