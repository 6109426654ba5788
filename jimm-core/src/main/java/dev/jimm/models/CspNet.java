package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Cross Stage Partial networks as timm's {@code models/cspnet.py} builds them: CSPResNet(X)t, CSPDarkNet, DarkNet and
 * the CS3 variants (CS3DarkNet with or without a focus stem, SE, and the EdgeNet blocks). A stage splits its expanded
 * input in two halves, runs blocks on one and joins them again by a transition conv; DarkNet stages have no split.
 */
public final class CspNet extends ImageModel {

    /** How a stage joins its two halves (timm's {@code stage_type}). */
    public enum StageType {
        /** timm's CrossStage: blocks on the second half, a transition conv on them, then one on the join */
        CSP,
        /** timm's CrossStage3: blocks on the first half, one transition conv on the join */
        CS3,
        /** timm's DarkStage: a downsampling conv then blocks, no split */
        DARK
    }

    /** The residual block of a stage (timm's {@code block_type}). */
    public enum BlockType {
        /** ResNe(X)t bottleneck: 1x1, 3x3, 1x1, activation after the sum */
        BOTTLE,
        /** DarkNet block: 1x1 then 3x3 */
        DARK,
        /** EdgeResidual block: 3x3 then 1x1 */
        EDGE
    }

    /** SE reduction of timm's {@code attn_layer='se'} without {@code attn_kwargs}. */
    public static final double SE_RATIO = 1.0 / 16;

    /**
     * The stem (timm's {@code CspStemCfg}): one conv per width, the first strided; a 3x3 max pool or a strided last
     * conv makes stride 4.
     *
     * @param outChs widths of the stem convs
     * @param stride total stride: 1, 2 or 4
     * @param kernelSize kernel of every stem conv
     * @param padding padding of the first conv, or -1 for timm's symmetric default
     * @param pool a 3x3 max pool of stride 2 at the end (stride 4 only)
     */
    public record Stem(List<Integer> outChs, int stride, int kernelSize, int padding, boolean pool) {
        public Stem {
            outChs = List.copyOf(outChs);
            if (outChs.isEmpty() || (stride != 1 && stride != 2 && stride != 4) || (pool && stride != 4)) {
                throw new IllegalArgumentException("CSP stem widths " + outChs + ", stride " + stride + ", pool " + pool
                        + ": needs widths, stride 1, 2 or 4, and a pool only at stride 4");
            }
        }
    }

    /**
     * One stage (timm's {@code CspStagesCfg} at one index).
     *
     * @param depth blocks
     * @param outChs output channels
     * @param stride stride of the first conv (1 or 2)
     * @param groups groups of the 3x3 convs
     * @param blockRatio block width relative to {@code outChs}
     * @param bottleRatio bottleneck width of a block relative to its output
     * @param avgDown downsample by a 2x2 average pool and a 1x1 conv instead of a strided 3x3 conv
     * @param seRatio SE reduction ratio in the blocks (0: no attention)
     * @param stageType how the stage joins its halves
     * @param blockType the block
     * @param expandRatio width of the expansion conv relative to {@code outChs} (cross stages)
     * @param crossLinear no activation after the expansion conv (cross stages)
     * @param downGrowth the downsampling conv widens to {@code outChs} (cross stages)
     */
    public record Stage(
            int depth,
            int outChs,
            int stride,
            int groups,
            double blockRatio,
            double bottleRatio,
            boolean avgDown,
            double seRatio,
            StageType stageType,
            BlockType blockType,
            double expandRatio,
            boolean crossLinear,
            boolean downGrowth) {}

    /**
     * A CSPNet variant, timm's {@code CspModelCfg}. Made by {@link #builder()} or {@link #cs3}; {@link #toBuilder()}
     * derives variants.
     *
     * @param stem the stem
     * @param stages the stages, shallow to deep
     * @param act the activation of every conv, block and SE
     */
    public record Config(Stem stem, List<Stage> stages, Activation.Kind act) {
        public Config {
            stages = List.copyOf(stages);
        }

