package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.hub.KeyMapping;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BlurPool2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Init;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * DenseNet-BC as timm's {@code models/densenet.py} builds it (plain and deep 3x3 stems, blur-pool anti-aliasing), and
 * torchvision's DenseNets ({@code tv/densenet…}), which have the same modules, state_dict keys and numbers:
 * torchvision's final ReLU (applied in its forward) is timm's activation in {@code features.norm5}, so
 * {@link #forwardFeatures} of both ends after that ReLU.
 *
 * <p>Old torchvision checkpoints spell the dense-layer keys {@code norm.1}; loading pretrained weights renames them to
 * {@code norm1}, as timm's {@code checkpoint_filter_fn}.
 */
public final class DenseNet extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's BatchNormAct2d with ReLU: a BatchNorm2d (same keys) followed by its activation. */
    static final class BatchNormAct extends BatchNorm2d {
        BatchNormAct(int channels) {
            super(channels);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return Activation.apply(Activation.Kind.RELU, super.forwardImpl(x));
        }
    }

    /** The bottleneck layer: BN-ReLU-1x1 conv to bnSize*growth, BN-ReLU-3x3 conv to growth. */
    static final class DenseLayer extends Module {
        private final Module norm1;
        private final Module conv1;
        private final Module norm2;
        private final Module conv2;
        private final double dropRate;

        DenseLayer(int in, int growthRate, int bnSize, double dropRate) {
            Conv2d.Options noBias = Conv2d.Options.defaults().bias(false);
            norm1 = register("norm1", new BatchNormAct(in));
            conv1 = register("conv1", new Conv2d(in, bnSize * growthRate, 1, noBias));
            norm2 = register("norm2", new BatchNormAct(bnSize * growthRate));
            conv2 = register("conv2", new Conv2d(bnSize * growthRate, growthRate, 3, noBias.padding(1)));
            this.dropRate = dropRate;
        }

        /** The new features from the concatenation of all earlier ones. */
        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = conv2.forward(norm2.forward(conv1.forward(norm1.forward(x))));
            return Dropout.apply(y, (float) dropRate, isTraining());
        }
    }

    /** Dense layers, each fed the concatenation of the block input and all earlier layers' outputs. */
    static final class DenseBlock extends Module {
        DenseBlock(int numLayers, int in, int bnSize, int growthRate, double dropRate) {
            for (int i = 0; i < numLayers; i++) {
                register("denselayer" + (i + 1), new DenseLayer(in + i * growthRate, growthRate, bnSize, dropRate));
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            // growing the concatenation once per layer equals timm's cat of the whole list each time
            NDArray all = x;
            for (Module layer : children().values()) {
                all = NDArrays.concat(new NDList(all, layer.forward(all)), 1);
            }
            return all;
        }
    }

    /** BN-ReLU, 1x1 conv halving the channels, 2x2 average pool (or a blur pool). */
    static final class Transition extends NamedSequential {
        Transition(int in, int out, boolean blur) {
            add("norm", new BatchNormAct(in));
            add("conv", new Conv2d(in, out, 1, Conv2d.Options.defaults().bias(false)));
            add("pool", blur ? new BlurPool2d(out, 2) : Pool2d.avg(2, 2, 0, false, true));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A DenseNet variant, as the keyword arguments of timm's DenseNet.
     *
     * @param growthRate channels each dense layer adds (k)
     * @param blockConfig dense layers per block
     * @param bnSize bottleneck width factor (bnSize * k channels in the 1x1 conv)
     * @param stemType "" (7x7 conv), "deep", "deep_tiered" or "deep_tiered_narrow" (three 3x3 convs)
     * @param blurPool a blur pool (BlurPool2d) for the stem's downsampling
     * @param blurStemOnly only the stem is anti-aliased; otherwise the transitions too
     */
    public record Config(
            int growthRate,
            List<Integer> blockConfig,
            int bnSize,
            String stemType,
            boolean blurPool,
            boolean blurStemOnly) {
        public Config {
            blockConfig = List.copyOf(blockConfig);
        }

        /** A plain-stem DenseNet of growth rate k and the given block depths. */
        public static Config of(int growthRate, Integer... blocks) {
            return new Config(growthRate, List.of(blocks), 4, "", false, true);
        }

        /** The same with another stem. */
        public Config stem(String type) {
            return new Config(growthRate, blockConfig, bnSize, type, blurPool, blurStemOnly);
        }

        /** The same with blur-pool anti-aliasing in the stem. */
        public Config blur() {
            return new Config(growthRate, blockConfig, bnSize, stemType, true, blurStemOnly);
        }
    }

    private final Config cfg;
    private final NamedSequential features;

    public DenseNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int k = cfg.growthRate();
        int init = k * 2;
        features = register("features", new NamedSequential());
        boolean deep = cfg.stemType().contains("deep");
        Conv2d.Options noBias = Conv2d.Options.defaults().bias(false);
        if (deep) {
            int s1 = k;
            int s2 = k;
            if (cfg.stemType().contains("tiered")) {
                s1 = 3 * (k / 4);
                s2 = cfg.stemType().contains("narrow") ? init : 6 * (k / 4);
            }
            features.add("conv0", new Conv2d(inChans, s1, 3, noBias.stride(2).padding(1)));
            features.add("norm0", new BatchNormAct(s1));
            features.add("conv1", new Conv2d(s1, s2, 3, noBias.padding(1)));
            features.add("norm1", new BatchNormAct(s2));
            features.add("conv2", new Conv2d(s2, init, 3, noBias.padding(1)));
            features.add("norm2", new BatchNormAct(init));
        } else {
            features.add("conv0", new Conv2d(inChans, init, 7, noBias.stride(2).padding(3)));
            features.add("norm0", new BatchNormAct(init));
        }
        addLevel(init, 2);
        features.add(
                "pool0",
                cfg.blurPool() ? new Sequential(Pool2d.max(3, 1, 1), new BlurPool2d(init, 2)) : Pool2d.max(3, 2, 1));

        int stride = 4;
        int channels = init;
        int n = cfg.blockConfig().size();
        for (int i = 0; i < n; i++) {
            int layers = cfg.blockConfig().get(i);
            String name = "denseblock" + (i + 1);
            features.add(name, new DenseBlock(layers, channels, cfg.bnSize(), k, 0));
            channels += layers * k;
            if (i != n - 1) {
                addLevel(channels, stride);
                stride *= 2;
                features.add(
                        "transition" + (i + 1),
                        new Transition(channels, channels / 2, cfg.blurPool() && !cfg.blurStemOnly()));
                channels /= 2;
            }
        }
        features.add("norm5", new BatchNormAct(channels));
        addLevel(channels, stride);
        addTrunkSteps(features.children().values());
        // timm's global_pool, head_drop (no state: the shared head's dropout) and classifier
        registerClassifierHead("classifier", channels);
    }

    /** Makes the output of the module last added to {@code features} a feature level. */
    private void addLevel(int channels, int reduction) {
        List<String> names = List.copyOf(features.children().keySet());
        addFeatureInfo(channels, reduction, "features." + names.get(names.size() - 1), names.size() - 1);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // torchvision's "official init": kaiming_normal_ (fan_in) convs, zero linear biases
        for (Module m : namedModules().values()) {
            if (m instanceof Conv2d c) {
                Init.normal(
                        c.weight().getArray(),
                        Math.sqrt(2.0 / Init.fanIn(c.weight().getArray())),
                        random);
            } else if (m instanceof Linear l && l.bias() != null) {
                Init.constant(l.bias().getArray(), 0f);
            }
        }
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return features.forward(x);
    }

    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        // timm's checkpoint_filter_fn: torchvision's old "norm.1" keys are "norm1"
        return KeyMapping.torchvisionDenseNet(checkpoint);
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's DenseNet names and torchvision's {@code tv/densenet…}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "densenet";
        }

        @Override
        public List<ModelEntry> models() {
            Map<String, Config> timm = new LinkedHashMap<>();
            Config d121 = Config.of(32, 6, 12, 24, 16);
            Config d161 = Config.of(48, 6, 12, 36, 24);
            Config d169 = Config.of(32, 6, 12, 32, 32);
            Config d201 = Config.of(32, 6, 12, 48, 32);
            timm.put("densenet121", d121);
            timm.put("densenetblur121d", d121.stem("deep").blur());
            timm.put("densenet169", d169);
            timm.put("densenet201", d201);
            timm.put("densenet161", d161);
            timm.put("densenet264d", Config.of(48, 6, 12, 64, 48).stem("deep"));
            List<ModelEntry> m = new ArrayList<>();
            timm.forEach(
                    (name, c) -> m.add(new ModelEntry(name, "densenet", args -> new DenseNet(c, args), timmCfg(name))));
            Map<String, Config> tv = new LinkedHashMap<>();
            tv.put("tv/densenet121", d121);
            tv.put("tv/densenet161", d161);
            tv.put("tv/densenet169", d169);
            tv.put("tv/densenet201", d201);
            tv.forEach((name, c) -> m.add(ModelEntry.untrained(
                    name, "torchvision", args -> new DenseNet(c, args), 224, "features.conv0", "classifier")));
            return m;
        }

        private static PretrainedCfg timmCfg(String name) {
            // timm's DenseNet configs: bicubic, Apache-2.0
            return PretrainedCfgOverride.untrained(
                    name, 224, "features.conv0", "classifier", "bicubic", 0.875, "apache-2.0");
        }
    }
}
