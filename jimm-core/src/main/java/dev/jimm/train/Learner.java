package dev.jimm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.jimm.JimmException;
import dev.jimm.layers.Module;
import dev.jimm.layers.NoGrad;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;
import java.util.function.DoubleUnaryOperator;
import java.util.function.ObjIntConsumer;

/**
 * Trains a model the fastai way: {@link #fit}, {@link #fitOneCycle}, {@link #fineTune} with
 * frozen and unfrozen parameter groups and discriminative learning rates, {@link #lrFind},
 * {@link #validate}; callbacks for progress, logs, early stopping and checkpoints; exact resume.
 *
 * <p>Every batch runs in its own {@link NDScope}, so nothing a forward pass allocates outlives it.
 */
public class Learner implements AutoCloseable {
    private final Module model;
    private final DataLoaders dls;
    private final Loss lossFn;
    private final List<Metric> metrics;
    private final List<ParamGroup> groups;
    private final Set<String> normParams;
    private final Optimizer opt;
    private final List<Callback> callbacks = new ArrayList<>();
    private final Recorder recorder = new Recorder();
    private final NDManager manager;
    private final long seed;
    private final double clipGradNorm;
    private final Path runDir;

    // loop state, read by callbacks
    private int epoch;
    private int nEpoch;
    private long trainIter;
    private long totalIters;
    private double lastLoss = Double.NaN;
    private NDArray lastPrediction;
    private boolean training;
    private String stopReason;
    private boolean diverged;
    private final boolean closeModel;
    private boolean epochFinished;
    private FitPlan plan;
    private com.google.gson.JsonObject fineTune;

    /** The schedule of a fit, kept so that a checkpoint can resume it exactly. */
    public record FitPlan(String kind, int epochs, double[] lrMax, double div, double divFinal, double pctStart, double[] moms) {}

    Learner(Builder b) {
        this.model = b.model;
        this.dls = b.dls;
        this.lossFn = b.loss;
        this.metrics = List.copyOf(b.metrics);
        this.groups = b.groups == null ? List.of(new ParamGroup("all", model.namedParameters())) : List.copyOf(b.groups);
        this.normParams = b.normParams == null ? Set.of() : Set.copyOf(b.normParams);
        this.manager = model.getManager().newSubManager();
        this.opt = b.optimizer.apply(groups, manager);
        this.opt.hypers.forEach(h -> h.wd = b.wd);
        this.seed = b.seed;
        this.clipGradNorm = b.clipGradNorm;
        this.runDir = b.runDir;
        this.closeModel = b.closeModel;
        this.callbacks.add(new Callbacks.TerminateOnNaN());
        this.callbacks.addAll(b.callbacks);
    }

    /** A builder for a learner over {@code model} and {@code dls}. */
    public static Builder builder(Module model, DataLoaders dls) {
        return new Builder(model, dls);
    }

    // ---- training -----------------------------------------------------------------------------

    /** Trains at a constant learning rate per group (fastai's fit). */
    public void fit(int epochs, Lrs lr) {
        double[] lrs = lr.forGroups(groups.size());
        runFit(new FitPlan("fit", epochs, lrs, 1, 1, 0, new double[] {opt.hyper(0).mom, opt.hyper(0).mom, opt.hyper(0).mom}), 0);
    }

    public void fit(int epochs, double lr) {
        fit(epochs, Lrs.of(lr));
    }

    /** One-cycle training with fastai's defaults: div 25, final div 1e5, pct_start 0.25, moms 0.95–0.85–0.95. */
    public void fitOneCycle(int epochs, Lrs lrMax) {
        fitOneCycle(epochs, lrMax, 25, 1e5, 0.25);
    }

    public void fitOneCycle(int epochs, double lrMax) {
        fitOneCycle(epochs, Lrs.of(lrMax));
    }

    /** One-cycle training: cosine warm-up of the lr from lrMax/div, annealing to lrMax/divFinal. */
    public void fitOneCycle(int epochs, Lrs lrMax, double div, double divFinal, double pctStart) {
        runFit(new FitPlan("one_cycle", epochs, lrMax.forGroups(groups.size()), div, divFinal, pctStart,
                new double[] {0.95, 0.85, 0.95}), 0);
    }

