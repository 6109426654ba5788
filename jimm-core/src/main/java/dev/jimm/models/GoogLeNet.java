package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.BasicConv2d;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.List;

/**
 * GoogLeNet (Inception v1) as torchvision's {@code models/googlenet.py} builds it, registered as {@code tv/googlenet}
 * with torchvision's state_dict keys ({@code conv1.conv.weight}, {@code inception3a.branch2.1.bn.weight}, …; BatchNorm
 * eps 0.001).
 *
 * <p>Built without the two auxiliary classifiers ({@code aux1}, {@code aux2}): they only run in training, and
 * torchvision drops them from its pretrained model; their keys in a checkpoint are dropped on loading.
 * {@code transform_input} is off, as torchvision has it without weights, and switched on when pretrained weights are
 * loaded, as torchvision does; {@link #setTransformInput} overrides it.
 *
 * <p>The timm API on top: {@link #forwardFeatures} is the trunk up to {@code inception5b} ([N, 1024, 7, 7] at 224 px),
 * the head is global pooling, dropout ({@code dropRate}; torchvision trains with 0.2) and {@code fc}. Feature levels,
 * as timm picks them for Inception v3 (the last map of each stride, before the pool that halves it): {@code conv1}
 * (/2), {@code conv3} (/4), {@code inception3b} (/8), {@code inception4e} (/16), {@code inception5b} (/32).
 */
public final class GoogLeNet extends InceptionNet {

    /** The Inception module: 1x1, 1x1-3x3, 1x1-3x3 (torchvision's "5x5") and pool-1x1 branches. */
    static final class Inception extends Module {
        private final Module branch1;
        private final Module branch2;
        private final Module branch3;
        private final Module branch4;
        final int outChannels;

        Inception(int in, int ch1x1, int ch3x3red, int ch3x3, int ch5x5red, int ch5x5, int poolProj) {
            branch1 = register("branch1", new BasicConv2d(in, ch1x1, 1, 1, 0));
            branch2 = register(
                    "branch2",
                    new Sequential(new BasicConv2d(in, ch3x3red, 1, 1, 0), new BasicConv2d(ch3x3red, ch3x3, 3, 1, 1)));
            // a 3x3 where the paper has 5x5: torchvision's known deviation (vision#906), kept for its weights
            branch3 = register(
                    "branch3",
                    new Sequential(new BasicConv2d(in, ch5x5red, 1, 1, 0), new BasicConv2d(ch5x5red, ch5x5, 3, 1, 1)));
            branch4 = register(
                    "branch4", new Sequential(Pool2d.max(3, 1, 1, true), new BasicConv2d(in, poolProj, 1, 1, 0)));
            outChannels = ch1x1 + ch3x3 + ch5x5 + poolProj;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return NDArrays.concat(
                    new NDList(branch1.forward(x), branch2.forward(x), branch3.forward(x), branch4.forward(x)), 1);
        }
    }

    public GoogLeNet(ModelArgs args) {
        // torchvision's _initialize_weights: trunc_normal_(std=0.01, a=-2, b=2)
        super(args, 0.01, List.of("aux1.", "aux2."));
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
        // torchvision's avgpool/dropout/fc: pooling and dropout hold no state, so the timm names serve
        registerClassifierHead("fc", i5b.outChannels);
    }

    @Override
    boolean transformsPretrainedInput() {
        return true;
    }

    /** torchvision's {@code tv/googlenet}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "googlenet";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(
                    ModelEntry.untrained("tv/googlenet", "torchvision", GoogLeNet::new, 224, "conv1.conv", "fc"));
        }
    }
}
