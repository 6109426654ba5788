package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.BasicConv2d;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Init;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * GoogLeNet (Inception v1) as torchvision's {@code models/googlenet.py} builds it, registered as
 * {@code tv/googlenet} with torchvision's state_dict keys ({@code conv1.conv.weight}, {@code
 * inception3a.branch2.1.bn.weight}, …; BatchNorm eps 0.001).
 *
 * <p>Built without the two auxiliary classifiers ({@code aux1}, {@code aux2}): they only run in
 * training, and torchvision drops them from its pretrained model; their keys in a checkpoint are
 * dropped on loading. {@code transform_input} is off, as torchvision has it without weights, and
 * switched on when pretrained weights are loaded, as torchvision does; {@link #setTransformInput}
 * overrides it.
 *
 * <p>The timm API on top: {@link #forwardFeatures} is the trunk up to {@code inception5b}
 * ([N, 1024, 7, 7] at 224 px), the head is global pooling, dropout ({@code dropRate}; torchvision
 * trains with 0.2) and {@code fc}. Feature levels, as timm picks them for Inception v3 (the last map
 * of each stride, before the pool that halves it): {@code conv1} (/2), {@code conv3} (/4), {@code
 * inception3b} (/8), {@code inception4e} (/16), {@code inception5b} (/32).
 */
public final class GoogLeNet extends ImageModel {

    /** The Inception module: 1x1, 1x1-3x3, 1x1-3x3 (torchvision's "5x5") and pool-1x1 branches. */
    static final class Inception extends Module {
        private final Module branch1;
        private final Module branch2;
        private final Module branch3;
        private final Module branch4;
        final int outChannels;

        Inception(int in, int ch1x1, int ch3x3red, int ch3x3, int ch5x5red, int ch5x5, int poolProj) {
            branch1 = register("branch1", new BasicConv2d(in, ch1x1, 1, 1, 0));
            branch2 = register("branch2", new Sequential(
                    new BasicConv2d(in, ch3x3red, 1, 1, 0), new BasicConv2d(ch3x3red, ch3x3, 3, 1, 1)));
            // a 3x3 where the paper has 5x5: torchvision's known deviation (vision#906), kept for its weights
            branch3 = register("branch3", new Sequential(
                    new BasicConv2d(in, ch5x5red, 1, 1, 0), new BasicConv2d(ch5x5red, ch5x5, 3, 1, 1)));
            branch4 = register("branch4", new Sequential(
                    Pool2d.max(3, 1, 1, true), new BasicConv2d(in, poolProj, 1, 1, 0)));
            outChannels = ch1x1 + ch3x3 + ch5x5 + poolProj;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return NDArrays.concat(
                    new NDList(branch1.forward(x), branch2.forward(x), branch3.forward(x), branch4.forward(x)), 1);
        }
    }

    private static final List<String> AUX_PREFIXES = List.of("aux1.", "aux2.");

    /** The trunk in forward order; {@code levelAt[i]} is the feature level module i ends, or -1. */
    private final List<Module> trunk = new ArrayList<>();
    private final List<Integer> levelAt = new ArrayList<>();
    private final List<FeatureInfo> featureInfo = new ArrayList<>();
    private final int numFeatures;
    private boolean transformInput;
    private GlobalPool pool;
    private Module fc;

    public GoogLeNet(ModelArgs args) {
        super(args);
        add("conv1", new BasicConv2d(inChans, 64, 7, 2, 3), 64, 2);
        add("maxpool1", Pool2d.max(3, 2, 0, true), 0, 0);
        add("conv2", new BasicConv2d(64, 64, 1, 1, 0), 0, 0);
        add("conv3", new BasicConv2d(64, 192, 3, 1, 1), 192, 4);
        add("maxpool2", Pool2d.max(3, 2, 0, true), 0, 0);
        Inception i3a = add("inception3a", new Inception(192, 64, 96, 128, 16, 32, 32), 0, 0);
        Inception i3b = add("inception3b", new Inception(i3a.outChannels, 128, 128, 192, 32, 96, 64), 480, 8);
        add("maxpool3", Pool2d.max(3, 2, 0, true), 0, 0);
        Inception i4a = add("inception4a", new Inception(i3b.outChannels, 192, 96, 208, 16, 48, 64), 0, 0);
        Inception i4b = add("inception4b", new Inception(i4a.outChannels, 160, 112, 224, 24, 64, 64), 0, 0);
        Inception i4c = add("inception4c", new Inception(i4b.outChannels, 128, 128, 256, 24, 64, 64), 0, 0);
        Inception i4d = add("inception4d", new Inception(i4c.outChannels, 112, 144, 288, 32, 64, 64), 0, 0);
        Inception i4e = add("inception4e", new Inception(i4d.outChannels, 256, 160, 320, 32, 128, 128), 832, 16);
        add("maxpool4", Pool2d.max(2, 2, 0, true), 0, 0);
        Inception i5a = add("inception5a", new Inception(i4e.outChannels, 256, 160, 320, 32, 128, 128), 0, 0);
        Inception i5b = add("inception5b", new Inception(i5a.outChannels, 384, 192, 384, 48, 128, 128), 1024, 32);
        numFeatures = i5b.outChannels;
        // torchvision's avgpool/dropout/fc: pooling and dropout hold no state, so the timm names serve
        pool = register("global_pool", ClassifierHead.pool(globalPool));
        fc = register("fc", ClassifierHead.fc(numFeatures, numClasses, globalPool));
    }

    private <M extends Module> M add(String name, M module, int channels, int reduction) {
        trunk.add(register(name, module));
        if (channels > 0) {
            levelAt.add(featureInfo.size());
            featureInfo.add(new FeatureInfo(channels, reduction, name));
        } else {
            levelAt.add(-1);
        }
        return module;
    }

    /** Whether ImageNet-normalized input is re-normalized to mean 0.5, std 0.5 first. */
    public boolean transformInput() {
        return transformInput;
    }

    /** Switches torchvision's {@code transform_input} on or off (needs 3 input channels). */
    public void setTransformInput(boolean enable) {
        if (enable && inChans != 3) {
            throw new IllegalArgumentException("transform_input needs 3 input channels, the model has inChans " + inChans);
        }
        transformInput = enable;
    }

    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        // torchvision's checkpoint holds the aux heads (loaded, then deleted, by torchvision)
        Map<String, NDArray> out = new LinkedHashMap<>();
        checkpoint.forEach((k, v) -> {
            if (AUX_PREFIXES.stream().noneMatch(k::startsWith)) {
                out.put(k, v);
            }
        });
        if (inChans == 3) {
            transformInput = true;
        }
        return out;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // torchvision's _initialize_weights: trunc_normal_(std=0.01, a=-2, b=2), bounds 200 std
        // away, so a plain normal; BatchNorm 1/0 (its defaults); biases keep PyTorch's default
        for (Module m : namedModules().values()) {
            if (m instanceof Conv2d c) {
                Init.normal(c.weight().getArray(), 0.01, random);
            } else if (m instanceof Linear l) {
                Init.normal(l.weight().getArray(), 0.01, random);
            }
        }
    }

    private NDArray maybeTransform(NDArray x) {
        return transformInput ? InceptionV3.transformImageNetInput(x) : x;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        x = maybeTransform(x);
        for (Module m : trunk) {
            x = m.forward(x);
        }
        return x;
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        x = pool.forward(x);
        x = Dropout.apply(x, (float) dropRate, isTraining());
        return preLogits ? x : fc.forward(x);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        Module newFc = ClassifierHead.fc(numFeatures, newNumClasses, newGlobalPool);
        numClasses = newNumClasses;
        globalPool = GlobalPool.validate(newGlobalPool);
        pool = register("global_pool", ClassifierHead.pool(globalPool));
        fc = register("fc", newFc);
    }

    @Override
    public int numFeatures() {
        return numFeatures;
    }

    @Override
    public List<FeatureInfo> featureInfo() {
        return List.copyOf(featureInfo);
    }

    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        int[] take = resolveIndices(indices);
        int last = deepest(take);
        List<NDArray> all = new ArrayList<>();
        x = maybeTransform(x);
        for (int i = 0; i < trunk.size() && all.size() <= last; i++) {
            x = trunk.get(i).forward(x);
            if (levelAt.get(i) >= 0) {
                all.add(x);
            }
        }
        return select(all, take);
    }

    /** torchvision's {@code tv/googlenet}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "googlenet";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(new ModelEntry("tv/googlenet", "torchvision", GoogLeNet::new,
                    PretrainedCfg.untrained("tv/googlenet", 224, "conv1.conv", "fc")));
        }
    }
}
