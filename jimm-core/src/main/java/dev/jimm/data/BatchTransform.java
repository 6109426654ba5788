package dev.jimm.data;

import java.util.SplittableRandom;

/**
 * A batch-level augmentation on plain Java arrays (Mixup, CutMix), run before the batch becomes a tensor. It may modify
 * {@code images} (N*C*H*W, NCHW) in place and returns the soft targets (N * numClasses).
 */
@FunctionalInterface
public interface BatchTransform {
    float[] apply(float[] images, int n, int c, int h, int w, int[] labels, int numClasses, SplittableRandom rng);
}
