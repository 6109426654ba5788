package dev.jimm.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.jimm.data.Batch;
import dev.jimm.data.BatchSource;
import dev.jimm.data.DataLoaders;
import dev.jimm.models.ImageModel;
import dev.jimm.models.InferenceModel;
import dev.jimm.models.ModelOptions;
import dev.jimm.models.Models;
import dev.jimm.train.Callback;
import dev.jimm.train.Learner;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Random;

/**
 * The jimm side of {@code jimm bench} for one model, on one pre-made random batch (so that no loader time is in the
 * figures):
 *
 * <ul>
 *   <li>train: {@link Learner#fit} over that batch repeated, i.e. the Learner's own step (forward, cross-entropy,
 *       backward, the fused AdamW step, callbacks, per-batch NDScope);
 *   <li>bare: the same model driven by a minimal DJL loop — a GradientCollector, DJL's SoftmaxCrossEntropyLoss and
 *       DJL's own Adam optimizer, one NDScope per step — which is what jimm's Learner, loss and optimizer add on top of
 *       DJL;
 *   <li>infer: the BatchNorm-folded copy that predict and export run ({@link ImageModel#optimizeForInference}), grad
 *       off, the batch; latency: the same at batch 1, median over calls.
 * </ul>
 */
public final class ModelBench {
    private ModelBench() {}

    /**
     * The jimm figures of one model.
     *
     * @param params parameter count
     * @param forwardMacs forward MACs per image
     * @param trainImgS Learner training images/s (NaN when not measured)
     * @param bareImgS bare DJL loop images/s
     * @param inferImgS inference images/s at the batch size
     * @param latencyMs median batch-1 latency
     * @param peakRssBytes peak resident memory while this model ran (VmHWM)
     * @param nativeBytes that peak minus the committed JVM heap: libtorch's tensors and the JVM's own native memory
     * @param trainPhases mean ms per timed Learner step in forward+loss, backward, step and other (empty when not
     *     measured)
     * @param barePhases the same for the bare loop
     */
    public record Result(
            String model,
            long params,
            long forwardMacs,
            double trainImgS,
            double bareImgS,
            double inferImgS,
            double latencyMs,
            long peakRssBytes,
            long nativeBytes,
            Phases trainPhases,
            Phases barePhases) {}

    /**
     * Where a training step's time goes, mean ms per timed step.
     *
     * @param forward forward pass and loss, up to the loss value on the host
     * @param backward autograd's backward
     * @param step the optimizer over every parameter
     * @param other the rest: callbacks, the per-step scope's release, the next batch
     */
    public record Phases(double forward, double backward, double step, double other) {
        public double total() {
            return forward + backward + step + other;
        }
    }

    /** Accumulates phase times of timed steps. */
    private static final class PhaseTimer {
        private final int warmup;
        private int k = -1;
        private long start;
        private long mark;
        private long lastEnd;
        private final long[] sums = new long[4];
        private int steps;

        PhaseTimer(int warmup) {
            this.warmup = warmup;
        }

        void begin(long now) {
            if (k >= warmup) {
                sums[3] += now - lastEnd;
            }
            k++;
            start = now;
            mark = now;
        }

        void phase(int i, long now) {
            if (k >= warmup) {
                sums[i] += now - mark;
            }
            mark = now;
        }

        void end(long now) {
            if (k >= warmup) {
                sums[3] += now - mark;
                steps++;
            }
            lastEnd = now;
        }

        Phases phases() {
            double n = Math.max(1, steps) * 1e6;
            return new Phases(sums[0] / n, sums[1] / n, sums[2] / n, sums[3] / n);
        }
    }

