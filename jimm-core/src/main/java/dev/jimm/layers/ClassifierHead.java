package dev.jimm.layers;

/**
 * timm's create_classifier: a global pool and a linear classifier (or an identity for 0 classes). Models register the
 * two parts under their own names ({@code global_pool}, {@code fc}).
 */
public final class ClassifierHead {
    private ClassifierHead() {}

    /** The pooling module; flattens unless pooling is off. */
    public static GlobalPool pool(String poolType) {
        String t = GlobalPool.validate(poolType);
        return new GlobalPool(t, !t.isEmpty());
    }

    /** The classifier: {@code Linear(numFeatures * poolMultiplier, numClasses)}, or an identity. */
    public static Module fc(int numFeatures, int numClasses, String poolType) {
        if (numClasses <= 0) {
            return new Identity();
        }
        if (GlobalPool.validate(poolType).isEmpty()) {
            throw new IllegalArgumentException(
                    "globalPool '' (no pooling) needs numClasses 0; a classifier needs pooled features");
        }
        return new Linear(numFeatures * GlobalPool.featureMultiplier(poolType), numClasses);
    }
}