        /** A builder with timm's defaults: a 3x3 stem of 32 channels, stride 2, CSP stages of bottlenecks. */
        public static Builder builder() {
            return new Builder();
        }

        /**
         * timm's {@code _cs3_cfg}: a CS3 darknet scaled by width (channels rounded to 8) and depth (blocks truncated),
         * SiLU, blocks of half the stage width.
         */
        public static Builder cs3(double widthMultiplier, double depthMultiplier) {
            int[] depths = {3, 6, 9, 3};
            int[] widths = {128, 256, 512, 1024};
            for (int i = 0; i < 4; i++) {
                depths[i] = (int) (depths[i] * depthMultiplier);
                widths[i] = Layers.makeDivisible(widths[i] * widthMultiplier, 8);
            }
            return builder()
                    .stem(
                            3,
                            2,
                            false,
                            Layers.makeDivisible(32 * widthMultiplier, 8),
                            Layers.makeDivisible(64 * widthMultiplier, 8))
                    .depths(depths)
                    .outChs(widths)
                    .blockRatio(0.5)
                    .stageType(StageType.CS3)
                    .blockType(BlockType.DARK)
                    .act(Activation.Kind.SILU);
        }

        /** A builder holding this variant's fields. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /**
         * Builds a {@link Config}. Per-stage settings take one value per stage; fewer are padded with the last one and
         * more are cut, as timm's {@code _pad_arg}.
         */
        public static final class Builder {
            private int[] stemChs = {32};
            private int stemStride = 2;
            private int stemKernel = 3;
            private int stemPadding = -1;
            private boolean stemPool;
            private int[] depths;
            private int[] outChs;
            private int[] strides = {2};
            private int[] groups = {1};
            private double[] blockRatio = {1.0};
            private double[] bottleRatio = {1.0};
            private boolean avgDown;
            private double seRatio;
            private StageType[] stageType = {StageType.CSP};
            private BlockType[] blockType = {BlockType.BOTTLE};
            private double[] expandRatio = {1.0};
            private boolean crossLinear;
            private boolean downGrowth;
            private Activation.Kind act = Activation.Kind.LEAKY_RELU;

            private Builder() {}

            private Builder(Config c) {
                stemChs = c.stem().outChs().stream().mapToInt(Integer::intValue).toArray();
                stemStride = c.stem().stride();
                stemKernel = c.stem().kernelSize();
                stemPadding = c.stem().padding();
                stemPool = c.stem().pool();
                List<Stage> s = c.stages();
                depths = s.stream().mapToInt(Stage::depth).toArray();
                outChs = s.stream().mapToInt(Stage::outChs).toArray();
                strides = s.stream().mapToInt(Stage::stride).toArray();
                groups = s.stream().mapToInt(Stage::groups).toArray();
                blockRatio = s.stream().mapToDouble(Stage::blockRatio).toArray();
                bottleRatio = s.stream().mapToDouble(Stage::bottleRatio).toArray();
                avgDown = s.get(0).avgDown();
                seRatio = s.get(0).seRatio();
                stageType = s.stream().map(Stage::stageType).toArray(StageType[]::new);
                blockType = s.stream().map(Stage::blockType).toArray(BlockType[]::new);
                expandRatio = s.stream().mapToDouble(Stage::expandRatio).toArray();
                crossLinear = s.get(0).crossLinear();
                downGrowth = s.get(0).downGrowth();
                act = c.act();
            }

            /** The stem: kernel, total stride (1, 2 or 4), a max pool (stride 4 only), and one conv per width. */
            public Builder stem(int kernel, int stride, boolean pool, int... widths) {
                stemKernel = kernel;
                stemStride = stride;
                stemPool = pool;
                stemChs = widths.clone();
                return this;
            }

            /** Padding of the first stem conv (default -1: timm's symmetric padding). */
            public Builder stemPadding(int value) {
                stemPadding = value;
                return this;
            }

