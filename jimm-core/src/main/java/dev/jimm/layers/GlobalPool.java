package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

/**
 * timm's {@code SelectAdaptivePool2d}: global pooling of NCHW maps by type ("avg", "max", "avgmax", "catavgmax"),
 * flattened to [N, C] (or [N, 2C] for catavgmax); the empty type passes the maps through unchanged.
 */
public class GlobalPool extends Module {
    private final String poolType;
    private final boolean flatten;

    public GlobalPool(String poolType, boolean flatten) {
        this.poolType = validate(poolType);
        this.flatten = flatten;
    }

    /** Checks a pool type, failing with the accepted names. */
    public static String validate(String poolType) {
        String t = poolType == null ? "" : poolType;
        return switch (t) {
            case "", "avg", "max", "avgmax", "catavgmax" -> t;
            default ->
                throw new IllegalArgumentException(
                        "globalPool '" + poolType + "' is not one of avg, max, avgmax, catavgmax or '' (no pooling)");
        };
    }

    /**
     * Checks a head that only averages ("avg") or passes its input through (""), as the distilled / token heads do;
     * fails when a classifier would get unpooled features.
     *
     * @param model the family's name in the message
     * @param kept what the unpooled head keeps ("tokens" or "maps")
     */
    public static void checkAvgOrNone(String pool, int numClasses, String model, String kept) {
        if (!pool.equals("avg") && !pool.isEmpty()) {
            throw new IllegalArgumentException(
                    "globalPool '" + pool + "': " + model + "'s head averages ('avg') or keeps the " + kept + " ('')");
        }
        if (pool.isEmpty() && numClasses > 0) {
            throw new IllegalArgumentException(
                    "globalPool '' (no pooling) needs numClasses 0; a classifier needs pooled features");
        }
    }

    /** The factor by which pooling multiplies the channel count (2 for catavgmax). */
    public static int featureMultiplier(String poolType) {
        return "catavgmax".equals(poolType) ? 2 : 1;
    }

    public String poolType() {
        return poolType;
    }

    public boolean isIdentity() {
        return poolType.isEmpty();
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        if (poolType.isEmpty()) {
            return x;
        }
        NDArray pooled = switch (poolType) {
            case "avg" -> avg(x);
            case "max" -> max(x);
            case "avgmax" -> Scalars.mul(avg(x).add(max(x)), 0.5f);
            case "catavgmax" -> NDArrays.concat(new NDList(avg(x), max(x)), 1);
            default -> throw new IllegalStateException(poolType);
        };
        return flatten ? pooled : pooled.reshape(pooled.getShape().get(0), -1, 1, 1);
    }

    // Both poolings are written so that their gradient keeps the maps' memory order. libtorch's
    // adaptive pooling hands back an ordinary-layout gradient for a channels-last input, and the
    // elementwise backward kernels after it then run on mixed layouts (batch norm, ReLU and a
    // residual add on 32x256x56x56: 466-490 ms a step that way, 267 ms this way).
    private static NDArray avg(NDArray x) {
        return Layers.spatialMean(x, false);
    }

    private static NDArray max(NDArray x) {
        Shape s = x.getShape();
        long n = s.get(0), c = s.get(1), hw = s.get(2) * s.get(3);
        if (!MemoryFormat.isContiguous(x)) {
            // channels-last: the NHWC view is contiguous, and the max's gradient is scattered into it
            return x.transpose(0, 2, 3, 1).reshape(n, hw, c).max(new int[] {1});
        }
        return x.reshape(n, c, hw).max(new int[] {2});
    }

    @Override
    protected String extraRepr() {
        return "SelectAdaptivePool2d(pool_type=" + poolType + ", flatten=" + flatten + ")";
    }
}
