package dev.jimm.transforms;

import dev.jimm.data.BatchTransform;
import java.util.SplittableRandom;

/**
 * timm-style batch Mixup and CutMix: each batch is mixed with its own reverse (sample i with n-1-i); targets become lam
 * * onehot(y) + (1 - lam) * onehot(y_reversed), with optional label smoothing. When both alphas are positive, CutMix is
 * chosen with probability {@code switchProb}.
 *
 * @param mixupAlpha Beta(alpha, alpha) for Mixup; 0 disables
 * @param cutmixAlpha Beta(alpha, alpha) for CutMix; 0 disables
 * @param prob probability of mixing a batch at all
 * @param switchProb probability of CutMix over Mixup when both are enabled
 * @param labelSmoothing smoothing of the one-hot targets
 */
public record MixupCutmix(double mixupAlpha, double cutmixAlpha, double prob, double switchProb, double labelSmoothing)
        implements BatchTransform {
    public MixupCutmix {
        if (mixupAlpha < 0 || cutmixAlpha < 0 || mixupAlpha + cutmixAlpha == 0) {
            throw new IllegalArgumentException("set mixupAlpha and/or cutmixAlpha > 0");
        }
    }

    /** timm's train defaults: mixup 0.8, cutmix 1.0, prob 1, switch 0.5, smoothing 0.1. */
    public static MixupCutmix timmDefaults() {
        return new MixupCutmix(0.8, 1.0, 1.0, 0.5, 0.1);
    }

    @Override
    public float[] apply(
            float[] images, int n, int c, int h, int w, int[] labels, int numClasses, SplittableRandom rng) {
        double lam = 1.0;
        if (rng.nextDouble() < prob) {
            boolean cut = cutmixAlpha > 0 && (mixupAlpha == 0 || rng.nextDouble() < switchProb);
            lam = beta(cut ? cutmixAlpha : mixupAlpha, rng);
            int plane = h * w, img = c * plane;
            if (cut) {
                // timm rand_bbox: a box of side sqrt(1 - lam), centered uniformly, clipped; lam corrected
                // to the area actually pasted.
                double cutRat = Math.sqrt(1 - lam);
                int ch = (int) (h * cutRat), cw = (int) (w * cutRat);
                int cy = rng.nextInt(h), cx = rng.nextInt(w);
                int y0 = Math.max(0, cy - ch / 2), y1 = Math.min(h, cy + ch / 2);
                int x0 = Math.max(0, cx - cw / 2), x1 = Math.min(w, cx + cw / 2);
                float[] orig = images.clone();
                for (int i = 0; i < n; i++) {
                    int j = n - 1 - i;
                    for (int k = 0; k < c; k++) {
                        for (int y = y0; y < y1; y++) {
                            System.arraycopy(
                                    orig,
                                    j * img + k * plane + y * w + x0,
                                    images,
                                    i * img + k * plane + y * w + x0,
                                    x1 - x0);
                        }
                    }
                }
                lam = 1.0 - (double) (y1 - y0) * (x1 - x0) / (h * w);
            } else {
                float[] orig = images.clone();
                float l = (float) lam;
                for (int i = 0; i < n; i++) {
                    int j = n - 1 - i;
                    for (int k = 0; k < img; k++) {
                        images[i * img + k] = orig[i * img + k] * l + orig[j * img + k] * (1 - l);
                    }
                }
            }
        }
        float off = (float) (labelSmoothing / numClasses), on = (float) (1.0 - labelSmoothing) + off;
        float[] t = new float[n * numClasses];
        for (int i = 0; i < n; i++) {
            int a = labels[i], b = labels[n - 1 - i];
            for (int k = 0; k < numClasses; k++) {
                float ya = k == a ? on : off, yb = k == b ? on : off;
                t[i * numClasses + k] = (float) (lam * ya + (1 - lam) * yb);
            }
        }
        return t;
    }

    /** Beta(a, a) from two Gamma(a) draws. */
    static double beta(double a, SplittableRandom rng) {
        double x = gamma(a, rng), y = gamma(a, rng);
        return x + y == 0 ? 0.5 : x / (x + y);
    }

    /** Marsaglia-Tsang Gamma(a, 1), with the a &lt; 1 boost. */
    static double gamma(double a, SplittableRandom rng) {
        if (a < 1) {
            return gamma(a + 1, rng) * Math.pow(rng.nextDouble(), 1 / a);
        }
        double d = a - 1.0 / 3, c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = rng.nextGaussian(), v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = rng.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }
}
