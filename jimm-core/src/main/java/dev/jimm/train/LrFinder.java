package dev.jimm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * fastai's {@code LRFinder}, the callback behind {@link Learner#lrFind}: a {@link ParamScheduler} that grows the
 * learning rate exponentially from {@code startLr} to {@code endLr} over {@code numIt} batches of a fit, records the
 * smoothed loss, and stops the fit after {@code numIt} batches or when the loss exceeds 4× its best. The model and the
 * optimizer's state are restored when the fit ends. {@link #result()} has the sweep and fastai's suggestions.
 */
public final class LrFinder extends ParamScheduler {
    private final int numIt;
    private final Recorder smoothing = new Recorder();
    private final List<Double> lrs = new ArrayList<>();
    private final List<Double> losses = new ArrayList<>();
    private final Map<String, NDArray> saved = new LinkedHashMap<>();
    private NDManager snapshot;
    private double best = Double.POSITIVE_INFINITY;

    LrFinder(int groups, double startLr, double endLr, int numIt) {
        super(perGroup(groups, Schedules.exp(startLr, endLr)), null);
        this.numIt = numIt;
    }

    @Override
    protected double position(Learner l) {
        return (double) l.trainIter() / numIt;
    }

    @Override
    public void beforeFit(Learner l) {
        snapshot = l.model().getManager().newSubManager();
        l.model().stateDict().forEach((k, v) -> {
            NDArray copy = v.duplicate();
            copy.attach(snapshot);
            saved.put(k, copy);
        });
        // the sweep's dropout draws from the engine's generator: seed it, else the sweep depends on what ran before
        Engine.getInstance().setRandomSeed((int) (l.seed() * 1_000_003L - 1));
    }

    @Override
    public void afterBatch(Learner l) {
        double lr = l.optimizer().hyper(0).lr;
        double smooth = smoothing.recordBatch(lr, 0, l.lastLoss());
        lrs.add(lr);
        losses.add(smooth);
        best = Math.min(best, smooth);
        if (smooth > 4 * best) {
            l.requestStop("lr_find: the loss diverged");
        } else if (l.trainIter() >= numIt) {
            l.requestStop("lr_find: " + numIt + " iterations done");
        }
    }

    @Override
    public void afterFit(Learner l) {
        try {
            l.model().loadStateDict(saved, true);
            l.model().eval();
            l.optimizer().resetState();
        } finally {
            snapshot.close();
        }
    }

    /** The sweep and fastai's suggestions. */
    public Result result() {
        return Result.of(lrs, losses, numIt);
    }

    /**
     * The learning rates tried, the smoothed losses, and suggested rates: valley (fastai's default), steep (steepest
     * descent), minimum (the loss minimum divided by 10).
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
        Arrays.fill(lds, 1);
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
