package dev.jimm.models;

import java.util.function.Function;

/**
 * A registered model name: its family, how to build it, and its default config when it has no pretrained weights in the
 * table (the table's first tag wins where there is one).
 *
 * @param defaultGlobalPool the pooling used when the caller sets none ("avg" for CNNs, "token" for class-token
 *     transformers, as timm's constructors default)
 * @param takesImgSize whether the model is built for one input size that {@link ModelArgs#imgSize()} sets (timm's
 *     {@code img_size} with {@code fixed_input_size}: ViT, DeiT, Swin); such a model is built at its pretrained
 *     config's input size unless the caller sets one
 */
public record ModelEntry(
        String name,
        String family,
        Function<ModelArgs, ImageModel> factory,
        PretrainedCfg fallbackCfg,
        String defaultGlobalPool,
        boolean takesImgSize) {

    /** An entry of a model that runs at any input size (no {@code img_size}). */
    public ModelEntry(
            String name,
            String family,
            Function<ModelArgs, ImageModel> factory,
            PretrainedCfg fallbackCfg,
            String defaultGlobalPool) {
        this(name, family, factory, fallbackCfg, defaultGlobalPool, false);
    }

    /** An entry whose model pools with "avg" unless told otherwise. */
    public ModelEntry(String name, String family, Function<ModelArgs, ImageModel> factory, PretrainedCfg fallbackCfg) {
        this(name, family, factory, fallbackCfg, "avg");
    }

    /** The same entry for a model built for one input size, set by {@link ModelArgs#imgSize()} (timm's img_size). */
    public ModelEntry takingImgSize() {
        return new ModelEntry(name, family, factory, fallbackCfg, defaultGlobalPool, true);
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
