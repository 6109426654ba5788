package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.AdaptiveAvgPool2d;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Init;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * VGG as timm's {@code models/vgg.py} builds it: a conv trunk, timm's {@code ConvMlp} pre-logits head of two convs,
 * then a pooled linear classifier. torchvision's VGG ({@link TvVgg}, registered here as {@code tv/…}) has the same
 * trunk.
 *
 * <p>Feature levels: the activation before each max pool (reductions 1 to 16) and the last max pool (reduction 32),
 * timm's six {@code features_only} levels.
 */
public final class Vgg extends ImageModel {

    /** A max pool in a layer list ({@code 'M'} in timm's and torchvision's configs). */
    public static final int M = 0;

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's ConvMlp: the VGG fully connected layers as a 7x7 conv and a 1x1 conv. */
    static final class ConvMlp extends Module {
        private final int kernel;
        private final Module fc1;
        private final Module act1;
        private final Module drop;
        private final Module fc2;
        private final Module act2;

        ConvMlp(int in, int out, int kernel, double mlpRatio, double dropRate) {
            this.kernel = kernel;
            int mid = (int) (out * mlpRatio);
            fc1 = register("fc1", new Conv2d(in, mid, kernel, Conv2d.Options.defaults()));
            act1 = register("act1", Activation.relu());
            drop = register("drop", new Dropout((float) dropRate));
            fc2 = register("fc2", new Conv2d(mid, out, 1, Conv2d.Options.defaults()));
            act2 = register("act2", Activation.relu());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long h = x.getShape().get(2);
            long w = x.getShape().get(3);
            if (h < kernel || w < kernel) {
                // timm keeps the input of the 7x7 conv at least 7x7
                x = AdaptiveAvgPool2d.apply(x, (int) Math.max(kernel, h), (int) Math.max(kernel, w));
            }
            return act2.forward(fc2.forward(drop.forward(act1.forward(fc1.forward(x)))));
        }
    }

    /** timm's ClassifierHead: global pool, dropout, linear. */
    static final class Head extends Module {
        private final int inFeatures;
        private final Module drop;
        private GlobalPool pool;
        private Module fc;

        Head(int inFeatures, int numClasses, String poolType, double dropRate) {
            this.inFeatures = inFeatures;
            Module newFc = ClassifierHead.fc(inFeatures, numClasses, poolType);
            pool = register("global_pool", ClassifierHead.pool(poolType));
            drop = register("drop", new Dropout((float) dropRate));
            fc = register("fc", newFc);
        }

        void reset(int numClasses, String poolType) {
            Module newFc = ClassifierHead.fc(inFeatures, numClasses, poolType);
            pool = register("global_pool", ClassifierHead.pool(poolType));
            fc = register("fc", newFc);
        }

