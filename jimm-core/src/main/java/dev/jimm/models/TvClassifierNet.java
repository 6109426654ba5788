package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.AdaptiveAvgPool2d;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * torchvision's AlexNet and VGG layout: a {@code features} trunk, {@code avgpool} (an adaptive average pool to a fixed
 * PxP grid, not a global pool) and a {@code classifier} Sequential of two hidden layers whose last Linear is
 * {@code classifier.6}.
 *
 * <p>Feature levels are outputs of chosen {@code features} layers. Because the head flattens the PxP maps,
 * {@code globalPool} is "avg" (that head) or "" (no head: {@link #forwardHead} returns the maps, which needs numClasses
 * 0). Pre-logits are the 4096 features entering {@code classifier.6}; numClasses 0 makes {@code classifier.6} an
 * identity. The dropout rate is {@code dropRate} (torchvision's own default is 0.5).
 */
public abstract class TvClassifierNet extends ImageModel {
    /** Width of the classifier's hidden layers. */
    static final int HIDDEN = 4096;

    private final String modelName;
    private final int poolSize;
    private Sequential features;
    private Module avgpool;
    private Classifier classifier;

    /** A Sequential whose last layer can be replaced. */
    private static final class Classifier extends Sequential {
        Classifier(List<Module> layers) {
            super(layers);
        }

        void replaceLast(Module layer) {
            register(Integer.toString(size() - 1), layer);
        }
    }

    /**
     * @param modelName the architecture, for error messages
     * @param poolSize the side of the {@code avgpool} grid
     */
    TvClassifierNet(ModelArgs args, String modelName, int poolSize) {
        super(args);
        this.modelName = modelName;
        this.poolSize = poolSize;
        requirePool(globalPool, numClasses);
    }

    /** Registers the trunk; call first, so that its keys come first. */
    final Sequential registerFeatures(Sequential trunk) {
        features = register("features", trunk);
        addTrunkSteps(trunk.children().values());
        return features;
    }

    /** Makes the output of {@code features.layer} a feature level. */
    final void addLevel(int layer, int channels, int reduction) {
        addFeatureInfo(channels, reduction, "features." + layer, layer);
    }

    /**
     * Registers {@code avgpool} and {@code classifier}: the six hidden-layer modules given, then the last Linear from
     * {@link #HIDDEN} features to the classes.
     */
    final void registerHead(int channels, Module... hidden) {
        setNumFeatures(channels);
        avgpool = register("avgpool", new AdaptiveAvgPool2d(poolSize));
        List<Module> layers = new ArrayList<>(List.of(hidden));
        layers.add(last(numClasses));
        classifier = register("classifier", new Classifier(layers));
    }

    private static Module last(int classes) {
        return Linear.classifier(HIDDEN, classes);
    }

    private void requirePool(String pool, int classes) {
        if (!pool.equals("avg") && !pool.isEmpty()) {
            throw new IllegalArgumentException("globalPool '" + pool + "': torchvision's " + modelName
                    + " head pools to " + poolSize + "x" + poolSize + " by average; use 'avg' or '' (no head)");
        }
        if (pool.isEmpty() && classes > 0) {
            throw new IllegalArgumentException("globalPool '' (no head) needs numClasses 0, got " + classes);
        }
    }

    /** Width of the pre-logits features. */
    public int headHiddenSize() {
        return HIDDEN;
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
        x = x.reshape(x.getShape().get(0), -1);
        int n = preLogits ? classifier.size() - 1 : classifier.size();
        for (int i = 0; i < n; i++) {
            x = classifier.get(i).forward(x);
        }
        return x;
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = GlobalPool.validate(newGlobalPool);
        requirePool(pool, newNumClasses);
        classifier.replaceLast(last(newNumClasses));
        numClasses = newNumClasses;
        globalPool = pool;
    }
}
