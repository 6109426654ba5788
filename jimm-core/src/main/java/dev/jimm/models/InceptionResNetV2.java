package dev.jimm.models;

import static dev.jimm.layers.BasicConv2d.conv;
import static dev.jimm.layers.BasicConv2d.convCol;
import static dev.jimm.layers.BasicConv2d.convRow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BasicConv2d;
import dev.jimm.layers.ConcatBranches;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Inception-ResNet-v2, as timm's {@code models/inception_resnet_v2.py} builds it (ported from Cadene's TensorFlow
 * port): a stem ({@code conv2d_1a} … {@code mixed_5b}), 10 {@code Block35} ({@code repeat}), {@code mixed_6a}, 20
 * {@code Block17} ({@code repeat_1}), {@code mixed_7a}, 9 {@code Block8} ({@code repeat_2}), a last {@code block8}
 * without ReLU, {@code conv2d_7b} to 1536 channels, and the head {@code global_pool}, dropout, {@code classif}.
 *
 * <p>The residual blocks add their branches' 1x1 projection, scaled (0.17, 0.10, 0.20), to their input. Every other
 * conv is timm's {@code ConvNormAct} ({@link BasicConv2d}: bias-free, BatchNorm eps 0.001, ReLU). timm's weights init
 * is PyTorch's default.
 */
