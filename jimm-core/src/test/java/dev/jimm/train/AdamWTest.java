package dev.jimm.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * AdamW against fastai's Adam written out in doubles ({@code p ← p(1 − lr·wd)}, averaged gradient and square with
 * dampening, {@code p ← p − lr/debias1 · m/(√(v/debias2) + eps)}), through the fused multi-tensor kernel and through
 * the per-parameter fallback: two groups with their own learning rates, weight decay on matrices only, momentum
 * changing between steps, gradients that depend on the weights.
 */
class AdamWTest {
    private static final double BETA2 = 0.99;
    private static final double EPS = 1e-5;
    private static final double WD = 0.01;
    private static final double[] LRS = {1e-2, 3e-2};
    private static final double[] MOMS = {0.95, 0.93, 0.9, 0.88, 0.86, 0.85};

    /** The parameters, their groups and the gradient offsets of every step. */
    private static final class Problem implements AutoCloseable {
        final NDManager manager = NDManager.newBaseManager();
        final Map<String, Parameter> params = new LinkedHashMap<>();
        final Map<String, Integer> groupOf = new LinkedHashMap<>();
        final Map<String, double[]> start = new LinkedHashMap<>();
        final List<Map<String, double[]>> offsets = new ArrayList<>();

        Problem() {
            SplittableRandom r = new SplittableRandom(5);
            add("a.weight", new Shape(3, 4), 0, r);
            add("a.bias", new Shape(4), 0, r);
            add("b.weight", new Shape(2, 2, 2), 1, r);
            add("b.bias", new Shape(2), 1, r);
            for (int t = 0; t < MOMS.length; t++) {
                Map<String, double[]> o = new LinkedHashMap<>();
                for (Map.Entry<String, double[]> e : start.entrySet()) {
                    double[] d = new double[e.getValue().length];
                    for (int i = 0; i < d.length; i++) {
                        // mixed scales, and exact zeros, which the kernel must treat like any value
                        d[i] = i % 5 == 4 ? 0 : r.nextGaussian() * Math.pow(10, -(i % 4));
                    }
                    o.put(e.getKey(), d);
                }
                offsets.add(o);
            }
        }

        private void add(String name, Shape shape, int group, SplittableRandom r) {
            double[] w = new double[(int) shape.size()];
            for (int i = 0; i < w.length; i++) {
                w[i] = r.nextGaussian();
            }
            Parameter p = Parameter.builder()
                    .setName(name)
                    .setType(Parameter.Type.WEIGHT)
                    .build();
            NDArray a = manager.create(toFloats(w), shape);
            a.setRequiresGradient(true);
            p.setArray(a);
            params.put(name, p);
            groupOf.put(name, group);
            start.put(name, w);
        }

        List<ParamGroup> groups() {
            Map<String, Parameter> g0 = new LinkedHashMap<>();
            Map<String, Parameter> g1 = new LinkedHashMap<>();
            params.forEach((k, p) -> (groupOf.get(k) == 0 ? g0 : g1).put(k, p));
            return List.of(new ParamGroup("body", g0), new ParamGroup("head", g1));
        }

        /** Gradients {@code offset + w} (loss Σ offset·w + ½Σw²), then one optimizer step at momentum {@code mom}. */
        void step(Optimizer opt, int t) {
            try (NDManager scratch = manager.newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray loss = null;
                for (Map.Entry<String, Parameter> e : params.entrySet()) {
                    NDArray w = e.getValue().getArray();
                    NDArray off = scratch.create(toFloats(offsets.get(t).get(e.getKey())), w.getShape());
                    NDArray term = w.mul(off).sum().add(w.square().sum().mul(0.5));
                    loss = loss == null ? term : loss.add(term);
                }
                gc.backward(loss);
            }
            opt.setLrs(LRS);
            opt.setMom(MOMS[t]);
            opt.step();
        }

