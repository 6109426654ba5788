package dev.jimm.models;

import static dev.jimm.layers.BasicConv2d.conv;
import static dev.jimm.layers.BasicConv2d.convCol;
import static dev.jimm.layers.BasicConv2d.convRow;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.BasicConv2d;
import dev.jimm.layers.ConcatBranches;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.List;

/**
 * Inception-v4, as timm's {@code models/inception_v4.py} builds it (ported from Cadene's TensorFlow port): a
 * {@code features} Sequential of 22 modules (stem convs, {@code Mixed3a/4a/5a}, 4 Inception-A, Reduction-A, 7
 * Inception-B, Reduction-B, 3 Inception-C) and a classifier head {@code global_pool}, dropout, {@code last_linear}.
 *
 * <p>Every conv is timm's {@code ConvNormAct} ({@link BasicConv2d}: bias-free conv, BatchNorm eps 0.001, ReLU),
 * unpadded unless a padding is given. The branch pools are {@code AvgPool2d(3, 1, 1, count_include_pad=False)}, unlike
 * Inception v3's. timm's weights init is PyTorch's default.
 */
public final class InceptionV4 extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** The pooled branch: an average pool that leaves the padding out of its counts, then a 1x1 conv. */
    private static Sequential avgPoolConv(int in, int out) {
        return new Sequential(Pool2d.avg(3, 1, 1, false, false), conv(in, out, 1));
    }

    private static Pool2d maxPool3s2() {
        return Pool2d.max(3, 2, 0);
    }

    /** Stem: max pool beside a strided 3x3 conv (64 to 160 channels). */
    static ConcatBranches mixed3a() {
        return new ConcatBranches().add("maxpool", maxPool3s2()).add("conv", conv(64, 96, 3, 2, 0));
    }

    /** Stem: a 1x1-3x3 branch beside a 1x1-1x7-7x1-3x3 branch (160 to 192 channels). */
    static ConcatBranches mixed4a() {
        return new ConcatBranches()
                .add("branch0", new Sequential(conv(160, 64, 1), conv(64, 96, 3)))
                .add(
                        "branch1",
                        new Sequential(conv(160, 64, 1), convRow(64, 64, 7), convCol(64, 64, 7), conv(64, 96, 3)));
    }

    /** Stem: a strided conv beside a max pool (192 to 384 channels). */
    static ConcatBranches mixed5a() {
        return new ConcatBranches().add("conv", conv(192, 192, 3, 2, 0)).add("maxpool", maxPool3s2());
    }

    /** The 35x35 block (384 channels). */
    static ConcatBranches inceptionA() {
        return new ConcatBranches()
                .add("branch0", conv(384, 96, 1))
                .add("branch1", new Sequential(conv(384, 64, 1), conv(64, 96, 3, 1, 1)))
                .add("branch2", new Sequential(conv(384, 64, 1), conv(64, 96, 3, 1, 1), conv(96, 96, 3, 1, 1)))
                .add("branch3", avgPoolConv(384, 96));
    }

    /** 35x35 to 17x17 (384 to 1024 channels). */
    static ConcatBranches reductionA() {
        return new ConcatBranches()
                .add("branch0", conv(384, 384, 3, 2, 0))
                .add("branch1", new Sequential(conv(384, 192, 1), conv(192, 224, 3, 1, 1), conv(224, 256, 3, 2, 0)))
                .add("branch2", maxPool3s2());
    }

    /** The 17x17 block with factorized 7x7 convolutions (1024 channels). */
    static ConcatBranches inceptionB() {
        return new ConcatBranches()
                .add("branch0", conv(1024, 384, 1))
                .add("branch1", new Sequential(conv(1024, 192, 1), convRow(192, 224, 7), convCol(224, 256, 7)))
                .add(
                        "branch2",
                        new Sequential(
                                conv(1024, 192, 1),
                                convCol(192, 192, 7),
                                convRow(192, 224, 7),
                                convCol(224, 224, 7),
                                convRow(224, 256, 7)))
                .add("branch3", avgPoolConv(1024, 128));
    }

    /** 17x17 to 8x8 (1024 to 1536 channels). */
    static ConcatBranches reductionB() {
        return new ConcatBranches()
                .add("branch0", new Sequential(conv(1024, 192, 1), conv(192, 192, 3, 2, 0)))
                .add(
                        "branch1",
                        new Sequential(
                                conv(1024, 256, 1),
                                convRow(256, 256, 7),
                                convCol(256, 320, 7),
                                conv(320, 320, 3, 2, 0)))
                .add("branch2", maxPool3s2());
    }

    /** The 8x8 block whose branches split into 1x3 and 3x1 convs (1536 channels). */
    static final class InceptionC extends Module {
        private final Module branch0;
        private final Module branch1x0;
        private final Module branch1x1a;
        private final Module branch1x1b;
        private final Module branch2x0;
        private final Module branch2x1;
        private final Module branch2x2;
        private final Module branch2x3a;
        private final Module branch2x3b;
        private final Module branch3;

        InceptionC() {
            branch0 = register("branch0", conv(1536, 256, 1));
            branch1x0 = register("branch1_0", conv(1536, 384, 1));
            branch1x1a = register("branch1_1a", convRow(384, 256, 3));
            branch1x1b = register("branch1_1b", convCol(384, 256, 3));
            branch2x0 = register("branch2_0", conv(1536, 384, 1));
            branch2x1 = register("branch2_1", convCol(384, 448, 3));
            branch2x2 = register("branch2_2", convRow(448, 512, 3));
            branch2x3a = register("branch2_3a", convRow(512, 256, 3));
            branch2x3b = register("branch2_3b", convCol(512, 256, 3));
            branch3 = register("branch3", avgPoolConv(1536, 256));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray x0 = branch0.forward(x);
            NDArray x1 = branch1x0.forward(x);
            NDArray x2 = branch2x2.forward(branch2x1.forward(branch2x0.forward(x)));
            return NDArrays.concat(
                    new NDList(
                            x0,
                            branch1x1a.forward(x1),
                            branch1x1b.forward(x1),
                            branch2x3a.forward(x2),
                            branch2x3b.forward(x2),
                            branch3.forward(x)),
                    1);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** Channels of the last feature map (timm's num_features). */
    public static final int NUM_FEATURES = 1536;

    public InceptionV4(ModelArgs args) {
        super(args);
        Sequential features = register("features", new Sequential());
        add(features, conv(inChans, 32, 3, 2, 0));
        add(features, conv(32, 32, 3));
        add(features, conv(32, 64, 3, 1, 1));
        addFeatureInfo(64, 2, "features.2");
        add(features, mixed3a());
        addFeatureInfo(160, 4, "features.3");
        add(features, mixed4a());
        add(features, mixed5a());
        for (int i = 0; i < 4; i++) {
            add(features, inceptionA());
        }
        addFeatureInfo(384, 8, "features.9");
        add(features, reductionA());
        for (int i = 0; i < 7; i++) {
            add(features, inceptionB());
        }
        addFeatureInfo(1024, 16, "features.17");
        add(features, reductionB());
        for (int i = 0; i < 3; i++) {
            add(features, new InceptionC());
        }
        addFeatureInfo(NUM_FEATURES, 32, "features.21");
        registerClassifierHead("last_linear", NUM_FEATURES);
    }

    private void add(Sequential features, Module m) {
        features.add(addTrunkStep(m));
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code inception_v4}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "inception_v4";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(ModelEntry.untrained(
                    "inception_v4", "inception_v4", InceptionV4::new, 299, "features.0.conv", "last_linear"));
        }
    }
}