public final class InceptionResNetV2 extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    private static Pool2d maxPool3s2() {
        return Pool2d.max(3, 2, 0);
    }

    /** 192 to 320 channels: 1x1, 1x1-5x5, 1x1-3x3-3x3 and avg-pool-1x1 branches. */
    static ConcatBranches mixed5b() {
        return new ConcatBranches()
                .add("branch0", conv(192, 96, 1))
                .add("branch1", new Sequential(conv(192, 48, 1), conv(48, 64, 5, 1, 2)))
                .add("branch2", new Sequential(conv(192, 64, 1), conv(64, 96, 3, 1, 1), conv(96, 96, 3, 1, 1)))
                .add("branch3", new Sequential(Pool2d.avg(3, 1, 1, false, false), conv(192, 64, 1)));
    }

    /** 35x35 to 17x17 (320 to 1088 channels). */
    static ConcatBranches mixed6a() {
        return new ConcatBranches()
                .add("branch0", conv(320, 384, 3, 2, 0))
                .add("branch1", new Sequential(conv(320, 256, 1), conv(256, 256, 3, 1, 1), conv(256, 384, 3, 2, 0)))
                .add("branch2", maxPool3s2());
    }

    /** 17x17 to 8x8 (1088 to 2080 channels). */
    static ConcatBranches mixed7a() {
        return new ConcatBranches()
                .add("branch0", new Sequential(conv(1088, 256, 1), conv(256, 384, 3, 2, 0)))
                .add("branch1", new Sequential(conv(1088, 256, 1), conv(256, 288, 3, 2, 0)))
                .add("branch2", new Sequential(conv(1088, 256, 1), conv(256, 288, 3, 1, 1), conv(288, 320, 3, 2, 0)))
                .add("branch3", maxPool3s2());
    }

    /**
     * timm's Block35, Block17 and Block8: {@code relu(x + scale * conv2d(cat(branches(x))))}, the branches registered
     * on this module itself ({@code branch0}, {@code branch1}, …) and {@code conv2d} a 1x1 conv with bias back to the
     * input width.
     */
    static final class ResidualBlock extends Module {
        private final List<Module> branches = new ArrayList<>();
        private final Module conv2d;
        private final double scale;
        private final boolean relu;

        private ResidualBlock(double scale, boolean relu, int channels, int branchChannels, Module... branchList) {
            for (int i = 0; i < branchList.length; i++) {
                branches.add(register("branch" + i, branchList[i]));
            }
            this.scale = scale;
            this.relu = relu;
            conv2d = register("conv2d", new Conv2d(branchChannels, channels, 1, Conv2d.Options.defaults()));
            if (relu) {
                // timm names it act in Block35 and Block17, relu in Block8; it holds no state
                register(channels == 2080 ? "relu" : "act", new Activation(Activation.Kind.RELU));
            }
        }

        /** The 35x35 block (320 channels). */
        static ResidualBlock block35(double scale) {
            return new ResidualBlock(
                    scale,
                    true,
                    320,
                    128,
                    conv(320, 32, 1),
                    new Sequential(conv(320, 32, 1), conv(32, 32, 3, 1, 1)),
                    new Sequential(conv(320, 32, 1), conv(32, 48, 3, 1, 1), conv(48, 64, 3, 1, 1)));
        }

        /** The 17x17 block (1088 channels). */
        static ResidualBlock block17(double scale) {
            return new ResidualBlock(
                    scale,
                    true,
                    1088,
                    384,
                    conv(1088, 192, 1),
                    new Sequential(conv(1088, 128, 1), convRow(128, 160, 7), convCol(160, 192, 7)));
        }

        /** The 8x8 block (2080 channels); the last one of the net has no ReLU. */
        static ResidualBlock block8(double scale, boolean relu) {
            return new ResidualBlock(
                    scale,
                    relu,
                    2080,
                    448,
                    conv(2080, 192, 1),
                    new Sequential(conv(2080, 192, 1), convRow(192, 224, 3), convCol(224, 256, 3)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDList outs = new NDList();
            for (Module b : branches) {
                outs.add(b.forward(x));
            }
            NDArray out =
                    Scalars.mul(conv2d.forward(NDArrays.concat(outs, 1)), scale).add(x);
            return relu ? Activation.apply(Activation.Kind.RELU, out) : out;
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** Channels of the last feature map (timm's num_features). */
    public static final int NUM_FEATURES = 1536;

    public InceptionResNetV2(ModelArgs args) {
        super(args);
        add("conv2d_1a", conv(inChans, 32, 3, 2, 0));
        add("conv2d_2a", conv(32, 32, 3));
        add("conv2d_2b", conv(32, 64, 3, 1, 1));
        addFeatureInfo(64, 2, "conv2d_2b");
        add("maxpool_3a", maxPool3s2());
        add("conv2d_3b", conv(64, 80, 1));
        add("conv2d_4a", conv(80, 192, 3));
        addFeatureInfo(192, 4, "conv2d_4a");
        add("maxpool_5a", maxPool3s2());
        add("mixed_5b", mixed5b());
        add("repeat", repeat(10, () -> ResidualBlock.block35(0.17)));
        addFeatureInfo(320, 8, "repeat");
        add("mixed_6a", mixed6a());
        add("repeat_1", repeat(20, () -> ResidualBlock.block17(0.10)));
        addFeatureInfo(1088, 16, "repeat_1");
        add("mixed_7a", mixed7a());
        add("repeat_2", repeat(9, () -> ResidualBlock.block8(0.20, true)));
        add("block8", ResidualBlock.block8(1.0, false));
        add("conv2d_7b", conv(2080, NUM_FEATURES, 1));
        addFeatureInfo(NUM_FEATURES, 32, "conv2d_7b");
        registerClassifierHead("classif", NUM_FEATURES);
    }

    private static Sequential repeat(int n, Supplier<Module> block) {
        Sequential s = new Sequential();
        for (int i = 0; i < n; i++) {
            s.add(block.get());
        }
        return s;
    }

    private void add(String name, Module m) {
        addTrunkStep(register(name, m));
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code inception_resnet_v2} (its tags include the former {@code ens_adv_inception_resnet_v2}). */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "inception_resnet_v2";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(ModelEntry.untrained(
                    "inception_resnet_v2",
                    "inception_resnet_v2",
                    InceptionResNetV2::new,
                    299,
                    "conv2d_1a.conv",
                    "classif"));
        }
    }
}
