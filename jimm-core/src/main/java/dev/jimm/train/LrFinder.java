package dev.jimm.train;

import java.util.ArrayList;
import java.util.List;

/** The result of {@link Learner#lrFind}: the sweep and fastai's suggestions. */
public final class LrFinder {
    private LrFinder() {}

    /**
     * The learning rates tried, the smoothed losses, and suggested rates: valley (fastai's default),
     * steep (steepest descent), minimum (the loss minimum divided by 10).
     */
    public record Result(List<Double> lrs, List<Double> losses, double valley, double steep, double minimum) {
        public Result {
            lrs = List.copyOf(lrs);
            losses = List.copyOf(losses);
        }

        /** fastai's suggestions over the sweep without its first 10% and last 5 points. */
        static Result of(List<Double> lrs, List<Double> losses, int numIt) {
            int from = numIt / 10;
            int to = lrs.size() - 5;
            if (to - from < 3) {
                from = 0;
                to = lrs.size();
            }
            if (to - from < 2) {
                return new Result(lrs, losses, Double.NaN, Double.NaN, Double.NaN);
            }
            List<Double> l = new ArrayList<>(lrs.subList(from, to));
            List<Double> v = new ArrayList<>(losses.subList(from, to));
            return new Result(lrs, losses, LrFinder.valley(l, v), LrFinder.steep(l, v), LrFinder.minimum(l, v));
        }
    }

    /** fastai's valley: the middle-to-late point of the longest decreasing run of the loss. */
    static double valley(List<Double> lrs, List<Double> losses) {
        int n = losses.size();
        int maxStart = 0;
        int maxEnd = 0;
        int[] lds = new int[n];
        java.util.Arrays.fill(lds, 1);
        for (int i = 1; i < n; i++) {
            for (int j = 0; j < i; j++) {
                if (losses.get(i) < losses.get(j) && lds[i] < lds[j] + 1) {
                    lds[i] = lds[j] + 1;
                }
                if (lds[maxEnd] < lds[i]) {
                    maxEnd = i;
                    maxStart = maxEnd - lds[maxEnd];
                }
            }
        }
        double sections = (maxEnd - maxStart) / 3.0;
        int idx = maxStart + (int) sections + (int) (sections / 2);
        return lrs.get(Math.min(Math.max(idx, 0), n - 1));
    }

    /** fastai's steep: where the loss falls fastest against log(lr). */
    static double steep(List<Double> lrs, List<Double> losses) {
        int best = 0;
        double bestGrad = Double.POSITIVE_INFINITY;
        for (int i = 0; i + 1 < lrs.size(); i++) {
            double g = (losses.get(i + 1) - losses.get(i)) / (Math.log(lrs.get(i + 1)) - Math.log(lrs.get(i)));
            if (g < bestGrad) {
                bestGrad = g;
                best = i;
            }
        }
        return lrs.get(best);
    }

    /** fastai's minimum: a tenth of the rate at the lowest loss. */
    static double minimum(List<Double> lrs, List<Double> losses) {
        int best = 0;
        for (int i = 1; i < losses.size(); i++) {
            if (losses.get(i) < losses.get(best)) {
                best = i;
            }
        }
        return lrs.get(best) / 10;
    }
}
