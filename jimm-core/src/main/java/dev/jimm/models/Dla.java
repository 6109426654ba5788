package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvClassifier;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * DLA (Deep Layer Aggregation) as timm's {@code models/dla.py} builds it: a 7x7 stem ({@code base_layer}), two plain
 * conv levels, then four levels of aggregation trees ({@code DlaTree}) whose roots concatenate the outputs of their
 * blocks (and of earlier levels) and mix them with a 1x1 conv; blocks are DLA's basic block, its (ResNeXt) bottleneck,
 * or the Res2Net bottleneck of {@code dla60_res2net} and {@code dla60_res2next}. The head is timm's with a 1x1 conv
 * classifier ({@code fc}): pooling, dropout, the conv, then flatten.
 *
 * <p>The six feature levels are {@code level0} (stride 1) to {@code level5} (stride 32); timm's features-only model
 * leaves out {@code level0} by default ({@code out_indices=(1, 2, 3, 4, 5)}), here pick them with
 * {@code featuresOnly(1, 2, 3, 4, 5)}.
 */
public final class Dla extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** The block of DLA's trees. */
    public enum BlockType {
        /** {@code DlaBasic}: two 3x3 convs. */
        BASIC,
        /** {@code DlaBottleneck}: 1x1, grouped 3x3, 1x1, half the output width inside (DLA and DLA-X). */
        BOTTLENECK,
        /** {@code DlaBottle2neck}: the Res2Net bottleneck, its 3x3 convs on four chained channel groups. */
        BOTTLE2NECK
    }

    private static Conv2d conv(int in, int out, int kernel, int stride, int groups) {
        return new Conv2d(
                in,
                out,
                kernel,
                Conv2d.Options.defaults()
                        .stride(stride)
                        .padding(kernel / 2)
                        .groups(groups)
                        .bias(false));
    }

    /** A tree's block: its output, given the input and the residual to add (the input itself when null). */
    abstract static class Block extends Module {
        abstract NDArray forward(NDArray x, NDArray shortcut);

        @Override
        protected final NDArray forwardImpl(NDArray x) {
            return forward(x, null);
        }

        /** The width inside DLA's bottlenecks: timm's {@code floor(out * base_width / 64) * cardinality // 2}. */
        static int midPlanes(int outplanes, int cardinality, int baseWidth) {
            return (int) Math.floor(outplanes * (baseWidth / 64.0)) * cardinality / 2;
        }

        static Block of(BlockType type, int in, int out, int stride, int cardinality, int baseWidth) {
            return switch (type) {
                case BASIC -> new BasicBlock(in, out, stride);
                case BOTTLENECK -> new Bottleneck(in, out, stride, cardinality, baseWidth);
                case BOTTLE2NECK -> new Bottle2neck(in, out, stride, 4, cardinality, baseWidth);
            };
        }
    }

    /** timm's {@code DlaBasic}. */
    static final class BasicBlock extends Block {
        private final Module conv1;
        private final Module bn1;
        private final Module relu;
        private final Module conv2;
        private final Module bn2;

        BasicBlock(int inplanes, int planes, int stride) {
            conv1 = register("conv1", conv(inplanes, planes, 3, stride, 1));
            bn1 = register("bn1", new BatchNorm2d(planes));
            relu = register("relu", Activation.relu());
            conv2 = register("conv2", conv(planes, planes, 3, 1, 1));
            bn2 = register("bn2", new BatchNorm2d(planes));
        }

        @Override
        NDArray forward(NDArray x, NDArray shortcut) {
            NDArray out = relu.forward(bn1.forward(conv1.forward(x)));
            out = bn2.forward(conv2.forward(out));
            return relu.forward(out.add(shortcut == null ? x : shortcut));
        }
    }

    /** timm's {@code DlaBottleneck} (grouped for DLA-X). */
    static final class Bottleneck extends Block {
        private final Module conv1;
        private final Module bn1;
        private final Module conv2;
        private final Module bn2;
        private final Module conv3;
        private final Module bn3;
        private final Module relu;

        Bottleneck(int inplanes, int outplanes, int stride, int cardinality, int baseWidth) {
            int mid = midPlanes(outplanes, cardinality, baseWidth);
            conv1 = register("conv1", conv(inplanes, mid, 1, 1, 1));
            bn1 = register("bn1", new BatchNorm2d(mid));
            conv2 = register("conv2", conv(mid, mid, 3, stride, cardinality));
            bn2 = register("bn2", new BatchNorm2d(mid));
            conv3 = register("conv3", conv(mid, outplanes, 1, 1, 1));
            bn3 = register("bn3", new BatchNorm2d(outplanes));
            relu = register("relu", Activation.relu());
        }

        @Override
        NDArray forward(NDArray x, NDArray shortcut) {
            NDArray out = relu.forward(bn1.forward(conv1.forward(x)));
            out = relu.forward(bn2.forward(conv2.forward(out)));
            out = bn3.forward(conv3.forward(out));
            return relu.forward(out.add(shortcut == null ? x : shortcut));
        }
    }

    /**
     * timm's {@code DlaBottle2neck}: the 1x1 conv's output is split into {@code scale} groups; each of the first
     * {@code scale - 1} goes through its own 3x3 conv after the previous group's result is added (not in a strided
     * block, where every group is convolved on its own), the last passes through (average-pooled when strided), and the
     * concatenation feeds the closing 1x1 conv.
     */
    static final class Bottle2neck extends Block {
        private final Module conv1;
        private final Module bn1;
        private final Res2Net.SplitConvs split;
        private final Module conv3;
        private final Module bn3;
        private final Module relu;

        Bottle2neck(int inplanes, int outplanes, int stride, int scale, int cardinality, int baseWidth) {
            int width = midPlanes(outplanes, cardinality, baseWidth);
            conv1 = register("conv1", conv(inplanes, width * scale, 1, 1, 1));
            bn1 = register("bn1", new BatchNorm2d(width * scale));
            split = new Res2Net.SplitConvs(
                    scale,
                    stride,
                    stride > 1,
                    () -> conv(width, width, 3, stride, cardinality),
                    () -> new BatchNorm2d(width),
                    this::register);
            conv3 = register("conv3", conv(width * scale, outplanes, 1, 1, 1));
            bn3 = register("bn3", new BatchNorm2d(outplanes));
            relu = register("relu", Activation.relu());
        }

        @Override
        NDArray forward(NDArray x, NDArray shortcut) {
            NDArray out = relu.forward(bn1.forward(conv1.forward(x)));
            out = bn3.forward(conv3.forward(split.forward(out, relu)));
            return relu.forward(out.add(shortcut == null ? x : shortcut));
        }
    }

    /**
     * timm's {@code DlaRoot}: a 1x1 conv and BatchNorm over the concatenated children, the first added back if asked.
     */
    static final class Root extends Module {
        private final Module conv;
        private final Module bn;
        private final Module relu;
        private final boolean shortcut;

        Root(int in, int out, boolean shortcut) {
            conv = register("conv", Dla.conv(in, out, 1, 1, 1));
            bn = register("bn", new BatchNorm2d(out));
            relu = register("relu", Activation.relu());
            this.shortcut = shortcut;
        }

        NDArray forward(List<NDArray> children) {
            NDArray x = bn.forward(conv.forward(NDArrays.concat(new NDList(children), 1)));
            if (shortcut) {
                x = x.add(children.get(0));
            }
            return relu.forward(x);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(List.of(x));
        }
    }

    /** What the blocks of a tree share. */
    private record TreeArgs(BlockType block, int cardinality, int baseWidth, boolean rootShortcut) {}

    /**
     * timm's {@code DlaTree}: of depth 1, two blocks and a root over their outputs (plus the children handed down);
     * deeper, two subtrees, the second of which aggregates the first's output with the children. A level root also
     * hands its (downsampled) input to the root.
     */
    static final class Tree extends Module {
        private final Module downsample;
        private final Module project;
        private final Module tree1;
        private final Module tree2;
        private final Root root;
        private final boolean levelRoot;

        Tree(int levels, TreeArgs a, int in, int out, int stride, boolean levelRoot, int rootDim) {
            if (levels < 1) {
                throw new IllegalArgumentException("a DLA tree has at least 1 level, got " + levels);
            }
            this.levelRoot = levelRoot;
            if (rootDim == 0) {
                rootDim = 2 * out;
            }
            if (levelRoot) {
                rootDim += in;
            }
            downsample = register("downsample", stride > 1 ? Pool2d.max(stride, stride, 0) : new Identity());
            // timm keeps the projection only in depth-1 trees (the official weights' deeper ones went unused)
            project = register(
                    "project",
                    levels == 1 && in != out
                            ? new Sequential(conv(in, out, 1, 1, 1), new BatchNorm2d(out))
                            : new Identity());
            if (levels == 1) {
                tree1 = register("tree1", Block.of(a.block(), in, out, stride, a.cardinality(), a.baseWidth()));
                tree2 = register("tree2", Block.of(a.block(), out, out, 1, a.cardinality(), a.baseWidth()));
                root = register("root", new Root(rootDim, out, a.rootShortcut()));
            } else {
                tree1 = register("tree1", new Tree(levels - 1, a, in, out, stride, false, 0));
                tree2 = register("tree2", new Tree(levels - 1, a, out, out, 1, false, rootDim + out));
                root = null;
            }
        }

        NDArray forward(NDArray x, List<NDArray> children) {
            NDArray bottom = downsample.forward(x);
            NDArray shortcut = project.forward(bottom);
            if (levelRoot) {
                children.add(bottom);
            }
            // a subtree recomputes its own shortcut, as timm's
            NDArray x1 =
                    tree1 instanceof Block b ? b.forward(x, shortcut) : ((Tree) tree1).forward(x, new ArrayList<>());
            if (root != null) {
                NDArray x2 = tree2.forward(x1);
                List<NDArray> all = new ArrayList<>(List.of(x2, x1));
                all.addAll(children);
                return root.forward(all);
            }
            children.add(x1);
            return ((Tree) tree2).forward(x1, children);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, new ArrayList<>());
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A DLA variant, as the keyword arguments of timm's {@code DLA}.
     *
     * @param levels depth of each of the six levels: conv layers of level 0 and 1, tree depths of levels 2 to 5
     * @param channels width of each level
     * @param block the trees' block
     * @param cardinality groups of the bottlenecks' 3x3 convs
     * @param baseWidth bottleneck width per group, as in ResNeXt
     * @param shortcutRoot whether each root adds its first child back (DLA-102 and deeper)
     */
    public record Config(
            List<Integer> levels,
            List<Integer> channels,
            BlockType block,
            int cardinality,
            int baseWidth,
            boolean shortcutRoot) {
        public Config {
            levels = List.copyOf(levels);
            channels = List.copyOf(channels);
            if (levels.size() != 6 || channels.size() != 6) {
                throw new IllegalArgumentException(
                        "DLA has 6 levels, got levels " + levels + " and channels " + channels);
            }
        }

        /** A builder holding timm's defaults (cardinality 1, base width 64, no root shortcut). */
        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            return new Builder()
                    .levels(levels)
                    .channels(channels)
                    .block(block)
                    .cardinality(cardinality)
                    .baseWidth(baseWidth)
                    .shortcutRoot(shortcutRoot);
        }

        /** Grouped bottlenecks (DLA-X, Res2NeXt). */
        public Config groups(int newCardinality, int newBaseWidth) {
            return toBuilder()
                    .cardinality(newCardinality)
                    .baseWidth(newBaseWidth)
                    .build();
        }

        /** Roots that add their first child back. */
        public Config withShortcutRoot() {
            return toBuilder().shortcutRoot(true).build();
        }

        /** Builder of {@link Config}; levels, channels and block must be set. */
        public static final class Builder {
            private List<Integer> levels;
            private List<Integer> channels;
            private BlockType block;
            private int cardinality = 1;
            private int baseWidth = 64;
            private boolean shortcutRoot;

            public Builder levels(List<Integer> v) {
                levels = v;
                return this;
            }

            public Builder levels(Integer... v) {
                return levels(List.of(v));
            }

            public Builder channels(List<Integer> v) {
                channels = v;
                return this;
            }

            public Builder channels(Integer... v) {
                return channels(List.of(v));
            }

            public Builder block(BlockType v) {
                block = v;
                return this;
            }

            public Builder cardinality(int v) {
                cardinality = v;
                return this;
            }

            public Builder baseWidth(int v) {
                baseWidth = v;
                return this;
            }

            public Builder shortcutRoot(boolean v) {
                shortcutRoot = v;
                return this;
            }

            public Config build() {
                if (levels == null || channels == null || block == null) {
                    throw new IllegalStateException("Dla.Config needs levels, channels and block, got " + levels + ", "
                            + channels + ", " + block);
                }
                return new Config(levels, channels, block, cardinality, baseWidth, shortcutRoot);
            }
        }
    }

    private final Config cfg;
    private GlobalPool pool;
    private Module fc;

    public Dla(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> ch = cfg.channels();
        List<Integer> lv = cfg.levels();
        addTrunkStep(register(
                "base_layer",
                new Sequential(
                        new Conv2d(
                                inChans,
                                ch.get(0),
                                7,
                                Conv2d.Options.defaults().padding(3).bias(false)),
                        new BatchNorm2d(ch.get(0)),
                        Activation.relu())));
        addTrunkStep(register("level0", convLevel(ch.get(0), ch.get(0), lv.get(0), 1)));
        addFeatureInfo(ch.get(0), 1, "level0");
        addTrunkStep(register("level1", convLevel(ch.get(0), ch.get(1), lv.get(1), 2)));
        addFeatureInfo(ch.get(1), 2, "level1");
        TreeArgs a = new TreeArgs(cfg.block(), cfg.cardinality(), cfg.baseWidth(), cfg.shortcutRoot());
        for (int l = 2; l < 6; l++) {
            String name = "level" + l;
            addTrunkStep(register(name, new Tree(lv.get(l), a, ch.get(l - 1), ch.get(l), 2, l > 2, 0)));
            addFeatureInfo(ch.get(l), 1 << l, name);
        }
        int numFeatures = ch.get(5);
        setNumFeatures(numFeatures);
        registerHead(numClasses, globalPool);
    }

    /** timm's {@code _make_conv_level}: 3x3 conv, BatchNorm, ReLU, {@code convs} times, the first strided. */
    private static Sequential convLevel(int in, int out, int convs, int stride) {
        Sequential s = new Sequential();
        for (int i = 0; i < convs; i++) {
            s.add(conv(i == 0 ? in : out, out, 3, i == 0 ? stride : 1, 1));
            s.add(new BatchNorm2d(out));
            s.add(Activation.relu());
        }
        return s;
    }

    /**
     * timm's {@code create_classifier(..., use_conv=True)}: pooling that keeps NCHW, and a 1x1 conv classifier (an
     * identity for 0 classes); without pooling the conv classifies every pixel.
     */
    private void registerHead(int classes, String poolType) {
        String p = GlobalPool.validate(poolType);
        Module newFc = ConvClassifier.fc(numFeatures(), classes, p);
        pool = register("global_pool", new GlobalPool(p, false));
        fc = register("fc", newFc);
        numClasses = classes;
        globalPool = p;
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: every conv (the classifier too) N(0, sqrt(2 / (k * k * out_channels))), BatchNorm 1 and 0;
        // conv biases keep PyTorch's default
        ConvNetInit.fanOutConvs().apply(this, random);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return ConvClassifier.forward(pool, fc, x, (float) dropRate, isTraining(), preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        if (newNumClasses < 0) {
            throw new IllegalArgumentException("numClasses " + newNumClasses + " is negative; use 0 for no classifier");
        }
        registerHead(newNumClasses, newGlobalPool);
    }

    // ---- registrations ----------------------------------------------------------------------------

    /** Registers timm's twelve dla* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "dla";
        }

        @Override
        public List<ModelEntry> models() {
            BlockType basic = BlockType.BASIC;
            BlockType bottle = BlockType.BOTTLENECK;
            List<Integer> small = List.of(16, 32, 64, 64, 128, 256);
            List<Integer> wide = List.of(16, 32, 128, 256, 512, 1024);
            Config dla46c = config(List.of(1, 1, 1, 2, 2, 1), small, bottle);
            Config dla60xc = config(List.of(1, 1, 1, 2, 3, 1), small, bottle).groups(32, 4);
            Config dla60 = config(List.of(1, 1, 1, 2, 3, 1), wide, bottle);
            Config dla102 = config(List.of(1, 1, 1, 3, 4, 1), wide, bottle).withShortcutRoot();
            Config res2 = config(List.of(1, 1, 1, 2, 3, 1), wide, BlockType.BOTTLE2NECK);

            List<ModelEntry> m = new ArrayList<>();
            add(m, "dla60_res2net", res2.groups(1, 28));
            add(m, "dla60_res2next", res2.groups(8, 4));
            add(m, "dla34", config(List.of(1, 1, 1, 2, 2, 1), List.of(16, 32, 64, 128, 256, 512), basic));
            add(m, "dla46_c", dla46c);
            add(m, "dla46x_c", dla46c.groups(32, 4));
            add(m, "dla60x_c", dla60xc);
            add(m, "dla60", dla60);
            add(m, "dla60x", dla60.groups(32, 4));
            add(m, "dla102", dla102);
            add(m, "dla102x", dla102.groups(32, 4));
            add(m, "dla102x2", dla102.groups(64, 4));
            add(m, "dla169", config(List.of(1, 1, 2, 3, 5, 1), wide, bottle).withShortcutRoot());
            return m;
        }

        private static Config config(List<Integer> levels, List<Integer> channels, BlockType block) {
            return Config.builder()
                    .levels(levels)
                    .channels(channels)
                    .block(block)
                    .build();
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(name, "dla", args -> new Dla(c, args), 224, "base_layer.0", "fc"));
        }
    }
}
