package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The original Xception (Chollet 2017), as timm's {@code models/xception.py} builds it for {@code legacy_xception}
 * (Cadene's port of the Keras weights): stem {@code conv1}/{@code bn1}/{@code act1}, {@code conv2}/{@code bn2}/
 * {@code act2}; {@code block1} … {@code block12} of separable convolutions ({@code rep}) with a strided 1x1
 * {@code skip}/{@code skipbn} where the shape changes; separable {@code conv3}/{@code bn3}, {@code conv4}/{@code bn4};
 * {@code global_pool} and {@code fc}. BatchNorm eps is PyTorch's 1e-5.
 *
 * <p>Feature levels are timm's: {@code act2}, and the first ReLU of {@code block2}, {@code block3} and {@code block12}
 * (the ReLU of the previous block's output), then {@code act4}; they are read by hooks on those modules, as timm's
 * {@code feature_cls='hook'}.
 *
 * <p>{@code dropRate} has no effect: timm's {@code forward_head} calls {@code F.dropout} and discards the result, so
 * its model never drops; this one matches it.
 */
public final class Xception extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    private static final float EPS = 1e-5f;

    private static BatchNorm2d bn(int channels) {
        return new BatchNorm2d(channels, EPS, 0.1f);
    }

    /** A depthwise conv ({@code conv1}) then a pointwise one ({@code pointwise}), both without bias. */
    static final class SeparableConv2d extends Module {
        private final Module conv1;
        private final Module pointwise;

        SeparableConv2d(int in, int out, int kernel, int padding) {
            conv1 = register(
                    "conv1",
                    new Conv2d(
                            in,
                            in,
                            kernel,
                            Conv2d.Options.defaults()
                                    .padding(padding)
                                    .groups(in)
                                    .bias(false)));
            pointwise = register(
                    "pointwise",
                    new Conv2d(in, out, 1, Conv2d.Options.defaults().bias(false)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return pointwise.forward(conv1.forward(x));
        }
    }

    /**
     * timm's {@code Block}: {@code reps} times ReLU, separable 3x3, BatchNorm (in {@code rep}, the first ReLU left out
     * for {@code startWithRelu = false}), a 3x3 max pool of stride {@code strides} when it downsamples, plus the input
     * through {@code skip}/{@code skipbn} (or unchanged).
     */
    static final class Block extends Module {
        private final Module skip;
        private final Module skipbn;
        private final Module rep;

        Block(int in, int out, int reps, int strides, boolean startWithRelu, boolean growFirst) {
            if (out != in || strides != 1) {
                skip = register(
                        "skip",
                        new Conv2d(
                                in,
                                out,
                                1,
                                Conv2d.Options.defaults().stride(strides).bias(false)));
                skipbn = register("skipbn", bn(out));
            } else {
                skip = null;
                skipbn = null;
            }
            List<Module> layers = new ArrayList<>();
            for (int i = 0; i < reps; i++) {
                int inc = growFirst ? (i == 0 ? in : out) : in;
                int outc = growFirst ? out : (i < reps - 1 ? in : out);
                if (startWithRelu || i > 0) {
                    layers.add(new Activation(Activation.Kind.RELU));
                }
                layers.add(new SeparableConv2d(inc, outc, 3, 1));
                layers.add(bn(outc));
            }
            if (strides != 1) {
                layers.add(Pool2d.max(3, strides, 1));
            }
            rep = register("rep", new Sequential(layers));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = rep.forward(x);
            NDArray shortcut = skip == null ? x : skipbn.forward(skip.forward(x));
            return y.add(shortcut);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** Channels of the last feature map (timm's num_features). */
    public static final int NUM_FEATURES = 2048;

    public Xception(ModelArgs args) {
        // timm's forward_head discards its dropout (see the class comment)
        super(new ModelArgs(
                args.numClasses(), args.inChans(), args.globalPool(), 0, args.dropPathRate(), args.zeroInitLast()));
        add(
                "conv1",
                new Conv2d(inChans, 32, 3, Conv2d.Options.defaults().stride(2).bias(false)));
        add("bn1", bn(32));
        add("act1", new Activation(Activation.Kind.RELU));
        add("conv2", new Conv2d(32, 64, 3, Conv2d.Options.defaults().bias(false)));
        add("bn2", bn(64));
        add("act2", new Activation(Activation.Kind.RELU));
        addFeatureInfo(64, 2, "act2");
        add("block1", new Block(64, 128, 2, 2, false, true));
        add("block2", new Block(128, 256, 2, 2, true, true));
        addFeatureInfo(128, 4, "block2.rep.0");
        add("block3", new Block(256, 728, 2, 2, true, true));
        addFeatureInfo(256, 8, "block3.rep.0");
        for (int i = 4; i <= 11; i++) {
            add("block" + i, new Block(728, 728, 3, 1, true, true));
        }
        add("block12", new Block(728, 1024, 2, 2, true, false));
        addFeatureInfo(728, 16, "block12.rep.0");
        add("conv3", new SeparableConv2d(1024, 1536, 3, 1));
        add("bn3", bn(1536));
        add("act3", new Activation(Activation.Kind.RELU));
        add("conv4", new SeparableConv2d(1536, NUM_FEATURES, 3, 1));
        add("bn4", bn(NUM_FEATURES));
        add("act4", new Activation(Activation.Kind.RELU));
        addFeatureInfo(NUM_FEATURES, 32, "act4");
        registerClassifierHead("fc", NUM_FEATURES);
    }

    private void add(String name, Module m) {
        addTrunkStep(register(name, m));
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: kaiming_normal_(mode='fan_out', nonlinearity='relu') for every conv; BatchNorm 1/0; fc PyTorch's
        // default
        ConvNetInit.fanOutConvs().apply(this, random);
    }

    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        return HookedLevels.forward(this, x, indices);
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code legacy_xception} (formerly {@code xception}). */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "xception";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(ModelEntry.untrained("legacy_xception", "xception", Xception::new, 299, "conv1", "fc"));
        }
    }
}
