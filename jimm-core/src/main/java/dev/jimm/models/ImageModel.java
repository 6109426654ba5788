package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.ResettableHead;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * An image classification model with timm's interface: a feature trunk ({@link #forwardFeatures}), a head
 * ({@link #forwardHead}) that can be replaced ({@link #resetClassifier}), feature levels ({@link #featureInfo},
 * {@link #forwardIntermediates}).
 *
 * <p>Models made by {@link Models#createModel} own an {@link NDManager} holding their parameters; {@link #close()}
 * frees it. They start in eval mode (unlike PyTorch, where modules start in train mode), so that a created model
 * predicts correctly; training code calls {@code train(true)}.
 */
public abstract class ImageModel extends Module implements AutoCloseable {
    private String name = getClass().getSimpleName();
    private PretrainedCfg pretrainedCfg;
    private NDManager ownedManager;
    protected int numClasses;
    protected String globalPool;
    protected final int inChans;
    protected final double dropRate;
    /** timm's zero_init_last, for the families whose init has it. */
    protected final boolean zeroInitLast;

    private final List<FeatureInfo> featureInfo = new ArrayList<>();
    // the trunk as feature levels see it: its steps in order, and per level the step it ends at
    private final List<Module> trunk = new ArrayList<>();
    private final List<Integer> levelEnds = new ArrayList<>();
    private int numFeatures;
    private String poolName;
    private String fcName;
    /** Where the head's parts are registered: a {@link HeadParts} child, or null for this model itself. */
    private HeadParts headParts;

    private GlobalPool headPool;
    private Module headFc;
    private ResettableHead ownHead;
    private Module tokenHead;

    protected ImageModel(ModelArgs args) {
        this.zeroInitLast = args.zeroInitLast();
        this.numClasses = args.numClasses();
        this.globalPool = GlobalPool.validate(args.globalPool());
        this.inChans = args.inChans();
        this.dropRate = args.dropRate();
    }

    /**
     * The trunk: input images to the last feature maps (before pooling). By default the trunk steps added with
     * {@link #addTrunkStep}, in order; families whose trunk is not a plain sequence override it.
     */
    public NDArray forwardFeatures(NDArray x) {
        if (trunk.isEmpty()) {
            throw new IllegalStateException(getClass().getSimpleName()
                    + " neither adds trunk steps (addTrunkStep) nor overrides forwardFeatures");
        }
        return forwardTrunk(x);
    }

    /**
     * The head: pooling, dropout and classifier. With {@code preLogits} the pooled features come out, before the
     * classifier. This is timm's {@code ClassifierHead} registered by {@link #registerClassifierHead}, or the head
     * registered by {@link #registerHead}; families with yet another head override it.
     */
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        if (ownHead != null) {
            return ownHead.forward(x, preLogits);
        }
        requireClassifierHead();
        x = headPool.forward(headPool.isIdentity() ? x : toPoolInput(x));
        x = Dropout.apply(x, (float) dropRate, isTraining());
        return preLogits ? x : headFc.forward(x);
    }

    /**
     * The features as the head's pooling takes them (NCHW); families whose features are laid out otherwise (Swin's
     * NHWC) convert here. Without pooling the features pass unchanged.
     */
    protected NDArray toPoolInput(NDArray features) {
        return features;
    }

    /**
     * Registers timm's classifier head on this model: {@code global_pool} (pooling and flatten) and the classifier
     * under {@code fcName} ({@code fc}, {@code classifier}, ...), a linear layer of {@code numFeatures} inputs or an
     * identity for 0 classes. Call it where the family registers its head, so that the state_dict keeps timm's order.
     */
    protected final void registerClassifierHead(String fcName, int numFeatures) {
        registerClassifierHead("global_pool", fcName, numFeatures);
    }

    /**
     * As {@link #registerClassifierHead(String, int)} with the pooling under {@code poolName} (torchvision's
     * {@code avgpool}).
     */
    protected final void registerClassifierHead(String poolName, String fcName, int numFeatures) {
        this.poolName = poolName;
        this.fcName = fcName;
        this.numFeatures = numFeatures;
        registerHeadParts(globalPool, ClassifierHead.fc(numFeatures, numClasses, globalPool));
    }

    /**
     * As {@link #registerClassifierHead(String, int)} with the head a child module {@code headName} holding
     * {@code global_pool} and {@code fc} (timm's RegNet and Swin: {@code head.fc}).
     */
    protected final void registerNestedClassifierHead(String headName, int numFeatures) {
        headParts = register(headName, new HeadParts());
        registerClassifierHead("global_pool", "fc", numFeatures);
    }

    private void registerHeadParts(String poolType, Module fc) {
        GlobalPool pool = ClassifierHead.pool(poolType);
        if (headParts != null) {
            headPool = headParts.put(poolName, pool);
            headFc = headParts.put(fcName, fc);
        } else {
            headPool = register(poolName, pool);
            headFc = register(fcName, fc);
        }
    }

    /**
     * Registers the family's own head under {@code name} (timm's {@code NormMlpClassifierHead} or the family's), which
     * then answers {@link #forwardHead} and {@link #resetClassifier}; the family sets {@link #setNumFeatures}.
     */
    protected final <H extends Module & ResettableHead> H registerHead(String name, H head) {
        ownHead = register(name, head);
        return head;
    }

    /** A head nested under one name, holding the pooling and the classifier. */
    private static final class HeadParts extends Module {
        <M extends Module> M put(String name, M part) {
            return register(name, part);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            throw new UnsupportedOperationException("the head runs through its model's forwardHead");
        }
    }

    /**
     * Registers timm's head of the token models (ViT, BEiT, EVA, CaiT, XCiT, MLP-Mixer): {@code head_drop}, a dropout
     * at the model's drop rate, and the classifier {@code head}, a linear layer of {@code numFeatures} inputs (the
     * token width, which {@link #numFeatures()} then reports) or an identity for 0 classes. The family pools (and
     * norms) the tokens in its {@code forwardHead}, then calls {@link #tokenClassifier}; its {@code resetClassifier}
     * calls {@link #resetTokenClassifier}.
     */
    protected final void registerTokenClassifier(int numFeatures) {
        setNumFeatures(numFeatures);
        register("head_drop", new Dropout((float) dropRate));
        tokenHead = register("head", Linear.classifier(numFeatures, numClasses));
    }

    /** Dropout and the classifier on pooled tokens; with {@code preLogits} the pooled tokens after dropout. */
    protected final NDArray tokenClassifier(NDArray pooled, boolean preLogits) {
        NDArray x = Dropout.apply(pooled, (float) dropRate, isTraining());
        return preLogits ? x : tokenHead().forward(x);
    }

    /**
     * Takes the new class count and the pooling (validated by the family) and replaces the classifier registered by
     * {@link #registerTokenClassifier}.
     */
    protected final void resetTokenClassifier(int newNumClasses, String validatedPool) {
        tokenHead(); // a model without one fails here, before anything changes
        numClasses = newNumClasses;
        globalPool = validatedPool;
        tokenHead = register("head", Linear.classifier(numFeatures, newNumClasses));
    }

    /** The classifier registered by {@link #registerTokenClassifier}. */
    protected final Module tokenHead() {
        if (tokenHead == null) {
            throw new IllegalStateException(
                    getClass().getSimpleName() + " has no token classifier: call registerTokenClassifier");
        }
        return tokenHead;
    }

    private void requireClassifierHead() {
        if (headFc == null) {
            throw new IllegalStateException(
                    getClass().getSimpleName()
                            + " has no classifier head: it must call registerClassifierHead or registerHead, or override the head methods");
        }
    }

    /** Sets the width {@link #numFeatures()} reports, for families whose head is their own. */
    protected final void setNumFeatures(int numFeatures) {
        this.numFeatures = numFeatures;
    }

    /**
     * Adds a feature level (shallowest first): its channels, stride from the input and module name. The level is the
     * output of the last trunk step added so far ({@link #addTrunkStep}).
     */
    protected final void addFeatureInfo(int channels, int reduction, String module) {
        addFeatureInfo(channels, reduction, module, trunk.size() - 1);
    }

    /**
     * Adds a feature level (shallowest first) that is the output of trunk step {@code trunkStep}, for families that
     * list their levels before their trunk's steps.
     */
    protected final void addFeatureInfo(int channels, int reduction, String module, int trunkStep) {
        if (!levelEnds.isEmpty() && trunkStep < levelEnds.get(levelEnds.size() - 1)) {
            throw new IllegalArgumentException("feature level " + module + " ends at trunk step " + trunkStep
                    + ", before the previous level's step " + levelEnds.get(levelEnds.size() - 1)
                    + "; levels go shallow to deep");
        }
        featureInfo.add(new FeatureInfo(channels, reduction, module));
        levelEnds.add(trunkStep);
    }

    /**
     * Appends a step to the trunk that {@link #forwardLevels} (and {@link #forwardTrunk}) run in order: a module
     * registered by the family, whose output may end a feature level ({@link #addFeatureInfo}).
     */
    protected final <M extends Module> M addTrunkStep(M step) {
        trunk.add(step);
        return step;
    }

    /** Appends trunk steps in order (e.g. the children of a {@code features} Sequential). */
    protected final void addTrunkSteps(Collection<? extends Module> steps) {
        trunk.addAll(steps);
    }

    /** Runs every trunk step in order. */
    protected final NDArray forwardTrunk(NDArray x) {
        for (Module step : trunk) {
            x = step.forward(x);
        }
        return x;
    }

    /**
     * Runs the trunk's steps up to the one ending the deepest chosen level and returns the chosen levels (indices into
     * {@link #featureInfo()}, negative ones from the end), each read through {@code toLevel} (e.g. tokens to NCHW
     * maps).
     */
    protected final NDList forwardLevels(NDArray x, int[] indices, UnaryOperator<NDArray> toLevel) {
        int[] take = resolveIndices(indices);
        int lastLevel = deepest(take);
        int lastStep = levelEnds.get(lastLevel);
        if (levelEnds.get(0) < 0 || lastStep >= trunk.size()) {
            throw new IllegalStateException(getClass().getSimpleName() + "'s feature levels 0.." + lastLevel
                    + " end at trunk steps " + levelEnds.subList(0, lastLevel + 1) + ", but its trunk has "
                    + trunk.size() + " steps (addTrunkStep)");
        }
        List<NDArray> all = new ArrayList<>();
        for (int i = 0; i <= lastStep; i++) {
            x = trunk.get(i).forward(x);
            // several levels may end at one step
            while (all.size() <= lastLevel && levelEnds.get(all.size()) == i) {
                all.add(toLevel.apply(x));
            }
        }
        return select(all, take);
    }

    /** {@link #forwardLevels(NDArray, int[], UnaryOperator)} with the step outputs as the levels. */
    protected final NDList forwardLevels(NDArray x, int[] indices) {
        return forwardLevels(x, indices, UnaryOperator.identity());
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        checkInput(x);
        return forwardHead(forwardFeatures(x), false);
    }

    /**
     * Refuses an input this model cannot take, naming the fix: a batch {@code [N, C, H, W]} of floating point values
     * with {@link #inChans()} channels. ({@code forward} and {@code forwardIntermediates} check; a family's own code
     * after them does not, so that a wrong input fails before libtorch's messages about its layers.)
     *
     * @throws IllegalArgumentException for another rank, channel count or a non-float type
     */
    public void checkInput(NDArray x) {
        Shape s = x.getShape();
        if (s.dimension() != 4) {
            throw new IllegalArgumentException(name() + " takes a batch [N, " + inChans + ", H, W]; the input is " + s
                    + (s.dimension() == 3 ? ": add the batch axis with x.expandDims(0)" : ""));
        }
        if (s.get(1) != inChans) {
            String fix;
            if (s.get(3) == inChans) {
                fix = "it looks channels-last: x.transpose(0, 3, 1, 2) gives [N, C, H, W]";
            } else if (s.get(1) == 1 && inChans == 3) {
                fix = "repeat the gray channel (x.repeat(1, 3)), or build the model with"
                        + " ModelOptions.builder().inChans(1), which adapts pretrained RGB weights";
            } else {
                fix = "build the model with ModelOptions.builder().inChans(" + s.get(1) + ")";
            }
            throw new IllegalArgumentException(name() + " was built for " + inChans + " input channels; the input " + s
                    + " has " + s.get(1) + ": " + fix);
        }
        DataType t = x.getDataType();
        if (!t.isFloating()) {
            throw new IllegalArgumentException(name() + " takes floating point input; the input is " + t
                    + ": scale pixels to [0, 1] and normalize them (Preprocessing does), then x.toType(FLOAT32)");
        }
    }

    /**
     * Replaces the classifier with one of {@code numClasses} outputs (0: none, so the pooled features come out) and the
     * pooling with {@code globalPool} ("" keeps the feature maps).
     */
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        if (ownHead != null) {
            String pool = GlobalPool.validate(newGlobalPool);
            ownHead.reset(newNumClasses, newGlobalPool);
            numClasses = newNumClasses;
            globalPool = pool;
            return;
        }
        requireClassifierHead();
        // built first, so that a refused combination leaves the model as it was
        Module newFc = ClassifierHead.fc(numFeatures, newNumClasses, newGlobalPool);
        numClasses = newNumClasses;
        globalPool = GlobalPool.validate(newGlobalPool);
        registerHeadParts(globalPool, newFc);
    }

    /** Replaces the classifier, keeping the current pooling. */
    public void resetClassifier(int numClasses) {
        resetClassifier(numClasses, globalPool);
    }

    /** Channels of the features that enter the classifier (after pooling, before any multiplier). */
    public int numFeatures() {
        return numFeatures;
    }

    /**
     * Width of the pre-logits ({@code forwardHead(x, true)}, and the output after {@code resetClassifier(0)}):
     * {@link #numFeatures()} unless the head widens the pooled features first (timm's {@code head_hidden_size}, such as
     * MobileNet-V3's {@code conv_head}).
     */
    public int headHiddenSize() {
        return numFeatures();
    }

    /** The feature levels, shallow to deep (what {@link #forwardIntermediates} can return). */
    public List<FeatureInfo> featureInfo() {
        return List.copyOf(featureInfo);
    }

    /**
     * The feature maps of the chosen levels (indices into {@link #featureInfo()}; negative ones count from the end), in
     * the order of the levels. By default {@link #forwardLevels} on the trunk registered with {@link #addTrunkStep}.
     */
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        return forwardLevels(x, indices);
    }

    /**
     * Called by {@link PretrainedLoader} before it loads a pretrained checkpoint: returns the checkpoint adapted to
     * this model (timm's {@code checkpoint_filter_fn}, e.g. dropping the auxiliary-classifier keys a model without that
     * head cannot hold), and may switch on what the weights expect (torchvision turns on {@code transform_input} when
     * it loads weights). By default the checkpoint is returned unchanged.
     */
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        return checkpoint;
    }

    public int numClasses() {
        return numClasses;
    }

    public String globalPool() {
        return globalPool;
    }

    public int inChans() {
        return inChans;
    }

    /** The registered name this model was created under. */
    public String name() {
        return name != null ? name : getClass().getSimpleName();
    }

    /** The config of its pretrained weights (or its defaults): input size, mean, std, crop. */
    public PretrainedCfg pretrainedCfg() {
        return pretrainedCfg;
    }

    void setIdentity(String name, PretrainedCfg cfg) {
        this.name = name;
        this.pretrainedCfg = cfg;
    }

    void setOwnedManager(NDManager manager) {
        this.ownedManager = manager;
    }

    /** Resolves level indices against {@link #featureInfo()}, failing on an out-of-range one. */
    protected int[] resolveIndices(int[] indices) {
        int n = featureInfo().size();
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            int idx = indices[i] < 0 ? n + indices[i] : indices[i];
            if (idx < 0 || idx >= n) {
                throw new IllegalArgumentException(
                        "feature index " + indices[i] + " is out of range for " + n + " levels");
            }
            out[i] = idx;
        }
        return out;
    }

    /** All level indices, 0..n-1. */
    public int[] allFeatureIndices() {
        int[] all = new int[featureInfo().size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    /** The deepest of the resolved level indices (0 when none), where a forward pass may stop. */
    protected static int deepest(int[] resolved) {
        int last = 0;
        for (int i : resolved) {
            last = Math.max(last, i);
        }
        return last;
    }

    /** Selects the chosen levels from a list holding every level. */
    protected static NDList select(List<NDArray> all, int[] resolved) {
        List<NDArray> out = new ArrayList<>();
        for (int i : resolved) {
            out.add(all.get(i));
        }
        return new NDList(out);
    }

    /**
     * A copy of this model for prediction only: BatchNorm folded into the convolutions, eval mode, no gradients (see
     * {@link InferenceModel}). This model is not changed; close the copy too.
     */
    public InferenceModel optimizeForInference() {
        return InferenceModel.of(this);
    }

    /** Frees every array of the model. */
    @Override
    public void close() {
        if (ownedManager != null) {
            ownedManager.close();
            ownedManager = null;
        }
    }
}