    /** Measures {@code name} as {@code o} asks; libtorch's thread count must be set by the caller. */
    public static Result run(String name, BenchOptions o) {
        SystemInfo.resetPeakRss();
        try (ImageModel model = Models.createModel(
                        name, ModelOptions.builder().numClasses(o.numClasses()).build());
                NDManager data = model.getManager().newSubManager()) {
            long macs = FlopCounter.forwardMacs(model, new Shape(1, model.inChans(), o.imgSize(), o.imgSize()));
            Random r = new Random(0);
            float[] xs = new float[o.batchSize() * model.inChans() * o.imgSize() * o.imgSize()];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) r.nextGaussian();
            }
            long[] ys = new long[o.batchSize()];
            for (int i = 0; i < ys.length; i++) {
                ys[i] = r.nextInt(o.numClasses());
            }
            NDArray x = data.create(xs, new Shape(o.batchSize(), model.inChans(), o.imgSize(), o.imgSize()));
            NDArray y = data.create(ys);
            Train train = new Train(Double.NaN, null);
            Train bare = new Train(Double.NaN, null);
            double infer = Double.NaN;
            double latency = Double.NaN;
            if (o.modes().contains("train")) {
                train = learnerTrain(model, x, y, o.warmup(), o.iters(), o.numClasses());
            }
            if (o.modes().contains("bare")) {
                bare = bareTrain(model, x, y, o.warmup(), o.iters());
            }
            if (o.modes().contains("infer") || o.modes().contains("latency")) {
                // what predict and export run: a BatchNorm-folded copy
                try (InferenceModel fast = model.optimizeForInference()) {
                    if (o.modes().contains("infer")) {
                        infer = inferThroughput(fast, x, o.warmup(), o.iters());
                    }
                    if (o.modes().contains("latency")) {
                        try (NDArray x1 = x.get("0:1")) {
                            latency = latencyMs(fast, x1, o.warmup(), o.latencyIters());
                        }
                    }
                }
            }
            long peak = SystemInfo.peakRssBytes();
            return new Result(
                    name,
                    model.numParameters(),
                    macs,
                    train.imgS(),
                    bare.imgS(),
                    infer,
                    latency,
                    peak,
                    Math.max(0, peak - SystemInfo.heapCommittedBytes()),
                    train.phases(),
                    bare.phases());
        }
    }

    /** Images/s and the per-phase profile of a training loop. */
    record Train(double imgS, Phases phases) {}

    /** Training images/s through {@link Learner#fit} on {@code x, y} repeated warmup + iters times. */
    static Train learnerTrain(ImageModel model, NDArray x, NDArray y, int warmup, int iters, int numClasses) {
        int steps = warmup + iters;
        long[] marks = new long[steps + 1];
        PhaseTimer pt = new PhaseTimer(warmup);
        Callback timer = new Callback() {
            private int k;

            @Override
            public void beforeBatch(Learner l) {
                long now = System.nanoTime();
                marks[k++] = now;
                pt.begin(now);
            }

            @Override
            public void afterLoss(Learner l) {
                pt.phase(0, System.nanoTime());
            }

            @Override
            public void afterBackward(Learner l) {
                pt.phase(1, System.nanoTime());
            }

            @Override
            public void afterStep(Learner l) {
                pt.phase(2, System.nanoTime());
            }

            @Override
            public void afterEpoch(Learner l) {
                long now = System.nanoTime();
                marks[steps] = now;
                pt.end(now);
            }

            @Override
            public void afterBatch(Learner l) {
                if (k < steps) {
                    pt.end(System.nanoTime());
                }
            }
        };
        List<String> classes = new ArrayList<>();
        for (int i = 0; i < numClasses; i++) {
            classes.add("c" + i);
        }
        DataLoaders dls = new DataLoaders(new Repeated(x, y, steps), new Repeated(x, y, 0), classes);
        try (Learner learner = Learner.builder(model, dls).callbacks(timer).build()) {
            learner.fit(1, 1e-3);
        }
        model.eval();
        return new Train(iters * x.getShape().get(0) / ((marks[steps] - marks[warmup]) / 1e9), pt.phases());
    }

    /** Training images/s of a minimal DJL loop over the same model (see the class comment). */
    static Train bareTrain(ImageModel model, NDArray x, NDArray y, int warmup, int iters) {
        Optimizer adam = Optimizer.adam()
                .optLearningRateTracker(Tracker.fixed(1e-3f))
                .optBeta2(0.99f)
                .optEpsilon(1e-5f)
                .optWeightDecays(0.01f)
                .build();
        Loss loss = Loss.softmaxCrossEntropyLoss();
        List<Parameter> params = new ArrayList<>(model.namedParameters().values());
        model.train(true);
        NDList labels = new NDList(y);
        int first = Math.max(warmup, 1);
        PhaseTimer pt = new PhaseTimer(first);
        long t0 = 0;
        try {
            // the first step creates Adam's state arrays, which must outlive a step's scope: its
            // update runs outside the scope, its activations inside (else they stay for the model's
            // whole bench, 4.5 GB for resnet50 at batch 32)
            pt.begin(System.nanoTime());
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                bareForwardBackward(model, x, labels, loss, pt);
            }
            bareUpdate(adam, params, pt);
            pt.end(System.nanoTime());
            for (int i = 1; i < first + iters; i++) {
                long now = System.nanoTime();
                if (i == first) {
                    t0 = now;
                }
                pt.begin(now);
                try (NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    bareStep(model, x, labels, loss, adam, params, pt);
                }
                pt.end(System.nanoTime());
            }
        } finally {
            model.eval();
        }
        return new Train(iters * x.getShape().get(0) / ((System.nanoTime() - t0) / 1e9), pt.phases());
    }

    private static void bareStep(
            ImageModel model,
            NDArray x,
            NDList labels,
            Loss loss,
            Optimizer adam,
            List<Parameter> params,
            PhaseTimer pt) {
        bareForwardBackward(model, x, labels, loss, pt);
        bareUpdate(adam, params, pt);
    }

    private static void bareForwardBackward(ImageModel model, NDArray x, NDList labels, Loss loss, PhaseTimer pt) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray l = loss.evaluate(labels, new NDList(model.forward(x)));
            l.getFloat();
            pt.phase(0, System.nanoTime());
            gc.backward(l);
        }
        pt.phase(1, System.nanoTime());
    }

    private static void bareUpdate(Optimizer adam, List<Parameter> params, PhaseTimer pt) {
        for (Parameter p : params) {
            NDArray w = p.getArray();
            try (NDArray g = w.getGradient()) {
                adam.update(p.getId(), w, g);
            }
        }
        pt.phase(2, System.nanoTime());
    }

    /** Images/s of the inference model (eval mode, autograd off) on the batch. */
    static double inferThroughput(InferenceModel model, NDArray x, int warmup, int iters) {
        long t0 = System.nanoTime();
        for (int i = 0; i < warmup + iters; i++) {
            if (i == warmup) {
                t0 = System.nanoTime();
            }
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                model.forward(x);
            }
        }
        return iters * x.getShape().get(0) / ((System.nanoTime() - t0) / 1e9);
    }

    /** Median ms of a batch-1 forward of the inference model. */
    static double latencyMs(InferenceModel model, NDArray x1, int warmup, int iters) {
        double[] ms = new double[iters];
        for (int i = 0; i < warmup + iters; i++) {
            long t0 = System.nanoTime();
            try (NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                model.forward(x1);
            }
            if (i >= warmup) {
                ms[i - warmup] = (System.nanoTime() - t0) / 1e6;
            }
        }
        Arrays.sort(ms);
        return iters % 2 == 1 ? ms[iters / 2] : (ms[iters / 2 - 1] + ms[iters / 2]) / 2;
    }

    /** The same pre-made batch, {@code n} times per epoch; closing a batch leaves the arrays alive. */
    private record Repeated(NDArray x, NDArray y, int n) implements BatchSource {
        @Override
        public int numBatches() {
            return n;
        }

        @Override
        public int numSamples() {
            return n * (int) x.getShape().get(0);
        }

        @Override
        public Iterator<Batch> batches(int epoch, NDManager parent) {
            return new Iterator<>() {
                private int i;

                @Override
                public boolean hasNext() {
                    return i < n;
                }

                @Override
                public Batch next() {
                    if (i++ >= n) {
                        throw new NoSuchElementException();
                    }
                    return Batch.of(x, y, parent.newSubManager());
                }
            };
        }
    }
}