            /** Blocks per stage (required; gives the number of stages). */
            public Builder depths(int... values) {
                depths = values.clone();
                return this;
            }

            /** Output channels per stage (required, as many as depths). */
            public Builder outChs(int... values) {
                outChs = values.clone();
                return this;
            }

            /** Stride per stage (default 2). */
            public Builder strides(int... values) {
                strides = values.clone();
                return this;
            }

            /** Groups of the 3x3 convs per stage (default 1). */
            public Builder groups(int... values) {
                groups = values.clone();
                return this;
            }

            /** Block width relative to the stage's output per stage (default 1). */
            public Builder blockRatio(double... values) {
                blockRatio = values.clone();
                return this;
            }

            /** Bottleneck width relative to the block's output per stage (default 1). */
            public Builder bottleRatio(double... values) {
                bottleRatio = values.clone();
                return this;
            }

            /** Expansion conv width relative to the stage's output per stage (default 1). */
            public Builder expandRatio(double... values) {
                expandRatio = values.clone();
                return this;
            }

            /** Average-pool downsampling in every stage (default off). */
            public Builder avgDown(boolean value) {
                avgDown = value;
                return this;
            }

            /** SE attention of this reduction ratio in every block (default 0: none). */
            public Builder se(double ratio) {
                seRatio = ratio;
                return this;
            }

            /** Stage kind per stage (default CSP). */
            public Builder stageType(StageType... values) {
                stageType = values.clone();
                return this;
            }

            /** Block kind per stage (default bottleneck). */
            public Builder blockType(BlockType... values) {
                blockType = values.clone();
                return this;
            }

            /** No activation after the expansion conv (default off). */
            public Builder crossLinear(boolean value) {
                crossLinear = value;
                return this;
            }

            /** The downsampling conv widens to the stage's output (default off). */
            public Builder downGrowth(boolean value) {
                downGrowth = value;
                return this;
            }

            /** The activation (default leaky ReLU). */
            public Builder act(Activation.Kind value) {
                act = value;
                return this;
            }

