package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * InceptionNeXt (Yu et al. 2023, "When Inception Meets ConvNeXt"), as timm's {@code models/inception_next.py} builds
 * its {@code MetaNeXt}: a 4x4 patch {@code stem} (conv and BatchNorm), four {@code stages} of MetaNeXt blocks (an
 * Inception depthwise token mixer, BatchNorm, a 1x1-conv MLP, layer scale {@code gamma}), each stage but the first
 * downsampling with BatchNorm and a 2x2 stride-2 conv; and timm's {@code MlpClassifierHead}: pooling, {@code fc1} to 3x
 * the width, GELU, LayerNorm, dropout, {@code fc2}.
 *
 * <p>The head's pre-logits are the 3x-wide hidden features ({@link #headHiddenSize()}). It cannot run without pooling:
 * {@code resetClassifier(0, "")}, as the features-only extractor asks, drops the whole head so that the maps come out
 * (timm's features-only model has no head at all); a classifier needs a pooling.
 */
public final class InceptionNext extends ImageModel {

    /**
     * A variant, as timm's {@code MetaNeXt} keyword arguments.
     *
     * @param depths blocks per stage
     * @param dims channels per stage
     * @param bandKernelSize the length of the 1xk and kx1 band kernels of the token mixer
     * @param branchRatio the share of channels in each of the three conv branches of the token mixer
     * @param mlpRatios MLP width per stage, as a multiple of the channels
     * @param lsInitValue layer-scale init value
     */
    public record Config(
            List<Integer> depths,
            List<Integer> dims,
            int bandKernelSize,
            double branchRatio,
            List<Integer> mlpRatios,
            double lsInitValue) {
        public Config {
            depths = List.copyOf(depths);
            dims = List.copyOf(dims);
            mlpRatios = List.copyOf(mlpRatios);
            if (depths.size() != dims.size() || depths.size() != mlpRatios.size()) {
                throw new IllegalArgumentException("InceptionNeXt stages disagree: depths " + depths + ", dims " + dims
                        + ", mlpRatios " + mlpRatios);
            }
            if (bandKernelSize < 1 || bandKernelSize % 2 == 0) {
                throw new IllegalArgumentException("bandKernelSize " + bandKernelSize + " must be odd and positive");
            }
            if (!(branchRatio > 0 && branchRatio <= 1.0 / 3)) {
                throw new IllegalArgumentException("branchRatio " + branchRatio + " is not in (0, 1/3]");
            }
        }

        /** A builder with timm's defaults (depths and dims required): band 11, ratio 1/8, MLP 4,4,4,3, scale 1e-6. */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder extends StagedConfigBuilder<Builder> {
            private int bandKernelSize = 11;
            private double branchRatio = 0.125;
            private List<Integer> mlpRatios = List.of(4, 4, 4, 3);
            private double lsInitValue = 1e-6;

            private Builder() {}

            @Override
            protected Builder self() {
                return this;
            }

            /** Band kernel length of the token mixer (default 11). */
            public Builder bandKernelSize(int value) {
                bandKernelSize = value;
                return this;
            }

            /** Channel share of each conv branch of the token mixer (default 0.125). */
            public Builder branchRatio(double value) {
                branchRatio = value;
                return this;
            }

            /** MLP width per stage, as a multiple of the channels (default 4, 4, 4, 3). */
            public Builder mlpRatios(Integer... value) {
                mlpRatios = List.of(value);
                return this;
            }

            /** Layer-scale init value (default 1e-6). */
            public Builder lsInitValue(double value) {
                lsInitValue = value;
                return this;
            }

            public Config build() {
                requireStages("InceptionNeXt");
                return new Config(depths, dims, bandKernelSize, branchRatio, mlpRatios, lsInitValue);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    private static final float BN_EPS = 1e-5f;

    private static Conv2d depthwise(int channels, int kh, int kw) {
        return new Conv2d(
                channels,
                channels,
                kh,
                kw,
                kh / 2,
                kw / 2,
                Conv2d.Options.defaults().groups(channels));
    }

    /**
     * timm's InceptionDWConv2d: the channels split into an identity part and three depthwise branches of {@code gc}
     * channels each, a square 3x3 ({@code dwconv_hw}), a 1xk ({@code dwconv_w}) and a kx1 ({@code dwconv_h}).
     */
    static final class InceptionDwConv2d extends Module {
        private final Module dwconvHw;
        private final Module dwconvW;
        private final Module dwconvH;
        private final int identity;
        private final int gc;

        InceptionDwConv2d(int channels, int bandKernel, double branchRatio) {
            gc = (int) (channels * branchRatio);
            identity = channels - 3 * gc;
            dwconvHw = register("dwconv_hw", depthwise(gc, 3, 3));
            dwconvW = register("dwconv_w", depthwise(gc, 1, bandKernel));
            dwconvH = register("dwconv_h", depthwise(gc, bandKernel, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            int a = identity;
            return NDArrays.concat(
                    new NDList(
                            x.get(":, 0:" + a),
                            dwconvHw.forward(x.get(":, " + a + ":" + (a + gc))),
                            dwconvW.forward(x.get(":, " + (a + gc) + ":" + (a + 2 * gc))),
                            dwconvH.forward(x.get(":, " + (a + 2 * gc) + ":" + (a + 3 * gc)))),
                    1);
        }
    }

    /** timm's MetaNeXtBlock: token mixer, BatchNorm, conv MLP, layer scale, drop path, residual. */
    static final class Block extends Module {
        private final Parameter gamma;
        private final Module tokenMixer;
        private final Module norm;
        private final Module mlp;
        private final Module dropPath;
        private final double lsInitValue;
        private final int dim;

        Block(Config cfg, int dim, int mlpRatio, double dpr) {
            this.dim = dim;
            this.lsInitValue = cfg.lsInitValue();
            // a direct parameter: first in the block's state_dict, as in PyTorch
            gamma = parameter("gamma", dim);
            tokenMixer = register("token_mixer", new InceptionDwConv2d(dim, cfg.bandKernelSize(), cfg.branchRatio()));
            norm = register("norm", new BatchNorm2d(dim, BN_EPS, 0.1f));
            // timm's ConvMlp (fc1, norm, act, drop, fc2) without a norm is Mlp.conv's fc1, act, fc2
            mlp = register("mlp", Mlp.conv(dim, mlpRatio * dim, dim, Activation.Kind.GELU, 0f));
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(gamma.getArray(), (float) lsInitValue);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = mlp.forward(norm.forward(tokenMixer.forward(x)));
            y = y.mul(gamma.getArray().reshape(new Shape(1, dim, 1, 1)));
            return dropPath.forward(y).add(x);
        }
    }

    /** timm's MetaNeXtStage: {@code downsample} (BatchNorm and a 2x2 stride-2 conv, or identity), {@code blocks}. */
    static final class Stage extends DownsampledStage {
        Stage(Config cfg, int in, int out, int stride, int depth, int mlpRatio, double[] dpr) {
            super(
                    stride > 1
                            ? new Sequential(
                                    new BatchNorm2d(in, BN_EPS, 0.1f),
                                    new Conv2d(
                                            in,
                                            out,
                                            2,
                                            Conv2d.Options.defaults().stride(stride)))
                            : null,
                    in,
                    out);
            Sequential b = new Sequential();
            for (int i = 0; i < depth; i++) {
                b.add(new Block(cfg, out, mlpRatio, dpr[i]));
            }
            blocks(b);
        }
    }

    /**
     * timm's MlpClassifierHead: {@code global_pool}, {@code fc1} to {@code hidden}, GELU, LayerNorm {@code norm} (eps
     * 1e-6), dropout, {@code fc2} (an identity for 0 classes). Built {@code empty} it holds nothing and passes the
     * feature maps through (the features-only form).
     */
    static final class Head extends PooledMlpHead {
        private GlobalPool pool;
        private final Module fc1;
        private final Module norm;

        Head(int inFeatures, int hidden, int numClasses, String poolType, double dropRate) {
            super(dropRate);
            if (GlobalPool.validate(poolType).isEmpty()) {
                throw new IllegalArgumentException(
                        "the InceptionNeXt MLP head needs a globalPool (avg, max, avgmax or catavgmax), not ''");
            }
            pool = register("global_pool", new GlobalPool(poolType, true));
            fc1 = register("fc1", new Linear(inFeatures * GlobalPool.featureMultiplier(poolType), hidden));
            register("act", new Activation(Activation.Kind.GELU));
            norm = register("norm", new LayerNorm(hidden, 1e-6f));
            classifier("fc2", Linear.classifier(hidden, numClasses));
        }

        private Head() {
            super(0);
            fc1 = null;
            norm = null;
        }

        /** The head of a features-only model: nothing, the maps pass through. */
        static Head empty() {
            return new Head();
        }

        /** The width {@code fc1} takes, or 0 for the empty head. */
        long fc1Inputs() {
            return fc1 == null ? 0 : ((Linear) fc1).inFeatures();
        }

        /** timm's reset: a new pooling and {@code fc2}; {@code fc1} and {@code norm} keep their weights. */
        void reset(int hidden, int numClasses, String poolType) {
            pool = register("global_pool", new GlobalPool(poolType, true));
            classifier("fc2", Linear.classifier(hidden, numClasses));
        }

        @Override
        NDArray hidden(NDArray maps) {
            return norm.forward(Activation.apply(Activation.Kind.GELU, fc1.forward(pool.forward(maps))));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** The head's width factor (timm's MlpClassifierHead mlp_ratio). */
    public static final int HEAD_MLP_RATIO = 3;

    private final Config cfg;
    private final int hidden;
    private Head head;

    public InceptionNext(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.dims();
        addTrunkStep(register(
                "stem",
                new Sequential(
                        new Conv2d(
                                inChans,
                                dims.get(0),
                                4,
                                Conv2d.Options.defaults().stride(4)),
                        new BatchNorm2d(dims.get(0), BN_EPS, 0.1f))));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int prev = dims.get(0);
        int reduction = 4;
        for (int i = 0; i < dims.size(); i++) {
            int stride = i > 0 ? 2 : 1;
            reduction *= stride;
            stages.add(addTrunkStep(new Stage(
                    cfg,
                    prev,
                    dims.get(i),
                    stride,
                    cfg.depths().get(i),
                    cfg.mlpRatios().get(i),
                    dpr[i])));
            prev = dims.get(i);
            addFeatureInfo(prev, reduction, "stages." + i);
        }
        setNumFeatures(prev);
        hidden = HEAD_MLP_RATIO * prev;
        // no pooling is the features-only form, as resetClassifier(0, "") makes it
        head = register(
                "head",
                globalPool.isEmpty() && numClasses == 0
                        ? Head.empty()
                        : new Head(prev, hidden, numClasses, globalPool, dropRate));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public int headHiddenSize() {
        return hidden;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: trunc_normal_(std=.02) on conv and linear weights (bounds ±2: a plain normal), zero biases
        ConvNeXt.initTruncNormal(this, random, 1.0);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return head.forward(x, preLogits);
    }

    /**
     * timm's {@code reset_classifier}: a new {@code fc2} and pooling, keeping {@code fc1} and {@code norm}. Pooling
     * {@code ""} is allowed only with 0 classes, and drops the whole head (the features-only form); a later reset with
     * a pooling builds a new, untrained {@code fc1} and {@code norm}.
     */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = GlobalPool.validate(newGlobalPool);
        if (pool.isEmpty()) {
            if (newNumClasses > 0) {
                throw new IllegalArgumentException("globalPool '' (no pooling) needs numClasses 0: the InceptionNeXt"
                        + " head's MLP runs on pooled features");
            }
            head = register("head", Head.empty());
        } else if (head.isEmpty() || head.fc1Inputs() != (long) numFeatures() * GlobalPool.featureMultiplier(pool)) {
            // timm keeps fc1 and would fail on a pooling of another width; a fresh head fits it
            head = register("head", new Head(numFeatures(), hidden, newNumClasses, pool, dropRate));
        } else {
            head.reset(hidden, newNumClasses, pool);
        }
        numClasses = newNumClasses;
        globalPool = pool;
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code inception_next_atto}, {@code _tiny}, {@code _small} and {@code _base}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "inception_next";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(
                    m,
                    "inception_next_atto",
                    Config.builder()
                            .depths(2, 2, 6, 2)
                            .dims(40, 80, 160, 320)
                            .bandKernelSize(9)
                            .branchRatio(0.25)
                            .build());
            add(
                    m,
                    "inception_next_tiny",
                    Config.builder().depths(3, 3, 9, 3).dims(96, 192, 384, 768).build());
            add(
                    m,
                    "inception_next_small",
                    Config.builder().depths(3, 3, 27, 3).dims(96, 192, 384, 768).build());
            add(
                    m,
                    "inception_next_base",
                    Config.builder()
                            .depths(3, 3, 27, 3)
                            .dims(128, 256, 512, 1024)
                            .build());
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "inception_next", args -> new InceptionNext(c, args), 224, "stem.0", "head.fc2"));
        }
    }
}
