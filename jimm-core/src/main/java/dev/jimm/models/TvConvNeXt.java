package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.List;
import java.util.SplittableRandom;

/**
 * torchvision's ConvNeXt ({@code convnext.py}) under torchvision's module names ({@code features.1.0.block.0},
 * {@code layer_scale}, {@code classifier.2}), registered as {@code tv/convnext_*}. Only the plain
 * {@link ConvNeXt.Config}s (patch stem, LayerNorm, layer scale, linear MLP) exist there.
 *
 * <p>{@code dropPathRate} is torchvision's {@code stochastic_depth_prob}; unset, it is the builders' default (0.1 for
 * tiny, 0.4 small, 0.5 base and large, given at registration), and {@code dropRate} adds a dropout before
 * {@code classifier.2} that torchvision does not have. The feature levels are the four stage outputs,
 * {@code features.1}, {@code features.3}, {@code features.5} and {@code features.7} (strides 4 to 32).
 */
public final class TvConvNeXt extends ImageModel {

    /**
     * torchvision's CNBlock: {@code layer_scale} [dim, 1, 1] and {@code block} (conv, permute, LN, linear, GELU,
     * linear, permute).
     */
    static final class TvBlock extends Module {
        private final Parameter layerScale;
        private final Module block;
        private final Module dropPath;

        TvBlock(int dim, double dpr) {
            layerScale = parameter("layer_scale", dim, 1, 1);
            block = register(
                    "block",
                    new Sequential(
                            new Conv2d(
                                    dim,
                                    dim,
                                    7,
                                    Conv2d.Options.defaults().padding(3).groups(dim)),
                            new Permute(0, 2, 3, 1),
                            new LayerNorm(dim, 1e-6f),
                            new Linear(dim, 4 * dim),
                            new Activation(Activation.Kind.GELU),
                            new Linear(4 * dim, dim),
                            new Permute(0, 3, 1, 2)));
            // torchvision's StochasticDepth(p, "row") is timm's DropPath
            dropPath = register("stochastic_depth", DropPath.orIdentity(dpr));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(layerScale.getArray(), 1e-6f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return dropPath.forward(block.forward(x).mul(layerScale.getArray())).add(x);
        }
    }

    /** torchvision's classifier: {@code 0} LayerNorm2d, {@code 1} flatten, {@code 2} the linear layer. */
    static final class TvClassifier extends Module {
        private final Module norm;
        private Module fc;

        TvClassifier(int channels, Module fc) {
            norm = register("0", LayerNorm.channelsFirst(channels, 1e-6f));
            register("1", new Identity());
            this.fc = register("2", fc);
        }

        void setFc(Module newFc) {
            fc = register("2", newFc);
        }

        /** Norm, flatten when pooled, and the classifier unless only the pre-logits are wanted. */
        NDArray forward(NDArray x, boolean pooled, boolean preLogits, float dropRate) {
            x = norm.forward(x);
            if (pooled) {
                x = x.reshape(x.getShape().get(0), -1);
            }
            x = Dropout.apply(x, dropRate, isTraining());
            return preLogits ? x : fc.forward(x);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, true, false, 0f);
        }
    }

    /** torchvision's Permute module, an axis reordering with no parameters. */
    static final class Permute extends Module {
        private final int[] axes;

        Permute(int... axes) {
            this.axes = axes.clone();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.transpose(axes);
        }
    }

    private final ConvNeXt.Config cfg;
    private final Sequential features;
    private GlobalPool pool;
    private final TvClassifier classifier;

    /**
     * @param cfg the variant: a plain ConvNeXt config (patch stem, LayerNorm, layer scale, linear MLP)
     * @param args the model arguments
     */
    public TvConvNeXt(ConvNeXt.Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        if (cfg.convMlp()
                || cfg.useGrn()
                || !cfg.stemType().equals("patch")
                || cfg.norm() != ConvNeXt.Norm.LAYERNORM
                || cfg.headNormFirst()
                || cfg.headHiddenSize() > 0) {
            throw new IllegalArgumentException(
                    "torchvision's ConvNeXt layout builds only plain ConvNeXt configs, not " + cfg);
        }
        List<Integer> dims = cfg.dims();
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        features = register("features", new Sequential());
        features.add(new Sequential(
                new Conv2d(inChans, dims.get(0), 4, Conv2d.Options.defaults().stride(4)),
                LayerNorm.channelsFirst(dims.get(0), 1e-6f)));
        int reduction = 4;
        for (int s = 0; s < 4; s++) {
            if (s > 0) {
                features.add(new Sequential(
                        LayerNorm.channelsFirst(dims.get(s - 1), 1e-6f),
                        new Conv2d(
                                dims.get(s - 1),
                                dims.get(s),
                                2,
                                Conv2d.Options.defaults().stride(2))));
                reduction *= 2;
            }
            Sequential blocks = new Sequential();
            for (int i = 0; i < cfg.depths().get(s); i++) {
                blocks.add(new TvBlock(dims.get(s), dpr[s][i]));
            }
            features.add(blocks);
            addFeatureInfo(dims.get(s), reduction, "features." + (features.size() - 1), features.size() - 1);
        }
        addTrunkSteps(features.children().values());
        setNumFeatures(dims.get(3));
        String p = checkPool(globalPool);
        pool = register("avgpool", new GlobalPool(p, false));
        classifier = register("classifier", new TvClassifier(numFeatures(), classifierFc(numClasses, p)));
    }

    private static String checkPool(String poolType) {
        String p = GlobalPool.validate(poolType);
        if (p.equals("catavgmax")) {
            throw new IllegalArgumentException(
                    "globalPool catavgmax doubles the channels, which the ConvNeXt classifier's norm cannot take");
        }
        return p;
    }

    private Module classifierFc(int classes, String poolType) {
        if (classes > 0 && poolType.isEmpty()) {
            throw new IllegalArgumentException(
                    "globalPool '' (no pooling) needs numClasses 0; torchvision's classifier needs pooled features");
        }
        return Linear.classifier(numFeatures(), classes);
    }

    /** The variant this model was built from. */
    public ConvNeXt.Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        ConvNeXt.initTruncNormal(this, random, 1.0);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return features.forward(x);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return classifier.forward(pool.forward(x), !pool.isIdentity(), preLogits, (float) dropRate);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String p = checkPool(newGlobalPool);
        Module newFc = classifierFc(newNumClasses, p);
        pool = register("avgpool", new GlobalPool(p, false));
        // the classifier keeps its norm; only index 2 changes
        classifier.setFc(newFc);
        globalPool = p;
        numClasses = newNumClasses;
    }
}
