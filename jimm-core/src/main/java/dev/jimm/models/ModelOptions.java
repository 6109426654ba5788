package dev.jimm.models;

import dev.jimm.hub.KeyMapping;
import dev.jimm.hub.WeightHub;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Options of {@link Models#createModel(String, ModelOptions)}, as timm's create_model arguments. Unset values keep the
 * model's defaults. Immutable; build with {@link #builder()}.
 */
public final class ModelOptions {
    private final boolean pretrained;
    private final Path pretrainedFile;
    private final Integer numClasses;
    private final String globalPool;
    private final int inChans;
    private final double dropRate;
    private final Double dropPathRate;
    private final Integer imgSize;
    private final boolean zeroInitLast;
    private final int outputStride;
    private final boolean featuresOnly;
    private final int[] outIndices;
    private final long seed;
    private final KeyMapping keyMapping;
    private final WeightHub hub;

    private ModelOptions(Builder b) {
        pretrained = b.pretrained;
        pretrainedFile = b.pretrainedFile;
        numClasses = b.numClasses;
        globalPool = b.globalPool;
        inChans = b.inChans;
        dropRate = b.dropRate;
        dropPathRate = b.dropPathRate;
        imgSize = b.imgSize;
        zeroInitLast = b.zeroInitLast;
        outputStride = b.outputStride;
        featuresOnly = b.featuresOnly;
        outIndices = b.outIndices;
        seed = b.seed;
        keyMapping = b.keyMapping.build();
        hub = b.hub;
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

    /** The stochastic depth rate set, or null when unset (each variant's own default applies, mostly 0). */
    public Double dropPathRate() {
        return dropPathRate;
    }

    /**
     * The input size set for the families built for one size (ViT, DeiT, Swin), or null for the pretrained config's.
     */
    public Integer imgSize() {
        return imgSize;
    }

    /** timm's zero_init_last (default on): residual blocks start as the identity. */
    public boolean zeroInitLast() {
        return zeroInitLast;
    }

    /** timm's output_stride (default 32): 16 or 8 dilate the last stages of the families that take it. */
    public int outputStride() {
        return outputStride;
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

    /** How checkpoint keys are renamed before loading (identity by default). */
    public KeyMapping keyMapping() {
        return keyMapping;
    }

    /** The hub for {@code pretrained(true)}, or null for {@link WeightHub#fromEnvironment()}. */
    public WeightHub hub() {
        return hub;
    }

    /** Builder of {@link ModelOptions}. */
    public static final class Builder {
        private boolean pretrained;
        private Path pretrainedFile;
        private Integer numClasses;
        private String globalPool;
        private int inChans = 3;
        private double dropRate;
        private Double dropPathRate;
        private Integer imgSize;
        private boolean zeroInitLast = true;
        private int outputStride = ModelArgs.DEFAULT_OUTPUT_STRIDE;
        private boolean featuresOnly;
        private int[] outIndices;
        private long seed;
        private KeyMapping.Builder keyMapping = KeyMapping.builder();
        private WeightHub hub;

        private Builder() {}

        /** Strip {@code prefix} from checkpoint keys that have it ({@code "backbone."}), before loading. */
        public Builder stripPrefix(String prefix) {
            keyMapping.stripPrefix(prefix);
            return this;
        }

        /** Replace the checkpoint key prefix {@code from} by {@code to} before loading. */
        public Builder renamePrefix(String from, String to) {
            keyMapping.renamePrefix(from, to);
            return this;
        }

        /** Rename checkpoint keys exactly ({@code old → new}) before loading. */
        public Builder renameKeys(Map<String, String> renames) {
            keyMapping.renameAll(renames);
            return this;
        }

        /** Rename checkpoint keys with {@code mapping} (replacing the rules given so far). */
        public Builder keyMapping(KeyMapping mapping) {
            keyMapping = mapping.toBuilder();
            return this;
        }

        /** Where {@code pretrained(true)} finds weights (cache folder, offline mode, endpoints). */
        public Builder hub(WeightHub value) {
            hub = value;
            return this;
        }

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

        /** The stochastic depth rate; an explicit 0 stays 0, unset gives the variant's default (timm's). */
        public Builder dropPathRate(double value) {
            dropPathRate = value;
            return this;
        }

        /**
         * The input size (square) of the families timm builds for one size, as its {@code img_size}: ViT, DeiT and Swin
         * build their position embeddings and windows for it, and the model's pretrained config then reports it.
         * Pretrained weights of another size are resampled on load. Unset, the pretrained config's size applies.
         */
        public Builder imgSize(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("imgSize " + value + " must be positive");
            }
            imgSize = value;
            return this;
        }

        /**
         * timm's {@code zero_init_last} (default true): the last norm of each residual block starts at zero. Off,
         * blocks start as torchvision's do (ResNet, RegNet).
         */
        public Builder zeroInitLast(boolean value) {
            zeroInitLast = value;
            return this;
        }

        /**
         * timm's {@code output_stride} (default 32): with 16 or 8 the last stages keep their resolution, their convs
         * dilated instead of strided (for dense prediction), with the same parameters. Families that do not take it
         * refuse any value their features do not reach.
         */
        public Builder outputStride(int value) {
            outputStride = value;
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
