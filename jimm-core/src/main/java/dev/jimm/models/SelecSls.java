package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.ConvNormActivation;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * SelecSLS (XNect's selective long and short range skip connections) as timm's {@code models/selecsls.py} builds it: a
 * stem, blocks that concatenate three conv outputs with a skip carried from the first block of their group, and a head
 * of four conv-BN-ReLU layers before the classifier.
 */
public final class SelecSls extends ImageModel {

    /**
     * One block (a row of timm's {@code cfg['features']}).
     *
     * @param inChs input channels
     * @param skipChs channels of the carried skip (0 for the first block of a group)
     * @param midChs width of the inner convs
     * @param outChs output channels
     * @param isFirst starts a group: its output is also the skip the group's later blocks take
     * @param stride stride of the first conv (1 or 2)
     */
    public record BlockArgs(int inChs, int skipChs, int midChs, int outChs, boolean isFirst, int stride) {}

    /**
     * One head layer (a row of timm's {@code cfg['head']}).
     *
     * @param inChs input channels
     * @param outChs output channels
     * @param kernel kernel size
     * @param stride stride
     */
    public record HeadArgs(int inChs, int outChs, int kernel, int stride) {}

    /**
     * A SelecSLS variant: its blocks, head layers, and the blocks whose outputs are feature levels.
     *
     * @param blocks the blocks after the stem
     * @param head the head conv layers
     * @param levelBlocks indices of the blocks ending the feature levels of stride 4, 8 and 16
     */
    public record Config(List<BlockArgs> blocks, List<HeadArgs> head, List<Integer> levelBlocks) {
        public Config {
            blocks = List.copyOf(blocks);
            head = List.copyOf(head);
            levelBlocks = List.copyOf(levelBlocks);
            if (head.size() != 4 || levelBlocks.size() != 3) {
                throw new IllegalArgumentException(
                        "SelecSLS needs 4 head layers and 3 level blocks, got " + head.size() + " and " + levelBlocks);
            }
        }

        /** A builder; blocks and head layers are added in order. */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} row by row. */
        public static final class Builder {
            private final List<BlockArgs> blocks = new ArrayList<>();
            private final List<HeadArgs> head = new ArrayList<>();
            private List<Integer> levelBlocks = List.of();

            private Builder() {}

            /** Appends a block: input, skip, inner and output channels, whether it starts a group, stride. */
            public Builder block(int in, int skip, int mid, int out, boolean isFirst, int stride) {
                blocks.add(new BlockArgs(in, skip, mid, out, isFirst, stride));
                return this;
            }

            /** Appends a head layer: input and output channels, kernel, stride. */
            public Builder head(int in, int out, int kernel, int stride) {
                head.add(new HeadArgs(in, out, kernel, stride));
                return this;
            }

            /** The blocks whose outputs are the feature levels of stride 4, 8 and 16. */
            public Builder levelBlocks(Integer... indices) {
                levelBlocks = List.of(indices);
                return this;
            }

            /** The config, checked by {@link Config}'s constructor. */
            public Config build() {
                return new Config(blocks, head, levelBlocks);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's conv_bn: a bias-free conv ({@code 0}), BatchNorm ({@code 1}) and ReLU, with symmetric padding. */
    private static ConvNormActivation convBn(int in, int out, int kernel, int stride) {
        return new ConvNormActivation(in, out, kernel, stride, 1, new BatchNorm2d(out), Activation.Kind.RELU);
    }

    /**
     * timm's SelecSlsBlock: three conv paths of growing depth, concatenated (with the carried skip unless the block
     * starts a group) and projected by a 1x1 conv.
     */
    static final class SelecSlsBlock extends Module {
        private final Module conv1;
        private final Module conv2;
        private final Module conv3;
        private final Module conv4;
        private final Module conv5;
        private final Module conv6;
        private final boolean isFirst;

        SelecSlsBlock(BlockArgs a) {
            if (a.stride() != 1 && a.stride() != 2) {
                throw new IllegalArgumentException("SelecSLS block stride " + a.stride() + " is not 1 or 2");
            }
            int mid = a.midChs();
            isFirst = a.isFirst();
            conv1 = register("conv1", convBn(a.inChs(), mid, 3, a.stride()));
            conv2 = register("conv2", convBn(mid, mid, 1, 1));
            conv3 = register("conv3", convBn(mid, mid / 2, 3, 1));
            conv4 = register("conv4", convBn(mid / 2, mid, 1, 1));
            conv5 = register("conv5", convBn(mid, mid / 2, 3, 1));
            conv6 = register("conv6", convBn(2 * mid + (isFirst ? 0 : a.skipChs()), a.outChs(), 1, 1));
        }

        /** The block's output and the skip the next block takes (its own output when it starts a group). */
        NDList forward(NDArray x, NDArray skip) {
            NDArray d1 = conv1.forward(x);
            NDArray d2 = conv3.forward(conv2.forward(d1));
            NDArray d3 = conv5.forward(conv4.forward(d2));
            if (isFirst) {
                NDArray out = conv6.forward(NDArrays.concat(new NDList(d1, d2, d3), 1));
                return new NDList(out, out);
            }
            return new NDList(conv6.forward(NDArrays.concat(new NDList(d1, d2, d3, skip), 1)), skip);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (!isFirst) {
                throw new IllegalStateException("a SelecSLS block inside a group needs the group's skip");
            }
            return forward(x, null).get(0);
        }
    }

    /** timm's SequentialList of blocks, the pair of output and skip passed along. */
    static final class Features extends Module {
        private final List<SelecSlsBlock> blocks = new ArrayList<>();

        Features(List<BlockArgs> args) {
            for (int i = 0; i < args.size(); i++) {
                blocks.add(register(Integer.toString(i), new SelecSlsBlock(args.get(i))));
            }
        }

        /** Runs blocks {@code from} to {@code to} (exclusive) on the pair of output and skip. */
        NDList forward(NDList pair, int from, int to) {
            for (int i = from; i < to; i++) {
                pair = blocks.get(i).forward(pair.get(0), pair.size() > 1 ? pair.get(1) : null);
            }
            return pair;
        }

        int size() {
            return blocks.size();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            // timm's SelectSeq after the blocks keeps the first of the pair
            return forward(new NDList(x), 0, blocks.size()).get(0);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module stem;
    private final Features features;
    private final Sequential head;

    public SelecSls(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        stem = register("stem", convBn(inChans, 32, 3, 2));
        features = register("features", new Features(cfg.blocks()));
        head = register("head", new Sequential());
        for (HeadArgs h : cfg.head()) {
            head.add(convBn(h.inChs(), h.outChs(), h.kernel(), h.stride()));
        }
        addFeatureInfo(32, 2, "stem.2");
        int reduction = 2;
        for (int i = 0; i < 3; i++) {
            reduction *= 2;
            int b = cfg.levelBlocks().get(i);
            addFeatureInfo(cfg.blocks().get(b).outChs(), reduction, "features." + b);
        }
        addFeatureInfo(cfg.head().get(1).outChs(), 32, "head.1");
        addFeatureInfo(cfg.head().get(3).outChs(), 64, "head.3");
        registerClassifierHead("fc", cfg.head().get(3).outChs());
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** timm's init: convs kaiming-normal (fan out); the rest keeps PyTorch's defaults. */
    @Override
    protected void initWeights(SplittableRandom random) {
        ConvNetInit.fanOutConvs().apply(this, random);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return head.forward(features.forward(stem.forward(x)));
    }

    /**
     * The levels after the stem, after the three level blocks and after head layers 1 and 3; the blocks pass the pair
     * of output and skip, so they run here rather than as trunk steps.
     */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        int[] take = resolveIndices(indices);
        int lastLevel = deepest(take);
        List<NDArray> all = new ArrayList<>();
        NDList pair = new NDList(stem.forward(x));
        all.add(pair.get(0));
        int done = 0;
        for (int i = 0; i < 3 && all.size() <= lastLevel; i++) {
            int b = cfg.levelBlocks().get(i);
            pair = features.forward(pair, done, b + 1);
            done = b + 1;
            all.add(pair.get(0));
        }
        if (all.size() <= lastLevel) {
            NDArray y = features.forward(pair, done, features.size()).get(0);
            for (int i = 0; i < 4 && all.size() <= lastLevel; i++) {
                y = head.get(i).forward(y);
                if (i == 1 || i == 3) {
                    all.add(y);
                }
            }
        }
        return select(all, take);
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers every name of timm's selecsls.py. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "selecsls";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "selecsls42", net42().head(1024, 1024, 3, 2).head(1024, 1280, 1, 1));
            add(m, "selecsls42b", net42().head(1024, 1280, 3, 2).head(1280, 1024, 1, 1));
            add(m, "selecsls60", net60().head(1024, 1024, 3, 2).head(1024, 1280, 1, 1));
            add(m, "selecsls60b", net60().head(1024, 1280, 3, 2).head(1280, 1024, 1, 1));
            add(
                    m,
                    "selecsls84",
                    Config.builder()
                            .block(32, 0, 64, 64, true, 2)
                            .block(64, 64, 64, 144, false, 1)
                            .block(144, 0, 144, 144, true, 2)
                            .block(144, 144, 144, 144, false, 1)
                            .block(144, 144, 144, 144, false, 1)
                            .block(144, 144, 144, 144, false, 1)
                            .block(144, 144, 144, 304, false, 1)
                            .block(304, 0, 304, 304, true, 2)
                            .block(304, 304, 304, 304, false, 1)
                            .block(304, 304, 304, 304, false, 1)
                            .block(304, 304, 304, 304, false, 1)
                            .block(304, 304, 304, 304, false, 1)
                            .block(304, 304, 304, 512, false, 1)
                            .levelBlocks(1, 6, 12)
                            .head(512, 960, 3, 2)
                            .head(960, 1024, 3, 1)
                            .head(1024, 1024, 3, 2)
                            .head(1024, 1280, 3, 1));
            return m;
        }

        /** SelecSLS-42's blocks and first two head layers. */
        private static Config.Builder net42() {
            return Config.builder()
                    .block(32, 0, 64, 64, true, 2)
                    .block(64, 64, 64, 128, false, 1)
                    .block(128, 0, 144, 144, true, 2)
                    .block(144, 144, 144, 288, false, 1)
                    .block(288, 0, 304, 304, true, 2)
                    .block(304, 304, 304, 480, false, 1)
                    .levelBlocks(1, 3, 5)
                    .head(480, 960, 3, 2)
                    .head(960, 1024, 3, 1);
        }

        /** SelecSLS-60's blocks and first two head layers. */
        private static Config.Builder net60() {
            return Config.builder()
                    .block(32, 0, 64, 64, true, 2)
                    .block(64, 64, 64, 128, false, 1)
                    .block(128, 0, 128, 128, true, 2)
                    .block(128, 128, 128, 128, false, 1)
                    .block(128, 128, 128, 288, false, 1)
                    .block(288, 0, 288, 288, true, 2)
                    .block(288, 288, 288, 288, false, 1)
                    .block(288, 288, 288, 288, false, 1)
                    .block(288, 288, 288, 416, false, 1)
                    .levelBlocks(1, 4, 8)
                    .head(416, 756, 3, 2)
                    .head(756, 1024, 3, 1);
        }

        private static void add(List<ModelEntry> m, String name, Config.Builder c) {
            Config cfg = c.build();
            m.add(new ModelEntry(name, "selecsls", args -> new SelecSls(cfg, args), defaultCfg(name)));
        }

        /** timm's selecsls {@code _cfg}: 224 pixels, bicubic (every tag), crop 0.875, ImageNet statistics. */
        private static PretrainedCfg defaultCfg(String name) {
            return PretrainedCfgOverride.untrained(name, 224, "stem.0", "fc", "bicubic", 0.875, "cc-by-4.0");
        }
    }
}
