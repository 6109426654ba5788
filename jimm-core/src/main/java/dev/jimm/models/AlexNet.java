package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.AdaptiveAvgPool2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * torchvision's AlexNet ({@code tv/alexnet}, the "one weird trick" variant): five convs, an
 * adaptive 6x6 average pool and a three-layer linear classifier, with torchvision's keys
 * ({@code features.N}, {@code classifier.1/4/6}) and PyTorch's default init (torchvision sets none).
 *
 * <p>Feature levels: the activation before each max pool (reductions 4, 8, 16) and the last max
 * pool (32), as for VGG. The head takes the 6x6-pooled maps, not a global pool, so
 * {@code globalPool} is "avg" (that head) or "" (no head, numClasses 0: {@link #forwardHead} returns
 * the maps). Pre-logits are the 4096 features entering {@code classifier.6}; numClasses 0 makes
 * {@code classifier.6} an identity. The dropout rate is {@code dropRate} (torchvision's default is 0.5).
 */
public final class AlexNet extends ImageModel {
    private static final int HIDDEN = 4096;
    private static final int POOL = 6;

    /** torchvision's classifier: Dropout-Linear-ReLU twice, then the last Linear at index 6. */
    static final class Classifier extends Sequential {
        Classifier(int in, int numClasses, double dropRate) {
            add(new Dropout((float) dropRate));
            add(new Linear(in, HIDDEN));
            add(Activation.relu());
            add(new Dropout((float) dropRate));
            add(new Linear(HIDDEN, HIDDEN));
            add(Activation.relu());
            add(last(numClasses));
        }

        static Module last(int numClasses) {
            return numClasses > 0 ? new Linear(HIDDEN, numClasses) : new Identity();
        }

        void resetLast(int numClasses) {
            register("6", last(numClasses));
        }

        NDArray forward(NDArray x, boolean preLogits) {
            int n = preLogits ? size() - 1 : size();
            for (int i = 0; i < n; i++) {
                x = get(i).forward(x);
            }
            return x;
        }
    }

    private final Sequential features;
    private final Classifier classifier;
    private final Module avgpool;
    private final List<FeatureInfo> featureInfo = new ArrayList<>();
    private final int[] levelLayer = {1, 4, 11, 12};

    public AlexNet(ModelArgs args) {
        super(args);
        requirePool(globalPool, numClasses);
        Conv2d.Options o = Conv2d.Options.defaults();
        features =
                register(
                        "features",
                        new Sequential(
                                new Conv2d(inChans, 64, 11, o.stride(4).padding(2)),
                                Activation.relu(),
                                Pool2d.max(3, 2, 0),
                                new Conv2d(64, 192, 5, o.padding(2)),
                                Activation.relu(),
                                Pool2d.max(3, 2, 0),
                                new Conv2d(192, 384, 3, o.padding(1)),
                                Activation.relu(),
                                new Conv2d(384, 256, 3, o.padding(1)),
                                Activation.relu(),
                                new Conv2d(256, 256, 3, o.padding(1)),
                                Activation.relu(),
                                Pool2d.max(3, 2, 0)));
        featureInfo.add(new FeatureInfo(64, 4, "features.1"));
        featureInfo.add(new FeatureInfo(192, 8, "features.4"));
        featureInfo.add(new FeatureInfo(256, 16, "features.11"));
        featureInfo.add(new FeatureInfo(256, 32, "features.12"));
        avgpool = register("avgpool", new AdaptiveAvgPool2d(POOL));
        classifier = register("classifier", new Classifier(256 * POOL * POOL, numClasses, dropRate));
    }

    private static void requirePool(String pool, int classes) {
        if (!pool.equals("avg") && !pool.isEmpty()) {
            throw new IllegalArgumentException(
                    "globalPool '" + pool + "': torchvision's AlexNet head pools to 6x6 by average; use 'avg' or '' (no head)");
        }
        if (pool.isEmpty() && classes > 0) {
            throw new IllegalArgumentException("globalPool '' (no head) needs numClasses 0, got " + classes);
        }
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return features.forward(x);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        if (globalPool.isEmpty()) {
            return x;
        }
        x = avgpool.forward(x);
        return classifier.forward(x.reshape(x.getShape().get(0), -1), preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = GlobalPool.validate(newGlobalPool);
        requirePool(pool, newNumClasses);
        classifier.resetLast(newNumClasses);
        numClasses = newNumClasses;
        globalPool = pool;
    }

    @Override
    public int numFeatures() {
        return 256;
    }

    /** Width of the pre-logits features. */
    public int headHiddenSize() {
        return HIDDEN;
    }

    @Override
    public List<FeatureInfo> featureInfo() {
        return List.copyOf(featureInfo);
    }

    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        int[] take = resolveIndices(indices);
        int lastLevel = 0;
        for (int i : take) {
            lastLevel = Math.max(lastLevel, i);
        }
        List<NDArray> all = new ArrayList<>();
        int level = 0;
        for (int i = 0; i <= levelLayer[lastLevel]; i++) {
            x = features.get(i).forward(x);
            if (i == levelLayer[level]) {
                all.add(x);
                level++;
            }
        }
        return select(all, take);
    }

    /** Registers {@code tv/alexnet}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "alexnet";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(new ModelEntry("tv/alexnet", "torchvision", AlexNet::new,
                    PretrainedCfg.untrained("tv/alexnet", 224, "features.0", "classifier.6")));
        }
    }
}
