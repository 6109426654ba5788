package dev.jimm.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What training did: per batch the learning rate, momentum, loss and smoothed loss; per epoch the
 * train loss, valid loss, metrics and time (fastai's Recorder). The smoothed loss is fastai's
 * debiased exponential moving average with β = 0.98.
 */
public final class Recorder {
    /** One epoch of a fit. */
    public record EpochRow(int epoch, double trainLoss, double validLoss, Map<String, Double> metrics, double seconds) {
        public EpochRow {
            metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        }
    }

    private static final double BETA = 0.98;

    private final List<Double> lrs = new ArrayList<>();
    private final List<Double> moms = new ArrayList<>();
    private final List<Double> losses = new ArrayList<>();
    private final List<Double> smoothLosses = new ArrayList<>();
    private final List<EpochRow> epochs = new ArrayList<>();
    private double avg;
    private int count;

    /** Starts the smoothing afresh (each fit does). */
    public void resetSmoothing() {
        avg = 0;
        count = 0;
    }

    /** Records a training batch; returns the smoothed loss. */
    public double recordBatch(double lr, double mom, double loss) {
        count++;
        avg = BETA * avg + (1 - BETA) * loss;
        double smooth = avg / (1 - Math.pow(BETA, count));
        lrs.add(lr);
        moms.add(mom);
        losses.add(loss);
        smoothLosses.add(smooth);
        return smooth;
    }

    public void recordEpoch(EpochRow row) {
        epochs.add(row);
    }

    public List<Double> lrs() {
        return Collections.unmodifiableList(lrs);
    }

    public List<Double> moms() {
        return Collections.unmodifiableList(moms);
    }

    public List<Double> losses() {
        return Collections.unmodifiableList(losses);
    }

    public List<Double> smoothLosses() {
        return Collections.unmodifiableList(smoothLosses);
    }

    public List<EpochRow> epochs() {
        return Collections.unmodifiableList(epochs);
    }

    /** The smoothed loss of the last batch (NaN before any). */
    public double smoothLoss() {
        return smoothLosses.isEmpty() ? Double.NaN : smoothLosses.get(smoothLosses.size() - 1);
    }

    void restoreEpochs(List<EpochRow> rows) {
        epochs.clear();
        epochs.addAll(rows);
    }
}
