package dev.jimm.models;

import static dev.jimm.layers.BasicConv2d.conv;
import static dev.jimm.layers.BasicConv2d.convCol;
import static dev.jimm.layers.BasicConv2d.convRow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import java.util.ArrayList;
import java.util.List;

/**
 * Inception v3, as timm's {@code models/inception_v3.py} and torchvision's {@code models/inception.py} build it (the
 * same modules and state_dict keys: {@code Conv2d_1a_3x3.conv.weight}, {@code Mixed_5b.branch1x1.bn.running_mean}, …;
 * BatchNorm eps 0.001).
 *
 * <p>Both are built without the auxiliary classifier ({@code AuxLogits}): timm's default, and what torchvision gives in
 * eval mode, where the aux head never runs. Its keys in a pretrained checkpoint are dropped on loading. torchvision's
 * {@code transform_input} (re-normalizing ImageNet-normalized input to the [-1, 1] range the ported weights expect) is
 * off, as torchvision has it without weights, and is switched on when pretrained weights are loaded into the
 * torchvision flavour, as torchvision does; {@link #setTransformInput} overrides it.
 */
public final class InceptionV3 extends InceptionNet {

    // ---- blocks ---------------------------------------------------------------------------------

    private static NDArray cat(NDArray... parts) {
        return NDArrays.concat(new NDList(parts), 1);
    }

    private static NDArray avgPool3(NDArray x) {
        // F.avg_pool2d(x, 3, stride=1, padding=1): count_include_pad defaults to True
        return x.getNDArrayInternal().avgPool(new Shape(3, 3), new Shape(1, 1), new Shape(1, 1), false, true);
    }

    private static NDArray maxPool3s2(NDArray x) {
        return x.getNDArrayInternal().maxPool(new Shape(3, 3), new Shape(2, 2), new Shape(0, 0), false);
    }

    /** The 35x35 block: 1x1, 5x5, double 3x3 and pooled branches. */
    static final class InceptionA extends Module {
        private final Module branch1x1;
        private final Module branch5x5_1;
        private final Module branch5x5_2;
        private final Module branch3x3dbl_1;
        private final Module branch3x3dbl_2;
        private final Module branch3x3dbl_3;
        private final Module branchPool;
        final int outChannels;

        InceptionA(int in, int poolFeatures) {
            branch1x1 = register("branch1x1", conv(in, 64, 1));
            branch5x5_1 = register("branch5x5_1", conv(in, 48, 1));
            branch5x5_2 = register("branch5x5_2", conv(48, 64, 5, 1, 2));
            branch3x3dbl_1 = register("branch3x3dbl_1", conv(in, 64, 1));
            branch3x3dbl_2 = register("branch3x3dbl_2", conv(64, 96, 3, 1, 1));
            branch3x3dbl_3 = register("branch3x3dbl_3", conv(96, 96, 3, 1, 1));
            branchPool = register("branch_pool", conv(in, poolFeatures, 1));
            outChannels = 64 + 64 + 96 + poolFeatures;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray b1 = branch1x1.forward(x);
            NDArray b5 = branch5x5_2.forward(branch5x5_1.forward(x));
            NDArray b3 = branch3x3dbl_3.forward(branch3x3dbl_2.forward(branch3x3dbl_1.forward(x)));
            NDArray bp = branchPool.forward(avgPool3(x));
            return cat(b1, b5, b3, bp);
        }
    }

    /** The 35x35 to 17x17 reduction. */
    static final class InceptionB extends Module {
        private final Module branch3x3;
        private final Module branch3x3dbl_1;
        private final Module branch3x3dbl_2;
        private final Module branch3x3dbl_3;
        final int outChannels;

        InceptionB(int in) {
            branch3x3 = register("branch3x3", conv(in, 384, 3, 2, 0));
            branch3x3dbl_1 = register("branch3x3dbl_1", conv(in, 64, 1));
            branch3x3dbl_2 = register("branch3x3dbl_2", conv(64, 96, 3, 1, 1));
            branch3x3dbl_3 = register("branch3x3dbl_3", conv(96, 96, 3, 2, 0));
            outChannels = 384 + 96 + in;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray b3 = branch3x3.forward(x);
            NDArray bd = branch3x3dbl_3.forward(branch3x3dbl_2.forward(branch3x3dbl_1.forward(x)));
            return cat(b3, bd, maxPool3s2(x));
        }
    }