    /**
     * fastai's fine_tune: train the head with the body frozen for {@code freezeEpochs} (one cycle,
     * pct_start 0.99), then unfreeze and train everything for {@code epochs} with discriminative
     * rates slice(baseLr/200, baseLr/2) (fastai's lr_mult 100), pct_start 0.3, div 5.
     */
    public void fineTune(int epochs, double baseLr, int freezeEpochs) {
        fineTune(epochs, baseLr, freezeEpochs, 100);
    }

    /**
     * As {@link #fineTune(int, double, int)} with fastai's {@code lr_mult}: the unfrozen phase spreads
     * its learning rates from {@code baseLr / 2 / lrMult} (the stem) to {@code baseLr / 2} (the head).
     * A smaller multiplier lets the body move further from its pretrained weights, which helps when
     * the new classes look unlike the ones it was trained on.
     */
    public void fineTune(int epochs, double baseLr, int freezeEpochs, double lrMult) {
        if (!(lrMult >= 1)) {
            throw new IllegalArgumentException("lr_mult must be at least 1, got " + lrMult);
        }
        fineTune = new com.google.gson.JsonObject();
        fineTune.addProperty("epochs", epochs);
        fineTune.addProperty("base_lr", baseLr);
        fineTune.addProperty("lr_mult", lrMult);
        fineTune.addProperty("freeze_epochs", freezeEpochs);
        try {
            if (freezeEpochs > 0) {
                fineTune.addProperty("phase", 0);
                freeze();
                fitOneCycle(freezeEpochs, Lrs.slice(baseLr), 25, 1e5, 0.99);
            }
            if (stopReason == null) {
                fineTuneUnfrozen(epochs, baseLr, lrMult);
            }
        } finally {
            fineTune = null;
        }
    }

    private void fineTuneUnfrozen(int epochs, double baseLr, double lrMult) {
        fineTune.addProperty("phase", 1);
        double lr = baseLr / 2;
        unfreeze();
        fitOneCycle(epochs, Lrs.slice(lr / lrMult, lr), 5, 1e5, 0.3);
    }

    /** The fine-tune in progress (for checkpoints), or null. */
    com.google.gson.JsonObject fineTuneState() {
        return fineTune;
    }

    private void runFit(FitPlan p, int startEpoch) {
        if (p.epochs() < 1) {
            throw new IllegalArgumentException("epochs must be at least 1, got " + p.epochs());
        }
        this.plan = p;
        this.nEpoch = p.epochs();
        this.stopReason = null;
        this.diverged = false;
        int nb = dls.train().numBatches();
        if (nb == 0) {
            throw new JimmException("the training set has fewer samples than one batch");
        }
        this.totalIters = (long) nb * nEpoch;
        this.trainIter = (long) nb * startEpoch;
        DoubleUnaryOperator[] lrSched = new DoubleUnaryOperator[p.lrMax().length];
        for (int g = 0; g < lrSched.length; g++) {
            lrSched[g] = p.kind().equals("one_cycle")
                    ? Schedules.oneCycleLr(p.lrMax()[g], p.div(), p.divFinal(), p.pctStart())
                    : Schedules.constant(p.lrMax()[g]);
        }
        DoubleUnaryOperator momSched = p.kind().equals("one_cycle")
                ? Schedules.oneCycleMom(p.pctStart(), p.moms())
                : Schedules.constant(p.moms()[0]);
        if (startEpoch == 0) {
            // fastai restarts the smoothed loss with every fit; a resumed fit continues the saved one
            recorder.resetSmoothing();
        }
        callbacks.forEach(c -> c.beforeFit(this));
        try {
            for (epoch = startEpoch; epoch < nEpoch && stopReason == null; epoch++) {
                long t0 = System.nanoTime();
                callbacks.forEach(c -> c.beforeEpoch(this));
                // dropout and augmentation randomness is a function of (seed, epoch): resumable
                Engine.getInstance().setRandomSeed((int) (seed * 1_000_003L + epoch));
                double trainLoss = trainEpoch(lrSched, momSched);
                if (stopReason != null && !epochFinished) {
                    // a stop inside the epoch (a NaN loss, a callback): the epoch is not recorded and no
                    // afterEpoch runs, so no checkpoint claims it and the last one stays the last good epoch
                    break;
                }
                Validation v = validate();
                recorder.recordEpoch(new Recorder.EpochRow(epoch, trainLoss, v.loss(), v.metrics(), (System.nanoTime() - t0) / 1e9,
                        recorder.smoothLoss()));
                callbacks.forEach(c -> c.afterEpoch(this));
            }
        } finally {
            callbacks.forEach(c -> c.afterFit(this));
        }
    }

