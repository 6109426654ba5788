package dev.jimm.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonObject;
import com.google.gson.annotations.SerializedName;
import dev.jimm.JimmException;
import dev.jimm.StopRequest;
import dev.jimm.StoppedException;
import dev.jimm.data.Batch;
import dev.jimm.data.BatchSource;
import dev.jimm.data.DataLoaders;
import dev.jimm.data.Seeds;
import dev.jimm.layers.Module;
import dev.jimm.layers.NoGrad;
import dev.jimm.layers.OwnedArrays;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;

/**
 * Trains a model the fastai way: {@link #fit}, {@link #fitOneCycle}, {@link #fineTune} with frozen and unfrozen
 * parameter groups and discriminative learning rates, {@link #lrFind}, {@link #validate}; callbacks for progress, logs,
 * early stopping and checkpoints; exact resume.
 *
 * <p>One loop does it all, as fastai's: every fit, {@link #lrFind} included, runs epochs of one batch step (forward,
 * loss, backward, step) with callbacks around each event; the schedule is a {@link ParamScheduler} and lr_find an
 * {@link LrFinder} among them. Validation and prediction run the same step without gradients. Every batch runs in its
 * own {@link NDScope}, so nothing a forward pass allocates outlives it.
 *
 * <p>Before every batch the loop checks its {@link StopRequest} (by default the process-wide one that the {@code jimm}
 * command's SIGTERM and SIGINT handlers set): a fit then ends between two batches with {@link #interrupted()} true,
 * after its callbacks' {@code afterFit} ({@link Callbacks.SaveModel} writes the checkpoint there, in the middle of the
 * epoch if need be, and {@link #resume} continues from that batch); an evaluation or {@link #lrFind} throws a
 * {@link StoppedException}.
 *
 * <pre>{@code
 * try (Learner learn = VisionLearner.fromFolder(Path.of("pets"), "resnet18")) {   // or Learner.builder(model, dls)
 *     LrFinder.Result found = learn.lrFind();
 *     learn.fitOneCycle(5, found.valley());
 *     System.out.println(learn.validate().metrics());           // {accuracy=..., error_rate=...}
 *     learn.export(Path.of("pets.safetensors"));                 // ImageClassifier.load reads it
 * }
 * }</pre>
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
    private final int validateEvery;
    private final Path runDir;
    private final StopRequest stop;

    // loop state, read by callbacks
    private int epoch;
    private int nEpoch;
    private long trainIter;
    private long totalIters;
    // planned training batches the loader passed over (all their images skipped) in the fit's ended epochs, and so far
    // in this one: the schedule's total counts only the batches that run
    private long passedOverBefore;
    private int passedOverInEpoch;
    private double lastLoss = Double.NaN;
    private NDArray lastPrediction;
    private Batch batch;
    // what the training batch's forward pass takes: the batch's images, unless a callback replaced them
    private NDArray inputs;
    private boolean training;
    private String stopReason;
    private boolean diverged;
    private StoppedException interruption;
    private Position position = new Position();
    private final boolean closeModel;
    private final Exporter exporter;
    private final List<AutoCloseable> owned;
    private FitPlan plan;
    private JsonObject fineTune;

    /** How a fit schedules its learning rate and momentum (the name is the one its checkpoint stores). */
    public enum FitKind {
        /** fastai's fit: constant rates and momentum. */
        @SerializedName("fit")
        FIT,
        /** fastai's fit_one_cycle: cosine warm-up and annealing of the rate, momentum down and back up. */
        @SerializedName("one_cycle")
        ONE_CYCLE,
        /** fastai's fit_flat_cos: constant rates, then cosine annealing; constant momentum. */
        @SerializedName("flat_cos")
        FLAT_COS
    }

    /**
     * Where a fit is, as a checkpoint records it: the epochs ended (validated and recorded), the training batches done
     * in the epoch after them, and the sum (each loss times its batch size) and sample count of those batches' losses,
     * the epoch's train_loss so far.
     */
    private static final class Position {
        int epochsDone;
        int batchesDone;
        double lossSum;
        long lossCount;
    }

    /** The schedule of a fit, kept so that a checkpoint can resume it exactly. */
    public record FitPlan(
            FitKind kind, int epochs, double[] lrMax, double div, double divFinal, double pctStart, double[] moms) {}

    Learner(Builder b) {
        this.model = b.model;
        this.dls = b.dls;
        this.lossFn = b.loss;
        this.metrics = List.copyOf(b.metrics);
        this.groups =
                b.groups == null ? List.of(new ParamGroup("all", model.namedParameters())) : List.copyOf(b.groups);
        this.normParams = b.normParams == null ? Set.of() : Set.copyOf(b.normParams);
        this.manager = model.getManager().newSubManager();
        this.opt = b.optimizer.apply(groups, manager);
        this.opt.hypers.forEach(h -> h.wd = b.wd);
        this.seed = b.seed;
        this.clipGradNorm = b.clipGradNorm;
        this.validateEvery = b.validateEvery;
        this.runDir = b.runDir;
        this.stop = b.stop;
        this.closeModel = b.closeModel;
        this.exporter = b.exporter;
        this.owned = List.copyOf(b.owned);
        this.callbacks.addAll(b.callbacks);
    }

    /** A builder for a learner over {@code model} and {@code dls}. */
    public static Builder builder(Module model, DataLoaders dls) {
        return new Builder(model, dls);
    }

    // ---- training -----------------------------------------------------------------------------

    /** Trains at a constant learning rate per group (fastai's fit). */
    public void fit(int epochs, Lrs lr) {
        runFit(new FitPlan(FitKind.FIT, epochs, lr.forGroups(groups.size()), 1, 1, 0, currentMoms()), 0, 0);
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
        runFit(
                new FitPlan(
                        FitKind.ONE_CYCLE,
                        epochs,
                        lrMax.forGroups(groups.size()),
                        div,
                        divFinal,
                        pctStart,
                        new double[] {0.95, 0.85, 0.95}),
                0,
                0);
    }

    /** fastai's fit_flat_cos with its defaults: the rate stays flat for 75% of training, then anneals to lr/1e5. */
    public void fitFlatCos(int epochs, Lrs lr) {
        fitFlatCos(epochs, lr, 1e5, 0.75);
    }

    /** fastai's fit_flat_cos: constant rates for {@code pctStart} of training, then cosine annealing to lr/divFinal. */
    public void fitFlatCos(int epochs, Lrs lr, double divFinal, double pctStart) {
        runFit(
                new FitPlan(
                        FitKind.FLAT_COS, epochs, lr.forGroups(groups.size()), 1, divFinal, pctStart, currentMoms()),
                0,
                0);
    }

    /** The optimizer's momentum now, as a plan's three momentums (a schedule that keeps it). */
    private double[] currentMoms() {
        double mom = opt.hyper(0).mom;
        return new double[] {mom, mom, mom};
    }

    /** fastai's {@code fine_tune(epochs)}: base_lr 2e-3, one frozen epoch first. */
    public void fineTune(int epochs) {
        fineTune(epochs, 2e-3, 1);
    }

    /**
     * fastai's fine_tune: train the head with the body frozen for {@code freezeEpochs} (one cycle, pct_start 0.99),
     * then unfreeze and train everything for {@code epochs} with discriminative rates slice(baseLr/200, baseLr/2)
     * (fastai's lr_mult 100), pct_start 0.3, div 5.
     */
    public void fineTune(int epochs, double baseLr, int freezeEpochs) {
        fineTune(epochs, baseLr, freezeEpochs, 100);
    }

    /**
     * As {@link #fineTune(int, double, int)} with fastai's {@code lr_mult}: the unfrozen phase spreads its learning
     * rates from {@code baseLr / 2 / lrMult} (the stem) to {@code baseLr / 2} (the head). A smaller multiplier lets the
     * body move further from its pretrained weights, which helps when the new classes look unlike the ones it was
     * trained on.
     */
    public void fineTune(int epochs, double baseLr, int freezeEpochs, double lrMult) {
        if (!(lrMult >= 1)) {
            throw new IllegalArgumentException("lr_mult must be at least 1, got " + lrMult);
        }
        fineTune = new JsonObject();
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
    JsonObject fineTuneState() {
        return fineTune;
    }

    /**
     * Runs (or, from batch {@code startBatch} of epoch {@code startEpoch}, resumes) a planned fit: its schedule, its
     * records, the user's callbacks.
     */
    private void runFit(FitPlan p, int startEpoch, int startBatch) {
        if (p.epochs() < 1) {
            throw new IllegalArgumentException("epochs must be at least 1, got " + p.epochs());
        }
        this.plan = p;
        if (startEpoch == 0 && startBatch == 0) {
            // fastai restarts the smoothed loss with every fit; a resumed fit continues the saved one
            recorder.resetSmoothing();
        }
        List<Callback> cbs = new ArrayList<>(List.of(ParamScheduler.of(p), new FitRecorder()));
        cbs.addAll(callbacks);
        fitLoop(startEpoch, startBatch, p.epochs(), cbs);
    }

    /**
     * fastai's fit: epochs of training batches, each ended by the callbacks' afterEpoch, until the epochs are done or a
     * stop is requested. An epoch stopped inside is not ended: no afterEpoch runs for it (so no log claims it). A
     * {@link StoppedException} before a batch or in the epoch's validation (the {@link StopRequest}, or a callback's)
     * ends the fit the same way, with {@link #interrupted()} true; afterFit runs in every case. The callbacks are the
     * whole fit's: a plan's schedule and records, or {@link LrFinder}'s sweep. A resumed fit starts at batch
     * {@code startBatch} of epoch {@code startEpoch}.
     */
    private void fitLoop(int startEpoch, int startBatch, int epochs, List<Callback> cbs) {
        int nb = dls.train().numBatches();
        if (nb == 0) {
            throw new JimmException("the training set has fewer samples than one batch");
        }
        if (startBatch > nb) {
            throw new JimmException("the checkpoint is at batch " + startBatch + " of epoch " + (startEpoch + 1)
                    + ", but an epoch of this training set has " + nb + " batches (other data or batch size?)");
        }
        this.nEpoch = epochs;
        this.stopReason = null;
        this.diverged = false;
        this.interruption = null;
        this.totalIters = (long) nb * nEpoch;
        this.trainIter = (long) nb * startEpoch + startBatch;
        this.passedOverBefore = 0;
        event(cbs, Callback::beforeFit);
        try {
            for (epoch = startEpoch; epoch < nEpoch && stopReason == null; epoch++) {
                int from = epoch == startEpoch ? startBatch : 0;
                position.epochsDone = epoch;
                position.batchesDone = from;
                if (from == 0) {
                    position.lossSum = 0;
                    position.lossCount = 0;
                }
                event(cbs, Callback::beforeEpoch);
                boolean finished = trainEpoch(cbs, from);
                if (stopReason != null && !finished) {
                    break;
                }
                event(cbs, Callback::afterEpoch);
            }
        } catch (StoppedException e) {
            interruption = e;
            requestStop(e.getMessage());
        } finally {
            event(cbs, Callback::afterFit);
        }
    }

    /** Trains one epoch's batches from batch {@code from}; true when all of them were done. */
    private boolean trainEpoch(List<Callback> cbs, int from) {
        model.train(true);
        training = true;
        passedOverInEpoch = 0;
        int done;
        try {
            done = allBatches(dls.train(), epoch, new Step(cbs, (x, i) -> model.forward(x), true, null), from);
        } finally {
            training = false;
            model.eval();
        }
        passedOverBefore += passedOverInEpoch;
        return from + done + passedOverInEpoch == dls.train().numBatches();
    }

    /** What {@link #oneBatch} does after the forward pass when it evaluates: the batch, its index, outputs, loss. */
    @FunctionalInterface
    private interface EvalSink {
        void accept(Batch batch, int index, NDArray outputs, NDArray loss);
    }

    /**
     * How {@link #oneBatch} treats a batch: the callbacks of its events, the forward pass (of the inputs and the
     * batch's index), whether the loss is wanted, and for an evaluation (no gradients, no step) where the outputs go; a
     * null sink means training.
     */
    private record Step(
            List<Callback> callbacks, BiFunction<NDArray, Integer, NDArray> forward, boolean withLoss, EvalSink sink) {
        static Step eval(BiFunction<NDArray, Integer, NDArray> forward, boolean withLoss, EvalSink sink) {
            return new Step(List.of(), forward, withLoss, sink);
        }

        boolean train() {
            return sink == null;
        }
    }

    /** {@link #allBatches(BatchSource, int, Step, int)} from the first batch. */
    private int allBatches(BatchSource source, int ep, Step step) {
        return allBatches(source, ep, step, 0);
    }

    /**
     * Runs the batches of {@code source}'s epoch {@code ep} from batch {@code from} (a resumed epoch passes over the
     * ones done before) through {@link #oneBatch}, each in its own native memory scope; training stops at a requested
     * stop, evaluation runs every batch. Before each batch the {@link StopRequest} is checked: a
     * {@link StoppedException} ends any loop there. The loader is closed however the loop ends. Returns the batches
     * done.
     */
    private int allBatches(BatchSource source, int ep, Step step, int from) {
        int total = source.numBatches();
        if (from > 0 && from >= total) {
            return 0;
        }
        Iterator<Batch> it = source.batches(ep, manager);
        int done = 0;
        try {
            int index = 0;
            // batch order and augmentation are functions of (seed, epoch, batch): the skipped ones are those done
            for (; index < from && it.hasNext(); index++) {
                it.next().close();
            }
            for (; it.hasNext() && !(step.train() && stopReason != null); index++) {
                stop.throwIfRequested("stopped before " + (step.train() ? "training" : "evaluation") + " batch "
                        + (index + 1) + " of " + total);
                try (Batch b = it.next();
                        NDScope scope = new NDScope()) {
                    scope.suppressNotUsedWarning();
                    if (step.train()) {
                        countPassedOver(it);
                    }
                    if (oneBatch(b, index, step)) {
                        done++;
                    }
                }
            }
        } finally {
            BatchSource.close(it);
        }
        return done;
    }

    /**
     * Looks one batch ahead, so that the planned batches the source passes over before the next one (or before the
     * epoch's end) leave the schedule's total before the position of the batch in hand is taken: the last batch that
     * runs is then the schedule's last step, as if the dataset had held only the usable images.
     */
    private void countPassedOver(Iterator<Batch> it) {
        it.hasNext();
        passedOverInEpoch = BatchSource.batchesPassedOver(it);
        totalIters = (long) dls.train().numBatches() * nEpoch - passedOverBefore - passedOverInEpoch;
    }

    /**
     * fastai's one batch: the forward pass and the loss; then for an evaluation the sink, without gradients; for
     * training backward, gradient clipping and the optimizer's step, with the callbacks' events around each. A NaN or
     * infinite training loss is the one divergence guard: it stops the fit and cancels the batch before backward, so no
     * broken gradient reaches the weights. Returns false for a cancelled batch.
     */
    private boolean oneBatch(Batch b, int index, Step step) {
        List<Callback> cbs = step.callbacks();
        if (step.train()) {
            batch = b;
            inputs = b.x();
        }
        event(cbs, Callback::beforeBatch);
        try (GradientCollector gc = step.train() ? Engine.getInstance().newGradientCollector() : null;
                NoGrad noGrad = step.train() ? null : NoGrad.enter()) {
            NDArray out = step.forward().apply(step.train() ? inputs : b.x(), index);
            NDArray loss = step.withLoss() ? lossFn.compute(out, b.y()) : null;
            if (!step.train()) {
                step.sink().accept(b, index, out, loss);
                return true;
            }
            lastPrediction = out;
            lastLoss = loss.getFloat();
            boolean finite = Double.isFinite(lastLoss);
            if (!finite) {
                diverged = true;
                requestStop(String.format(
                        Locale.ROOT,
                        "loss is %s at epoch %d, batch %d; stopped (lower the learning rate?)",
                        lastLoss,
                        epoch + 1,
                        trainIter % dls.train().numBatches() + 1));
            }
            event(cbs, Callback::afterLoss);
            if (!finite) {
                opt.zeroGrad();
                batch = null;
                inputs = null;
                lastPrediction = null;
                return false;
            }
            event(cbs, Callback::beforeBackward);
            gc.backward(loss);
        }
        event(cbs, Callback::afterBackward);
        if (clipGradNorm > 0) {
            opt.clipGradNorm(clipGradNorm);
        }
        event(cbs, Callback::beforeStep);
        opt.step();
        event(cbs, Callback::afterStep);
        trainIter++;
        position.batchesDone++;
        event(cbs, Callback::afterBatch);
        batch = null;
        inputs = null;
        lastPrediction = null;
        return true;
    }

    private void event(List<Callback> cbs, BiConsumer<Callback, Learner> e) {
        for (Callback c : cbs) {
            e.accept(c, this);
        }
    }

    /**
     * A planned fit's own work, first among its callbacks (fastai's Recorder): seeds each batch's randomness, records
     * every training batch, and at an epoch's end validates and records the epoch's row for the callbacks after it.
     */
    private final class FitRecorder implements Callback {
        private long start;

        @Override
        public void beforeEpoch(Learner l) {
            start = System.nanoTime();
        }

        @Override
        public void beforeBatch(Learner l) {
            // dropout and drop-path draws are a function of (seed, epoch, batch), so a fit resumed at any batch draws
            // what the uninterrupted one drew (the engine's generator state itself cannot be saved)
            Engine.getInstance().setRandomSeed((int) Seeds.derive(seed, epoch, position.batchesDone));
        }

        @Override
        public void afterBatch(Learner l) {
            recorder.recordBatch(opt.hyper(groups.size() - 1).lr, opt.hyper(0).mom, lastLoss);
            position.lossSum += lastLoss * batch.size();
            position.lossCount += batch.size();
        }

        @Override
        public void afterEpoch(Learner l) {
            Validation v = validatesEpoch(epoch) ? validate() : notValidated();
            recorder.recordEpoch(new Recorder.EpochRow(
                    epoch,
                    position.lossCount == 0 ? Double.NaN : position.lossSum / position.lossCount,
                    v.loss(),
                    v.metrics(),
                    (System.nanoTime() - start) / 1e9,
                    recorder.smoothLoss()));
            position.epochsDone = epoch + 1;
            position.batchesDone = 0;
            position.lossSum = 0;
            position.lossCount = 0;
        }
    }

    /**
     * Whether the current (or last) fit validates after its epoch {@code epoch} (from 0): every
     * {@link Builder#validateEvery}-th epoch and the last one.
     */
    public boolean validatesEpoch(int epoch) {
        return (epoch + 1) % validateEvery == 0 || epoch + 1 == nEpoch;
    }

    /** Validation loss and metric values. */
    public record Validation(double loss, Map<String, Double> metrics) {}

    /** The row of an epoch that {@link Builder#validateEvery} passes over: NaN for the loss and every metric. */
    private Validation notValidated() {
        Map<String, Double> values = new LinkedHashMap<>();
        metrics.forEach(m -> values.put(m.name(), Double.NaN));
        return new Validation(Double.NaN, values);
    }

    /** Runs the validation set in eval mode: mean loss and every metric. */
    public Validation validate() {
        return validate(false);
    }

    /**
     * As {@link #validate()}; with {@code flipTta} every image is scored by the mean of the probabilities of it and its
     * mirror image (left-right), timm's and fastai's cheapest test-time augmentation. The loss is then the
     * cross-entropy of those mean probabilities.
     */
    public Validation validate(boolean flipTta) {
        // log of the mean probability: log_softmax of it is itself, so loss and metrics take it as logits
        return score((x, batchIndex) -> flipTta ? flipMean(x).maximum(1e-30f).log() : model.forward(x));
    }

    /**
     * Validation with test-time augmentation {@code mode}: {@link Tta#NONE} and {@link Tta#FLIP} as
     * {@link #validate(boolean)}, {@link Tta#SHIFT} as {@link #validateShifted()}, {@link Tta#AUG} as fastai's
     * {@link #tta(int, double)} with its defaults.
     */
    public Validation validate(Tta mode) {
        return switch (mode) {
            case NONE -> validate(false);
            case FLIP -> validate(true);
            case SHIFT -> validateShifted();
            case AUG -> tta(Tta.FASTAI_PASSES, Tta.FASTAI_BETA);
        };
    }

    /**
     * airbench's test-time augmentation: the flip mean ({@link #validate(boolean)}) of each image, weighted 1/2, and of
     * the image shifted by one pixel down-right and up-left (the edge row and column repeated), 1/4 each. The loss is
     * the cross-entropy of the mean probabilities.
     */
    public Validation validateShifted() {
        return score((x, batchIndex) -> flipMean(x)
                .mul(0.5f)
                .add(flipMean(shiftByOne(x, 1)).mul(0.25f))
                .add(flipMean(shiftByOne(x, -1)).mul(0.25f))
                .maximum(1e-30f)
                .log());
    }

    private NDArray flipMean(NDArray x) {
        return model.forward(x)
                .softmax(1)
                .add(model.forward(x.flip(3)).softmax(1))
                .div(2f);
    }

    /** NCHW images moved by one pixel along both axes, {@code +1} down-right, {@code -1} up-left, edges repeated. */
    static NDArray shiftByOne(NDArray x, int direction) {
        NDArray y = x;
        for (int axis = 2; axis <= 3; axis++) {
            long n = y.getShape().get(axis);
            String all = axis == 2 ? ":, :, " : ":, :, :, ";
            NDArray kept = y.get(all + (direction > 0 ? "0:" + (n - 1) : "1:" + n));
            NDArray edge = y.get(all + (direction > 0 ? "0:1" : (n - 1) + ":" + n));
            y = direction > 0 ? edge.concat(kept, axis) : kept.concat(edge, axis);
        }
        return y;
    }

    /**
     * fastai's {@code Learner.tta(n, beta)}: every validation image is scored by the mean probabilities of {@code n}
     * passes through the training transforms, blended with the plain pass as {@code lerp(aug, plain, beta)} = (1 -
     * beta) aug + beta plain. The loss is the cross-entropy of those probabilities. Each pass draws its own
     * augmentation, a function of the loader's seed and the pass.
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
        try {
            for (int pass = 0; pass < n; pass++) {
                boolean first = pass == 0;
                allBatches(
                        augmented,
                        TTA_EPOCH_BASE + pass,
                        Step.eval((x, i) -> model.forward(x).softmax(1), false, (batch, b, probs, loss) -> {
                            float[] p = probs.toFloatArray();
                            if (first) {
                                sums.add(p);
                            } else {
                                float[] acc = sums.get(b);
                                for (int i = 0; i < p.length; i++) {
                                    acc[i] += p[i];
                                }
                            }
                        }));
            }
        } finally {
            model.train(wasTraining);
        }
        float aw = (float) ((1 - beta) / n);
        return score((x, batchIndex) -> {
            NDArray plain = model.forward(x).softmax(1);
            NDArray aug = OwnedArrays.of(plain.getManager(), sums.get(batchIndex), plain.getShape());
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
        try {
            allBatches(dls.valid(), 0, Step.eval(outputs, true, (batch, b, out, loss) -> {
                sumAndCount[0] += loss.getFloat() * batch.size();
                sumAndCount[1] += batch.size();
                for (Metric m : metrics) {
                    m.accumulate(out, batch.y());
                }
            }));
        } finally {
            model.train(wasTraining);
        }
        Map<String, Double> values = new LinkedHashMap<>();
        metrics.forEach(m -> values.put(m.name(), m.value()));
        return new Validation(sumAndCount[1] == 0 ? Double.NaN : sumAndCount[0] / sumAndCount[1], values);
    }

    /** Runs {@code fn} on the model's outputs for every validation batch (eval mode, no grad). */
    public void forEachValidBatch(BiFunction<NDArray, Batch, Void> fn) {
        model.eval();
        allBatches(dls.valid(), 0, Step.eval((x, i) -> model.forward(x), false, (b, i, out, loss) -> fn.apply(out, b)));
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
     * Freezes the groups before index {@code n} (negative counts from the end) and unfreezes the rest; parameters of
     * normalization layers stay trainable (fastai's train_bn).
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
     * fastai's lr_find: a fit of up to {@code numIt} batches whose learning rate grows exponentially from
     * {@code startLr} to {@code endLr} (an {@link LrFinder} callback, without the learner's own callbacks), recording
     * the smoothed loss; it stops when that exceeds 4× the best. The model and optimizer are restored afterwards, and
     * so are {@link #stopReason()}, {@link #diverged()}, {@link #interrupted()} and the position of the last real fit.
     *
     * @throws StoppedException when the {@link StopRequest} ends the sweep (the model and optimizer are restored)
     */
    public LrFinder.Result lrFind(double startLr, double endLr, int numIt) {
        int nb = dls.train().numBatches();
        if (nb == 0) {
            return LrFinder.Result.of(List.of(), List.of(), numIt);
        }
        LrFinder finder = new LrFinder(groups.size(), startLr, endLr, numIt);
        String lastStop = stopReason;
        boolean lastDiverged = diverged;
        StoppedException lastInterruption = interruption;
        Position lastPosition = position;
        position = new Position();
        StoppedException stopped;
        try {
            fitLoop(0, 0, numIt / nb + 1, List.of(finder));
            stopped = interruption;
        } finally {
            stopReason = lastStop;
            diverged = lastDiverged;
            interruption = lastInterruption;
            position = lastPosition;
        }
        if (stopped != null) {
            throw stopped.withState(
                    "lr_find stopped after " + finder.result().lrs().size() + " of " + numIt
                            + " iterations; the model and optimizer are as before it");
        }
        return finder.result();
    }

    // ---- checkpoints --------------------------------------------------------------------------

    /** Writes model, optimizer, schedule position, epoch and history to {@code file}, atomically. */
    public void saveCheckpoint(Path file) {
        Checkpoint.save(this, file);
    }

    /**
     * Restores a checkpoint and finishes the fit it was taken in, exactly where it stopped: after its last ended epoch,
     * or at the batch where a {@link StopRequest} ended it.
     */
    public void resume(Path file) {
        Checkpoint.State s = Checkpoint.load(this, file);
        fineTune = s.fineTune();
        // a checkpoint of a finished fit resumes to nothing, but its plan still says how it was trained
        plan = s.plan();
        position = new Position();
        position.epochsDone = s.epochsDone();
        position.batchesDone = s.batchesDone();
        position.lossSum = s.epochLossSum();
        position.lossCount = s.epochLossCount();
        recorder.resetSmoothing();
        if (s.smoothing() != null) {
            recorder.restoreSmoothing(s.smoothing());
        }
        try {
            if (s.epochsDone() < s.plan().epochs()) {
                runFit(s.plan(), s.epochsDone(), s.batchesDone());
            }
            if (fineTune != null && fineTune.get("phase").getAsInt() == 0 && stopReason == null) {
                fineTuneUnfrozen(
                        fineTune.get("epochs").getAsInt(),
                        fineTune.get("base_lr").getAsDouble(),
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

    /** The current training batch (valid inside batch callbacks only). */
    public Batch batch() {
        return batch;
    }

    /**
     * The images the current training batch's forward pass takes (valid inside batch callbacks only): the batch's own,
     * or what a callback put in their place with {@link #replaceInputs}.
     */
    public NDArray inputs() {
        return inputs;
    }

    /**
     * Puts {@code x} in place of the current training batch's images for its forward pass (fastai's {@code learn.xb =
     * ...}), from a {@link Callback#beforeBatch}; the labels stay the batch's. Made in the batch's scope, {@code x} is
     * freed with it.
     *
     * @throws IllegalStateException outside a training batch
     */
    public void replaceInputs(NDArray x) {
        if (inputs == null) {
            throw new IllegalStateException("replaceInputs is for a training batch's beforeBatch");
        }
        inputs = x;
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

    /**
     * True when the last fit was ended between two batches by a {@link StopRequest} (or a callback's
     * {@link StoppedException}); {@link #stopReason()} then begins with the request's reason.
     */
    public boolean interrupted() {
        return interruption != null;
    }

    /** What interrupted the last fit (see {@link #interrupted()}), or null. */
    public StoppedException interruption() {
        return interruption;
    }

    /** The stop request this learner checks before every batch. */
    public StopRequest stopRequest() {
        return stop;
    }

    /**
     * Epochs of the current (or last) fit that ended (validated and recorded); with {@link #batchesDone()}, where a
     * checkpoint taken now resumes.
     */
    public int epochsDone() {
        return position.epochsDone;
    }

    /** Training batches done in the epoch after the {@link #epochsDone()} ended ones. */
    public int batchesDone() {
        return position.batchesDone;
    }

    /** The sum of the losses (each times its batch size) of the {@link #batchesDone()} batches, and their samples. */
    double[] epochLoss() {
        return new double[] {position.lossSum, position.lossCount};
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

    /**
     * Writes the trained model for prediction (fastai's {@code learn.export}), in the format of the learner's maker:
     * {@code VisionLearner} writes a jimm export with the architecture, head, class names and the data's eval
     * preprocessing, which {@code ImageClassifier.load} reads back.
     *
     * @throws IllegalStateException for a learner built without an exporter
     */
    public void export(Path file) {
        if (exporter == null) {
            throw new IllegalStateException("this learner has no export format: learners from VisionLearner.create"
                    + " or VisionLearner.fromFolder export their model; otherwise save it with saveCheckpoint");
        }
        exporter.export(this, file);
    }

    /** How a learner writes its model for prediction (see {@link #export}). */
    @FunctionalInterface
    public interface Exporter {
        /** Writes the learner's model to {@code file}. */
        void export(Learner learner, Path file);
    }

    @Override
    public void close() {
        opt.close();
        manager.close();
        for (AutoCloseable r : owned) {
            try {
                r.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing a resource of the learner failed: " + e.getMessage(), e);
            }
        }
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
        private int validateEvery = 1;
        private Path runDir;
        private Exporter exporter;
        private StopRequest stop = StopRequest.process();
        private final List<AutoCloseable> owned = new ArrayList<>();

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

        /**
         * Validates after every {@code n}-th epoch of a fit and after its last one (Lightning's
         * {@code check_val_every_n_epoch}; default 1, every epoch). The epochs between record NaN for the validation
         * loss and metrics, which the loggers leave blank and {@link Callbacks.EarlyStopping} and
         * {@link Callbacks.SaveModel} pass over; training itself is the same.
         */
        public Builder validateEvery(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("validateEvery (--validate-every) must be at least 1, got " + n);
            }
            validateEvery = n;
            return this;
        }

        /** The learner closes the model with itself (for a model it was built with and nobody else holds). */
        public Builder closeModel(boolean value) {
            closeModel = value;
            return this;
        }

        /** Folder for checkpoints and logs. */
        public Builder runDir(Path value) {
            runDir = value;
            return this;
        }

        /** How {@link Learner#export} writes the model. */
        public Builder exporter(Exporter value) {
            exporter = value;
            return this;
        }

        /**
         * The stop request checked before every batch (default: {@link StopRequest#process()}, which the {@code jimm}
         * command's signal handlers set).
         */
        public Builder stopRequest(StopRequest value) {
            stop = Objects.requireNonNull(value, "stopRequest");
            return this;
        }

        /** A resource the learner closes with itself (after the model), such as the manager of its data. */
        public Builder closing(AutoCloseable resource) {
            owned.add(resource);
            return this;
        }

        public Learner build() {
            return new Learner(this);
        }
    }
}
