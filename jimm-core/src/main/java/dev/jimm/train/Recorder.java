package dev.jimm.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What training did: per batch the learning rate, momentum, loss and smoothed loss; per epoch the train loss, valid
 * loss, metrics and time (fastai's Recorder). The smoothed loss is fastai's debiased exponential moving average with β
 * = 0.98.
 */
public final class Recorder {
    /**
     * One epoch of a fit.
     *
     * @param trainLoss the mean training loss over the epoch's batches
     * @param smoothLoss the smoothed training loss after the epoch's last batch: the value fastai's table shows as
     *     train_loss (NaN when not recorded)
     */
    public record EpochRow(
            int epoch,
            double trainLoss,
            double validLoss,
            Map<String, Double> metrics,
            double seconds,
            double smoothLoss) {
        public EpochRow {
            metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        }

        /** A row without a smoothed loss. */
        public EpochRow(int epoch, double trainLoss, double validLoss, Map<String, Double> metrics, double seconds) {
            this(epoch, trainLoss, validLoss, metrics, seconds, Double.NaN);
        }

        /** The training loss as fastai's table shows it: the smoothed one where recorded, else the mean. */
        public double shownTrainLoss() {
            return Double.isFinite(smoothLoss) ? smoothLoss : trainLoss;
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

    /** The smoothing state (the running average and the batch count), which a checkpoint keeps. */
    public double[] smoothingState() {
        return new double[] {avg, count};
    }

    /** Continues the smoothing from a saved {@link #smoothingState()}. */
    public void restoreSmoothing(double[] state) {
        avg = state[0];
        count = (int) state[1];
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

    /** The last epoch's row (the one {@link Callback#afterEpoch} is called for). */
    public EpochRow lastEpoch() {
        return epochs.get(epochs.size() - 1);
    }

    /**
     * The smoothed loss after the last batch of the current fit (NaN before any), from the smoothing state: a fit
     * resumed from a checkpoint has it before its first batch.
     */
    public double smoothLoss() {
        return count == 0 ? Double.NaN : avg / (1 - Math.pow(BETA, count));
    }

    void restoreEpochs(List<EpochRow> rows) {
        epochs.clear();
        epochs.addAll(rows);
    }
}