    private double trainEpoch(DoubleUnaryOperator[] lrSched, DoubleUnaryOperator momSched) {
        model.train(true);
        training = true;
        double sum = 0;
        long n = 0;
        double[] lrs = new double[lrSched.length];
        int done = 0;
        epochFinished = false;
        Iterator<Batch> it = dls.train().batches(epoch, manager);
        try {
        while (it.hasNext() && stopReason == null) {
            double pos = (double) trainIter / totalIters;
            for (int g = 0; g < lrs.length; g++) {
                lrs[g] = lrSched[g].applyAsDouble(pos);
            }
            opt.setLrs(lrs);
            opt.setMom(momSched.applyAsDouble(pos));
            try (Batch b = it.next(); NDScope scope = new NDScope()) {
                scope.suppressNotUsedWarning();
                callbacks.forEach(c -> c.beforeBatch(this));
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray out = model.forward(b.x());
                    lastPrediction = out;
                    NDArray loss = lossFn.compute(out, b.y());
                    lastLoss = loss.getFloat();
                    callbacks.forEach(c -> c.afterLoss(this));
                    if (!Double.isFinite(lastLoss)) {
                        diverged = true;
                        requestStop(String.format(java.util.Locale.ROOT, "loss is %s at epoch %d, batch %d; stopped",
                                lastLoss, epoch + 1, trainIter % dls.train().numBatches() + 1));
                        opt.zeroGrad();
                        break;
                    }
                    callbacks.forEach(c -> c.beforeBackward(this));
                    gc.backward(loss);
                }
                callbacks.forEach(c -> c.afterBackward(this));
                if (clipGradNorm > 0) {
                    opt.clipGradNorm(clipGradNorm);
                }
                callbacks.forEach(c -> c.beforeStep(this));
                opt.step();
                callbacks.forEach(c -> c.afterStep(this));
                recorder.recordBatch(lrs[lrs.length - 1], opt.hyper(0).mom, lastLoss);
                sum += lastLoss * b.size();
                n += b.size();
                trainIter++;
                done++;
                callbacks.forEach(c -> c.afterBatch(this));
                lastPrediction = null;
            }
        }
        } finally {
            BatchSource.close(it);
        }
        epochFinished = done == dls.train().numBatches();
        training = false;
        model.eval();
        return n == 0 ? Double.NaN : sum / n;
    }

    /** Validation loss and metric values. */
    public record Validation(double loss, Map<String, Double> metrics) {}

    /** Runs the validation set in eval mode: mean loss and every metric. */
    public Validation validate() {
        return validate(false);
    }

    /**
     * As {@link #validate()}; with {@code flipTta} every image is scored by the mean of the
     * probabilities of it and its mirror image (left-right), timm's and fastai's cheapest
     * test-time augmentation. The loss is then the cross-entropy of those mean probabilities.
     */
    public Validation validate(boolean flipTta) {
        return score((x, batchIndex) -> {
            NDArray out = model.forward(x);
            if (!flipTta) {
                return out;
            }
            // log of the mean probability: log_softmax of it is itself, so loss and metrics take it as logits
            return out.softmax(1).add(model.forward(x.flip(3)).softmax(1)).div(2f).maximum(1e-30f).log();
        });
    }

    /**
     * fastai's {@code Learner.tta(n, beta)}: every validation image is scored by the mean probabilities of
     * {@code n} passes through the training transforms, blended with the plain pass as
     * {@code lerp(aug, plain, beta)} = (1 - beta) aug + beta plain. The loss is the cross-entropy of those
     * probabilities. Each pass draws its own augmentation, a function of the loader's seed and the pass.
     *
     * @throws IllegalStateException when the loaders have no augmented validation batches
     */
    public Validation tta(int n, double beta) {
        BatchSource augmented = dls.validAugmented();
        if (augmented == null) {
            throw new IllegalStateException("TTA needs the validation images through the training transforms: "
                    + "build the DataLoaders with validAugmented (ImageDataLoaders.of does)");
        }
        if (n < 1 || !(beta >= 0 && beta <= 1)) {
            throw new IllegalArgumentException("tta needs n >= 1 and beta in [0, 1], got n " + n + ", beta " + beta);
        }
        boolean wasTraining = model.isTraining();
        model.eval();
        List<float[]> sums = new ArrayList<>();
        for (int pass = 0; pass < n; pass++) {
            boolean first = pass == 0;
            eachBatch(augmented, TTA_EPOCH_BASE + pass, (batch, b) -> {
                float[] p = model.forward(batch.x()).softmax(1).toFloatArray();
                if (first) {
                    sums.add(p);
                } else {
                    float[] acc = sums.get(b);
                    for (int i = 0; i < p.length; i++) {
                        acc[i] += p[i];
                    }
                }
            });
        }
        model.train(wasTraining);
        float aw = (float) ((1 - beta) / n);
        return score((x, batchIndex) -> {
            NDArray plain = model.forward(x).softmax(1);
            NDArray aug = plain.getManager().create(sums.get(batchIndex), plain.getShape());
            return aug.mul(aw).add(plain.mul((float) beta)).maximum(1e-30f).log();
        });
    }

    /** The epoch numbers of TTA passes: far from any training epoch, so their draws differ from training's. */
    private static final int TTA_EPOCH_BASE = 1 << 20;

    /** Runs the validation set in eval mode, no grad: the mean loss and every metric of {@code outputs}. */
    private Validation score(BiFunction<NDArray, Integer, NDArray> outputs) {
        boolean wasTraining = model.isTraining();
        model.eval();
        metrics.forEach(Metric::reset);
        double[] sumAndCount = new double[2];
        eachBatch(dls.valid(), 0, (batch, b) -> {
            NDArray out = outputs.apply(batch.x(), b);
            sumAndCount[0] += lossFn.compute(out, batch.y()).getFloat() * batch.size();
            sumAndCount[1] += batch.size();
            for (Metric m : metrics) {
                m.accumulate(out, batch.y());
            }
        });
        model.train(wasTraining);
        Map<String, Double> values = new LinkedHashMap<>();
        metrics.forEach(m -> values.put(m.name(), m.value()));
        return new Validation(sumAndCount[1] == 0 ? Double.NaN : sumAndCount[0] / sumAndCount[1], values);
    }

    /**
     * Runs {@code fn} on each batch of {@code source}'s epoch {@code epoch} with its index, each in its own
     * native memory scope and without gradients; the loader is closed however the loop ends.
     */
    private void eachBatch(BatchSource source, int epoch, ObjIntConsumer<Batch> fn) {
        Iterator<Batch> it = source.batches(epoch, manager);
        try {
            for (int b = 0; it.hasNext(); b++) {
                try (Batch batch = it.next(); NDScope scope = new NDScope(); NoGrad g = NoGrad.enter()) {
                    scope.suppressNotUsedWarning();
                    fn.accept(batch, b);
                }
            }
        } finally {
            BatchSource.close(it);
        }
    }

    /** Runs {@code fn} on the model's outputs for every validation batch (eval mode, no grad). */
    public void forEachValidBatch(BiFunction<NDArray, Batch, Void> fn) {
        model.eval();
        eachBatch(dls.valid(), 0, (b, i) -> fn.apply(model.forward(b.x()), b));
    }

    // ---- freezing -----------------------------------------------------------------------------

    /** Freezes every group but the last (the head); norm layers stay trainable, as in fastai. */
    public void freeze() {
        freezeTo(-1);
    }

    /** Makes every parameter trainable. */
    public void unfreeze() {
        freezeTo(0);
    }

    /**
     * Freezes the groups before index {@code n} (negative counts from the end) and unfreezes the
     * rest; parameters of normalization layers stay trainable (fastai's train_bn).
     */
    public void freezeTo(int n) {
        int k = n < 0 ? groups.size() + n : n;
        if (k < 0 || k > groups.size()) {
            throw new IllegalArgumentException("freezeTo(" + n + ") with " + groups.size() + " parameter groups");
        }
        for (int g = 0; g < groups.size(); g++) {
            for (Map.Entry<String, Parameter> e : groups.get(g).params().entrySet()) {
                boolean frozen = g < k && !normParams.contains(e.getKey());
                e.getValue().freeze(frozen);
            }
        }
    }

    // ---- lr finder ----------------------------------------------------------------------------

    /** fastai's lr_find with its defaults (1e-7 to 10 over 100 iterations, stop on divergence). */
    public LrFinder.Result lrFind() {
        return lrFind(1e-7, 10, 100);
    }

    /**
     * Trains for up to {@code numIt} batches with an exponentially growing learning rate, recording
     * the smoothed loss; stops when it exceeds 4× the best. The model and optimizer are restored
     * afterwards.
     */
    public LrFinder.Result lrFind(double startLr, double endLr, int numIt) {
        Map<String, NDArray> saved = new LinkedHashMap<>();
        try (NDManager snapshot = manager.newSubManager()) {
            model.stateDict().forEach((k, v) -> {
                NDArray copy = v.duplicate();
                copy.attach(snapshot);
                saved.put(k, copy);
            });
            List<Double> lrs = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            Recorder local = new Recorder();
            double best = Double.POSITIVE_INFINITY;
            model.train(true);
            // the sweep's dropout draws from the engine's generator: seed it, else the sweep depends on what ran before
            Engine.getInstance().setRandomSeed((int) (seed * 1_000_003L - 1));
            int it = 0;
            int ep = 0;
            outer:
            while (it < numIt) {
                Iterator<Batch> batches = dls.train().batches(ep++, manager);
                if (!batches.hasNext()) {
                    break;
                }
                try {
                while (batches.hasNext() && it < numIt) {
                    double lr = startLr * Math.pow(endLr / startLr, (double) it / numIt);
                    double[] all = new double[groups.size()];
                    java.util.Arrays.fill(all, lr);
                    opt.setLrs(all);
                    double loss;
                    try (Batch b = batches.next(); NDScope scope = new NDScope()) {
                        scope.suppressNotUsedWarning();
                        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                            NDArray l = lossFn.compute(model.forward(b.x()), b.y());
                            loss = l.getFloat();
                            if (Double.isFinite(loss)) {
                                gc.backward(l);
                            }
                        }
                        if (Double.isFinite(loss)) {
                            opt.step();
                        } else {
                            opt.zeroGrad();
                        }
                    }
                    it++;
                    if (!Double.isFinite(loss)) {
                        break outer;
                    }
                    double smooth = local.recordBatch(lr, 0, loss);
                    lrs.add(lr);
                    losses.add(smooth);
                    best = Math.min(best, smooth);
                    if (smooth > 4 * best) {
                        break outer;
                    }
                }
                } finally {
                    BatchSource.close(batches);
                }
            }
            model.loadStateDict(saved, true);
            model.eval();
            resetOptimizerState();
            return LrFinder.Result.of(lrs, losses, numIt);
        }
    }

    private void resetOptimizerState() {
        Map<String, NDArray> state = opt.state();
        // set, not multiplied by 0: a diverging sweep can leave inf in Adam's second moment, and inf * 0 is NaN
        state.values().forEach(a -> a.set(new ai.djl.ndarray.index.NDIndex("..."), 0));
        opt.stepCount = 0;
        if (opt instanceof AdamW a) {
            a.resetSteps();
        }
    }

    // ---- checkpoints --------------------------------------------------------------------------

    /** Writes model, optimizer, schedule position, epoch and history to {@code file}, atomically. */
    public void saveCheckpoint(Path file) {
        Checkpoint.save(this, file);
    }

    /** Restores a checkpoint and finishes the fit it was taken in, exactly where it stopped. */
    public void resume(Path file) {
        Checkpoint.State s = Checkpoint.load(this, file);
        fineTune = s.fineTune();
        // a checkpoint of a finished fit resumes to nothing, but its plan still says how it was trained
        plan = s.plan();
        recorder.resetSmoothing();
        if (s.smoothing() != null) {
            recorder.restoreSmoothing(s.smoothing());
        }
        try {
            if (s.epochsDone() < s.plan().epochs()) {
                runFit(s.plan(), s.epochsDone());
            }
            if (fineTune != null && fineTune.get("phase").getAsInt() == 0 && stopReason == null) {
                fineTuneUnfrozen(fineTune.get("epochs").getAsInt(), fineTune.get("base_lr").getAsDouble(),
                        fineTune.has("lr_mult") ? fineTune.get("lr_mult").getAsDouble() : 100);
            }
        } finally {
            fineTune = null;
        }
    }

    // ---- accessors for callbacks and tools ----------------------------------------------------

    public Module model() {
        return model;
    }

    public DataLoaders dls() {
        return dls;
    }

    public Optimizer optimizer() {
        return opt;
    }

    public List<ParamGroup> paramGroups() {
        return groups;
    }

    public Recorder recorder() {
        return recorder;
    }

    public List<Metric> metrics() {
        return metrics;
    }

    public Loss loss() {
        return lossFn;
    }

    /** The current epoch, from 0. */
    public int epoch() {
        return epoch;
    }

    /** Epochs of the current fit. */
    public int nEpoch() {
        return nEpoch;
    }

    /** Training batches done in this fit, and their total. */
    public long trainIter() {
        return trainIter;
    }

    public long totalIters() {
        return totalIters;
    }

    public double lastLoss() {
        return lastLoss;
    }

    /** The model's output for the current training batch (valid inside batch callbacks only). */
    public NDArray lastPrediction() {
        return lastPrediction;
    }

    public boolean isTraining() {
        return training;
    }

    public long seed() {
        return seed;
    }

    public Path runDir() {
        return runDir;
    }

    public FitPlan plan() {
        return plan;
    }

    /** True when the last fit stopped on a NaN or infinite loss. */
    public boolean diverged() {
        return diverged;
    }

    /** Stops the fit after the current batch; the reason is kept in {@link #stopReason()}. */
    public void requestStop(String reason) {
        if (stopReason == null) {
            stopReason = reason;
        }
    }

    /** Why the last fit stopped early, or null. */
    public String stopReason() {
        return stopReason;
    }

    public List<Callback> callbacks() {
        return callbacks;
    }

    public void addCallback(Callback cb) {
        callbacks.add(cb);
    }

    @Override
    public void close() {
        opt.close();
        manager.close();
        if (closeModel && model instanceof AutoCloseable c) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing the learner's model failed: " + e.getMessage(), e);
            }
        }
    }

    /** Builds a {@link Learner}. */
    public static final class Builder {
        private boolean closeModel;
        private final Module model;
        private final DataLoaders dls;
        private Loss loss = Loss.crossEntropy();
        private List<Metric> metrics = List.of(Metric.accuracy());
        private List<ParamGroup> groups;
        private Set<String> normParams;
        private BiFunction<List<ParamGroup>, NDManager, Optimizer> optimizer = AdamW::new;
        private double wd = 0.01;
        private final List<Callback> callbacks = new ArrayList<>();
        private long seed;
        private double clipGradNorm;
        private Path runDir;

        Builder(Module model, DataLoaders dls) {
            if (model.getManager() == null) {
                throw new IllegalArgumentException("the model has no arrays yet: create it with Models.createModel");
            }
            this.model = model;
            this.dls = dls;
        }

        public Builder loss(Loss value) {
            loss = value;
            return this;
        }

        public Builder metrics(Metric... values) {
            metrics = List.of(values);
            return this;
        }

        /** Parameter groups for freezing and discriminative rates (default: one group). */
        public Builder paramGroups(List<ParamGroup> value, Set<String> normParamNames) {
            groups = value;
            normParams = normParamNames;
            return this;
        }

        /** The optimizer factory (default AdamW with fastai's defaults). */
        public Builder optimizer(BiFunction<List<ParamGroup>, NDManager, Optimizer> value) {
            optimizer = value;
            return this;
        }

        /** Decoupled weight decay (default 0.01; not applied to norms and biases). */
        public Builder weightDecay(double value) {
            wd = value;
            return this;
        }

        public Builder callbacks(Callback... values) {
            callbacks.addAll(List.of(values));
            return this;
        }

        /** Seed of dropout and augmentation randomness (data order is the loader's seed). */
        public Builder seed(long value) {
            seed = value;
            return this;
        }

        /** Clip the global gradient norm to this value (0: off). */
        public Builder clipGradNorm(double value) {
            clipGradNorm = value;
            return this;
        }

        /** Folder for checkpoints and logs. */
        /** The learner closes the model with itself (for a model it was built with and nobody else holds). */
        public Builder closeModel(boolean value) {
            closeModel = value;
            return this;
        }

        public Builder runDir(Path value) {
            runDir = value;
            return this;
        }

        public Learner build() {
            return new Learner(this);
        }
    }
}
