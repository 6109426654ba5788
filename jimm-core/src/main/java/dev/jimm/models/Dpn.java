package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.ConvClassifier;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import java.util.ArrayList;
import java.util.List;

/**
 * Dual Path Networks, as timm's {@code models/dpn.py} builds them (compatible with cypw's MXNet weights): each block
 * adds to a residual path and appends to a densely connected path. timm passes the two paths between blocks as a tuple;
 * here they travel concatenated, residual channels first, which is what timm's blocks concatenate them into anyway,
 * what its features-only levels return ({@code feature_concat}) and what {@code conv5_bn_ac} normalizes.
 *
 * <p>Feature levels: {@code features.conv1_1} (stride 2, before the max pool) and the last block of each stage, both
 * paths concatenated; {@link #forwardFeatures} ends with {@code conv5_bn_ac}. The classifier is a 1x1 conv (timm's
 * {@code use_conv}), so it also runs on unpooled maps ({@code globalPool} "" with classes gives per-pixel logits).
 */
public final class Dpn extends ImageModel {

    /**
     * A DPN variant, the arguments of timm's {@code DPN}.
     *
     * @param small the small stem (3x3 conv) and narrower blocks (DPN-48/68)
     * @param numInitFeatures stem channels
     * @param kR the 3x3 path's width relative to the stage's residual width
     * @param groups groups of the 3x3 convs
     * @param b the "b" blocks: the last 1x1 conv split in two after a norm of its own
     * @param kSec blocks per stage
     * @param incSec dense-path channels each block of a stage adds
     * @param act the stem's and final norm's activation (the blocks' norms always use ReLU, as timm's do)
     */
    public record Config(
            boolean small,
            int numInitFeatures,
            int kR,
            int groups,
            boolean b,
            List<Integer> kSec,
            List<Integer> incSec,
            Activation.Kind act) {
        public Config {
            kSec = List.copyOf(kSec);
            incSec = List.copyOf(incSec);
            if (kSec.size() != 4 || incSec.size() != 4) {
                throw new IllegalArgumentException(
                        "DPN needs 4 stage depths and 4 dense increments, got " + kSec + " and " + incSec);
            }
        }

        /** A variant with ReLU and the plain blocks. */
        public static Config of(
                boolean small, int numInitFeatures, int kR, int groups, List<Integer> kSec, List<Integer> incSec) {
            return new Config(small, numInitFeatures, kR, groups, false, kSec, incSec, Activation.Kind.RELU);
        }

        /** The same variant with the "b" blocks. */
        public Config withB() {
            return new Config(small, numInitFeatures, kR, groups, true, kSec, incSec, act);
        }

        /** The same variant with another stem and final activation. */
        public Config withAct(Activation.Kind newAct) {
            return new Config(small, numInitFeatures, kR, groups, b, kSec, incSec, newAct);
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    // timm's norms here: BatchNormAct2d with eps 0.001
    private static BatchNormAct2d norm(int channels, Activation.Kind act) {
        return new BatchNormAct2d(channels, 0.001f, act);
    }

    /** timm's {@code ConvNormAct} of the stem: {@code conv}, then {@code bn} with the activation. */
    static ConvNormAct convNormAct(int in, int out, int kernel, int stride, Activation.Kind act) {
        return new ConvNormAct(VovNet.conv(in, out, kernel, stride, 1), norm(out, act));
    }

    /** timm's {@code BnActConv2d}: a pre-activation conv, {@code bn} (with ReLU) then {@code conv}. */
    static final class BnActConv2d extends Module {
        private final Module bn;
        private final Module conv;

        BnActConv2d(int in, int out, int kernel, int stride, int groups) {
            bn = register("bn", norm(in, Activation.Kind.RELU));
            conv = register("conv", VovNet.conv(in, out, kernel, stride, groups));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return conv.forward(bn.forward(x));
        }
    }

    /** timm's {@code CatBnAct}: the norm and activation of the (already concatenated) paths, under {@code bn}. */
    static final class CatBnAct extends Module {
        private final Module bn;

        CatBnAct(int channels, Activation.Kind act) {
            bn = register("bn", norm(channels, act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return bn.forward(x);
        }
    }

    /** How a block joins its input: timm's {@code block_type}. */
    enum BlockType {
        /** the stage's first block: a 1x1 projection of the input starts both paths */
        PROJ,
        /** as PROJ, strided */
        DOWN,
        /** the paths carry on */
        NORMAL
    }

    /**
     * timm's {@code DualPathBlock}. Its input is the previous block's paths concatenated (residual channels first) or,
     * for the first block, the stem's output; its output is {@code [residual + out1, dense, out2]}.
     */
    static final class DualPathBlock extends Module {
        private final int num1x1c;
        private final Module proj;
        private final Module c1x1a;
        private final Module c3x3b;
        private final Module c1x1c;
        private final Module c1x1c1;
        private final Module c1x1c2;

        DualPathBlock(int in, int num1x1a, int num3x3b, int num1x1c, int inc, int groups, BlockType type, boolean b) {
            this.num1x1c = num1x1c;
            proj = switch (type) {
                case PROJ -> register("c1x1_w_s1", new BnActConv2d(in, num1x1c + 2 * inc, 1, 1, 1));
                case DOWN -> register("c1x1_w_s2", new BnActConv2d(in, num1x1c + 2 * inc, 1, 2, 1));
                case NORMAL -> null;
            };
            c1x1a = register("c1x1_a", new BnActConv2d(in, num1x1a, 1, 1, 1));
            c3x3b = register("c3x3_b", new BnActConv2d(num1x1a, num3x3b, 3, type == BlockType.DOWN ? 2 : 1, groups));
            if (b) {
                c1x1c = register("c1x1_c", new CatBnAct(num3x3b, Activation.Kind.RELU));
                c1x1c1 = register("c1x1_c1", VovNet.conv(num3x3b, num1x1c, 1, 1, 1));
                c1x1c2 = register("c1x1_c2", VovNet.conv(num3x3b, inc, 1, 1, 1));
            } else {
                c1x1c = register("c1x1_c", new BnActConv2d(num3x3b, num1x1c + inc, 1, 1, 1));
                c1x1c1 = null;
                c1x1c2 = null;
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray paths = proj == null ? x : proj.forward(x);
            NDArray residual = paths.get(new NDIndex(":, :{}", num1x1c));
            NDArray dense = paths.get(new NDIndex(":, {}:", num1x1c));
            NDArray y = c1x1c.forward(c3x3b.forward(c1x1a.forward(x)));
            NDArray out1;
            NDArray out2;
            if (c1x1c1 != null) {
                out1 = c1x1c1.forward(y);
                out2 = c1x1c2.forward(y);
            } else {
                out1 = y.get(new NDIndex(":, :{}", num1x1c));
                out2 = y.get(new NDIndex(":, {}:", num1x1c));
            }
            return NDArrays.concat(new NDList(residual.add(out1), dense, out2), 1);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final int numFeatures;
    private GlobalPool pool;
    private Module classifier;

    public Dpn(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int bwFactor = cfg.small() ? 1 : 4;
        NamedSequential features = register("features", new NamedSequential());

        int init = cfg.numInitFeatures();
        addTrunkStep(addTo(features, "conv1_1", convNormAct(inChans, init, cfg.small() ? 3 : 7, 2, cfg.act())));
        addFeatureInfo(init, 2, "features.conv1_1");
        addTrunkStep(addTo(features, "conv1_pool", Pool2d.max(3, 2, 1)));

        int in = init;
        int reduction = 4;
        for (int s = 0; s < 4; s++) {
            int bw = (64 << s) * bwFactor;
            int inc = cfg.incSec().get(s);
            int r = cfg.kR() * bw / (64 * bwFactor);
            String prefix = "conv" + (s + 2) + "_";
            BlockType first = s == 0 ? BlockType.PROJ : BlockType.DOWN;
            addTrunkStep(
                    addTo(features, prefix + 1, new DualPathBlock(in, r, r, bw, inc, cfg.groups(), first, cfg.b())));
            in = bw + 3 * inc;
            for (int i = 2; i <= cfg.kSec().get(s); i++) {
                addTrunkStep(addTo(
                        features,
                        prefix + i,
                        new DualPathBlock(in, r, r, bw, inc, cfg.groups(), BlockType.NORMAL, cfg.b())));
                in += inc;
            }
            addFeatureInfo(in, reduction, "features." + prefix + cfg.kSec().get(s));
            reduction *= 2;
        }
        addTrunkStep(addTo(features, "conv5_bn_ac", new CatBnAct(in, cfg.act())));

        numFeatures = in;
        setNumFeatures(in);
        registerHead(numClasses, globalPool);
    }

    private static <M extends Module> M addTo(NamedSequential seq, String name, M module) {
        seq.add(name, module);
        return module;
    }

    // timm's create_classifier(use_conv=True): the pool keeps [N, C, 1, 1], the classifier is a 1x1 conv
    private void registerHead(int classes, String poolType) {
        Module fc = ConvClassifier.fc(numFeatures, classes, poolType);
        pool = register("global_pool", new GlobalPool(poolType, false));
        classifier = register("classifier", fc);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return ConvClassifier.forward(pool, classifier, x, (float) dropRate, isTraining(), preLogits);
    }

    /**
     * Replaces the classifier (a 1x1 conv, or an identity for 0 classes) and the pooling. Unlike most heads this one
     * also runs without pooling, on every pixel.
     */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String p = GlobalPool.validate(newGlobalPool);
        numClasses = newNumClasses;
        globalPool = p;
        registerHead(newNumClasses, p);
    }

    /** As timm's {@code DPN.reset_classifier(num_classes)}: the pooling goes back to "avg". */
    @Override
    public void resetClassifier(int newNumClasses) {
        resetClassifier(newNumClasses, "avg");
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers every name of timm's dpn.py. */
    public static final class Family implements ModelFamily {
        /** timm's IMAGENET_DPN_MEAN and IMAGENET_DPN_STD, of the MXNet weights. */
        private static final List<Double> DPN_MEAN = List.of(124 / 255.0, 117 / 255.0, 104 / 255.0);

        private static final List<Double> DPN_STD = List.of(1 / (.0167 * 255), 1 / (.0167 * 255), 1 / (.0167 * 255));

        @Override
        public String name() {
            return "dpn";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            List<Integer> small = List.of(16, 32, 32, 64);
            Config dpn68 = Config.of(true, 10, 128, 32, List.of(3, 4, 12, 3), small);
            add(
                    m,
                    "dpn48b",
                    Config.of(true, 10, 128, 32, List.of(3, 4, 6, 3), small)
                            .withB()
                            .withAct(Activation.Kind.SILU),
                    false);
            add(m, "dpn68", dpn68, true);
            add(m, "dpn68b", dpn68.withB(), true);
            add(m, "dpn92", Config.of(false, 64, 96, 32, List.of(3, 4, 20, 3), List.of(16, 32, 24, 128)), true);
            add(m, "dpn98", Config.of(false, 96, 160, 40, List.of(3, 6, 20, 3), List.of(16, 32, 32, 128)), true);
            add(m, "dpn131", Config.of(false, 128, 160, 40, List.of(4, 8, 28, 3), List.of(16, 32, 32, 128)), true);
            add(m, "dpn107", Config.of(false, 128, 200, 50, List.of(4, 8, 20, 3), List.of(20, 64, 64, 128)), true);
            return m;
        }

        // timm's _cfg for a name the weights table lacks: bicubic, crop 0.875, the MXNet statistics or ImageNet's
        private static void add(List<ModelEntry> m, String name, Config c, boolean mxStats) {
            PretrainedCfg fallback = PretrainedCfgOverride.of(
                    PretrainedCfg.untrained(name, 224, "features.conv1_1.conv", "classifier"),
                    "bicubic",
                    0.875,
                    mxStats ? DPN_MEAN : PretrainedCfg.IMAGENET_MEAN,
                    mxStats ? DPN_STD : PretrainedCfg.IMAGENET_STD,
                    "apache-2.0");
            m.add(new ModelEntry(name, "dpn", args -> new Dpn(c, args), fallback));
        }
    }
}
