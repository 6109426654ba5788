package dev.jimm.models;

import java.util.List;

/**
 * What the config builders of the staged families (ConvNeXt, EdgeNeXt, InceptionNeXt, MambaOut, MetaFormer) share:
 * blocks and channels per stage, both required, given as a list or one value per stage.
 *
 * @param <B> the family's builder, which each setter returns so calls chain
 */
public abstract class StagedConfigBuilder<B extends StagedConfigBuilder<B>> {
    /** Blocks per stage; null until set. */
    protected List<Integer> depths;
    /** Channels per stage; null until set. */
    protected List<Integer> dims;

    protected StagedConfigBuilder() {}

    /** This builder, as the family's type. */
    protected abstract B self();

    /** Blocks per stage (required). */
    public final B depths(List<Integer> value) {
        depths = List.copyOf(value);
        return self();
    }

    /** Blocks per stage (required). */
    public final B depths(Integer... value) {
        return depths(List.of(value));
    }

    /** Channels per stage (required). */
    public final B dims(List<Integer> value) {
        dims = List.copyOf(value);
        return self();
    }

    /** Channels per stage (required). */
    public final B dims(Integer... value) {
        return dims(List.of(value));
    }

    /** Fails, naming {@code family}, when the depths or the dims were not set. */
    protected final void requireStages(String family) {
        if (depths == null || dims == null) {
            throw new IllegalArgumentException(family + " config: depths and dims are required");
        }
    }
}
