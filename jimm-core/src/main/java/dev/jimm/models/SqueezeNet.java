package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.List;
import java.util.SplittableRandom;

/**
 * torchvision's SqueezeNet 1.0 and 1.1 ({@code tv/squeezenet1_0}, {@code tv/squeezenet1_1}): Fire modules between
 * ceil-mode max pools and a 1x1-conv classifier ({@code classifier.1}) that is followed by ReLU and the global pool,
 * with torchvision's keys and init.
 *
 * <p>Feature levels: the output before each max pool and the last Fire (reductions 2 to 16). Because torchvision pools
 * after its classifier conv, {@code globalPool} chooses that final pool: "" with a classifier gives per-class maps, ""
 * without one the feature maps; "catavgmax" only without a classifier. Pre-logits ({@link #forwardHead} with true) are
 * the pooled trunk features [N, 512], which the logits do not pass through. The dropout rate is {@code dropRate}
 * (torchvision's default is 0.5).
 */
public final class SqueezeNet extends ImageModel {

    /** A squeeze 1x1 conv, then parallel 1x1 and 3x3 expand convs whose outputs are concatenated. */
    static final class Fire extends Module {
        private final Module squeeze;
        private final Module squeezeAct;
        private final Module expand1x1;
        private final Module expand1x1Act;
        private final Module expand3x3;
        private final Module expand3x3Act;

        Fire(int in, int squeezePlanes, int expand1x1Planes, int expand3x3Planes) {
            Conv2d.Options o = Conv2d.Options.defaults();
            squeeze = register("squeeze", new Conv2d(in, squeezePlanes, 1, o));
            squeezeAct = register("squeeze_activation", Activation.relu());
            expand1x1 = register("expand1x1", new Conv2d(squeezePlanes, expand1x1Planes, 1, o));
            expand1x1Act = register("expand1x1_activation", Activation.relu());
            expand3x3 = register("expand3x3", new Conv2d(squeezePlanes, expand3x3Planes, 3, o.padding(1)));
            expand3x3Act = register("expand3x3_activation", Activation.relu());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = squeezeAct.forward(squeeze.forward(x));
            return NDArrays.concat(
                    new NDList(expand1x1Act.forward(expand1x1.forward(x)), expand3x3Act.forward(expand3x3.forward(x))),
                    1);
        }
    }

    /** Dropout, the final 1x1 conv (or an identity), ReLU, the global pool. */
    static final class Classifier extends Sequential {
        Classifier(int in, int numClasses, String poolType, double dropRate) {
            add(new Dropout((float) dropRate));
            add(numClasses > 0 ? new Conv2d(in, numClasses, 1, Conv2d.Options.defaults()) : new Identity());
            add(Activation.relu());
            add(ClassifierHead.pool(poolType));
        }

        Module finalConv() {
            return get(1);
        }
    }

    /** The two versions. */
    public enum Version {
        V1_0,
        V1_1
    }

    private static final int NUM_FEATURES = 512;

    private final Version version;
    private final Sequential features;
    private Classifier classifier;

    public SqueezeNet(Version version, ModelArgs args) {
        super(args);
        this.version = version;
        requireHead(globalPool, numClasses);
        Conv2d.Options o = Conv2d.Options.defaults();
        if (version == Version.V1_0) {
            features = register(
                    "features",
                    new Sequential(
                            new Conv2d(inChans, 96, 7, o.stride(2)),
                            Activation.relu(),
                            Pool2d.max(3, 2, 0, true),
                            new Fire(96, 16, 64, 64),
                            new Fire(128, 16, 64, 64),
                            new Fire(128, 32, 128, 128),
                            Pool2d.max(3, 2, 0, true),
                            new Fire(256, 32, 128, 128),
                            new Fire(256, 48, 192, 192),
                            new Fire(384, 48, 192, 192),
                            new Fire(384, 64, 256, 256),
                            Pool2d.max(3, 2, 0, true),
                            new Fire(512, 64, 256, 256)));
            addFeatureInfo(96, 2, "features.1", 1);
            addFeatureInfo(256, 4, "features.5", 5);
            addFeatureInfo(512, 8, "features.10", 10);
        } else {
            features = register(
                    "features",
                    new Sequential(
                            new Conv2d(inChans, 64, 3, o.stride(2)),
                            Activation.relu(),
                            Pool2d.max(3, 2, 0, true),
                            new Fire(64, 16, 64, 64),
                            new Fire(128, 16, 64, 64),
                            Pool2d.max(3, 2, 0, true),
                            new Fire(128, 32, 128, 128),
                            new Fire(256, 32, 128, 128),
                            Pool2d.max(3, 2, 0, true),
                            new Fire(256, 48, 192, 192),
                            new Fire(384, 48, 192, 192),
                            new Fire(384, 64, 256, 256),
                            new Fire(512, 64, 256, 256)));
            addFeatureInfo(64, 2, "features.1", 1);
            addFeatureInfo(128, 4, "features.4", 4);
            addFeatureInfo(256, 8, "features.7", 7);
        }
        addFeatureInfo(NUM_FEATURES, 16, "features.12", 12);
        addTrunkSteps(features.children().values());
        setNumFeatures(NUM_FEATURES);
        classifier = register("classifier", new Classifier(NUM_FEATURES, numClasses, globalPool, dropRate));
    }

    private static void requireHead(String pool, int classes) {
        if (classes > 0 && GlobalPool.featureMultiplier(pool) != 1) {
            throw new IllegalArgumentException("globalPool '" + pool + "' would pool the class maps into " + 2 * classes
                    + " outputs; SqueezeNet's pool follows its classifier conv, so use it only with numClasses 0");
        }
    }

    /** Which SqueezeNet this is. */
    public Version version() {
        return version;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // torchvision: kaiming_uniform_ convs, N(0, 0.01) for the final conv, zero biases
        Module finalConv = classifier.finalConv();
        for (Module m : namedModules().values()) {
            if (m instanceof Conv2d c) {
                NDArray w = c.weight().getArray();
                if (m == finalConv) {
                    Init.normal(w, 0.01, random);
                } else {
                    Init.uniform(w, Math.sqrt(6.0 / Init.fanIn(w)), random);
                }
                Init.constant(c.bias().getArray(), 0f);
            }
        }
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return features.forward(x);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        if (preLogits) {
            return ClassifierHead.pool(globalPool).forward(x);
        }
        return classifier.forward(x);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = GlobalPool.validate(newGlobalPool);
        requireHead(pool, newNumClasses);
        classifier = register("classifier", new Classifier(NUM_FEATURES, newNumClasses, pool, dropRate));
        numClasses = newNumClasses;
        globalPool = pool;
    }

    /** Registers {@code tv/squeezenet1_0} and {@code tv/squeezenet1_1}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "squeezenet";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(
                    ModelEntry.untrained(
                            "tv/squeezenet1_0",
                            "torchvision",
                            args -> new SqueezeNet(Version.V1_0, args),
                            224,
                            "features.0",
                            "classifier.1"),
                    ModelEntry.untrained(
                            "tv/squeezenet1_1",
                            "torchvision",
                            args -> new SqueezeNet(Version.V1_1, args),
                            224,
                            "features.0",
                            "classifier.1"));
        }
    }
}
