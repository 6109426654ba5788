package dev.jimm.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.OwnedArrays;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam with decoupled weight decay, as fastai's {@code Adam} (betas 0.9/0.99, eps 1e-5, wd 0.01 by default): {@code p ←
 * p(1 − lr·wd)}, moving averages of the gradient and its square, and the bias-corrected step {@code lr/(1−β1ᵗ) · m /
 * (√(v/(1−β2ᵗ)) + eps)}. The update runs in libtorch's fused multi-tensor kernel ({@link FusedAdamW}), one native call
 * per group and weight decay; where libtorch lacks it, in DJL's per-parameter Adam kernel.
 */
public final class AdamW extends Optimizer {
    private final double beta2;
    private final double eps;
    private final Map<String, NDArray> expAvg = new LinkedHashMap<>();
    private final Map<String, NDArray> expAvgSq = new LinkedHashMap<>();
    private final Map<String, Long> steps = new LinkedHashMap<>();
    private final FusedAdamW fused;

    public AdamW(List<ParamGroup> groups, NDManager parent) {
        this(groups, parent, 0.9, 0.99, 1e-5, 0.01, false);
    }

    public AdamW(
            List<ParamGroup> groups,
            NDManager parent,
            double beta1,
            double beta2,
            double eps,
            double wd,
            boolean decayNormAndBias) {
        this(groups, parent, beta1, beta2, eps, wd, decayNormAndBias, true);
    }

    /** As above; {@code fusedKernel} false keeps to the per-parameter kernel even where the fused one exists. */
    public AdamW(
            List<ParamGroup> groups,
            NDManager parent,
            double beta1,
            double beta2,
            double eps,
            double wd,
            boolean decayNormAndBias,
            boolean fusedKernel) {
        super(groups, parent, beta1, wd, decayNormAndBias);
        this.beta2 = beta2;
        this.eps = eps;
        this.fused = fusedKernel ? FusedAdamW.load(manager).orElse(null) : null;
    }

    /** Whether updates run in libtorch's fused multi-tensor kernel. */
    public boolean isFused() {
        return fused != null;
    }

    @Override
    protected void updateGroup(List<PendingUpdate> params, Hyper h) {
        if (fused == null) {
            super.updateGroup(params, h);
            return;
        }
        // the kernel takes one weight decay per call: decayed weights, then norms and biases
        Map<Double, List<PendingUpdate>> byDecay = new LinkedHashMap<>();
        params.forEach(
                u -> byDecay.computeIfAbsent(u.wd(), k -> new ArrayList<>()).add(u));
        for (Map.Entry<Double, List<PendingUpdate>> e : byDecay.entrySet()) {
            List<PendingUpdate> us = e.getValue();
            List<NDArray> w = new ArrayList<>(us.size());
            List<NDArray> g = new ArrayList<>(us.size());
            List<NDArray> m = new ArrayList<>(us.size());
            List<NDArray> v = new ArrayList<>(us.size());
            List<NDArray> t = new ArrayList<>(us.size());
            // the kernel reads each parameter's step (after this one) from a float scalar
            try (NDManager counts = manager.newSubManager()) {
                for (PendingUpdate u : us) {
                    w.add(u.weight());
                    g.add(u.grad());
                    m.add(expAvg(u.name(), u.weight()));
                    v.add(expAvgSq(u.name(), u.weight()));
                    t.add(OwnedArrays.of(counts, new float[] {steps.merge(u.name(), 1L, Long::sum)}, new Shape()));
                }
                fused.step(w, g, m, v, t, h.lr, h.mom, beta2, e.getKey(), eps);
            }
        }
    }

    private NDArray expAvg(String name, NDArray w) {
        return expAvg.computeIfAbsent(name, k -> persistent(manager.zeros(w.getShape(), w.getDataType())));
    }

    private NDArray expAvgSq(String name, NDArray w) {
        return expAvgSq.computeIfAbsent(name, k -> persistent(manager.zeros(w.getShape(), w.getDataType())));
    }

    @Override
    protected void update(String name, NDArray w, NDArray grad, Hyper h, double wd) {
        NDArray m = expAvg(name, w);
        NDArray v = expAvgSq(name, w);
        long t = steps.merge(name, 1L, Long::sum);
        double debias1 = 1 - Math.pow(h.mom, t);
        double debias2 = 1 - Math.pow(beta2, t);
        // the fused kernel computes w -= lrbc·m/(√v + eps'); with lrbc = lr·√debias2/debias1 and
        // eps' = eps·√debias2 this is exactly fastai's lr/debias1 · m/(√(v/debias2) + eps)
        float lrbc = (float) (h.lr * Math.sqrt(debias2) / debias1);
        w.getNDArrayInternal()
                .adamUpdate(
                        new NDList(w, grad, m, v),
                        new NDList(w),
                        (float) h.lr,
                        lrbc,
                        (float) wd,
                        1f,
                        -1f,
                        (float) h.mom,
                        (float) beta2,
                        (float) (eps * Math.sqrt(debias2)),
                        false,
                        true);
    }

    /** Bias correction restarts. */
    @Override
    protected void resetStepCounts() {
        steps.clear();
    }

    @Override
    protected Map<String, NDArray> state() {
        Map<String, NDArray> out = new LinkedHashMap<>();
        expAvg.forEach((k, v) -> out.put(k + ".exp_avg", v));
        expAvgSq.forEach((k, v) -> out.put(k + ".exp_avg_sq", v));
        return out;
    }

    @Override
    protected Map<String, Long> stepCounts() {
        return new LinkedHashMap<>(steps);
    }

    @Override
    protected void restoreStepCount(String param, long step) {
        steps.put(param, step);
    }

    @Override
    protected NDArray createSlot(String key, NDArray like) {
        boolean sq = key.endsWith(".exp_avg_sq");
        String p = key.substring(0, key.lastIndexOf(sq ? ".exp_avg_sq" : ".exp_avg"));
        NDArray slot = manager.zeros(like.getShape(), like.getDataType());
        (sq ? expAvgSq : expAvg).put(p, slot);
        return slot;
    }

    @Override
    public void close() {
        if (fused != null) {
            fused.close();
        }
        super.close();
    }
}