        NDArray forward(NDArray x, boolean preLogits) {
            x = drop.forward(pool.forward(x));
            return preLogits ? x : fc.forward(x);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, false);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A VGG variant.
     *
     * @param layers conv widths in order, {@link #M} for a 2x2 max pool
     * @param batchNorm BatchNorm after each conv (the {@code _bn} variants)
     * @param mlpRatio width ratio of timm's ConvMlp hidden layer
     */
    public record Config(List<Integer> layers, boolean batchNorm, double mlpRatio) {
        public Config {
            layers = List.copyOf(layers);
        }

        /** A timm VGG of the given layers. */
        public static Config of(boolean batchNorm, Integer... layers) {
            return new Config(List.of(layers), batchNorm, 1.0);
        }
    }

    /** Receives a feature level: the index of the trunk layer it ends at, its channels and reduction. */
    interface LevelSink {
        void add(int layer, int channels, int reduction);
    }

    /**
     * The VGG trunk of timm and torchvision: 3x3 convs (with BatchNorm), ReLU, and 2x2 max pools. Its levels are the
     * activation before each max pool and the last max pool.
     */
    static Sequential features(Config cfg, int inChans, LevelSink levels) {
        Sequential features = new Sequential();
        int prev = inChans;
        int stride = 1;
        for (int v : cfg.layers()) {
            if (v == M) {
                levels.add(features.size() - 1, prev, stride);
                features.add(Pool2d.max(2, 2, 0));
                stride *= 2;
            } else {
                features.add(new Conv2d(prev, v, 3, Conv2d.Options.defaults().padding(1)));
                if (cfg.batchNorm()) {
                    features.add(new BatchNorm2d(v));
                }
                features.add(Activation.relu());
                prev = v;
            }
        }
        levels.add(features.size() - 1, prev, stride);
        return features;
    }

    /** timm's and torchvision's init: kaiming_normal_(fan_out) convs, N(0, 0.01) linears, zero biases. */
    static void initVgg(Module model, SplittableRandom random) {
        for (Module m : model.namedModules().values()) {
            if (m instanceof Conv2d c) {
                Init.kaimingNormalFanOut(c.weight().getArray(), random);
                if (c.bias() != null) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            } else if (m instanceof Linear l) {
                Init.normal(l.weight().getArray(), 0.01, random);
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            }
        }
    }

    private static final int HEAD_HIDDEN = 4096;

    private final Config cfg;
    private final Sequential features;
    private final ConvMlp preLogits;
    private final Head head;

    public Vgg(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        features = register(
                "features",
                features(
                        cfg,
                        inChans,
                        (layer, ch, reduction) -> addFeatureInfo(ch, reduction, "features." + layer, layer)));
        addTrunkSteps(features.children().values());
        int channels = featureInfo().get(featureInfo().size() - 1).numChs();
        setNumFeatures(channels);
        preLogits = register("pre_logits", new ConvMlp(channels, HEAD_HIDDEN, 7, cfg.mlpRatio(), dropRate));
        head = register("head", new Head(HEAD_HIDDEN, numClasses, globalPool, dropRate));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** Width of the pre-logits features (timm's head_hidden_size). */
    public int headHiddenSize() {
        return HEAD_HIDDEN;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        initVgg(this, random);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return features.forward(x);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogitsOnly) {
        return head.forward(preLogits.forward(x), preLogitsOnly);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = GlobalPool.validate(newGlobalPool);
        head.reset(newNumClasses, pool);
        numClasses = newNumClasses;
        globalPool = pool;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's VGG names and torchvision's {@code tv/vgg…}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "vgg";
        }

        static final List<Integer> VGG11 = List.of(64, M, 128, M, 256, 256, M, 512, 512, M, 512, 512, M);
        static final List<Integer> VGG13 = List.of(64, 64, M, 128, 128, M, 256, 256, M, 512, 512, M, 512, 512, M);
        static final List<Integer> VGG16 =
                List.of(64, 64, M, 128, 128, M, 256, 256, 256, M, 512, 512, 512, M, 512, 512, 512, M);
        static final List<Integer> VGG19 =
                List.of(64, 64, M, 128, 128, M, 256, 256, 256, 256, M, 512, 512, 512, 512, M, 512, 512, 512, 512, M);

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            String[] names = {"vgg11", "vgg13", "vgg16", "vgg19"};
            List<List<Integer>> layers = List.of(VGG11, VGG13, VGG16, VGG19);
            for (int i = 0; i < names.length; i++) {
                for (boolean bn : new boolean[] {false, true}) {
                    String name = names[i] + (bn ? "_bn" : "");
                    Config c = new Config(layers.get(i), bn, 1.0);
                    m.add(ModelEntry.untrained(name, "vgg", args -> new Vgg(c, args), 224, "features.0", "head.fc"));
                }
            }
            for (int i = 0; i < names.length; i++) {
                for (boolean bn : new boolean[] {false, true}) {
                    String name = "tv/" + names[i] + (bn ? "_bn" : "");
                    Config c = new Config(layers.get(i), bn, 1.0);
                    m.add(ModelEntry.untrained(
                            name, "torchvision", args -> new TvVgg(c, args), 224, "features.0", "classifier.6"));
                }
            }
            return m;
        }
    }
}
