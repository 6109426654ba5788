package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.jimm.layers.Module;
import dev.jimm.layers.NoGrad;
import java.util.ArrayList;
import java.util.List;

/**
 * Lookahead with a growing average, as airbench trains (Keller Jordan's CIFAR-10 speed runs): every {@code every}
 * optimizer steps the model's floating-point state (weights and BatchNorm statistics) moves to a running average of
 * itself, {@code avg = decay * avg + (1 - decay) * w; w = avg}, and at the end of the fit the model keeps the average.
 * {@code decay} grows as the cube of the fit's progress, from 0 (plain training) to {@code maxDecay}, so the average
 * only smooths the low-learning-rate end of the schedule.
 *
 * <p>Add it before the callbacks that save the model, so that they save the average. A fit resumed from a checkpoint
 * starts the average again from the resumed weights; an interrupted or diverged fit keeps its last weights.
 */
public final class Lookahead implements Callback {
    /** airbench's schedule: every 5 steps, decay up to 0.95^5. */
    public static final int AIRBENCH_EVERY = 5;

    private final int every;
    private final double maxDecay;
    private final List<NDArray> live = new ArrayList<>();
    private final List<NDArray> average = new ArrayList<>();
    private NDManager manager;

    /** Averages every {@code every} steps with a decay rising to {@code maxDecay} (in [0, 1)). */
    public Lookahead(int every, double maxDecay) {
        if (every < 1) {
            throw new IllegalArgumentException("lookahead every must be at least 1 step, got " + every);
        }
        if (!(maxDecay >= 0 && maxDecay < 1)) {
            throw new IllegalArgumentException("lookahead decay must be in [0, 1), got " + maxDecay);
        }
        this.every = every;
        this.maxDecay = maxDecay;
    }

    /** airbench's: every 5 steps, decay up to 0.95^5. */
    public static Lookahead airbench() {
        return new Lookahead(AIRBENCH_EVERY, Math.pow(0.95, AIRBENCH_EVERY));
    }

    /** The decay at {@code progress} (0 to 1) of the fit. */
    public double decayAt(double progress) {
        double p = Math.max(0, Math.min(1, progress));
        return maxDecay * p * p * p;
    }

    @Override
    public void beforeFit(Learner learner) {
        release();
        Module model = learner.model();
        manager = model.getManager().newSubManager();
        try (NoGrad g = NoGrad.enter()) {
            for (NDArray w : model.stateDict().values()) {
                if (w.getDataType().isFloating()) {
                    NDArray copy = w.duplicate();
                    copy.attach(manager);
                    live.add(w);
                    average.add(copy);
                }
            }
        }
    }

    @Override
    public void afterStep(Learner learner) {
        long step = learner.trainIter() + 1;
        if (step % every == 0 && learner.totalIters() > 0) {
            update(decayAt((double) step / learner.totalIters()));
        }
    }

    @Override
    public void afterFit(Learner learner) {
        if (manager != null) {
            if (!learner.interrupted() && !learner.diverged()) {
                update(1.0);
            }
            release();
        }
    }

    /** {@code avg = decay * avg + (1 - decay) * w}, then {@code w = avg}, for every floating-point state entry. */
    private void update(double decay) {
        try (NoGrad g = NoGrad.enter()) {
            for (int i = 0; i < live.size(); i++) {
                NDArray w = live.get(i);
                NDArray avg = average.get(i);
                // (avg - w) * decay + w, in place in avg
                avg.subi(w).muli(decay).addi(w);
                Module.copyInto(w, avg);
            }
        }
    }

    private void release() {
        live.clear();
        average.clear();
        if (manager != null) {
            manager.close();
            manager = null;
        }
    }
}
