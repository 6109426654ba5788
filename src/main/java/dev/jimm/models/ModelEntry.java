package dev.jimm.models;

import java.util.function.Function;

/**
 * A registered model name: its family, how to build it, and its default config when it has no
 * pretrained weights in the table (the table's first tag wins where there is one).
 */
public record ModelEntry(
        String name, String family, Function<ModelArgs, ImageModel> factory, PretrainedCfg fallbackCfg) {}
