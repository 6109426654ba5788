package dev.jimm.models;

import java.util.function.Function;

/**
 * A registered model name: its family, how to build it, and its default config when it has no pretrained weights in the
 * table (the table's first tag wins where there is one).
 *
 * @param defaultGlobalPool the pooling used when the caller sets none ("avg" for CNNs, "token" for class-token
 *     transformers, as timm's constructors default)
 */
public record ModelEntry(
        String name,
        String family,
        Function<ModelArgs, ImageModel> factory,
        PretrainedCfg fallbackCfg,
        String defaultGlobalPool) {

    /** An entry whose model pools with "avg" unless told otherwise. */
    public ModelEntry(String name, String family, Function<ModelArgs, ImageModel> factory, PretrainedCfg fallbackCfg) {
        this(name, family, factory, fallbackCfg, "avg");
    }

    /**
     * An entry of weights-free defaults ({@link PretrainedCfg#untrained}): ImageNet mean, std and classes at
     * {@code inputSize}, with the first conv and classifier names the loader adapts.
     */
    public static ModelEntry untrained(
            String name,
            String family,
            Function<ModelArgs, ImageModel> factory,
            int inputSize,
            String firstConv,
            String classifier) {
        return new ModelEntry(name, family, factory, PretrainedCfg.untrained(name, inputSize, firstConv, classifier));
    }
}