    /** The 17x17 block with factorized 7x7 convolutions. */
    static final class InceptionC extends Module {
        private final Module branch1x1;
        private final Module branch7x7_1;
        private final Module branch7x7_2;
        private final Module branch7x7_3;
        private final Module branch7x7dbl_1;
        private final Module branch7x7dbl_2;
        private final Module branch7x7dbl_3;
        private final Module branch7x7dbl_4;
        private final Module branch7x7dbl_5;
        private final Module branchPool;
        final int outChannels = 4 * 192;

        InceptionC(int in, int c7) {
            branch1x1 = register("branch1x1", conv(in, 192, 1));
            branch7x7_1 = register("branch7x7_1", conv(in, c7, 1));
            branch7x7_2 = register("branch7x7_2", convRow(c7, c7, 7));
            branch7x7_3 = register("branch7x7_3", convCol(c7, 192, 7));
            branch7x7dbl_1 = register("branch7x7dbl_1", conv(in, c7, 1));
            branch7x7dbl_2 = register("branch7x7dbl_2", convCol(c7, c7, 7));
            branch7x7dbl_3 = register("branch7x7dbl_3", convRow(c7, c7, 7));
            branch7x7dbl_4 = register("branch7x7dbl_4", convCol(c7, c7, 7));
            branch7x7dbl_5 = register("branch7x7dbl_5", convRow(c7, 192, 7));
            branchPool = register("branch_pool", conv(in, 192, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray b1 = branch1x1.forward(x);
            NDArray b7 = branch7x7_3.forward(branch7x7_2.forward(branch7x7_1.forward(x)));
            NDArray bd = branch7x7dbl_1.forward(x);
            bd = branch7x7dbl_3.forward(branch7x7dbl_2.forward(bd));
            bd = branch7x7dbl_5.forward(branch7x7dbl_4.forward(bd));
            NDArray bp = branchPool.forward(avgPool3(x));
            return cat(b1, b7, bd, bp);
        }
    }

    /** The 17x17 to 8x8 reduction. */
    static final class InceptionD extends Module {
        private final Module branch3x3_1;
        private final Module branch3x3_2;
        private final Module branch7x7x3_1;
        private final Module branch7x7x3_2;
        private final Module branch7x7x3_3;
        private final Module branch7x7x3_4;
        final int outChannels;

        InceptionD(int in) {
            branch3x3_1 = register("branch3x3_1", conv(in, 192, 1));
            branch3x3_2 = register("branch3x3_2", conv(192, 320, 3, 2, 0));
            branch7x7x3_1 = register("branch7x7x3_1", conv(in, 192, 1));
            branch7x7x3_2 = register("branch7x7x3_2", convRow(192, 192, 7));
            branch7x7x3_3 = register("branch7x7x3_3", convCol(192, 192, 7));
            branch7x7x3_4 = register("branch7x7x3_4", conv(192, 192, 3, 2, 0));
            outChannels = 320 + 192 + in;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray b3 = branch3x3_2.forward(branch3x3_1.forward(x));
            NDArray b7 = branch7x7x3_2.forward(branch7x7x3_1.forward(x));
            b7 = branch7x7x3_4.forward(branch7x7x3_3.forward(b7));
            return cat(b3, b7, maxPool3s2(x));
        }
    }

    /** The 8x8 block with split 1x3 / 3x1 branches. */
    static final class InceptionE extends Module {
        private final Module branch1x1;
        private final Module branch3x3_1;
        private final Module branch3x3_2a;
        private final Module branch3x3_2b;
        private final Module branch3x3dbl_1;
        private final Module branch3x3dbl_2;
        private final Module branch3x3dbl_3a;
        private final Module branch3x3dbl_3b;
        private final Module branchPool;
        final int outChannels = 320 + 768 + 768 + 192;

        InceptionE(int in) {
            branch1x1 = register("branch1x1", conv(in, 320, 1));
            branch3x3_1 = register("branch3x3_1", conv(in, 384, 1));
            branch3x3_2a = register("branch3x3_2a", convRow(384, 384, 3));
            branch3x3_2b = register("branch3x3_2b", convCol(384, 384, 3));
            branch3x3dbl_1 = register("branch3x3dbl_1", conv(in, 448, 1));
            branch3x3dbl_2 = register("branch3x3dbl_2", conv(448, 384, 3, 1, 1));
            branch3x3dbl_3a = register("branch3x3dbl_3a", convRow(384, 384, 3));
            branch3x3dbl_3b = register("branch3x3dbl_3b", convCol(384, 384, 3));
            branchPool = register("branch_pool", conv(in, 192, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray b1 = branch1x1.forward(x);
            NDArray b3 = branch3x3_1.forward(x);
            b3 = cat(branch3x3_2a.forward(b3), branch3x3_2b.forward(b3));
            NDArray bd = branch3x3dbl_2.forward(branch3x3dbl_1.forward(x));
            bd = cat(branch3x3dbl_3a.forward(bd), branch3x3dbl_3b.forward(bd));
            NDArray bp = branchPool.forward(avgPool3(x));
            return cat(b1, b3, bd, bp);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * Which library's Inception v3 this is; the networks are the same.
     *
     * @param torchvision torchvision's flavour: its stem pools are named {@code maxpool1/2} (timm: {@code Pool1/2};
     *     they hold no state, so the state_dicts are the same), and loading pretrained weights switches on
     *     {@code transform_input}
     */
    public record Config(boolean torchvision) {
        /** timm's {@code inception_v3}. */
        public static Config timm() {
            return new Config(false);
        }

        /** torchvision's {@code inception_v3}. */
        public static Config tv() {
            return new Config(true);
        }
    }

    private final Config cfg;

    public InceptionV3(Config cfg, ModelArgs args) {
        // both libraries init with std 0.1
        super(args, 0.1, List.of("AuxLogits."));
        this.cfg = cfg;
        add("Conv2d_1a_3x3", conv(inChans, 32, 3, 2, 0), 0, 0);
        add("Conv2d_2a_3x3", conv(32, 32, 3), 0, 0);
        add("Conv2d_2b_3x3", conv(32, 64, 3, 1, 1), 64, 2);
        add(cfg.torchvision() ? "maxpool1" : "Pool1", Pool2d.max(3, 2, 0), 0, 0);
        add("Conv2d_3b_1x1", conv(64, 80, 1), 0, 0);
        add("Conv2d_4a_3x3", conv(80, 192, 3), 192, 4);
        add(cfg.torchvision() ? "maxpool2" : "Pool2", Pool2d.max(3, 2, 0), 0, 0);
        InceptionA m5b = add("Mixed_5b", new InceptionA(192, 32), 0, 0);
        InceptionA m5c = add("Mixed_5c", new InceptionA(m5b.outChannels, 64), 0, 0);
        InceptionA m5d = add("Mixed_5d", new InceptionA(m5c.outChannels, 64), 288, 8);
        InceptionB m6a = add("Mixed_6a", new InceptionB(m5d.outChannels), 0, 0);
        add("Mixed_6b", new InceptionC(m6a.outChannels, 128), 0, 0);
        add("Mixed_6c", new InceptionC(768, 160), 0, 0);
        add("Mixed_6d", new InceptionC(768, 160), 0, 0);
        add("Mixed_6e", new InceptionC(768, 192), 768, 16);
        InceptionD m7a = add("Mixed_7a", new InceptionD(768), 0, 0);
        InceptionE m7b = add("Mixed_7b", new InceptionE(m7a.outChannels), 0, 0);
        InceptionE m7c = add("Mixed_7c", new InceptionE(m7b.outChannels), 2048, 32);
        registerClassifierHead("fc", m7c.outChannels);
    }

    /** The flavour this model was built as. */
    public Config config() {
        return cfg;
    }

    @Override
    boolean transformsPretrainedInput() {
        return cfg.torchvision();
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code inception_v3} and torchvision's {@code tv/inception_v3}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "inception_v3";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            // the deprecated tf_/adv_/gluon_inception_v3 names are tags of inception_v3 in timm 1.0
            m.add(new ModelEntry(
                    "inception_v3",
                    "inception_v3",
                    args -> new InceptionV3(Config.timm(), args),
                    inceptionCfg("inception_v3")));
            m.add(ModelEntry.untrained(
                    "tv/inception_v3",
                    "torchvision",
                    args -> new InceptionV3(Config.tv(), args),
                    299,
                    "Conv2d_1a_3x3.conv",
                    "fc"));
            return m;
        }

        /** timm's _cfg for Inception v3: 299 px, bicubic, Inception mean and std (0.5). */
        private static PretrainedCfg inceptionCfg(String name) {
            List<Double> half = List.of(0.5, 0.5, 0.5);
            return new PretrainedCfg(
                    name,
                    "",
                    "",
                    "",
                    List.of(3, 299, 299),
                    "bicubic",
                    0.875,
                    "center",
                    half,
                    half,
                    1000,
                    "Conv2d_1a_3x3.conv",
                    "fc",
                    "apache-2.0",
                    "");
        }
    }
}
