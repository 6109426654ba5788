package dev.jimm.train;

import java.util.Arrays;
import java.util.function.DoubleUnaryOperator;

/**
 * fastai's {@code ParamScheduler}: before every training batch, sets each parameter group's learning rate and (when
 * scheduled) the momentum from schedules of the training position in [0, 1]. The schedules of {@link Learner#fit},
 * {@link Learner#fitOneCycle}, {@link Learner#fitFlatCos} and {@link Learner#fineTune} come from their
 * {@link Learner.FitPlan}; {@link LrFinder} sweeps its rate with one.
 */
public class ParamScheduler implements Callback {
    private final DoubleUnaryOperator[] lrs;
    private final DoubleUnaryOperator mom;
    private final double[] values;

    /** One learning-rate schedule per parameter group, and a momentum schedule (null: momentum unchanged). */
    public ParamScheduler(DoubleUnaryOperator[] lrs, DoubleUnaryOperator mom) {
        this.lrs = lrs.clone();
        this.mom = mom;
        this.values = new double[lrs.length];
    }

    /** The same schedule for each of {@code groups} parameter groups. */
    protected static DoubleUnaryOperator[] perGroup(int groups, DoubleUnaryOperator lr) {
        DoubleUnaryOperator[] all = new DoubleUnaryOperator[groups];
        Arrays.fill(all, lr);
        return all;
    }

    /** The schedules of a fit's plan, over the whole fit. */
    public static ParamScheduler of(Learner.FitPlan p) {
        DoubleUnaryOperator[] lrs = new DoubleUnaryOperator[p.lrMax().length];
        for (int g = 0; g < lrs.length; g++) {
            double lr = p.lrMax()[g];
            lrs[g] = switch (p.kind()) {
                case FIT -> Schedules.constant(lr);
                case ONE_CYCLE -> Schedules.oneCycleLr(lr, p.div(), p.divFinal(), p.pctStart());
                case FLAT_COS -> Schedules.combinedCos(p.pctStart(), lr, lr, lr / p.divFinal());
            };
        }
        DoubleUnaryOperator mom = p.kind() == Learner.FitKind.ONE_CYCLE
                ? Schedules.oneCycleMom(p.pctStart(), p.moms())
                : Schedules.constant(p.moms()[0]);
        return new ParamScheduler(lrs, mom);
    }

    /** Where training is, in [0, 1]: the batches done over all of the fit's batches. */
    protected double position(Learner l) {
        return (double) l.trainIter() / l.totalIters();
    }

    @Override
    public void beforeBatch(Learner l) {
        double pos = position(l);
        for (int g = 0; g < values.length; g++) {
            values[g] = lrs[g].applyAsDouble(pos);
        }
        l.optimizer().setLrs(values);
        if (mom != null) {
            l.optimizer().setMom(mom.applyAsDouble(pos));
        }
    }
}