        Map<String, float[]> weights() {
            Map<String, float[]> out = new LinkedHashMap<>();
            params.forEach((k, p) -> out.put(k, p.getArray().toFloatArray()));
            return out;
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    /** fastai's Adam in doubles over the same problem, its first {@code to} steps. */
    private static Map<String, double[]> reference(Problem pb, int to) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (String name : pb.params.keySet()) {
            double[] w = pb.start.get(name).clone();
            double[] m = new double[w.length];
            double[] v = new double[w.length];
            double lr = LRS[pb.groupOf.get(name)];
            boolean decays = pb.params.get(name).getArray().getShape().dimension() > 1;
            for (int t = 0; t < to; t++) {
                double mom = MOMS[t];
                double[] off = pb.offsets.get(t).get(name);
                double debias1 = 1 - Math.pow(mom, t + 1);
                double debias2 = 1 - Math.pow(BETA2, t + 1);
                for (int i = 0; i < w.length; i++) {
                    double g = off[i] + w[i];
                    if (decays) {
                        w[i] *= 1 - lr * WD;
                    }
                    m[i] = mom * m[i] + (1 - mom) * g;
                    v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
                    w[i] -= lr / debias1 * m[i] / (Math.sqrt(v[i] / debias2) + EPS);
                }
            }
            out.put(name, w);
        }
        return out;
    }

    private static void assertClose(Map<String, double[]> expected, Map<String, float[]> actual, String what) {
        for (Map.Entry<String, double[]> e : expected.entrySet()) {
            double[] x = e.getValue();
            float[] y = actual.get(e.getKey());
            for (int i = 0; i < x.length; i++) {
                assertEquals(x[i], y[i], 2e-6, what + ": " + e.getKey() + "[" + i + "]");
            }
        }
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static void matchesReference(boolean fused) {
        try (Problem pb = new Problem();
                AdamW opt = new AdamW(pb.groups(), pb.manager, 0.9, BETA2, EPS, WD, false, fused)) {
            assertEquals(fused, opt.isFused(), "libtorch 2.7 has the fused CPU kernel");
            for (int t = 0; t < MOMS.length; t++) {
                pb.step(opt, t);
                assertClose(
                        reference(pb, t + 1), pb.weights(), (fused ? "fused" : "per-parameter") + " step " + (t + 1));
            }
        }
    }

    @Test
    void fusedKernelFollowsFastaiAdam() {
        matchesReference(true);
    }

    @Test
    void perParameterKernelFollowsFastaiAdam() {
        matchesReference(false);
    }

    @Test
    void stateRestoredIntoANewOptimizerContinuesExactly() {
        Map<String, float[]> straight;
        try (Problem pb = new Problem();
                AdamW opt = new AdamW(pb.groups(), pb.manager)) {
            for (int t = 0; t < MOMS.length; t++) {
                pb.step(opt, t);
            }
            straight = pb.weights();
        }
        try (Problem pb = new Problem();
                NDManager saved = NDManager.newBaseManager()) {
            Map<String, NDArray> state = new LinkedHashMap<>();
            try (AdamW first = new AdamW(pb.groups(), pb.manager)) {
                for (int t = 0; t < 3; t++) {
                    pb.step(first, t);
                }
                first.stateDict(saved).forEach((k, v) -> {
                    NDArray copy = v.duplicate();
                    copy.attach(saved);
                    state.put(k, copy);
                });
            }
            assertEquals(3L, state.get("b.bias.step").toLongArray()[0]);
            try (AdamW second = new AdamW(pb.groups(), pb.manager)) {
                second.loadStateDict(state);
                for (int t = 3; t < MOMS.length; t++) {
                    pb.step(second, t);
                }
            }
            Map<String, float[]> resumed = pb.weights();
            straight.forEach((k, w) -> assertArrayEquals(w, resumed.get(k), 0f, k));
        }
    }

    @Test
    void resetStepsRestartsTheBiasCorrection() {
        try (Problem pb = new Problem();
                AdamW opt = new AdamW(pb.groups(), pb.manager)) {
            pb.step(opt, 0);
            // what lr_find does at its end: moments zeroed, step counts forgotten, weights back
            opt.resetState();
            pb.params.forEach((k, p) -> p.getArray().set(toFloats(pb.start.get(k))));
            pb.step(opt, 0);
            assertClose(reference(pb, 1), pb.weights(), "first step after the reset");
            assertFalse(
                    opt.stepCounts().values().stream().anyMatch(n -> n != 1L), "every parameter has taken one step");
            assertTrue(opt.isFused());
        }
    }
}
