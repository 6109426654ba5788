package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.jimm.layers.Activation;
import dev.jimm.layers.AttentionPool2d;
import dev.jimm.layers.BatNonLocalAttn;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.EfficientChannelAttention;
import dev.jimm.layers.EvoNorm2dS0a;
import dev.jimm.layers.GlobalContext;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NormMlpClassifierHead;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import dev.jimm.models.ByobBlocks.BlockArgs;
import dev.jimm.models.ByobBlocks.FusedConvBlock;
import dev.jimm.models.ByobBlocks.LayerFn;
import dev.jimm.models.ByobBlocks.OwnInit;
import dev.jimm.models.ByobBlocks.Stage;
import dev.jimm.models.ByobBlocks.Stem;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * timm's "bring your own blocks" network ({@code models/byobnet.py}): a stem, stages of configurable blocks and a head,
 * all from a config ({@link Config}, timm's {@code ByoModelCfg}, of {@link BlockCfg}s, timm's {@code ByoBlockCfg}). It
 * builds GPU-Efficient nets (GerNet), RepVGG, MobileOne, the RegNet-Z variants (with EvoNorm in {@code _evos}), ResNets
 * with tiered/quad stems and SE, ECA, global-context or BAT attention, and OpenAI CLIP's ResNets with their
 * attention-pool head, and (through {@link MobileVit}) MobileViT and MobileViT-v2. RepVGG and MobileOne fuse their
 * branches for inference with {@link #reparameterize()}.
 */
public final class ByobNet extends ImageModel {

    // ---- config ---------------------------------------------------------------------------------

    /** The block kinds of timm's block registry ({@code basic}, {@code bottle}, {@code dark}, …). */
    public enum BlockType {
        /** ResNet basic block: kxk, kxk. */
        BASIC,
        /** ResNet bottleneck: 1x1, kxk (optionally twice), 1x1. */
        BOTTLE,
        /** DarkNet-like: 1x1, strided kxk. */
        DARK,
        /** EdgeResidual-like: strided kxk, 1x1. */
        EDGE,
        /** RepVGG: kxk and 1x1 conv-BN branches and a BN identity, summed (re-parameterisable). */
        REP,
        /** MobileOne: several kxk branches, a 1x1 scale branch and a BN identity, summed (re-parameterisable). */
        ONE,
        /** MobileViT: local kxk and 1x1 convs, a ViT over unfolded patches, projection and a fused kxk conv. */
        MOBILEVIT,
        /** MobileViT-v2: local convs, linear (separable) self-attention over unfolded patches, a 1x1 projection. */
        MOBILEVIT2
    }

    /** How a residual block's shortcut changes shape (timm's {@code downsample}). */
    public enum Downsample {
        /** a strided 1x1 conv and norm */
        CONV1X1,
        /** a 2x2 average pool of the stride, then a 1x1 conv and norm */
        AVG,
        /** no shortcut where the shape changes ({@code ''}) */
        NONE
    }

    /** timm's {@code stem_type}. */
    public enum StemType {
        /** one strided 3x3 conv-norm-act (timm's {@code '3x3'} and {@code ''}), or a 3x3 stack for explicit widths */
        CONV3X3,
        /** one strided 7x7 conv-norm-act, as ResNet */
        CONV7X7,
        /** four 3x3 convs (NFNet-like) */
        QUAD,
        /** four 3x3 convs, the first two without norm and activation */
        QUAD2,
        /** three 3x3 convs of 3/8, 1/2 and all the width (ResNet-T) */
        TIERED,
        /** three 3x3 convs of the full width (ResNet-D) */
        DEEP,
        /** a strided RepVGG block */
        REP,
        /** a strided MobileOne block */
        ONE
    }

    /** timm's {@code stem_pool}. */
    public enum StemPool {
        NONE,
        /** 3x3 max pool, stride 2 */
        MAX,
        /** 3x3 average pool, stride 2 */
        AVG,
        /** 2x2 max pool */
        MAX2,
        /** 2x2 average pool */
        AVG2
    }

    /** timm's {@code head_type}. */
    public enum HeadType {
        /** pooling and a linear classifier ({@code head.fc}) */
        CLASSIFIER,
        /** pooling, BatchNorm, a hidden linear layer and activation, the classifier (timm's NormMlpClassifierHead) */
        MLP,
        /** CLIP's attention pooling with a learned absolute position embedding ({@code head.q/k/v/proj}) */
        ATTN_ABS
    }

    /**
     * A block's group size (channels per group of its grouped convs; 0 for none, 1 for depthwise), possibly depending
     * on the block's output channels and its index in the stage (timm accepts a callable).
     */
    @FunctionalInterface
    public interface GroupSize {
        int of(int channels, int blockIndex);

        /** The same group size for every block. */
        static GroupSize fixed(int size) {
            return (c, i) -> size;
        }

        /** RepVGG's {@code g4} variants: every second block of a stage in {@code groups} groups, the others plain. */
        static GroupSize everySecondBlock(int groups) {
            return (c, i) -> (i + 1) % 2 == 0 ? c / groups : 0;
        }
    }

    /**
     * The attention a block adds (timm's {@code attn_layer} and {@code attn_kwargs}).
     *
     * @param kind which attention
     * @param rdRatio SE's reduction ratio
     * @param rdDivisor SE's reduced width divisor
     * @param blockSize BAT's block size
     */
    public record AttnLayer(Kind kind, double rdRatio, int rdDivisor, int blockSize) {
        /** The attention kinds byobnet's models use. */
        public enum Kind {
            NONE,
            /** timm's SEModule (ReLU, sigmoid gate) */
            SE,
            /** ECA */
            ECA,
            /** global context with additive fusion ({@code 'gca'}) */
            GCA,
            /** bilinear attentional transform ({@code 'bat'}) */
            BAT
        }

        /** No attention. */
        public static final AttnLayer NONE = new AttnLayer(Kind.NONE, 0, 0, 0);

        /** SE with timm's defaults: reduction 1/16, width a multiple of 8. */
        public static AttnLayer se() {
            return se(1.0 / 16, 8);
        }

        /** SE with this reduction ratio, width a multiple of 8. */
        public static AttnLayer se(double rdRatio) {
            return se(rdRatio, 8);
        }

        public static AttnLayer se(double rdRatio, int rdDivisor) {
            return new AttnLayer(Kind.SE, rdRatio, rdDivisor, 0);
        }

        public static AttnLayer eca() {
            return new AttnLayer(Kind.ECA, 0, 0, 0);
        }

        public static AttnLayer gca() {
            return new AttnLayer(Kind.GCA, 0, 0, 0);
        }

        public static AttnLayer bat(int blockSize) {
            return new AttnLayer(Kind.BAT, 0, 0, blockSize);
        }

        public boolean isNone() {
            return kind == Kind.NONE;
        }

        /** The attention module for {@code channels}. */
        Module create(int channels) {
            return switch (kind) {
                case NONE -> new Identity();
                case SE -> new SqueezeExcite(channels, rdRatio, rdDivisor);
                case ECA -> new EfficientChannelAttention(channels);
                case GCA -> GlobalContext.gca(channels);
                case BAT -> new BatNonLocalAttn(channels, blockSize);
            };
        }
    }

    /**
     * The norm after each convolution (timm's {@code norm_layer}).
     *
     * @param kind which norm
     * @param groupSize channels per group of EvoNorm
     */
    public record NormLayer(Kind kind, int groupSize) {
        /** The norms byobnet's models use. */
        public enum Kind {
            /** BatchNorm (eps 1e-5) followed by the activation */
            BATCHNORM,
            /** timm's EvoNorm2dS0a, whose own sigmoid gate replaces the activation */
            EVONORM_S0A
        }

        public static NormLayer batchNorm() {
            return new NormLayer(Kind.BATCHNORM, 0);
        }

        public static NormLayer evoNormS0a(int groupSize) {
            return new NormLayer(Kind.EVONORM_S0A, groupSize);
        }

        /** The norm for {@code channels}, activated by {@code act} (IDENTITY: none). */
        Module create(int channels, Activation.Kind act) {
            return switch (kind) {
                case BATCHNORM -> new BatchNormAct2d(channels, 1e-5f, act);
                case EVONORM_S0A -> new EvoNorm2dS0a(channels, groupSize, act != Activation.Kind.IDENTITY);
            };
        }
    }

    /**
     * Block options beyond widths and strides (timm's {@code block_kwargs}); a block's own options replace the model's
     * wholly, as timm's do.
     *
     * @param bottleIn bottleneck width from the block's input rather than its output (RegNet-Z)
     * @param linearOut no activation after the residual sum (RegNet-Z)
     * @param extraConv a second kxk conv in bottlenecks (ResNet-61Q)
     * @param kernelSize the kxk kernel size
     * @param numConvBranches MobileOne's kxk branches
     * @param transformerDim the MobileViT blocks' transformer width (0: the bottleneck ratio of the input width)
     * @param transformerDepth the MobileViT blocks' transformer depth
     * @param patchSize the MobileViT blocks' patch size
     */
    public record BlockOptions(
            boolean bottleIn,
            boolean linearOut,
            boolean extraConv,
            int kernelSize,
            int numConvBranches,
            int transformerDim,
            int transformerDepth,
            int patchSize) {
        public BlockOptions {
            if (kernelSize < 1 || numConvBranches < 1) {
                throw new IllegalArgumentException(
                        "kernelSize " + kernelSize + " and numConvBranches " + numConvBranches + " must be at least 1");
            }
            if (transformerDim < 0 || transformerDepth < 1 || patchSize < 1) {
                throw new IllegalArgumentException("transformerDim " + transformerDim + " must be 0 or more,"
                        + " transformerDepth " + transformerDepth + " and patchSize " + patchSize + " at least 1");
            }
        }

        /** The options without the MobileViT blocks' transformer settings (timm's defaults for those). */
        public BlockOptions(
                boolean bottleIn, boolean linearOut, boolean extraConv, int kernelSize, int numConvBranches) {
            this(bottleIn, linearOut, extraConv, kernelSize, numConvBranches, 0, 2, 8);
        }

        /** timm's block defaults: 3x3 kernels, one branch, nothing else. */
        public static BlockOptions defaults() {
            return new BlockOptions(false, false, false, 3, 1);
        }

        /** RegNet-Z's blocks: bottleneck from the input width, no activation after the sum. */
        public BlockOptions withBottleInLinearOut() {
            return new BlockOptions(
                    true, true, extraConv, kernelSize, numConvBranches, transformerDim, transformerDepth, patchSize);
        }

        public BlockOptions withExtraConv() {
            return new BlockOptions(
                    bottleIn,
                    linearOut,
                    true,
                    kernelSize,
                    numConvBranches,
                    transformerDim,
                    transformerDepth,
                    patchSize);
        }

        public BlockOptions withKernelSize(int k) {
            return new BlockOptions(
                    bottleIn, linearOut, extraConv, k, numConvBranches, transformerDim, transformerDepth, patchSize);
        }

        public BlockOptions withConvBranches(int n) {
            return new BlockOptions(
                    bottleIn, linearOut, extraConv, kernelSize, n, transformerDim, transformerDepth, patchSize);
        }

        /** The MobileViT blocks' transformer: width (0: from the bottleneck ratio), depth and patch size. */
        public BlockOptions withTransformer(int dim, int depth, int patch) {
            return new BlockOptions(bottleIn, linearOut, extraConv, kernelSize, numConvBranches, dim, depth, patch);
        }
    }

    /**
     * One block config, repeated {@code d} times (timm's {@code ByoBlockCfg}).
     *
     * @param type the block kind
     * @param d how many blocks
     * @param c output channels (before the model's width factor)
     * @param s stride of the first block
     * @param gs group size
     * @param br bottleneck ratio
     * @param attn attention replacing the model's, or null to keep the model's
     * @param options block options replacing the model's, or null to keep the model's
     */
    public record BlockCfg(
            BlockType type, int d, int c, int s, GroupSize gs, double br, AttnLayer attn, BlockOptions options) {
        public BlockCfg {
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(gs, "gs");
            if (d < 1 || c < 1 || s < 1 || br <= 0) {
                throw new IllegalArgumentException(
                        "block config d=" + d + " c=" + c + " s=" + s + " br=" + br + ": all must be positive");
            }
        }

        /** The common form: type, depth, channels, stride, group size (0: none) and bottleneck ratio. */
        public static BlockCfg of(BlockType type, int d, int c, int s, int gs, double br) {
            return builder(type, d, c).s(s).gs(gs).br(br).build();
        }

        /** A builder with timm's defaults: stride 2, no groups, ratio 1, the model's attention and options. */
        public static Builder builder(BlockType type, int d, int c) {
            return new Builder(type, d, c);
        }

        public Builder toBuilder() {
            return new Builder(type, d, c).s(s).gs(gs).br(br).attn(attn).options(options);
        }

        /** Builds a {@link BlockCfg}. */
        public static final class Builder {
            private final BlockType type;
            private final int d;
            private final int c;
            private int s = 2;
            private GroupSize gs = GroupSize.fixed(0);
            private double br = 1.0;
            private AttnLayer attn;
            private BlockOptions options;

            private Builder(BlockType type, int d, int c) {
                this.type = type;
                this.d = d;
                this.c = c;
            }

            public Builder s(int value) {
                s = value;
                return this;
            }

            public Builder gs(int value) {
                gs = GroupSize.fixed(value);
                return this;
            }

            public Builder gs(GroupSize value) {
                gs = value;
                return this;
            }

            public Builder br(double value) {
                br = value;
                return this;
            }

            /** This block's attention (AttnLayer.NONE turns the model's off), null for the model's. */
            public Builder attn(AttnLayer value) {
                attn = value;
                return this;
            }

            /** This block's options, null for the model's. */
            public Builder options(BlockOptions value) {
                options = value;
                return this;
            }

            public BlockCfg build() {
                return new BlockCfg(type, d, c, s, gs, br, attn, options);
            }
        }
    }

    /**
     * A ByobNet variant (timm's {@code ByoModelCfg}). Made by {@link #builder()}; {@link #toBuilder()} derives
     * variants.
     *
     * @param stages the block configs of each stage
     * @param downsample shortcut kind where a block changes shape
     * @param stemType the stem
     * @param stemPool the pool closing the stem
     * @param stemChs stem width (0: the first block's); ignored when {@code stemChsStack} is given
     * @param stemChsStack widths of an explicit stack of 3x3 stem convs (empty: none)
     * @param widthFactor multiplies every width
     * @param numFeatures width of a final 1x1 conv-norm-act (0: none)
     * @param act the activation
     * @param norm the norm
     * @param avgAntiAlias average-pool anti-aliasing after strided convs in the stages (timm's {@code aa_layer='avg'})
     * @param headType the head
     * @param headHiddenSize the MLP head's hidden width, or the attention head's embedding width (0: the features')
     * @param imgSize the input size the attention head's position embedding is made for (timm's {@code img_size})
     * @param attn the attention of every block (blocks may replace it)
     * @param blockOptions the options of every block (blocks may replace them)
     */
    public record Config(
            List<List<BlockCfg>> stages,
            Downsample downsample,
            StemType stemType,
            StemPool stemPool,
            int stemChs,
            List<Integer> stemChsStack,
            double widthFactor,
            int numFeatures,
            Activation.Kind act,
            NormLayer norm,
            boolean avgAntiAlias,
            HeadType headType,
            int headHiddenSize,
            int imgSize,
            AttnLayer attn,
            BlockOptions blockOptions) {

        public Config {
            stages = stages.stream().map(List::copyOf).toList();
            stemChsStack = List.copyOf(stemChsStack);
        }

        /** A builder with timm's defaults: a 3x3 stem of 32 with max pool, 1x1 shortcuts, ReLU and BatchNorm. */
        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            return new Builder(this);
        }

        /** The same network with another head (timm's {@code _gap} CLIP variants use the classifier). */
        public Config withHead(HeadType type) {
            return toBuilder().headType(type).build();
        }

        /** The same network with another attention in every block. */
        public Config withAttn(AttnLayer value) {
            return toBuilder().attn(value).build();
        }

        /** The attention head sized for another input (timm's {@code img_size}). */
        public Config withImgSize(int size) {
            return toBuilder().imgSize(size).build();
        }

        /** Builds a {@link Config} by field name; {@link #build()} checks it. */
        public static final class Builder {
            private List<List<BlockCfg>> stages = List.of();
            private Downsample downsample = Downsample.CONV1X1;
            private StemType stemType = StemType.CONV3X3;
            private StemPool stemPool = StemPool.MAX;
            private int stemChs = 32;
            private List<Integer> stemChsStack = List.of();
            private double widthFactor = 1.0;
            private int numFeatures;
            private Activation.Kind act = Activation.Kind.RELU;
            private NormLayer norm = NormLayer.batchNorm();
            private boolean avgAntiAlias;
            private HeadType headType = HeadType.CLASSIFIER;
            private int headHiddenSize;
            private int imgSize;
            private AttnLayer attn = AttnLayer.NONE;
            private BlockOptions blockOptions = BlockOptions.defaults();

            private Builder() {}

            private Builder(Config c) {
                stages = c.stages();
                downsample = c.downsample();
                stemType = c.stemType();
                stemPool = c.stemPool();
                stemChs = c.stemChs();
                stemChsStack = c.stemChsStack();
                widthFactor = c.widthFactor();
                numFeatures = c.numFeatures();
                act = c.act();
                norm = c.norm();
                avgAntiAlias = c.avgAntiAlias();
                headType = c.headType();
                headHiddenSize = c.headHiddenSize();
                imgSize = c.imgSize();
                attn = c.attn();
                blockOptions = c.blockOptions();
            }

            /** One stage per block config (timm's usual {@code blocks=(ByoBlockCfg, ...)}). */
            public Builder blocks(BlockCfg... perStage) {
                stages = Arrays.stream(perStage).map(List::of).toList();
                return this;
            }

            /** Stages of several block configs each. */
            public Builder stages(List<List<BlockCfg>> value) {
                stages = value;
                return this;
            }

            public Builder downsample(Downsample value) {
                downsample = value;
                return this;
            }

            public Builder stemType(StemType value) {
                stemType = value;
                return this;
            }

            public Builder stemPool(StemPool value) {
                stemPool = value;
                return this;
            }

            public Builder stemChs(int value) {
                stemChs = value;
                return this;
            }

            /** An explicit stack of 3x3 stem convs of these widths. */
            public Builder stemChsStack(Integer... value) {
                stemChsStack = List.of(value);
                return this;
            }

            public Builder widthFactor(double value) {
                widthFactor = value;
                return this;
            }

            public Builder numFeatures(int value) {
                numFeatures = value;
                return this;
            }

            public Builder act(Activation.Kind value) {
                act = value;
                return this;
            }

            public Builder norm(NormLayer value) {
                norm = value;
                return this;
            }

            public Builder avgAntiAlias(boolean value) {
                avgAntiAlias = value;
                return this;
            }

            public Builder headType(HeadType value) {
                headType = value;
                return this;
            }

            public Builder headHiddenSize(int value) {
                headHiddenSize = value;
                return this;
            }

            public Builder imgSize(int value) {
                imgSize = value;
                return this;
            }

            public Builder attn(AttnLayer value) {
                attn = value;
                return this;
            }

            public Builder blockOptions(BlockOptions value) {
                blockOptions = value;
                return this;
            }

            /** The config, failing on an empty or inconsistent one. */
            public Config build() {
                if (stages.isEmpty() || stages.stream().anyMatch(List::isEmpty)) {
                    throw new IllegalArgumentException("a ByobNet needs stages of at least one block each: " + stages);
                }
                if (widthFactor <= 0) {
                    throw new IllegalArgumentException("widthFactor " + widthFactor + " must be positive");
                }
                if (headType == HeadType.CLASSIFIER && headHiddenSize != 0) {
                    throw new IllegalArgumentException(
                            "the classifier head has no hidden size (headHiddenSize " + headHiddenSize + ")");
                }
                if (headType == HeadType.ATTN_ABS && imgSize <= 0) {
                    throw new IllegalArgumentException("the attention-pool head needs imgSize, the input size its"
                            + " position embedding is made for");
                }
                if (headType == HeadType.MLP && norm.kind() != NormLayer.Kind.BATCHNORM) {
                    throw new IllegalArgumentException("the MLP head is built with BatchNorm only, not " + norm);
                }
                return new Config(
                        stages,
                        downsample,
                        stemType,
                        stemPool,
                        stemChs,
                        stemChsStack,
                        widthFactor,
                        numFeatures,
                        act,
                        norm,
                        avgAntiAlias,
                        headType,
                        headHiddenSize,
                        imgSize,
                        attn,
                        blockOptions);
            }
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** A feature level with the stage whose output it is (0: the stem). */
    private record Level(int channels, int reduction, String module, int stage) {}

    private final Config cfg;
    private Module stem;
    private final Sequential stages;
    private final Module finalConv;
    private final AttentionPool2d attnHead;
    private final NormMlpClassifierHead mlpHead;
    private final int[] stageEnds;

    public ByobNet(Config cfg, ModelArgs args) {
        super(cfg.headType() == HeadType.ATTN_ABS ? withoutPool(args) : args);
        this.cfg = cfg;
        if (cfg.headType() == HeadType.ATTN_ABS) {
            globalPool = AttentionPool2d.validatePool(args.globalPool());
        }
        double wf = cfg.widthFactor();
        LayerFn stageLayers = new LayerFn(cfg.norm(), cfg.act(), cfg.attn(), cfg.avgAntiAlias());
        LayerFn stemLayers = stageLayers.withoutAntiAlias();

        // the stem, and its levels (all but its output are feature levels of their own)
        List<Level> stemLevels = new ArrayList<>();
        stem = register("stem", createStem(stemLayers, stemLevels));
        List<Level> levels = new ArrayList<>(stemLevels.subList(0, stemLevels.size() - 1));

        // the stages (timm's create_byob_stages at output stride 32)
        List<List<BlockCfg>> expanded = new ArrayList<>();
        List<Integer> depths = new ArrayList<>();
        for (List<BlockCfg> stage : cfg.stages()) {
            List<BlockCfg> blocks = new ArrayList<>();
            for (BlockCfg bc : stage) {
                for (int i = 0; i < bc.d(); i++) {
                    blocks.add(bc);
                }
            }
            expanded.add(blocks);
            depths.add(blocks.size());
        }
        double[][] dpr = DropPath.schedule(args.dropPathRate(), depths);
        Level prevLevel = stemLevels.get(stemLevels.size() - 1);
        int netStride = prevLevel.reduction();
        int prevChs = prevLevel.channels();
        int featSize = cfg.imgSize() / netStride;
        stages = register("stages", new Sequential());
        for (int s = 0; s < expanded.size(); s++) {
            List<BlockCfg> blocks = expanded.get(s);
            int stride = blocks.get(0).s();
            if (stride != 1) {
                levels.add(prevLevel);
            }
            netStride *= stride;
            featSize /= stride;
            Stage stage = new Stage();
            for (int b = 0; b < blocks.size(); b++) {
                BlockCfg bc = blocks.get(b);
                int out = Layers.makeDivisible(bc.c() * wf, 8);
                LayerFn layers = bc.attn() == null ? stageLayers : stageLayers.withAttn(bc.attn());
                BlockOptions options = bc.options() == null ? cfg.blockOptions() : bc.options();
                stage.add(ByobBlocks.create(
                        bc.type(),
                        new BlockArgs(
                                prevChs,
                                out,
                                b == 0 ? stride : 1,
                                bc.gs().of(out, b),
                                bc.br(),
                                cfg.downsample(),
                                options,
                                layers,
                                dpr[s][b])));
                prevChs = out;
            }
            stages.add(stage);
            prevLevel = new Level(prevChs, netStride, "stages." + s, s + 1);
        }

        // the final conv and the head
        int numFeatures = prevChs;
        if (cfg.numFeatures() > 0) {
            numFeatures = (int) Math.rint(wf * cfg.numFeatures());
            finalConv = register("final_conv", stageLayers.convNormAct(prevChs, numFeatures, 1, 1, 1, true));
        } else {
            finalConv = register("final_conv", new Identity());
        }
        levels.add(new Level(numFeatures, netStride, "final_conv", expanded.size()));
        stageEnds = new int[levels.size()];
        for (int i = 0; i < levels.size(); i++) {
            Level l = levels.get(i);
            addFeatureInfo(l.channels(), l.reduction(), l.module(), l.stage());
            stageEnds[i] = l.stage();
        }
        switch (cfg.headType()) {
            case CLASSIFIER -> {
                registerNestedClassifierHead("head", numFeatures);
                attnHead = null;
                mlpHead = null;
            }
            case MLP -> {
                setNumFeatures(numFeatures);
                mlpHead = registerHead(
                        "head",
                        new NormMlpClassifierHead(
                                numFeatures,
                                numClasses,
                                cfg.headHiddenSize(),
                                globalPool,
                                dropRate,
                                new BatchNorm2d(numFeatures),
                                cfg.act()));
                attnHead = null;
            }
            case ATTN_ABS -> {
                setNumFeatures(numFeatures);
                attnHead = register(
                        "head",
                        new AttentionPool2d(
                                numFeatures, featSize, numClasses, cfg.headHiddenSize(), 64, true, globalPool, (float)
                                        dropRate));
                mlpHead = null;
            }
            default -> throw new IllegalStateException(cfg.headType().toString());
        }
    }

    // the attention head pools by "token", which ImageModel's classifier pooling does not know
    private static ModelArgs withoutPool(ModelArgs a) {
        return new ModelArgs(a.numClasses(), a.inChans(), "", a.dropRate(), a.dropPathRate(), a.zeroInitLast());
    }

    /** timm's {@code create_byob_stem}; adds the stem's levels (stage 0, names under {@code stem}) to {@code out}. */
    private Module createStem(LayerFn layers, List<Level> out) {
        double wf = cfg.widthFactor();
        boolean stack = !cfg.stemChsStack().isEmpty();
        List<Integer> chsStack =
                cfg.stemChsStack().stream().map(c -> (int) Math.rint(c * wf)).toList();
        int base =
                cfg.stemChs() > 0 ? cfg.stemChs() : cfg.stages().get(0).get(0).c();
        int chs = (int) Math.rint(base * wf);
        StemPool pool = cfg.stemPool();
        Stem stack3;
        switch (cfg.stemType()) {
            case QUAD, QUAD2 -> {
                List<Integer> w = new ArrayList<>();
                for (int i = 3; i >= 0; i--) {
                    w.add((int) Math.rint(chs * Math.pow(0.5, i)));
                }
                stack3 = new Stem(inChans, w, 3, 4, pool, cfg.stemType() == StemType.QUAD2 ? 2 : -1, layers);
            }
            case TIERED -> stack3 = new Stem(inChans, List.of(3 * chs / 8, chs / 2, chs), 3, 4, pool, -1, layers);
            case DEEP -> stack3 = new Stem(inChans, List.of(chs, chs, chs), 3, 4, pool, -1, layers);
            case REP -> {
                out.add(new Level(chs, 2, "stem", 0));
                return new ByobBlocks.RepVggBlock(inChans, chs, 3, 2, 0, layers, 0);
            }
            case ONE -> {
                out.add(new Level(chs, 2, "stem", 0));
                return new ByobBlocks.MobileOneBlock(inChans, chs, 3, 2, 0, 1, layers, 0);
            }
            case CONV7X7, CONV3X3 -> {
                int k = cfg.stemType() == StemType.CONV7X7 ? 7 : 3;
                if (stack && k == 3) {
                    stack3 = new Stem(inChans, chsStack, 3, 4, pool, -1, layers);
                } else if (pool != StemPool.NONE) {
                    stack3 = new Stem(inChans, List.of(chs), k, 4, pool, -1, layers);
                } else {
                    out.add(new Level(chs, 2, "stem", 0));
                    return layers.convNormAct(inChans, chs, k, 2, 1, true);
                }
            }
            default -> throw new IllegalStateException(cfg.stemType().toString());
        }
        for (Stem.Level l : stack3.levels()) {
            out.add(new Level(l.channels(), l.reduction(), "stem." + l.module(), 0));
        }
        return stack3;
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /**
     * timm's {@code reparameterize()} on every RepVGG and MobileOne block (stem included): each block's branches (kxk
     * and 1x1 conv-BNs, BN identity) fuse with their eval-mode statistics into one kxk conv with bias
     * ({@code reparam_conv}), which computes what the block did in eval mode; the branches leave the state_dict. Other
     * blocks are left as they are, and a second call does nothing. The fused model cannot be trained as before (its
     * BatchNorms are gone).
     *
     * @return this model, fused
     */
    public ByobNet reparameterize() {
        stem = ByobBlocks.reparameterize(stem, m -> register("stem", m));
        for (Module s : stages.children().values()) {
            ((Stage) s).reparameterize();
        }
        return this;
    }

    /** Whether {@link #reparameterize()} has fused this model's RepVGG / MobileOne blocks. */
    public boolean isReparameterized() {
        return namedModules().values().stream().anyMatch(m -> m instanceof FusedConvBlock);
    }

    /**
     * A copy for prediction only: its RepVGG / MobileOne blocks fused ({@link #reparameterize()}), then the remaining
     * BatchNorms folded into their convolutions ({@link InferenceModel}). The copy is built from this model's config
     * (registered or not, fused or not); this model is not changed.
     */
    @Override
    public InferenceModel optimizeForInference() {
        ByobNet copy = new ByobNet(cfg, new ModelArgs(numClasses, inChans, globalPool, 0, 0));
        NDManager manager = NDManager.newBaseManager();
        copy.setOwnedManager(manager);
        copy.setIdentity(name(), pretrainedCfg());
        try {
            copy.materialize(manager);
            if (isReparameterized()) {
                // the fused form's keys, to take this model's fused weights
                copy.reparameterize();
            }
            copy.loadStateDict(stateDict(), true);
            copy.eval();
            copy.reparameterize();
            return InferenceModel.inPlace(copy, InferenceModel.sampleShape(this));
        } catch (RuntimeException e) {
            copy.close();
            throw e;
        }
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's _init_weights: convs normal with std sqrt(2 / fan_out) (fan-out over groups), linears normal 0.01,
        // zero biases, BatchNorm ones and zeros; then the blocks' and the head's own init on top
        for (Module m : namedModules().values()) {
            if (m instanceof Conv2d c && c.kernelSize().length == 2) {
                long[] k = c.kernelSize();
                long fanOut = k[0] * k[1] * c.outChannels() / c.groups();
                Init.normal(c.weight().getArray(), Math.sqrt(2.0 / fanOut), random);
                if (c.bias() != null) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            } else if (m instanceof Linear l) {
                Init.normal(l.weight().getArray(), 0.01, random);
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            } else if (m instanceof BatchNorm2d bn && !bn.isFolded()) {
                Init.constant(bn.weight().getArray(), 1f);
                Init.constant(bn.bias().getArray(), 0f);
            }
        }
        for (Module m : namedModules().values()) {
            if (m instanceof OwnInit b) {
                b.initWeights(zeroInitLast, random);
            }
        }
        if (attnHead != null) {
            attnHead.initWeights(random);
        }
    }

    private NDArray[] stemForward(NDArray x) {
        return stem instanceof Stem s ? s.forwardWithIntermediate(x) : new NDArray[] {stem.forward(x), null};
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return finalConv.forward(stages.forward(stem.forward(x)));
    }

    /**
     * timm's {@code forward_intermediates}: the stem's level is its output before its last stride where it has one,
     * each stage's output, and the last level is after {@code final_conv}.
     */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        int[] take = resolveIndices(indices);
        int lastLevel = deepest(take);
        int lastStage = stageEnds[lastLevel];
        NDArray[] s = stemForward(x);
        List<NDArray> byStage = new ArrayList<>();
        byStage.add(s[1] != null ? s[1] : s[0]);
        x = s[0];
        for (int i = 1; i <= lastStage; i++) {
            x = stages.get(i - 1).forward(x);
            if (i == stages.size()) {
                x = finalConv.forward(x);
            }
            byStage.add(x);
        }
        List<NDArray> all = new ArrayList<>();
        for (int i = 0; i <= lastLevel; i++) {
            all.add(byStage.get(stageEnds[i]));
        }
        return select(all, take);
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return attnHead != null ? attnHead.forward(x, preLogits) : super.forwardHead(x, preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        if (attnHead != null) {
            attnHead.reset(newNumClasses, newGlobalPool);
            globalPool = attnHead.poolType();
            numClasses = newNumClasses;
        } else {
            super.resetClassifier(newNumClasses, newGlobalPool);
        }
    }

    /** The attention head's embedding width, the MLP head's hidden width, else the features'. */
    @Override
    public int headHiddenSize() {
        if (attnHead != null) {
            return attnHead.embedDim();
        }
        if (mlpHead != null) {
            return mlpHead.numFeatures();
        }
        return numFeatures();
    }

    /** timm's {@code checkpoint_filter_fn}: OpenAI CLIP's ResNet checkpoints ({@code visual.*}) are renamed. */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("visual.conv1.weight")) {
            return convertOpenAiClip(checkpoint, attnHead != null);
        }
        return checkpoint;
    }

    private static final Pattern CLIP_STEM_CONV = Pattern.compile("visual.conv([0-9])");
    private static final Pattern CLIP_STEM_BN = Pattern.compile("visual.bn([0-9])");
    private static final Pattern CLIP_LAYER = Pattern.compile("visual.layer([0-9])\\.([0-9]+)\\.([a-z]+)([0-9])");
    private static final Pattern CLIP_DOWN = Pattern.compile("visual.layer([0-9])\\.([0-9]+)\\.downsample\\.([0-9])");

    /** timm's {@code _convert_openai_clip}: OpenAI's ResNet module names to byobnet's, the text tower dropped. */
    static Map<String, NDArray> convertOpenAiClip(Map<String, NDArray> sd, boolean hasAttnPool) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : sd.entrySet()) {
            String k = e.getKey();
            if (!k.startsWith("visual.")) {
                continue;
            }
            k = CLIP_STEM_CONV.matcher(k).replaceAll("stem.conv$1.conv");
            k = CLIP_STEM_BN.matcher(k).replaceAll("stem.conv$1.bn");
            k = replace(CLIP_LAYER, k, m -> {
                String id = switch (m.group(4)) {
                    case "1" -> "conv1_1x1.";
                    case "2" -> "conv2_kxk.";
                    case "3" -> "conv3_1x1.";
                    default -> throw new IllegalArgumentException("unexpected CLIP block layer in " + e.getKey());
                };
                return "stages." + (Integer.parseInt(m.group(1)) - 1) + "." + m.group(2) + "." + id + m.group(3);
            });
            k = replace(
                    CLIP_DOWN,
                    k,
                    m -> "stages." + (Integer.parseInt(m.group(1)) - 1) + "." + m.group(2) + ".shortcut."
                            + (m.group(3).equals("0") ? "conv.conv" : "conv.bn"));
            if (k.startsWith("visual.attnpool")) {
                if (!hasAttnPool) {
                    continue;
                }
                k = k.replace("visual.attnpool", "head")
                        .replace("positional_embedding", "pos_embed")
                        .replace("q_proj", "q")
                        .replace("k_proj", "k")
                        .replace("v_proj", "v")
                        .replace("c_proj", "proj");
            }
            out.put(k, e.getValue());
        }
        return out;
    }

    private static String replace(Pattern p, String s, Function<Matcher, String> with) {
        Matcher m = p.matcher(s);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, Matcher.quoteReplacement(with.apply(m)));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers every name of timm's byobnet.py. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "byobnet";
        }

        private static BlockCfg basic(int d, int c, int s, int gs, double br) {
            return BlockCfg.of(BlockType.BASIC, d, c, s, gs, br);
        }

        private static BlockCfg bottle(int d, int c, int s, int gs, double br) {
            return BlockCfg.of(BlockType.BOTTLE, d, c, s, gs, br);
        }

        /** timm's {@code _rep_vgg_bcfg}: four stages of RepVGG blocks of 64..512 channels times the width factors. */
        static Config.Builder repVgg(int[] d, double[] wf, int groups, int stemChs) {
            int[] c = {64, 128, 256, 512};
            BlockCfg[] blocks = new BlockCfg[4];
            for (int i = 0; i < 4; i++) {
                blocks[i] = BlockCfg.builder(BlockType.REP, d[i], (int) Math.rint(c[i] * wf[i]))
                        .gs(groups > 0 ? GroupSize.everySecondBlock(groups) : GroupSize.fixed(0))
                        .build();
            }
            return Config.builder().blocks(blocks).stemType(StemType.REP).stemChs(stemChs);
        }

        private static final int[] REPVGG_A = {2, 4, 14, 1};
        private static final int[] REPVGG_B = {4, 6, 16, 1};

        /**
         * timm's {@code _mobileone_bcfg}: per stage, pairs of a depthwise kxk MobileOne block and a pointwise one, the
         * last {@code se[i]} pairs of stage i with SE.
         */
        static Config mobileOne(double[] wf, int[] se, int branches, int stemChs) {
            int[] d = {2, 8, 10, 1};
            int[] c = {64, 128, 256, 512};
            int prev = (int) Math.min(64, c[0] * wf[0]);
            BlockOptions dw = BlockOptions.defaults().withConvBranches(branches);
            BlockOptions pw = dw.withKernelSize(1);
            List<List<BlockCfg>> stages = new ArrayList<>();
            for (int s = 0; s < 4; s++) {
                List<BlockCfg> blocks = new ArrayList<>();
                int out = (int) Math.rint(c[s] * wf[s]);
                for (int i = 0; i < d[s]; i++) {
                    AttnLayer attn = i >= d[s] - se[s] ? AttnLayer.se() : null;
                    blocks.add(BlockCfg.builder(BlockType.ONE, 1, prev)
                            .gs(1)
                            .attn(attn)
                            .options(dw)
                            .build());
                    blocks.add(BlockCfg.builder(BlockType.ONE, 1, out)
                            .gs(0)
                            .attn(attn)
                            .options(pw)
                            .build());
                    prev = out;
                }
                stages.add(blocks);
            }
            return Config.builder()
                    .stages(stages)
                    .stemType(StemType.ONE)
                    .stemChs(stemChs)
                    .build();
        }

        /** The ResNeXt-26 / ResNet-33 / ResNet-50 "ts" stages: bottlenecks of ratio 1/4 and group size gs. */
        private static Config.Builder resnetTs(int[] d, int[] c, int gs, int stemChs, StemPool pool) {
            BlockCfg[] blocks = new BlockCfg[4];
            for (int i = 0; i < 4; i++) {
                blocks[i] = bottle(d[i], c[i], i == 0 ? 1 : 2, gs, 0.25);
            }
            return Config.builder()
                    .blocks(blocks)
                    .stemChs(stemChs)
                    .stemType(StemType.TIERED)
                    .stemPool(pool);
        }

        private static final int[] C26 = {256, 512, 1024, 2048};
        private static final int[] C33 = {256, 512, 1536, 1536};

        /** timm's RegNet-Z-like nets: bottlenecks from the input width, SE 1/4, no shortcuts where shapes change. */
        private static Config.Builder regnetZ(int[] d, int[] c, int s0, int gs, double br, int numFeatures) {
            BlockCfg[] blocks = new BlockCfg[4];
            for (int i = 0; i < 4; i++) {
                blocks[i] = bottle(d[i], c[i], i == 0 ? s0 : 2, gs, br);
            }
            return Config.builder()
                    .blocks(blocks)
                    .stemPool(StemPool.NONE)
                    .downsample(Downsample.NONE)
                    .numFeatures(numFeatures)
                    .act(Activation.Kind.SILU)
                    .attn(AttnLayer.se(0.25))
                    .blockOptions(BlockOptions.defaults().withBottleInLinearOut());
        }

        /** OpenAI CLIP's ResNets: a 3-conv stem with 2x2 average pool, average-pool downsampling and anti-aliasing. */
        private static Config.Builder clip(int[] d, double widthFactor, int imgSize) {
            BlockCfg[] blocks = new BlockCfg[4];
            for (int i = 0; i < 4; i++) {
                blocks[i] = bottle(d[i], C26[i], i == 0 ? 1 : 2, 0, 0.25);
            }
            return Config.builder()
                    .blocks(blocks)
                    .widthFactor(widthFactor)
                    .stemChsStack(32, 32, 64)
                    .stemType(StemType.CONV3X3)
                    .stemPool(StemPool.AVG2)
                    .downsample(Downsample.AVG)
                    .avgAntiAlias(true)
                    .headType(HeadType.ATTN_ABS)
                    .imgSize(imgSize);
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            // GPU-Efficient nets
            add(
                    m,
                    "gernet_l",
                    Config.builder()
                            .blocks(
                                    basic(1, 128, 2, 0, 1),
                                    basic(2, 192, 2, 0, 1),
                                    bottle(6, 640, 2, 0, 0.25),
                                    bottle(5, 640, 2, 1, 3),
                                    bottle(4, 640, 1, 1, 3))
                            .stemChs(32)
                            .stemPool(StemPool.NONE)
                            .numFeatures(2560)
                            .build());
            add(
                    m,
                    "gernet_m",
                    Config.builder()
                            .blocks(
                                    basic(1, 128, 2, 0, 1),
                                    basic(2, 192, 2, 0, 1),
                                    bottle(6, 640, 2, 0, 0.25),
                                    bottle(4, 640, 2, 1, 3),
                                    bottle(1, 640, 1, 1, 3))
                            .stemChs(32)
                            .stemPool(StemPool.NONE)
                            .numFeatures(2560)
                            .build());
            add(
                    m,
                    "gernet_s",
                    Config.builder()
                            .blocks(
                                    basic(1, 48, 2, 0, 1),
                                    basic(3, 48, 2, 0, 1),
                                    bottle(7, 384, 2, 0, 0.25),
                                    bottle(2, 560, 2, 1, 3),
                                    bottle(1, 256, 1, 1, 3))
                            .stemChs(13)
                            .stemPool(StemPool.NONE)
                            .numFeatures(1920)
                            .build());

            // RepVGG
            add(
                    m,
                    "repvgg_a0",
                    repVgg(REPVGG_A, new double[] {0.75, 0.75, 0.75, 2.5}, 0, 48)
                            .build());
            add(
                    m,
                    "repvgg_a1",
                    repVgg(REPVGG_A, new double[] {1, 1, 1, 2.5}, 0, 64).build());
            add(
                    m,
                    "repvgg_a2",
                    repVgg(REPVGG_A, new double[] {1.5, 1.5, 1.5, 2.75}, 0, 64).build());
            add(
                    m,
                    "repvgg_b0",
                    repVgg(REPVGG_B, new double[] {1, 1, 1, 2.5}, 0, 64).build());
            add(
                    m,
                    "repvgg_b1",
                    repVgg(REPVGG_B, new double[] {2, 2, 2, 4}, 0, 64).build());
            add(
                    m,
                    "repvgg_b1g4",
                    repVgg(REPVGG_B, new double[] {2, 2, 2, 4}, 4, 64).build());
            add(
                    m,
                    "repvgg_b2",
                    repVgg(REPVGG_B, new double[] {2.5, 2.5, 2.5, 5}, 0, 64).build());
            add(
                    m,
                    "repvgg_b2g4",
                    repVgg(REPVGG_B, new double[] {2.5, 2.5, 2.5, 5}, 4, 64).build());
            add(
                    m,
                    "repvgg_b3",
                    repVgg(REPVGG_B, new double[] {3, 3, 3, 5}, 0, 64).build());
            add(
                    m,
                    "repvgg_b3g4",
                    repVgg(REPVGG_B, new double[] {3, 3, 3, 5}, 4, 64).build());
            add(
                    m,
                    "repvgg_d2se",
                    repVgg(new int[] {8, 14, 24, 1}, new double[] {2.5, 2.5, 2.5, 5}, 0, 64)
                            .attn(AttnLayer.se(0.0625, 1))
                            .build());

            // ResNet-51Q / 61Q: quad stems, no stem pool, depthwise last stage, SiLU
            add(
                    m,
                    "resnet51q",
                    Config.builder()
                            .blocks(
                                    bottle(2, 256, 1, 32, 0.25),
                                    bottle(4, 512, 2, 32, 0.25),
                                    bottle(6, 1536, 2, 32, 0.25),
                                    bottle(4, 1536, 2, 1, 1.0))
                            .stemChs(128)
                            .stemType(StemType.QUAD2)
                            .stemPool(StemPool.NONE)
                            .numFeatures(2048)
                            .act(Activation.Kind.SILU)
                            .build());
            add(
                    m,
                    "resnet61q",
                    Config.builder()
                            .blocks(
                                    BlockCfg.builder(BlockType.EDGE, 1, 256)
                                            .s(1)
                                            .options(BlockOptions.defaults())
                                            .build(),
                                    bottle(4, 512, 2, 32, 0.25),
                                    bottle(6, 1536, 2, 32, 0.25),
                                    bottle(4, 1536, 2, 1, 1.0))
                            .stemChs(128)
                            .stemType(StemType.QUAD)
                            .stemPool(StemPool.NONE)
                            .numFeatures(2048)
                            .act(Activation.Kind.SILU)
                            .blockOptions(BlockOptions.defaults().withExtraConv())
                            .build());

            // ResNeXt-26 with none, GC, SE, ECA or BAT attention; ResNet-32/33/50 "ts"
            Config x26 = resnetTs(new int[] {2, 2, 2, 2}, C26, 32, 64, StemPool.MAX)
                    .act(Activation.Kind.SILU)
                    .build();
            add(m, "resnext26ts", x26);
            add(m, "gcresnext26ts", x26.withAttn(AttnLayer.gca()));
            add(m, "seresnext26ts", x26.withAttn(AttnLayer.se()));
            add(m, "eca_resnext26ts", x26.withAttn(AttnLayer.eca()));
            add(m, "bat_resnext26ts", x26.withAttn(AttnLayer.bat(8)));
            Config r32 = resnetTs(new int[] {2, 3, 3, 2}, C33, 0, 64, StemPool.NONE)
                    .act(Activation.Kind.SILU)
                    .build();
            Config r33 = r32.toBuilder().numFeatures(1280).build();
            add(m, "resnet32ts", r32);
            add(m, "resnet33ts", r33);
            add(m, "gcresnet33ts", r33.withAttn(AttnLayer.gca()));
            add(m, "seresnet33ts", r33.withAttn(AttnLayer.se()));
            add(m, "eca_resnet33ts", r33.withAttn(AttnLayer.eca()));
            add(
                    m,
                    "gcresnet50t",
                    resnetTs(new int[] {3, 4, 6, 3}, C26, 0, 64, StemPool.NONE)
                            .attn(AttnLayer.gca())
                            .build());
            add(
                    m,
                    "gcresnext50ts",
                    resnetTs(new int[] {3, 4, 6, 3}, C26, 32, 64, StemPool.MAX)
                            .act(Activation.Kind.SILU)
                            .attn(AttnLayer.gca())
                            .build());

            // RegNet-Z-like nets, and their EvoNorm variants
            int[] dB = {2, 6, 12, 2};
            int[] cB = {48, 96, 192, 288};
            int[] dD = {3, 6, 12, 3};
            int[] cD = {64, 128, 256, 384};
            Config b16 = regnetZ(dB, cB, 2, 16, 3, 1536).stemChs(32).build();
            Config c16 = regnetZ(dB, cB, 2, 16, 4, 1536).stemChs(32).build();
            Config d8 = regnetZ(dD, cD, 1, 8, 4, 1792)
                    .stemChs(64)
                    .stemType(StemType.TIERED)
                    .build();
            NormLayer evos = NormLayer.evoNormS0a(16);
            add(m, "regnetz_b16", b16);
            add(m, "regnetz_c16", c16);
            add(
                    m,
                    "regnetz_d32",
                    regnetZ(dD, cD, 1, 32, 4, 1792)
                            .stemChs(64)
                            .stemType(StemType.TIERED)
                            .build());
            add(m, "regnetz_d8", d8);
            add(
                    m,
                    "regnetz_e8",
                    regnetZ(new int[] {3, 8, 16, 3}, new int[] {96, 192, 384, 512}, 1, 8, 4, 2048)
                            .stemChs(64)
                            .stemType(StemType.TIERED)
                            .build());
            add(m, "regnetz_b16_evos", b16.toBuilder().norm(evos).build());
            add(m, "regnetz_c16_evos", c16.toBuilder().norm(evos).build());
            add(
                    m,
                    "regnetz_d8_evos",
                    d8.toBuilder().norm(evos).stemType(StemType.DEEP).build());

            // MobileOne
            int[] noSe = {0, 0, 0, 0};
            add(m, "mobileone_s0", mobileOne(new double[] {0.75, 1.0, 1.0, 2.0}, noSe, 4, 48));
            add(m, "mobileone_s1", mobileOne(new double[] {1.5, 1.5, 2.0, 2.5}, noSe, 1, 64));
            add(m, "mobileone_s2", mobileOne(new double[] {1.5, 2.0, 2.5, 4.0}, noSe, 1, 64));
            add(m, "mobileone_s3", mobileOne(new double[] {2.0, 2.5, 3.0, 4.0}, noSe, 1, 64));
            add(m, "mobileone_s4", mobileOne(new double[] {3.0, 3.5, 3.5, 4.0}, new int[] {0, 0, 5, 1}, 1, 64));

            // OpenAI CLIP ResNets: the attention-pool head, and the same trunks with the classifier head (_gap)
            addClip(m, "resnet50_clip", clip(new int[] {3, 4, 6, 3}, 1.0, 224).build());
            addClip(m, "resnet101_clip", clip(new int[] {3, 4, 23, 3}, 1.0, 224).build());
            addClip(
                    m,
                    "resnet50x4_clip",
                    clip(new int[] {4, 6, 10, 6}, 1.25, 288).build());
            addClip(
                    m,
                    "resnet50x16_clip",
                    clip(new int[] {6, 8, 18, 8}, 1.5, 384).build());
            addClip(
                    m,
                    "resnet50x64_clip",
                    clip(new int[] {3, 15, 36, 10}, 2.0, 448).build());
            add(
                    m,
                    "resnet50_mlp",
                    clip(new int[] {3, 4, 6, 3}, 1.0, 0)
                            .headType(HeadType.MLP)
                            .headHiddenSize(1024)
                            .build(),
                    cfgr("resnet50_mlp", 256, "stem.conv1.conv", PretrainedCfg.IMAGENET_MEAN, 0.9));

            add(
                    m,
                    "test_byobnet",
                    Config.builder()
                            .blocks(
                                    BlockCfg.of(BlockType.EDGE, 1, 32, 2, 0, 0.5),
                                    BlockCfg.of(BlockType.DARK, 1, 64, 2, 0, 0.5),
                                    basic(1, 128, 2, 32, 0.25),
                                    bottle(1, 256, 2, 64, 0.25))
                            .stemChs(24)
                            .downsample(Downsample.AVG)
                            .stemPool(StemPool.NONE)
                            .attn(AttnLayer.se(0.25))
                            .build());
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            PretrainedCfg fallback = name.equals("regnetz_b16_evos")
                    ? cfgr(name, 224, "stem.conv", List.of(0.5, 0.5, 0.5), 0.94)
                    : PretrainedCfg.untrained(name, 224, "stem.conv", "head.fc");
            add(m, name, c, fallback);
        }

        private static void add(List<ModelEntry> m, String name, Config c, PretrainedCfg fallback) {
            m.add(new ModelEntry(name, "byobnet", args -> new ByobNet(c, args), fallback));
        }

        private static void addClip(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(
                    name,
                    "byobnet",
                    args -> new ByobNet(c, args),
                    PretrainedCfg.untrained(name, c.imgSize(), "stem.conv1.conv", "head.proj"),
                    "token"));
            String gap = name + "_gap";
            Config g = c.withHead(HeadType.CLASSIFIER);
            add(m, gap, g, PretrainedCfg.untrained(gap, c.imgSize(), "stem.conv1.conv", "head.fc"));
        }

        /** timm's {@code _cfgr} for the names without weights: bicubic, no tag. */
        private static PretrainedCfg cfgr(String name, int size, String firstConv, List<Double> mean, double crop) {
            List<Double> std = mean.equals(PretrainedCfg.IMAGENET_MEAN) ? PretrainedCfg.IMAGENET_STD : mean;
            return new PretrainedCfg(
                    name,
                    "",
                    "",
                    "",
                    List.of(3, size, size),
                    "bicubic",
                    crop,
                    "center",
                    mean,
                    std,
                    1000,
                    firstConv,
                    "head.fc",
                    "apache-2.0",
                    "");
        }
    }
}
