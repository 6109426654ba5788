package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An optimizer over parameter groups with per-group hyper-parameters that schedules change between steps (fastai's
 * {@code Optimizer}): learning rate, momentum and weight decay. Weight decay is decoupled (applied to the weights, not
 * added to the gradient) and, by default, skipped for parameters of one dimension (norm weights and biases), as
 * fastai's {@code wd_bn_bias=False}. State lives in the optimizer's own manager, freed by {@link #close()}.
 */
public abstract class Optimizer implements AutoCloseable {
    /** Hyper-parameters of one group, mutable by schedules between steps. */
    public static final class Hyper {
        public double lr;
        public double mom;
        public double wd;

        Hyper(double lr, double mom, double wd) {
            this.lr = lr;
            this.mom = mom;
            this.wd = wd;
        }
    }

    protected final List<ParamGroup> groups;
    protected final List<Hyper> hypers = new ArrayList<>();
    protected final NDManager manager;
    protected final boolean decayNormAndBias;
    protected long stepCount;

    protected Optimizer(List<ParamGroup> groups, NDManager parent, double mom, double wd, boolean decayNormAndBias) {
        this.groups = List.copyOf(groups);
        this.manager = parent.newSubManager();
        this.decayNormAndBias = decayNormAndBias;
        for (int i = 0; i < groups.size(); i++) {
            hypers.add(new Hyper(1e-3, mom, wd));
        }
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /** The hyper-parameters of group {@code i}. */
    public Hyper hyper(int i) {
        return hypers.get(i);
    }

    /** Sets every group's learning rate. */
    public void setLrs(double[] lrs) {
        if (lrs.length != hypers.size()) {
            throw new IllegalArgumentException(
                    lrs.length + " learning rates for " + hypers.size() + " parameter groups");
        }
        for (int i = 0; i < lrs.length; i++) {
            hypers.get(i).lr = lrs[i];
        }
    }

    /** Sets every group's momentum (Adam's beta1). */
    public void setMom(double mom) {
        hypers.forEach(h -> h.mom = mom);
    }

    /** Updates every trainable parameter that has a gradient, then zeroes the gradients. */
    public final void step() {
        stepCount++;
        for (int g = 0; g < groups.size(); g++) {
            Hyper h = hypers.get(g);
            List<PendingUpdate> pending = new ArrayList<>();
            try {
                for (Map.Entry<String, Parameter> e : groups.get(g).params().entrySet()) {
                    Parameter p = e.getValue();
                    NDArray w = p.getArray();
                    if (p.requiresGradient() && w.hasGradient()) {
                        pending.add(new PendingUpdate(e.getKey(), w, w.getGradient(), decays(w) ? h.wd : 0));
                    }
                }
                updateGroup(pending, h);
            } finally {
                pending.forEach(u -> u.grad().close());
            }
        }
    }

    /** One parameter of a group about to be updated: its weight, gradient and weight decay. */
    protected record PendingUpdate(String name, NDArray weight, NDArray grad, double wd) {}

    /**
     * Updates the trainable parameters of one group that have a gradient; by default one {@link #update} per parameter.
     * Optimizers with a multi-tensor kernel override it.
     */
    protected void updateGroup(List<PendingUpdate> params, Hyper h) {
        for (PendingUpdate u : params) {
            update(u.name(), u.weight(), u.grad(), h, u.wd());
        }
    }

    /** Whether weight decay applies to this parameter. */
    protected boolean decays(NDArray w) {
        return decayNormAndBias || w.getShape().dimension() > 1;
    }

    /** Updates one parameter in place from its gradient and zeroes the gradient. */
    protected abstract void update(String name, NDArray weight, NDArray grad, Hyper h, double wd);

    /** Zeroes every gradient (done by {@link #step()} too). */
    public void zeroGrad() {
        for (ParamGroup g : groups) {
            for (Parameter p : g.params().values()) {
                NDArray w = p.getArray();
                if (w.hasGradient()) {
                    try (NDArray grad = w.getGradient()) {
                        grad.subi(grad);
                    }
                }
            }
        }
    }

    /**
     * Scales all gradients so that their global L2 norm is at most {@code maxNorm}; returns the norm before clipping
     * (PyTorch's clip_grad_norm_).
     */
    public double clipGradNorm(double maxNorm) {
        List<NDArray> grads = new ArrayList<>();
        double sq = 0;
        for (ParamGroup g : groups) {
            for (Parameter p : g.params().values()) {
                NDArray w = p.getArray();
                if (p.requiresGradient() && w.hasGradient()) {
                    NDArray grad = w.getGradient();
                    grads.add(grad);
                    try (NDArray s = grad.square().sum()) {
                        sq += s.toType(DataType.FLOAT64, false).getDouble();
                    }
                }
            }
        }
        double norm = Math.sqrt(sq);
        if (norm > maxNorm) {
            float scale = (float) (maxNorm / (norm + 1e-6));
            grads.forEach(gr -> gr.muli(scale));
        }
        grads.forEach(NDArray::close);
        return norm;
    }

    /** Keeps a state array alive past the NDScope of the batch that created it. */
    protected static NDArray persistent(NDArray a) {
        NDScope.unregister(a);
        return a;
    }

    /** Forgets every step taken: zero state and step counts, as a new optimizer (after {@link LrFinder}'s sweep). */
    void resetState() {
        // set, not multiplied by 0: a diverging sweep can leave inf in Adam's second moment, and inf * 0 is NaN
        state().values().forEach(a -> a.set(new NDIndex("..."), 0));
        stepCount = 0;
        resetStepCounts();
    }

    /** Forgets the per-parameter step counts, for optimizers that keep them. */
    protected void resetStepCounts() {}

    /** Steps taken so far. */
    public long stepCount() {
        return stepCount;
    }

    /**
     * The state as named arrays (for checkpoints), keyed {@code <param>.<slot>}, plus the step counts
     * ({@code <param>.step}, {@code __step__}) as new arrays in {@code scratch}: the slots are the live arrays, so
     * nothing here outlives {@code scratch} or grows the optimizer's manager.
     */
    public Map<String, NDArray> stateDict(NDManager scratch) {
        Map<String, NDArray> out = new LinkedHashMap<>(state());
        stepCounts().forEach((k, v) -> out.put(k + ".step", scratch.create(new long[] {v})));
        out.put("__step__", scratch.create(new long[] {stepCount}));
        return out;
    }

    /** Restores the state written by {@link #stateDict}. */
    public void loadStateDict(Map<String, NDArray> sd) {
        NDArray step = sd.get("__step__");
        if (step != null) {
            stepCount = step.toLongArray()[0];
        }
        Map<String, NDArray> own = state();
        for (Map.Entry<String, NDArray> e : sd.entrySet()) {
            String key = e.getKey();
            if (key.equals("__step__")) {
                continue;
            }
            if (key.endsWith(".step")) {
                restoreStepCount(
                        key.substring(0, key.length() - ".step".length()),
                        e.getValue().toLongArray()[0]);
                continue;
            }
            NDArray dst = own.get(key);
            if (dst == null) {
                dst = persistent(createSlot(key, e.getValue()));
            }
            Module.copyInto(dst, e.getValue());
        }
    }

    /** The per-parameter state arrays by key (the live ones; step counts are not arrays). */
    protected abstract Map<String, NDArray> state();

    /** Per-parameter step counts by parameter name, for optimizers that keep them (Adam). */
    protected Map<String, Long> stepCounts() {
        return Map.of();
    }

    /** Restores one parameter's step count from a checkpoint. */
    protected void restoreStepCount(String param, long step) {}

    /** Creates an empty state slot for a key being restored. */
    protected abstract NDArray createSlot(String key, NDArray like);

    @Override
    public void close() {
        manager.close();
    }
}