            /** The config, failing when depths and widths are missing or of different lengths. */
            public Config build() {
                if (depths == null || outChs == null || depths.length == 0 || depths.length != outChs.length) {
                    throw new IllegalArgumentException("CSPNet needs as many stage depths as widths, got depths "
                            + Arrays.toString(depths) + " and widths " + Arrays.toString(outChs));
                }
                List<Stage> stages = new ArrayList<>();
                for (int i = 0; i < depths.length; i++) {
                    stages.add(new Stage(
                            depths[i],
                            outChs[i],
                            strides[Math.min(i, strides.length - 1)],
                            groups[Math.min(i, groups.length - 1)],
                            blockRatio[Math.min(i, blockRatio.length - 1)],
                            bottleRatio[Math.min(i, bottleRatio.length - 1)],
                            avgDown,
                            seRatio,
                            stageType[Math.min(i, stageType.length - 1)],
                            blockType[Math.min(i, blockType.length - 1)],
                            expandRatio[Math.min(i, expandRatio.length - 1)],
                            crossLinear,
                            downGrowth));
                }
                List<Integer> stem = Arrays.stream(stemChs).boxed().toList();
                return new Config(new Stem(stem, stemStride, stemKernel, stemPadding, stemPool), stages, act);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's ConvNormAct as CSPNet builds it: symmetric padding unless a {@code padding} of 0 or more is given. */
    static ConvNormAct convNormAct(
            int in, int out, int kernel, int stride, int groups, int padding, Activation.Kind act) {
        if (padding < 0) {
            return ConvNormAct.batchNorm(in, out, kernel, stride, 1, groups, act);
        }
        Conv2d conv = new Conv2d(in, out, kernel, new Conv2d.Options(stride, padding, 1, groups, false));
        return new ConvNormAct(conv, new BatchNormAct2d(out, 1e-5f, act));
    }

    static ConvNormAct convNormAct(int in, int out, int kernel, int stride, int groups, Activation.Kind act) {
        return ConvNormAct.batchNorm(in, out, kernel, stride, 1, groups, act);
    }

    /** timm's SEModule of a block, with the block's activation; an identity without attention. */
    private static Module attention(double seRatio, int channels, Activation.Kind act) {
        if (seRatio <= 0) {
            return new Identity();
        }
        return new SqueezeExcite(
                channels, Layers.makeDivisible(channels * seRatio, 8, 0.0), act, Activation.Kind.SIGMOID);
    }

    /** A residual block of a stage, whose last norm timm's zero_init_last zeroes. */
    abstract static class Block extends Module {
        abstract BatchNormAct2d lastNorm();
    }

    /** timm's BottleneckBlock: 1x1, grouped 3x3, SE, 1x1 without activation, the sum, then the activation. */
    static final class BottleneckBlock extends Block {
        private final Module conv1;
        private final Module conv2;
        private final Module attn2;
        private final ConvNormAct conv3;
        private final Module attn3;
        private final Module dropPath;
        private final Activation.Kind act;

        BottleneckBlock(int in, int out, double bottleRatio, int groups, Stage st, Activation.Kind act, double dpr) {
            int mid = (int) Math.rint(out * bottleRatio);
            conv1 = register("conv1", convNormAct(in, mid, 1, 1, 1, act));
            conv2 = register("conv2", convNormAct(mid, mid, 3, 1, groups, act));
            attn2 = register("attn2", attention(st.seRatio(), mid, act));
            conv3 = register("conv3", convNormAct(mid, out, 1, 1, 1, Activation.Kind.IDENTITY));
            // timm's attn_last is never set in its configs
            attn3 = register("attn3", new Identity());
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
            this.act = act;
            register("act3", new Activation(act));
        }

        @Override
        BatchNormAct2d lastNorm() {
            return (BatchNormAct2d) conv3.norm();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = attn2.forward(conv2.forward(conv1.forward(x)));
            y = attn3.forward(conv3.forward(y));
            return Activation.apply(act, dropPath.forward(y).add(x));
        }
    }

    /** timm's DarkBlock (1x1, SE, 3x3) and EdgeBlock (3x3, SE, 1x1), each added to its input. */
    static final class DarkOrEdgeBlock extends Block {
        private final Module conv1;
        private final Module attn;
        private final ConvNormAct conv2;
        private final Module dropPath;

        DarkOrEdgeBlock(
                boolean edge,
                int in,
                int out,
                double bottleRatio,
                int groups,
                Stage st,
                Activation.Kind act,
                double dpr) {
            int mid = (int) Math.rint(out * bottleRatio);
            conv1 = register(
                    "conv1", edge ? convNormAct(in, mid, 3, 1, groups, act) : convNormAct(in, mid, 1, 1, 1, act));
            attn = register("attn", attention(st.seRatio(), mid, act));
            conv2 = register(
                    "conv2", edge ? convNormAct(mid, out, 1, 1, 1, act) : convNormAct(mid, out, 3, 1, groups, act));
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        BatchNormAct2d lastNorm() {
            return (BatchNormAct2d) conv2.norm();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = conv2.forward(attn.forward(conv1.forward(x)));
            return dropPath.forward(y).add(x);
        }
    }

    private static Block block(Stage st, int in, int out, Activation.Kind act, double dpr) {
        return switch (st.blockType()) {
            case BOTTLE -> new BottleneckBlock(in, out, st.bottleRatio(), st.groups(), st, act, dpr);
            case DARK -> new DarkOrEdgeBlock(false, in, out, st.bottleRatio(), st.groups(), st, act, dpr);
            case EDGE -> new DarkOrEdgeBlock(true, in, out, st.bottleRatio(), st.groups(), st, act, dpr);
        };
    }

    /**
     * A stage's downsampling (timm's {@code conv_down}): a strided 3x3 conv, or with {@code avgDown} a 2x2 average pool
     * (at stride 2) and a 1x1 conv to {@code avgOut} channels.
     */
    private static Module convDown(Stage st, int in, int out, int avgOut, Activation.Kind act) {
        if (st.avgDown()) {
            return new Sequential(
                    st.stride() == 2 ? Pool2d.avg(2, 2, 0, false, true) : new Identity(),
                    convNormAct(in, avgOut, 1, 1, st.groups(), act));
        }
        return convNormAct(in, out, 3, st.stride(), st.groups(), act);
    }

    /** The blocks of a stage, the first taking {@code in} channels. */
    private static Sequential blocks(Stage st, int in, int out, Activation.Kind act, double[] dpr) {
        Sequential blocks = new Sequential();
        for (int i = 0; i < st.depth(); i++) {
            blocks.add(block(st, i == 0 ? in : out, out, act, dpr[i]));
        }
        return blocks;
    }

    /**
     * timm's CrossStage and CrossStage3: downsample, expand by a 1x1 conv, split in halves, blocks on one half, join.
     */
    static final class CrossStage extends Module {
        private final boolean cs3;
        private final Module convDown;
        private final Module convExp;
        private final Module blocks;
        private final Module convTransitionB;
        private final Module convTransition;
        private final int half;

        CrossStage(Stage st, int in, Activation.Kind act, double[] dpr) {
            cs3 = st.stageType() == StageType.CS3;
            int downChs = st.downGrowth() ? st.outChs() : in;
            int expChs = (int) Math.rint(st.outChs() * st.expandRatio());
            int blockOut = (int) Math.rint(st.outChs() * st.blockRatio());
            int prev = in;
            if (st.stride() != 1) {
                convDown = register("conv_down", convDown(st, in, downChs, st.outChs(), act));
                prev = downChs;
            } else {
                // CrossStage registers an identity, CrossStage3 nothing
                convDown = cs3 ? null : register("conv_down", new Identity());
            }
            convExp = register(
                    "conv_exp", convNormAct(prev, expChs, 1, 1, 1, st.crossLinear() ? Activation.Kind.IDENTITY : act));
            half = expChs / 2;
            blocks = register("blocks", blocks(st, half, blockOut, act, dpr));
            convTransitionB = cs3 ? null : register("conv_transition_b", convNormAct(blockOut, half, 1, 1, 1, act));
            convTransition = register("conv_transition", convNormAct(expChs, st.outChs(), 1, 1, 1, act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (convDown != null) {
                x = convDown.forward(x);
            }
            NDList parts = convExp.forward(x).split(new long[] {half}, 1);
            NDArray joined;
            if (cs3) {
                joined = NDArrays.concat(new NDList(blocks.forward(parts.get(0)), parts.get(1)), 1);
            } else {
                NDArray b = convTransitionB.forward(blocks.forward(parts.get(1)));
                joined = NDArrays.concat(new NDList(parts.get(0), b), 1);
            }
            return convTransition.forward(joined);
        }
    }

    /** timm's DarkStage: a downsampling conv, then the blocks. */
    static final class DarkStage extends Module {
        private final Module convDown;
        private final Module blocks;

        DarkStage(Stage st, int in, Activation.Kind act, double[] dpr) {
            convDown = register("conv_down", convDown(st, in, st.outChs(), st.outChs(), act));
            blocks = register(
                    "blocks", blocks(st, st.outChs(), (int) Math.rint(st.outChs() * st.blockRatio()), act, dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(convDown.forward(x));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;

    /** A feature level found before it is known to be kept (timm drops one that a stride-1 stage follows). */
    private record Level(int channels, int reduction, String module, int step) {}

    public CspNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        Activation.Kind act = cfg.act();

        // timm's create_csp_stem: a level ends before each later strided conv and before the pool
        Stem stemCfg = cfg.stem();
        NamedSequential stem = register("stem", new NamedSequential());
        int step = -1;
        int prev = inChans;
        int stride = 1;
        Level pending = null;
        int last = stemCfg.outChs().size() - 1;
        for (int i = 0; i <= last; i++) {
            int chs = stemCfg.outChs().get(i);
            boolean strided =
                    (i == 0 && stemCfg.stride() > 1) || (i == last && stemCfg.stride() > 2 && !stemCfg.pool());
            int convStride = strided ? 2 : 1;
            if (strided && pending != null) {
                addLevel(pending);
            }
            String name = "conv" + (i + 1);
            ConvNormAct conv =
                    convNormAct(prev, chs, stemCfg.kernelSize(), convStride, 1, i == 0 ? stemCfg.padding() : -1, act);
            stem.add(name, conv);
            addTrunkStep(conv);
            step++;
            stride *= convStride;
            prev = chs;
            pending = new Level(prev, stride, "stem." + name, step);
        }
        if (stemCfg.pool()) {
            addLevel(pending);
            Pool2d pool = Pool2d.max(3, 2, 1);
            stem.add("pool", pool);
            addTrunkStep(pool);
            step++;
            stride *= 2;
            pending = new Level(prev, stride, "stem.pool", step);
        }

        // timm's create_csp_stages: the level before a strided stage is kept
        Sequential stages = register("stages", new Sequential());
        List<Stage> st = cfg.stages();
        double[][] dpr = DropPath.schedule(
                args.dropPathRate(), st.stream().map(Stage::depth).toList());
        for (int s = 0; s < st.size(); s++) {
            Stage stage = st.get(s);
            if (stage.stride() != 1) {
                addLevel(pending);
            }
            Module m = stage.stageType() == StageType.DARK
                    ? new DarkStage(stage, prev, act, dpr[s])
                    : new CrossStage(stage, prev, act, dpr[s]);
            stages.add(m);
            addTrunkStep(m);
            step++;
            stride *= stage.stride();
            prev = stage.outChs();
            pending = new Level(prev, stride, "stages." + s, step);
        }
        addLevel(pending);
        registerNestedClassifierHead("head", prev);
    }

    private void addLevel(Level l) {
        addFeatureInfo(l.channels(), l.reduction(), l.module(), l.step());
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /**
     * timm's {@code _init_weights}: convs kaiming-normal (fan out) with zero biases, linear layers normal 0.01 with
     * zero biases, and with zero_init_last each block's last norm weight at zero.
     */
    @Override
    protected void initWeights(SplittableRandom random) {
        ConvNetInit.fanOutConvs()
                .withZeroConvBiases()
                .withLinearStd(0.01)
                .withZeroLinearBiases()
                .apply(this, random);
        for (Module m : namedModules().values()) {
            if (m instanceof Block b && zeroInitLast) {
                Init.constant(b.lastNorm().weight().getArray(), 0f);
            }
        }
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers every name of timm's cspnet.py. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "cspnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Config resnet = Config.builder()
                    .stem(7, 4, true, 64)
                    .depths(3, 3, 5, 2)
                    .outChs(128, 256, 512, 1024)
                    .strides(1, 2)
                    .expandRatio(2.0)
                    .bottleRatio(0.5)
                    .crossLinear(true)
                    .build();
            Config resnetWide = resnet.toBuilder()
                    .outChs(256, 512, 1024, 2048)
                    .expandRatio(1.0)
                    .bottleRatio(0.25)
                    .blockRatio(0.5)
                    .build();
            add(m, "cspresnet50", resnet, "bilinear");
            add(
                    m,
                    "cspresnet50d",
                    resnet.toBuilder().stem(3, 4, true, 32, 32, 64).build(),
                    "bilinear");
            add(
                    m,
                    "cspresnet50w",
                    resnetWide.toBuilder().stem(3, 4, true, 32, 32, 64).build(),
                    "bilinear");
            add(
                    m,
                    "cspresnext50",
                    resnetWide.toBuilder().groups(32).bottleRatio(1.0).build(),
                    "bilinear");

            Config dark53 = Config.builder()
                    .stem(3, 1, false, 32)
                    .depths(1, 2, 8, 8, 4)
                    .outChs(64, 128, 256, 512, 1024)
                    .bottleRatio(0.5)
                    .stageType(StageType.DARK)
                    .blockType(BlockType.DARK)
                    .build();
            add(
                    m,
                    "cspdarknet53",
                    dark53.toBuilder()
                            .stageType(StageType.CSP)
                            .expandRatio(2.0, 1.0)
                            .bottleRatio(0.5, 1.0)
                            .blockRatio(1.0, 0.5)
                            .downGrowth(true)
                            .build(),
                    "bilinear");
            Config dark21 = dark53.toBuilder().depths(1, 1, 1, 2, 2).build();
            add(m, "darknet17", dark53.toBuilder().depths(1, 1, 1, 1, 1).build(), "bilinear");
            add(m, "darknet21", dark21, "bilinear");
            add(m, "sedarknet21", dark21.toBuilder().se(SE_RATIO).build(), "bilinear");
            add(m, "darknet53", dark53, "bilinear");
            add(m, "darknetaa53", dark53.toBuilder().avgDown(true).build(), "bilinear");

            add(m, "cs3darknet_s", Config.cs3(0.5, 0.5).build(), "bicubic");
            add(m, "cs3darknet_m", Config.cs3(0.75, 0.67).build(), "bicubic");
            add(m, "cs3darknet_l", Config.cs3(1.0, 1.0).build(), "bicubic");
            add(m, "cs3darknet_x", Config.cs3(1.25, 1.33).build(), "bicubic");
            add(m, "cs3darknet_focus_s", focus(Config.cs3(0.5, 0.5), 0.5), "bicubic");
            add(m, "cs3darknet_focus_m", focus(Config.cs3(0.75, 0.67), 0.75), "bicubic");
            add(m, "cs3darknet_focus_l", focus(Config.cs3(1.0, 1.0), 1.0), "bicubic");
            add(m, "cs3darknet_focus_x", focus(Config.cs3(1.25, 1.33), 1.25), "bicubic");
            add(m, "cs3sedarknet_l", Config.cs3(1.0, 1.0).se(0.25).build(), "bicubic");
            add(m, "cs3sedarknet_x", Config.cs3(1.25, 1.33).se(SE_RATIO).build(), "bicubic");
            add(
                    m,
                    "cs3sedarknet_xdw",
                    Config.builder()
                            .stem(3, 2, false, 32, 64)
                            .depths(3, 6, 12, 4)
                            .outChs(256, 512, 1024, 2048)
                            .groups(1, 1, 256, 512)
                            .bottleRatio(0.5)
                            .blockRatio(0.5)
                            .se(SE_RATIO)
                            .act(Activation.Kind.SILU)
                            .build(),
                    "bicubic");
            Config.Builder edge = Config.cs3(1.25, 1.33).bottleRatio(1.5).blockType(BlockType.EDGE);
            add(m, "cs3edgenet_x", edge.build(), "bicubic");
            add(m, "cs3se_edgenet_x", edge.se(0.25).build(), "bicubic");
            return m;
        }

        /** timm's focus stem of a CS3 net: one 6x6 conv of stride 2 and padding 2. */
        private static Config focus(Config.Builder cs3, double widthMultiplier) {
            return cs3.stem(6, 2, false, Layers.makeDivisible(64 * widthMultiplier, 8))
                    .stemPadding(2)
                    .build();
        }

        private static void add(List<ModelEntry> m, String name, Config c, String interpolation) {
            m.add(new ModelEntry(name, "cspnet", args -> new CspNet(c, args), defaultCfg(name, interpolation)));
        }

        /** timm's cspnet {@code _cfg}: 256 pixels, crop 0.887, ImageNet statistics. */
        private static PretrainedCfg defaultCfg(String name, String interpolation) {
            return PretrainedCfgOverride.untrained(
                    name, 256, "stem.conv1.conv", "head.fc", interpolation, 0.887, "apache-2.0");
        }
    }
}
