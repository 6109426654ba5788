package dev.jimm.models;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Options of {@link Models#createModel(String, ModelOptions)}, as timm's create_model arguments.
 * Unset values keep the model's defaults. Immutable; build with {@link #builder()}.
 */
public final class ModelOptions {
    private final boolean pretrained;
    private final Path pretrainedFile;
    private final Integer numClasses;
    private final String globalPool;
    private final int inChans;
    private final double dropRate;
    private final double dropPathRate;
    private final boolean featuresOnly;
    private final int[] outIndices;
    private final long seed;

    private ModelOptions(Builder b) {
        pretrained = b.pretrained;
        pretrainedFile = b.pretrainedFile;
        numClasses = b.numClasses;
        globalPool = b.globalPool;
        inChans = b.inChans;
        dropRate = b.dropRate;
        dropPathRate = b.dropPathRate;
        featuresOnly = b.featuresOnly;
        outIndices = b.outIndices;
        seed = b.seed;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: random init, 1000 classes, average pooling, 3 channels. */
    public static ModelOptions defaults() {
        return builder().build();
    }

    public boolean pretrained() {
        return pretrained || pretrainedFile != null;
    }

    /** A local checkpoint to load, or null for the hub. */
    public Path pretrainedFile() {
        return pretrainedFile;
    }

    public Integer numClasses() {
        return numClasses;
    }

    public String globalPool() {
        return globalPool;
    }

    public int inChans() {
        return inChans;
    }

    public double dropRate() {
        return dropRate;
    }

    public double dropPathRate() {
        return dropPathRate;
    }

    public boolean featuresOnly() {
        return featuresOnly;
    }

    /** Feature levels to return with featuresOnly; null for all. */
    public int[] outIndices() {
        return outIndices == null ? null : outIndices.clone();
    }

    /** Seed of the random init. */
    public long seed() {
        return seed;
    }

    /** Builder of {@link ModelOptions}. */
    public static final class Builder {
        private boolean pretrained;
        private Path pretrainedFile;
        private Integer numClasses;
        private String globalPool;
        private int inChans = 3;
        private double dropRate;
        private double dropPathRate;
        private boolean featuresOnly;
        private int[] outIndices;
        private long seed;

        private Builder() {}

        /** Load the default (or tagged, {@code name.tag}) pretrained weights. */
        public Builder pretrained(boolean value) {
            pretrained = value;
            return this;
        }

        /** Load weights from a local checkpoint file (safetensors or torch.save). */
        public Builder pretrainedFile(Path file) {
            pretrainedFile = file;
            return this;
        }

        /** Classifier outputs; 0 removes the classifier (pooled features come out). */
        public Builder numClasses(int value) {
            numClasses = value;
            return this;
        }

        /** "avg", "max", "avgmax", "catavgmax", or "" for unpooled feature maps. */
        public Builder globalPool(String value) {
            globalPool = value;
            return this;
        }

        public Builder inChans(int value) {
            inChans = value;
            return this;
        }

        public Builder dropRate(double value) {
            dropRate = value;
            return this;
        }

        public Builder dropPathRate(double value) {
            dropPathRate = value;
            return this;
        }

        /** Return feature maps of the levels in {@code indices} (timm's features_only). */
        public Builder featuresOnly(int... indices) {
            featuresOnly = true;
            outIndices = indices.length == 0 ? null : Arrays.copyOf(indices, indices.length);
            return this;
        }

        public Builder seed(long value) {
            seed = value;
            return this;
        }

        public ModelOptions build() {
            return new ModelOptions(this);
        }
    }
}
