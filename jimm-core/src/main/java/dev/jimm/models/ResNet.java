package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.AvgPool2dSame;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BlurPool2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.EfficientChannelAttention;
import dev.jimm.layers.GroupNorm;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * ResNet, ResNeXt, Wide ResNet, SE-/ECA-ResNet, ResNet-RS and their stem and downsample variants, as timm's
 * {@code models/resnet.py} builds them (torchvision's ResNets are the same modules with the same state_dict keys,
 * registered as {@code tv/…}). As timm's {@code ResNet(block=...)}, the residual block is a choice of the config
 * ({@link Block}): Res2Net, ResNeSt and SKNet are this model with their own blocks ({@link Res2Net}, {@link ResNeSt},
 * {@link SkNet}). {@link ModelArgs#outputStride()} 16 or 8 dilates the last stages instead of striding them.
 */
public final class ResNet extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /**
     * A residual block kind: what timm's ResNet takes as {@code block} (with its {@code block_args} held by the
     * implementing object). Each stage builds its blocks through {@link #create} with what timm's {@code make_blocks}
     * passes.
     */
    public interface Block {
        /** The block's output channels per stage width (timm's {@code block.expansion}). */
        int expansion();

        /** One block of a stage. */
        Module create(BlockArgs args);
    }

    /** timm's own blocks of {@code resnet.py}. */
    public enum BlockType implements Block {
        /** The two-conv block of ResNet-18/34. */
        BASIC(1),
        /** The 1x1-3x3-1x1 bottleneck of ResNet-50 and deeper. */
        BOTTLENECK(4);

        private final int expansion;

        BlockType(int expansion) {
            this.expansion = expansion;
        }

        @Override
        public int expansion() {
            return expansion;
        }

        @Override
        public Module create(BlockArgs args) {
            return this == BASIC ? new BasicBlock(args) : new Bottleneck(args);
        }
    }

    /** Channel attention inside the blocks. */
    public enum Attention {
        NONE,
        SE,
        ECA
    }

    /** Anti-aliasing for strided convs and the stem pool. */
    public enum AntiAlias {
        NONE,
        AVG,
        BLUR
    }

    /** A block whose residual branch ends in a norm that timm's {@code zero_init_last} zeroes. */
    public interface ZeroInitLast {
        /** The norm whose weight starts at zero, so that the block starts as the identity. */
        Module lastNorm();
    }

    /** The width of each layer: the one the config computes, or a pruned model's (timm's adapt_model_from_file). */
    @FunctionalInterface
    public interface LayerWidths {
        /** The widths the config computes. */
        LayerWidths COMPUTED = (module, computed) -> computed;

        /** The output channels of {@code module} (a dotted name such as {@code layer1.0.conv2}). */
        int of(String module, int computed);
    }

    /**
     * What timm's {@code make_blocks} passes to each block: the model's settings ({@code cardinality},
     * {@code base_width}, {@code reduce_first}, norm, attention, anti-aliasing, from {@code config}), its widths,
     * stride, dilations, shortcut and drop-path rate.
     *
     * @param config the model's config
     * @param norm the norm layer of a given width (BatchNorm, or GroupNorm for {@code _gn})
     * @param widths the layer widths (all computed unless the model is pruned)
     * @param name the block's dotted name ({@code layer2.0}), for {@link #width}
     * @param inplanes input channels
     * @param planes the stage width, before the expansion
     * @param stride the block's stride (1 or 2)
     * @param downsample the shortcut projection, or null for the identity
     * @param dilation the dilation of the block's stage
     * @param firstDilation the dilation of the first strided/dilated conv (the previous stage's, in a stage's first
     *     block)
     * @param dropPathRate the stochastic depth rate of this block
     */
    public record BlockArgs(
            Config config,
            IntFunction<Module> norm,
            LayerWidths widths,
            String name,
            int inplanes,
            int planes,
            int stride,
            Module downsample,
            int dilation,
            int firstDilation,
            double dropPathRate) {

        public int cardinality() {
            return config.cardinality();
        }

        public int baseWidth() {
            return config.baseWidth();
        }

        public int reduceFirst() {
            return config.blockReduceFirst();
        }

        /** The width of this block's {@code layer} ({@code conv1}): {@code computed} unless the model is pruned. */
        public int width(String layer, int computed) {
            return widths.of(name + "." + layer, computed);
        }

        /**
         * The config's channel attention for {@code channels}, or null for none. ECA's kernel follows the unpruned
         * width ({@code computed}), as timm's pruning keeps the unpruned model's Conv1d.
         */
        public Module attention(int computed, int channels) {
            return switch (config.attention()) {
                case NONE -> null;
                case SE -> new SqueezeExcite(channels, config.seRatio(), 8);
                case ECA -> new EfficientChannelAttention(computed);
            };
        }

        /** timm's {@code use_aa}: anti-aliasing on, for a strided block or where the dilation changes. */
        public boolean useAa() {
            return config.antiAlias() != AntiAlias.NONE && (stride == 2 || firstDilation != dilation);
        }

        /** The anti-aliasing layer ({@code aa}) after a conv of {@code channels}, or an identity. */
        public Module antiAlias(int channels, boolean enable) {
            return enable ? aaLayer(config.antiAlias(), channels, stride) : new Identity();
        }

        /** The block's drop path, or null for none (rate 0). */
        public Module dropPath() {
            return dropPathRate > 0 ? new DropPath((float) dropPathRate) : null;
        }

        /** Fails for a setting a block kind does not take (timm's asserts), naming both. */
        public void require(boolean supported, String what, String block) {
            if (!supported) {
                throw new IllegalArgumentException(block + " does not support " + what);
            }
        }
    }

    private static Module aaLayer(AntiAlias aa, int channels, int stride) {
        return switch (aa) {
            case NONE -> new Identity();
            case AVG -> Pool2d.avg(stride, stride, 0, false, true);
            case BLUR -> new BlurPool2d(channels, stride);
        };
    }

    /**
     * What timm's BasicBlock and Bottleneck share after their convs: the optional attention ({@code se}), the drop
     * path, the shortcut ({@code downsample}) and the activation of the sum.
     */
    abstract static class ResBlock extends Module implements ZeroInitLast {
        private Module se;
        private Module act;
        private Module downsample;
        private Module dropPath;

        /** Registers {@code se}, the final activation, {@code downsample} and {@code drop_path}, in timm's order. */
        final void registerTail(BlockArgs a, int computedOut, int outplanes, String actName) {
            Module attn = a.attention(computedOut, outplanes);
            se = attn == null ? null : register("se", attn);
            act = register(actName, Activation.relu());
            downsample = a.downsample() == null ? null : register("downsample", a.downsample());
            Module dp = a.dropPath();
            dropPath = dp == null ? null : register("drop_path", dp);
        }

        /** act(drop_path(se(x)) + downsample(shortcut)). */
        final NDArray residual(NDArray x, NDArray shortcut) {
            if (se != null) {
                x = se.forward(x);
            }
            if (dropPath != null) {
                x = dropPath.forward(x);
            }
            if (downsample != null) {
                shortcut = downsample.forward(shortcut);
            }
            return act.forward(x.add(shortcut));
        }

        /** The block's 3x3 conv: anti-aliased blocks leave the stride to {@code aa}. */
        static Conv2d conv3x3(int in, int out, int stride, int dilation, int groups) {
            return new Conv2d(
                    in,
                    out,
                    3,
                    Conv2d.Options.defaults()
                            .stride(stride)
                            .padding(dilation)
                            .dilation(dilation)
                            .groups(groups)
                            .bias(false));
        }
    }

    /** The two-conv block of ResNet-18/34. */
    static final class BasicBlock extends ResBlock {
        private final Module conv1;
        private final Module bn1;
        private final Module act1;
        private final Module aa;
        private final Module conv2;
        private final Module bn2;

        BasicBlock(BlockArgs a) {
            a.require(a.cardinality() == 1 && a.baseWidth() == 64, "cardinality or base width", "BasicBlock");
            int computedOut = a.planes() * BlockType.BASIC.expansion;
            int firstPlanes = a.width("conv1", a.planes() / a.reduceFirst());
            int outplanes = a.width("conv2", computedOut);
            boolean useAa = a.useAa();
            conv1 = register("conv1", conv3x3(a.inplanes(), firstPlanes, useAa ? 1 : a.stride(), a.firstDilation(), 1));
            bn1 = register("bn1", a.norm().apply(firstPlanes));
            register("drop_block", new Identity());
            act1 = register("act1", Activation.relu());
            aa = register("aa", a.antiAlias(firstPlanes, useAa));
            conv2 = register("conv2", conv3x3(firstPlanes, outplanes, 1, a.dilation(), 1));
            bn2 = register("bn2", a.norm().apply(outplanes));
            registerTail(a, computedOut, outplanes, "act2");
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = act1.forward(bn1.forward(conv1.forward(x)));
            x = aa.forward(x);
            return residual(bn2.forward(conv2.forward(x)), shortcut);
        }

        @Override
        public Module lastNorm() {
            return bn2;
        }
    }

    /** The 1x1-3x3-1x1 bottleneck block of ResNet-50 and deeper, with groups for ResNeXt. */
    static final class Bottleneck extends ResBlock {
        private final Module conv1;
        private final Module bn1;
        private final Module act1;
        private final Module conv2;
        private final Module bn2;
        private final Module act2;
        private final Module aa;
        private final Module conv3;
        private final Module bn3;

        Bottleneck(BlockArgs a) {
            int computedWidth = (int) Math.floor(a.planes() * (a.baseWidth() / 64.0)) * a.cardinality();
            int computedOut = a.planes() * BlockType.BOTTLENECK.expansion;
            int firstPlanes = a.width("conv1", computedWidth / a.reduceFirst());
            int width = a.width("conv2", computedWidth);
            int outplanes = a.width("conv3", computedOut);
            boolean useAa = a.useAa();
            conv1 = register(
                    "conv1",
                    new Conv2d(
                            a.inplanes(),
                            firstPlanes,
                            1,
                            Conv2d.Options.defaults().bias(false)));
            bn1 = register("bn1", a.norm().apply(firstPlanes));
            act1 = register("act1", Activation.relu());
            conv2 = register(
                    "conv2", conv3x3(firstPlanes, width, useAa ? 1 : a.stride(), a.firstDilation(), a.cardinality()));
            bn2 = register("bn2", a.norm().apply(width));
            register("drop_block", new Identity());
            act2 = register("act2", Activation.relu());
            aa = register("aa", a.antiAlias(width, useAa));
            conv3 = register(
                    "conv3",
                    new Conv2d(width, outplanes, 1, Conv2d.Options.defaults().bias(false)));
            bn3 = register("bn3", a.norm().apply(outplanes));
            registerTail(a, computedOut, outplanes, "act3");
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = act1.forward(bn1.forward(conv1.forward(x)));
            x = act2.forward(bn2.forward(conv2.forward(x)));
            x = aa.forward(x);
            return residual(bn3.forward(conv3.forward(x)), shortcut);
        }

        @Override
        public Module lastNorm() {
            return bn3;
        }
    }

    /** timm's downsample_conv: a (strided, maybe dilated) projection conv and a norm. */
    private static Module downsampleConv(
            IntFunction<Module> norm, int in, int out, int kernel, int stride, int dilation, int firstDilation) {
        int k = stride == 1 && dilation == 1 ? 1 : kernel;
        int fd = k > 1 ? firstDilation : 1;
        int p = Layers.padding(k, stride, fd);
        return new Sequential(
                new Conv2d(
                        in,
                        out,
                        k,
                        Conv2d.Options.defaults()
                                .stride(stride)
                                .padding(p)
                                .dilation(fd)
                                .bias(false)),
                norm.apply(out));
    }

    /**
     * timm's downsample_avg: average pooling (a "same"-padded stride-1 one in dilated stages), a 1x1 conv and a norm.
     */
    private static Module downsampleAvg(IntFunction<Module> norm, int in, int out, int stride, int dilation) {
        int avgStride = dilation == 1 ? stride : 1;
        Module pool;
        if (stride == 1 && dilation == 1) {
            pool = new Identity();
        } else if (avgStride == 1 && dilation > 1) {
            pool = new AvgPool2dSame(2, avgStride, true, false);
        } else {
            pool = Pool2d.avg(2, avgStride, 0, true, false);
        }
        return new Sequential(
                pool, new Conv2d(in, out, 1, Conv2d.Options.defaults().bias(false)), norm.apply(out));
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A ResNet variant, as the keyword arguments of timm's ResNet.
     *
     * @param blocks block kind per stage (timm's {@code block} with its {@code block_args})
     * @param layers blocks per stage
     * @param channels stage widths before expansion
     * @param cardinality groups of the 3x3 conv (ResNeXt)
     * @param baseWidth bottleneck width factor
     * @param stemWidth stem channels (deep stems)
     * @param stemType "", "deep" or "deep_tiered"
     * @param replaceStemPool a strided conv instead of the stem max pool (ResNet-RS)
     * @param blockReduceFirst width reduction of the first conv in blocks (SENet)
     * @param downKernelSize kernel of the projection shortcut
     * @param avgDown average-pool downsampling in the shortcut (the "d" variants)
     * @param attention SE or ECA in blocks
     * @param seRatio SE reduction ratio
     * @param groupNorm GroupNorm(32) instead of BatchNorm
     * @param antiAlias anti-aliased downsampling
     * @param zeroInitLast the variant's zero_init_last (SKNet's are off); {@link ModelArgs#zeroInitLast()} off turns it
     *     off for any
     * @param pruned the timm pruned variant ({@code ecaresnet50d_pruned}) whose layer widths replace the computed ones,
     *     or null
     */
    public record Config(
            List<Block> blocks,
            List<Integer> layers,
            List<Integer> channels,
            int cardinality,
            int baseWidth,
            int stemWidth,
            String stemType,
            boolean replaceStemPool,
            int blockReduceFirst,
            int downKernelSize,
            boolean avgDown,
            Attention attention,
            double seRatio,
            boolean groupNorm,
            AntiAlias antiAlias,
            boolean zeroInitLast,
            String pruned) {

        /** A plain ResNet with one block kind in every stage and the given depths. */
        public static Config of(Block block, int... layers) {
            return builder()
                    .blocks(List.of(block, block, block, block))
                    .layers(layers)
                    .build();
        }

        /** A builder holding timm's defaults; blocks and layers must be set. */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant, to change some of its fields. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** ResNeXt widths. */
        public Config groups(int newCardinality, int newBaseWidth) {
            return toBuilder()
                    .cardinality(newCardinality)
                    .baseWidth(newBaseWidth)
                    .build();
        }

        /** A deep ("deep") or tiered ("deep_tiered") 3x3 stem of the given width. */
        public Config stem(String type, int width) {
            return toBuilder().stemType(type).stemWidth(width).build();
        }

        /** Average-pool shortcut downsampling. */
        public Config withAvgDown() {
            return toBuilder().avgDown(true).build();
        }

        /** The "d" variant: deep stem of width 32 and average-pool downsampling. */
        public Config d() {
            return stem("deep", 32).withAvgDown();
        }

        /** The "t" variant: tiered deep stem of width 32 and average-pool downsampling. */
        public Config t() {
            return stem("deep_tiered", 32).withAvgDown();
        }

        /** Channel attention in the blocks, with the SE reduction ratio. */
        public Config attention(Attention a, double ratio) {
            return toBuilder().attention(a).seRatio(ratio).build();
        }

        public Config se() {
            return attention(Attention.SE, 1.0 / 16);
        }

        public Config eca() {
            return attention(Attention.ECA, 1.0 / 16);
        }

        /** A strided conv instead of the stem max pool (ResNet-RS). */
        public Config withStemPoolConv() {
            return toBuilder().replaceStemPool(true).build();
        }

        /** SENet's blocks: the first conv halves the width, 3x3 projection shortcuts. */
        public Config senetStyle() {
            return toBuilder().blockReduceFirst(2).downKernelSize(3).build();
        }

        public Config withGroupNorm() {
            return toBuilder().groupNorm(true).build();
        }

        public Config antiAlias(AntiAlias aa) {
            return toBuilder().antiAlias(aa).build();
        }

        /** The same with other blocks per stage (ResNet-RS depths). */
        public Config withLayers(int... newLayers) {
            return toBuilder().layers(newLayers).build();
        }

        public Config blocksAndChannels(List<? extends Block> newBlocks, List<Integer> newChannels) {
            return toBuilder().blocks(newBlocks).channels(newChannels).build();
        }

        /** The layer widths of timm's pruned {@code variant}, read from the file timm ships for it. */
        public Config prunedAs(String variant) {
            return toBuilder().pruned(variant).build();
        }

        /** Builder of {@link Config}, starting from timm's ResNet defaults. */
        public static final class Builder {
            private List<Block> blocks;
            private List<Integer> layers;
            private List<Integer> channels = List.of(64, 128, 256, 512);
            private int cardinality = 1;
            private int baseWidth = 64;
            private int stemWidth = 64;
            private String stemType = "";
            private boolean replaceStemPool;
            private int blockReduceFirst = 1;
            private int downKernelSize = 1;
            private boolean avgDown;
            private Attention attention = Attention.NONE;
            private double seRatio = 1.0 / 16;
            private boolean groupNorm;
            private AntiAlias antiAlias = AntiAlias.NONE;
            private boolean zeroInitLast = true;
            private String pruned;

            private Builder() {}

            private Builder(Config c) {
                blocks = c.blocks;
                layers = c.layers;
                channels = c.channels;
                cardinality = c.cardinality;
                baseWidth = c.baseWidth;
                stemWidth = c.stemWidth;
                stemType = c.stemType;
                replaceStemPool = c.replaceStemPool;
                blockReduceFirst = c.blockReduceFirst;
                downKernelSize = c.downKernelSize;
                avgDown = c.avgDown;
                attention = c.attention;
                seRatio = c.seRatio;
                groupNorm = c.groupNorm;
                antiAlias = c.antiAlias;
                zeroInitLast = c.zeroInitLast;
                pruned = c.pruned;
            }

            public Builder blocks(List<? extends Block> v) {
                blocks = List.copyOf(v);
                return this;
            }

            /** The same block kind in every stage. */
            public Builder block(Block v) {
                blocks = List.of(v, v, v, v);
                return this;
            }

            public Builder layers(int... v) {
                layers = Arrays.stream(v).boxed().toList();
                return this;
            }

            public Builder channels(List<Integer> v) {
                channels = List.copyOf(v);
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

            public Builder stemWidth(int v) {
                stemWidth = v;
                return this;
            }

            public Builder stemType(String v) {
                stemType = v;
                return this;
            }

            public Builder replaceStemPool(boolean v) {
                replaceStemPool = v;
                return this;
            }

            public Builder blockReduceFirst(int v) {
                blockReduceFirst = v;
                return this;
            }

            public Builder downKernelSize(int v) {
                downKernelSize = v;
                return this;
            }

            public Builder avgDown(boolean v) {
                avgDown = v;
                return this;
            }

            public Builder attention(Attention v) {
                attention = v;
                return this;
            }

            public Builder seRatio(double v) {
                seRatio = v;
                return this;
            }

            public Builder groupNorm(boolean v) {
                groupNorm = v;
                return this;
            }

            public Builder antiAlias(AntiAlias v) {
                antiAlias = v;
                return this;
            }

            public Builder zeroInitLast(boolean v) {
                zeroInitLast = v;
                return this;
            }

            /** timm's pruned variant whose widths to build, or null for the computed ones. */
            public Builder pruned(String v) {
                pruned = v;
                return this;
            }

            public Config build() {
                if (blocks == null || layers == null) {
                    throw new IllegalStateException(
                            "ResNet.Config needs blocks and layers, got " + blocks + " and " + layers);
                }
                if (blocks.size() != layers.size() || channels.size() != layers.size()) {
                    throw new IllegalStateException("ResNet.Config needs one block kind and width per stage, got "
                            + blocks.size() + " blocks, " + channels.size() + " channels and " + layers.size()
                            + " stages");
                }
                return new Config(
                        blocks,
                        layers,
                        channels,
                        cardinality,
                        baseWidth,
                        stemWidth,
                        stemType,
                        replaceStemPool,
                        blockReduceFirst,
                        downKernelSize,
                        avgDown,
                        attention,
                        seRatio,
                        groupNorm,
                        antiAlias,
                        zeroInitLast,
                        pruned);
            }
        }
    }

    private final Config cfg;
    private final int outputStride;

    public ResNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        this.outputStride = args.outputStride();
        if (outputStride != 8 && outputStride != 16 && outputStride != 32) {
            throw new IllegalArgumentException("ResNet's outputStride must be 8, 16 or 32, got " + outputStride);
        }
        IntFunction<Module> norm = cfg.groupNorm() ? c -> new GroupNorm(32, c) : BatchNorm2d::new;
        LayerWidths widths = LayerWidths.COMPUTED;
        if (cfg.pruned() != null) {
            PrunedShapes pruned = PrunedShapes.load(cfg.pruned());
            widths = (module, computed) -> pruned.outChannels(module);
        }

        boolean deep = cfg.stemType().contains("deep");
        int inplanes = deep ? cfg.stemWidth() * 2 : 64;
        Module conv1;
        if (deep) {
            int s0 = cfg.stemType().contains("tiered") ? 3 * (cfg.stemWidth() / 4) : cfg.stemWidth();
            s0 = widths.of("conv1.0", s0);
            int s1 = widths.of("conv1.3", cfg.stemWidth());
            inplanes = widths.of("conv1.6", inplanes);
            Conv2d.Options c3 = Conv2d.Options.defaults().padding(1).bias(false);
            conv1 = register(
                    "conv1",
                    new Sequential(
                            new Conv2d(inChans, s0, 3, c3.stride(2)),
                            norm.apply(s0),
                            Activation.relu(),
                            new Conv2d(s0, s1, 3, c3),
                            norm.apply(s1),
                            Activation.relu(),
                            new Conv2d(s1, inplanes, 3, c3)));
        } else {
            inplanes = widths.of("conv1", inplanes);
            conv1 = register(
                    "conv1",
                    new Conv2d(
                            inChans,
                            inplanes,
                            7,
                            Conv2d.Options.defaults().stride(2).padding(3).bias(false)));
        }
        addTrunkStep(conv1);
        addTrunkStep(register("bn1", norm.apply(inplanes)));
        addTrunkStep(register("act1", Activation.relu()));
        addFeatureInfo(inplanes, 2, "act1");

        Module maxpool;
        if (cfg.replaceStemPool()) {
            List<Module> parts = new ArrayList<>();
            boolean aa = cfg.antiAlias() != AntiAlias.NONE;
            parts.add(new Conv2d(
                    inplanes,
                    inplanes,
                    3,
                    Conv2d.Options.defaults().stride(aa ? 1 : 2).padding(1).bias(false)));
            if (aa) {
                parts.add(aaLayer(cfg.antiAlias(), inplanes, 2));
            }
            parts.add(norm.apply(inplanes));
            parts.add(Activation.relu());
            maxpool = register("maxpool", new Sequential(parts));
        } else if (cfg.antiAlias() == AntiAlias.AVG) {
            maxpool = register("maxpool", Pool2d.avg(2, 2, 0, false, true));
        } else if (cfg.antiAlias() == AntiAlias.BLUR) {
            maxpool = register("maxpool", new Sequential(Pool2d.max(3, 1, 1), new BlurPool2d(inplanes, 2)));
        } else {
            maxpool = register("maxpool", Pool2d.max(3, 2, 1));
        }
        addTrunkStep(maxpool);

        // timm's make_blocks; the unpruned widths decide the structure, the pruned ones (if any) the layers
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.layers());
        int computedIn = deep ? cfg.stemWidth() * 2 : 64;
        int netStride = 4;
        int dilation = 1;
        int prevDilation = 1;
        for (int s = 0; s < cfg.layers().size(); s++) {
            Block block = cfg.blocks().get(s);
            int planes = cfg.channels().get(s);
            String stageName = "layer" + (s + 1);
            int stride = s == 0 ? 1 : 2;
            if (netStride >= outputStride) {
                dilation *= stride;
                stride = 1;
            } else {
                netStride *= stride;
            }
            int computedOut = planes * block.expansion();
            Module downsample = null;
            // without a projection the sum needs the block to keep its input's width
            int outplanes = inplanes;
            if (stride != 1 || computedIn != computedOut) {
                String projection = stageName + ".0.downsample." + (cfg.avgDown() ? 1 : 0);
                outplanes = widths.of(projection, computedOut);
                downsample = cfg.avgDown()
                        ? downsampleAvg(norm, inplanes, outplanes, stride, dilation)
                        : downsampleConv(
                                norm, inplanes, outplanes, cfg.downKernelSize(), stride, dilation, prevDilation);
            }
            Sequential stage = new Sequential();
            for (int b = 0; b < cfg.layers().get(s); b++) {
                stage.add(block.create(new BlockArgs(
                        cfg,
                        norm,
                        widths,
                        stageName + "." + b,
                        inplanes,
                        planes,
                        b == 0 ? stride : 1,
                        b == 0 ? downsample : null,
                        dilation,
                        prevDilation,
                        dpr[s][b])));
                prevDilation = dilation;
                inplanes = outplanes;
            }
            computedIn = computedOut;
            addTrunkStep(register(stageName, stage));
            addFeatureInfo(inplanes, netStride, stageName);
        }
        registerClassifierHead("fc", inplanes);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** The stride of the last feature maps (timm's output_stride): 32, or 16 or 8 with dilated last stages. */
    public int outputStride() {
        return outputStride;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: kaiming_normal_(fan_out) on convs, zero gamma on each block's last norm (zero_init_last)
        boolean zeroLast = zeroInitLast && cfg.zeroInitLast();
        ConvNetInit.fanOutConvs().apply(this, random);
        for (Module m : namedModules().values()) {
            if (m instanceof ZeroInitLast block && zeroLast) {
                Init.constant(block.lastNorm().directParameters().get("weight").getArray(), 0f);
            }
        }
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /**
     * A registry entry building {@code c} under {@code name} of timm's {@code family}, with weights-free defaults at
     * {@code inputSize} (the families on this model: resnet, res2net, resnest, sknet).
     */
    static ModelEntry entry(String name, String family, Config c, int inputSize) {
        String firstConv = c.stemType().contains("deep") ? "conv1.0" : "conv1";
        return ModelEntry.untrained(name, family, args -> new ResNet(c, args), inputSize, firstConv, "fc");
    }

    /** Registers every ResNet-family name of timm that this code builds, and torchvision's. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "resnet";
        }

        @Override
        public List<ModelEntry> models() {
            BlockType basic = BlockType.BASIC;
            BlockType bottle = BlockType.BOTTLENECK;
            List<ModelEntry> m = new ArrayList<>();
            Config r18 = Config.of(basic, 2, 2, 2, 2);
            Config r34 = Config.of(basic, 3, 4, 6, 3);
            Config r26 = Config.of(bottle, 2, 2, 2, 2);
            Config r50 = Config.of(bottle, 3, 4, 6, 3);
            Config r101 = Config.of(bottle, 3, 4, 23, 3);
            Config r152 = Config.of(bottle, 3, 8, 36, 3);
            Config r200 = Config.of(bottle, 3, 24, 36, 3);
            Config r269 = Config.of(bottle, 3, 30, 48, 8);
            Config rs = Config.of(bottle, 3, 4, 6, 3).d().withStemPoolConv().attention(Attention.SE, 0.25);

            add(m, "resnet10t", Config.of(basic, 1, 1, 1, 1).t(), 176);
            add(m, "resnet14t", Config.of(bottle, 1, 1, 1, 1).t(), 176);
            add(m, "resnet18", r18);
            add(m, "resnet18d", r18.d());
            add(m, "resnet34", r34);
            add(m, "resnet34d", r34.d());
            add(m, "resnet26", r26);
            add(m, "resnet26t", r26.t(), 256);
            add(m, "resnet26d", r26.d());
            add(m, "resnet50", r50);
            add(m, "resnet50c", r50.stem("deep", 32));
            add(m, "resnet50d", r50.d());
            add(m, "resnet50s", r50.stem("deep", 64));
            add(m, "resnet50t", r50.t());
            add(m, "resnet101", r101);
            add(m, "resnet101c", r101.stem("deep", 32));
            add(m, "resnet101d", r101.d(), 256);
            add(m, "resnet101s", r101.stem("deep", 64));
            add(m, "resnet152", r152);
            add(m, "resnet152c", r152.stem("deep", 32));
            add(m, "resnet152d", r152.d(), 256);
            add(m, "resnet152s", r152.stem("deep", 64));
            add(m, "resnet200", r200);
            add(m, "resnet200d", r200.d(), 256);
            add(m, "wide_resnet50_2", r50.groups(1, 128));
            add(m, "wide_resnet101_2", r101.groups(1, 128));
            add(m, "resnet50_gn", r50.withGroupNorm());
            add(m, "resnext50_32x4d", r50.groups(32, 4));
            add(m, "resnext50d_32x4d", r50.groups(32, 4).d());
            add(m, "resnext101_32x4d", r101.groups(32, 4));
            add(m, "resnext101_32x8d", r101.groups(32, 8));
            add(m, "resnext101_32x16d", r101.groups(32, 16));
            add(m, "resnext101_32x32d", r101.groups(32, 32));
            add(m, "resnext101_64x4d", r101.groups(64, 4));
            add(m, "ecaresnet26t", r26.t().eca(), 256);
            add(m, "ecaresnet50d", r50.d().eca());
            add(m, "ecaresnet50t", r50.t().eca(), 256);
            add(
                    m,
                    "ecaresnetlight",
                    Config.of(bottle, 1, 1, 11, 3).stem("", 32).withAvgDown().eca());
            add(m, "ecaresnet50d_pruned", r50.d().eca().prunedAs("ecaresnet50d_pruned"));
            add(m, "ecaresnet101d", r101.d().eca());
            add(m, "ecaresnet101d_pruned", r101.d().eca().prunedAs("ecaresnet101d_pruned"));
            add(m, "ecaresnet200d", r200.d().eca(), 256);
            add(m, "ecaresnet269d", r269.d().eca(), 320);
            add(m, "ecaresnext26t_32x4d", r26.groups(32, 4).t().eca());
            add(m, "ecaresnext50t_32x4d", r26.groups(32, 4).t().eca());
            add(m, "seresnet18", r18.se());
            add(m, "seresnet34", r34.se());
            add(m, "seresnet50", r50.se());
            add(m, "seresnet50t", r50.t().se());
            add(m, "seresnet101", r101.se());
            add(m, "seresnet152", r152.se());
            add(m, "seresnet152d", r152.d().se(), 256);
            add(m, "seresnet200d", r200.d().se(), 256);
            add(m, "seresnet269d", r269.d().se(), 256);
            add(m, "seresnext26d_32x4d", r26.groups(32, 4).d().se());
            add(m, "seresnext26t_32x4d", r26.groups(32, 4).t().se());
            add(m, "seresnext50_32x4d", r50.groups(32, 4).se());
            add(m, "seresnext101_32x4d", r101.groups(32, 4).se());
            add(m, "seresnext101_32x8d", r101.groups(32, 8).se());
            add(m, "seresnext101d_32x8d", r101.groups(32, 8).d().se());
            add(m, "seresnext101_64x4d", r101.groups(64, 4).se());
            add(m, "senet154", r152.groups(64, 4).stem("deep", 64).senetStyle().se());
            add(m, "resnetblur18", r18.antiAlias(AntiAlias.BLUR));
            add(m, "resnetblur50", r50.antiAlias(AntiAlias.BLUR));
            add(m, "resnetblur50d", r50.d().antiAlias(AntiAlias.BLUR));
            add(m, "resnetblur101d", r101.d().antiAlias(AntiAlias.BLUR));
            add(m, "resnetaa34d", r34.d().antiAlias(AntiAlias.AVG));
            add(m, "resnetaa50", r50.antiAlias(AntiAlias.AVG));
            add(m, "resnetaa50d", r50.d().antiAlias(AntiAlias.AVG));
            add(m, "resnetaa101d", r101.d().antiAlias(AntiAlias.AVG));
            add(m, "seresnetaa50d", r50.d().antiAlias(AntiAlias.AVG).se());
            add(
                    m,
                    "seresnextaa101d_32x8d",
                    r101.groups(32, 8).d().antiAlias(AntiAlias.AVG).se());
            add(
                    m,
                    "seresnextaa201d_32x8d",
                    Config.of(bottle, 3, 24, 36, 4)
                            .groups(32, 8)
                            .stem("deep", 64)
                            .withAvgDown()
                            .antiAlias(AntiAlias.AVG)
                            .se());
            add(m, "resnetrs50", rs, 160);
            add(m, "resnetrs101", rs.withLayers(3, 4, 23, 3), 192);
            add(m, "resnetrs152", rs.withLayers(3, 8, 36, 3), 256);
            add(m, "resnetrs200", rs.withLayers(3, 24, 36, 3), 256);
            add(m, "resnetrs270", rs.withLayers(4, 29, 53, 4), 256);
            add(m, "resnetrs350", rs.withLayers(4, 36, 72, 4), 288);
            add(m, "resnetrs420", rs.withLayers(4, 44, 87, 4), 320);
            add(
                    m,
                    "test_resnet",
                    Config.of(basic, 1, 1, 1, 1)
                            .stem("deep", 16)
                            .withAvgDown()
                            .blocksAndChannels(List.of(basic, basic, bottle, basic), List.of(32, 48, 48, 96)),
                    160);

            // torchvision's ResNets: the same modules and state_dict keys as timm's plain variants
            addTorchvision(m, "tv/resnet18", r18);
            addTorchvision(m, "tv/resnet34", r34);
            addTorchvision(m, "tv/resnet50", r50);
            addTorchvision(m, "tv/resnet101", r101);
            addTorchvision(m, "tv/resnet152", r152);
            addTorchvision(m, "tv/resnext50_32x4d", r50.groups(32, 4));
            addTorchvision(m, "tv/resnext101_32x8d", r101.groups(32, 8));
            addTorchvision(m, "tv/resnext101_64x4d", r101.groups(64, 4));
            addTorchvision(m, "tv/wide_resnet50_2", r50.groups(1, 128));
            addTorchvision(m, "tv/wide_resnet101_2", r101.groups(1, 128));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            add(m, name, c, 224);
        }

        private static void add(List<ModelEntry> m, String name, Config c, int size) {
            m.add(entry(name, "resnet", c, size));
        }

        private static void addTorchvision(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(name, "torchvision", args -> new ResNet(c, args), 224, "conv1", "fc"));
        }
    }
}
