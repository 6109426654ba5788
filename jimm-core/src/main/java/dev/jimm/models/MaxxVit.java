package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.NormMlpClassifierHead;
import dev.jimm.layers.RelPosResize;
import dev.jimm.layers.RelativePositionBias;
import dev.jimm.layers.Sequential;
import dev.jimm.models.MaxxVitBlocks.MaxxVitBlock;
import dev.jimm.models.MaxxVitBlocks.ParallelMaxxVitBlock;
import dev.jimm.models.MaxxVitBlocks.Stem;
import dev.jimm.models.MaxxVitBlocks.TransformerBlock2d;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * CoAtNet, MaxViT and MaxxViT, as timm's {@code models/maxxvit.py} builds them from one config ({@link Cfg} with its
 * {@link ConvCfg} and {@link TransformerCfg}): a two-conv stem, four stages of conv ('C', MBConv or ConvNeXt),
 * transformer ('T', CoAtNet's NCHW block), MaxViT ('M': conv, window attention, grid attention) or parallel MaxViT
 * ('PM') blocks, then a norm and a classifier head, or timm's NormMlpClassifierHead where the config has a head hidden
 * size.
 *
 * <p>Like timm (fixed_input_size), a model is built for one input size, the size in its name: the partition windows
 * (input / 32) and the relative position tables of the transformer blocks depend on it.
 */
public final class MaxxVit extends ImageModel {

    // ---- configs ---------------------------------------------------------------------------------

    /**
     * timm's MaxxVitConvCfg, with its defaults resolved ({@code normLayer} batchnorm2d for MBConv and layernorm2d for
     * ConvNeXt, eps 1e-5 / 1e-6, {@code downsamplePoolType} falling back to {@code poolType}).
     *
     * @param blockType "mbconv" or "convnext"
     * @param expandRatio MBConv / ConvNeXt-MLP expansion
     * @param expandOutput MBConv mid width from the output (else input) channels
     * @param kernelSize depthwise kernel of MBConv
     * @param groupSize channels per group of the depthwise conv (1 = depthwise, 0 = dense)
     * @param preNormAct activation after MBConv's pre-norm
     * @param outputBias bias of the shortcut expand and last 1x1 conv
     * @param strideMode where a stride-2 block strides: "pool", "1x1" or "dw"
     * @param poolType shortcut pooling
     * @param downsamplePoolType pooling of the "pool" stride mode
     * @param padding "" (symmetric) or "same" (TensorFlow)
     * @param attnEarly SE before norm2 (else after)
     * @param attnActLayer SE activation
     * @param attnRatio SE width over the output (or mid) channels
     * @param initValues ConvNeXt layer-scale init (0: none)
     * @param actLayer activation
     * @param normLayer norm of the conv blocks and stem
     * @param normLayerCl channels-last norm
     * @param normEps norm eps
     */
    public record ConvCfg(
            String blockType,
            double expandRatio,
            boolean expandOutput,
            int kernelSize,
            int groupSize,
            boolean preNormAct,
            boolean outputBias,
            String strideMode,
            String poolType,
            String downsamplePoolType,
            String padding,
            boolean attnEarly,
            String attnActLayer,
            double attnRatio,
            double initValues,
            String actLayer,
            String normLayer,
            String normLayerCl,
            double normEps) {
        public ConvCfg {
            if (!"mbconv".equals(blockType) && !"convnext".equals(blockType)) {
                throw new IllegalArgumentException("blockType '" + blockType + "' is not mbconv or convnext");
            }
            if (!List.of("pool", "1x1", "dw").contains(strideMode)) {
                throw new IllegalArgumentException("strideMode '" + strideMode + "' is not pool, 1x1 or dw");
            }
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            Builder b = new Builder();
            b.blockType = blockType;
            b.expandRatio = expandRatio;
            b.expandOutput = expandOutput;
            b.kernelSize = kernelSize;
            b.groupSize = groupSize;
            b.preNormAct = preNormAct;
            b.outputBias = outputBias;
            b.strideMode = strideMode;
            b.poolType = poolType;
            b.downsamplePoolType = downsamplePoolType;
            b.padding = padding;
            b.attnEarly = attnEarly;
            b.attnActLayer = attnActLayer;
            b.attnRatio = attnRatio;
            b.initValues = initValues;
            b.actLayer = actLayer;
            b.normLayer = normLayer;
            b.normLayerCl = normLayerCl;
            b.normEps = normEps;
            return b;
        }

        /** A builder starting from timm's defaults; "" / NaN fields resolve as timm's __post_init__ does. */
        public static final class Builder {
            private String blockType = "mbconv";
            private double expandRatio = 4.0;
            private boolean expandOutput = true;
            private int kernelSize = 3;
            private int groupSize = 1;
            private boolean preNormAct;
            private boolean outputBias = true;
            private String strideMode = "dw";
            private String poolType = "avg2";
            private String downsamplePoolType = "avg2";
            private String padding = "";
            private boolean attnEarly;
            private String attnActLayer = "silu";
            private double attnRatio = 0.25;
            private double initValues = 1e-6;
            private String actLayer = "gelu";
            private String normLayer = "";
            private String normLayerCl = "";
            private double normEps = Double.NaN;

            public Builder blockType(String v) {
                blockType = v;
                return this;
            }

            public Builder expandOutput(boolean v) {
                expandOutput = v;
                return this;
            }

            public Builder preNormAct(boolean v) {
                preNormAct = v;
                return this;
            }

            public Builder outputBias(boolean v) {
                outputBias = v;
                return this;
            }

            public Builder strideMode(String v) {
                strideMode = v;
                return this;
            }

            public Builder poolType(String v) {
                poolType = v;
                return this;
            }

            public Builder padding(String v) {
                padding = v;
                return this;
            }

            public Builder attnEarly(boolean v) {
                attnEarly = v;
                return this;
            }

            public Builder attnActLayer(String v) {
                attnActLayer = v;
                return this;
            }

            public Builder attnRatio(double v) {
                attnRatio = v;
                return this;
            }

            public Builder initValues(double v) {
                initValues = v;
                return this;
            }

            public Builder actLayer(String v) {
                actLayer = v;
                return this;
            }

            public Builder normLayer(String v) {
                normLayer = v;
                return this;
            }

            public Builder normLayerCl(String v) {
                normLayerCl = v;
                return this;
            }

            public Builder normEps(double v) {
                normEps = v;
                return this;
            }

            public ConvCfg build() {
                boolean mbconv = "mbconv".equals(blockType);
                return new ConvCfg(
                        blockType,
                        expandRatio,
                        expandOutput,
                        kernelSize,
                        groupSize,
                        preNormAct,
                        outputBias,
                        strideMode,
                        poolType,
                        downsamplePoolType.isEmpty() ? poolType : downsamplePoolType,
                        padding,
                        attnEarly,
                        attnActLayer,
                        attnRatio,
                        initValues,
                        actLayer,
                        normLayer.isEmpty() ? (mbconv ? "batchnorm2d" : "layernorm2d") : normLayer,
                        normLayerCl.isEmpty() && !mbconv ? "layernorm" : normLayerCl,
                        Double.isNaN(normEps) ? (mbconv ? 1e-5 : 1e-6) : normEps);
            }
        }
    }

    /**
     * timm's MaxxVitTransformerCfg.
     *
     * @param dimHead channels per head
     * @param headFirst q, k, v grouped per head in the qkv channels (else interleaved, TF)
     * @param expandRatio MLP expansion
     * @param expandFirst widen in the qkv projection (else in the output projection)
     * @param shortcutBias bias of the stride-2 shortcut's expand conv
     * @param attnBias bias of qkv and proj
     * @param attnDrop attention dropout
     * @param projDrop projection / MLP dropout
     * @param poolType pooling of the stride-2 transformer block
     * @param relPosType "bias", "bias_tf", "mlp" or "" (none)
     * @param relPosDim hidden width of the MLP relative position
     * @param partitionRatio input size over the window size, where no window size is given
     * @param windowSize block-attention window (0: input / partitionRatio)
     * @param gridSize grid-attention grid (0: the window size)
     * @param noBlockAttn grid attention only (MaxxViT-V2)
     * @param initValues layer-scale init (0: none)
     * @param actLayer MLP activation
     * @param normLayer NCHW norm
     * @param normLayerCl channels-last norm
     * @param normEps norm eps
     */
    public record TransformerCfg(
            int dimHead,
            boolean headFirst,
            double expandRatio,
            boolean expandFirst,
            boolean shortcutBias,
            boolean attnBias,
            double attnDrop,
            double projDrop,
            String poolType,
            String relPosType,
            int relPosDim,
            int partitionRatio,
            int windowSize,
            int gridSize,
            boolean noBlockAttn,
            double initValues,
            String actLayer,
            String normLayer,
            String normLayerCl,
            double normEps) {
        public TransformerCfg {
            if (dimHead < 1 || partitionRatio < 1) {
                throw new IllegalArgumentException(
                        "dimHead " + dimHead + " and partitionRatio " + partitionRatio + " must be positive");
            }
            if (!List.of("bias", "bias_tf", "mlp", "").contains(relPosType)) {
                throw new IllegalArgumentException("relPosType '" + relPosType + "' is not bias, bias_tf, mlp or ''");
            }
            if (gridSize == 0) {
                gridSize = windowSize;
            }
        }

        /** timm's cfg_window_size: windows of input / partitionRatio where none are given. */
        public TransformerCfg forImageSize(int imgSize) {
            if (windowSize > 0) {
                return this;
            }
            int p = imgSize / partitionRatio;
            return toBuilder().windowSize(p).gridSize(p).build();
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            Builder b = new Builder();
            b.dimHead = dimHead;
            b.headFirst = headFirst;
            b.expandRatio = expandRatio;
            b.expandFirst = expandFirst;
            b.shortcutBias = shortcutBias;
            b.attnBias = attnBias;
            b.attnDrop = attnDrop;
            b.projDrop = projDrop;
            b.poolType = poolType;
            b.relPosType = relPosType;
            b.relPosDim = relPosDim;
            b.partitionRatio = partitionRatio;
            b.windowSize = windowSize;
            b.gridSize = gridSize;
            b.noBlockAttn = noBlockAttn;
            b.initValues = initValues;
            b.actLayer = actLayer;
            b.normLayer = normLayer;
            b.normLayerCl = normLayerCl;
            b.normEps = normEps;
            return b;
        }

        /** A builder starting from timm's defaults. */
        public static final class Builder {
            private int dimHead = 32;
            private boolean headFirst = true;
            private double expandRatio = 4.0;
            private boolean expandFirst = true;
            private boolean shortcutBias = true;
            private boolean attnBias = true;
            private double attnDrop;
            private double projDrop;
            private String poolType = "avg2";
            private String relPosType = "bias";
            private int relPosDim = 512;
            private int partitionRatio = 32;
            private int windowSize;
            private int gridSize;
            private boolean noBlockAttn;
            private double initValues;
            private String actLayer = "gelu";
            private String normLayer = "layernorm2d";
            private String normLayerCl = "layernorm";
            private double normEps = 1e-6;

            public Builder dimHead(int v) {
                dimHead = v;
                return this;
            }

            public Builder headFirst(boolean v) {
                headFirst = v;
                return this;
            }

            public Builder expandFirst(boolean v) {
                expandFirst = v;
                return this;
            }

            public Builder shortcutBias(boolean v) {
                shortcutBias = v;
                return this;
            }

            public Builder poolType(String v) {
                poolType = v;
                return this;
            }

            public Builder relPosType(String v) {
                relPosType = v;
                return this;
            }

            public Builder relPosDim(int v) {
                relPosDim = v;
                return this;
            }

            public Builder windowSize(int v) {
                windowSize = v;
                return this;
            }

            public Builder gridSize(int v) {
                gridSize = v;
                return this;
            }

            public Builder noBlockAttn(boolean v) {
                noBlockAttn = v;
                return this;
            }

            public Builder initValues(double v) {
                initValues = v;
                return this;
            }

            public Builder actLayer(String v) {
                actLayer = v;
                return this;
            }

            public Builder normLayer(String v) {
                normLayer = v;
                return this;
            }

            public Builder normLayerCl(String v) {
                normLayerCl = v;
                return this;
            }

            public Builder normEps(double v) {
                normEps = v;
                return this;
            }

            public Builder attnDrop(double v) {
                attnDrop = v;
                return this;
            }

            public Builder projDrop(double v) {
                projDrop = v;
                return this;
            }

            public TransformerCfg build() {
                return new TransformerCfg(
                        dimHead,
                        headFirst,
                        expandRatio,
                        expandFirst,
                        shortcutBias,
                        attnBias,
                        attnDrop,
                        projDrop,
                        poolType,
                        relPosType,
                        relPosDim,
                        partitionRatio,
                        windowSize,
                        gridSize,
                        noBlockAttn,
                        initValues,
                        actLayer,
                        normLayer,
                        normLayerCl,
                        normEps);
            }
        }
    }

    /**
     * timm's MaxxVitCfg.
     *
     * @param embedDim width per stage
     * @param depths blocks per stage
     * @param blockTypes per stage the block types ("C", "T", "M", "PM"), the last repeated to the stage's depth
     * @param stemWidth the stem's two conv widths
     * @param stemBias bias in the stem convs
     * @param convCfg the conv blocks' config
     * @param transformerCfg the transformer blocks' config
     * @param headHiddenSize pre-logits width of a NormMlpClassifierHead (0: norm and a plain classifier head)
     */
    public record Cfg(
            List<Integer> embedDim,
            List<Integer> depths,
            List<List<String>> blockTypes,
            List<Integer> stemWidth,
            boolean stemBias,
            ConvCfg convCfg,
            TransformerCfg transformerCfg,
            int headHiddenSize) {
        public Cfg {
            embedDim = List.copyOf(embedDim);
            depths = List.copyOf(depths);
            blockTypes = blockTypes.stream().map(List::copyOf).toList();
            stemWidth = List.copyOf(stemWidth);
            if (embedDim.size() != depths.size() || blockTypes.size() != depths.size() || stemWidth.size() != 2) {
                throw new IllegalArgumentException("embedDim " + embedDim + ", depths " + depths + " and blockTypes "
                        + blockTypes + " need one entry per stage, stemWidth " + stemWidth + " two");
            }
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            Builder b = new Builder();
            b.embedDim = embedDim;
            b.depths = depths;
            b.blockTypes = blockTypes;
            b.stemWidth = stemWidth;
            b.stemBias = stemBias;
            b.convCfg = convCfg;
            b.transformerCfg = transformerCfg;
            b.headHiddenSize = headHiddenSize;
            return b;
        }

        /** The block type of block {@code index} of stage {@code stage} (timm's extend_tuple). */
        public String blockType(int stage, int index) {
            List<String> t = blockTypes.get(stage);
            return t.get(Math.min(index, t.size() - 1));
        }

        /** A builder starting from timm's defaults (CoAtNet-0-like widths). */
        public static final class Builder {
            private List<Integer> embedDim = List.of(96, 192, 384, 768);
            private List<Integer> depths = List.of(2, 3, 5, 2);
            private List<List<String>> blockTypes = List.of(List.of("C"), List.of("C"), List.of("T"), List.of("T"));
            private List<Integer> stemWidth = List.of(64, 64);
            private boolean stemBias;
            private ConvCfg convCfg = ConvCfg.builder().build();
            private TransformerCfg transformerCfg = TransformerCfg.builder().build();
            private int headHiddenSize;

            public Builder embedDim(Integer... v) {
                embedDim = List.of(v);
                return this;
            }

            public Builder depths(Integer... v) {
                depths = List.of(v);
                return this;
            }

            /** One type per stage; "C,T" gives a stage whose first block is C and the rest T. */
            public Builder blockTypes(String... perStage) {
                List<List<String>> t = new ArrayList<>();
                for (String s : perStage) {
                    t.add(List.of(s.split(",")));
                }
                blockTypes = t;
                return this;
            }

            /** The same block type in every stage. */
            public Builder allBlocks(String type) {
                return blockTypes(type, type, type, type);
            }

            public Builder stemWidth(int first, int second) {
                stemWidth = List.of(first, second);
                return this;
            }

            public Builder stemWidth(int width) {
                return stemWidth(width, width);
            }

            public Builder stemBias(boolean v) {
                stemBias = v;
                return this;
            }

            public Builder convCfg(ConvCfg v) {
                convCfg = v;
                return this;
            }

            public Builder transformerCfg(TransformerCfg v) {
                transformerCfg = v;
                return this;
            }

            public Builder headHiddenSize(int v) {
                headHiddenSize = v;
                return this;
            }

            public Cfg build() {
                return new Cfg(
                        embedDim, depths, blockTypes, stemWidth, stemBias, convCfg, transformerCfg, headHiddenSize);
            }
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Cfg cfg;
    private final int imgSize;
    private final Module norm;
    private final NormMlpClassifierHead mlpHead;

    public MaxxVit(Cfg cfg, int imgSize, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        this.imgSize = imgSize;
        TransformerCfg tcfg = cfg.transformerCfg().forImageSize(imgSize);
        ConvCfg ccfg = cfg.convCfg();
        int stemOut = cfg.stemWidth().get(1);
        addTrunkStep(register("stem", new Stem(inChans, cfg.stemWidth().get(0), stemOut, ccfg, cfg.stemBias())));
        addFeatureInfo(stemOut, 2, "stem");
        int feat = imgSize / 2;
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int in = stemOut;
        int stride = 2;
        for (int i = 0; i < cfg.depths().size(); i++) {
            int out = cfg.embedDim().get(i);
            feat = (feat - 1) / 2 + 1;
            Sequential blocks = new Sequential();
            for (int j = 0; j < cfg.depths().get(i); j++) {
                int s = j == 0 ? 2 : 1;
                double dp = dpr[i][j];
                String type = cfg.blockType(i, j);
                blocks.add(
                        switch (type) {
                            case "C" -> MaxxVitBlocks.convBlock(in, out, s, ccfg, dp);
                            case "T" -> {
                                IntFunction<RelativePositionBias> rel = MaxxVitBlocks.relPos(tcfg, feat, feat);
                                yield new TransformerBlock2d(in, out, s, rel, tcfg, dp);
                            }
                            case "M" -> new MaxxVitBlock(in, out, s, ccfg, tcfg, dp);
                            case "PM" -> new ParallelMaxxVitBlock(in, out, s, ccfg, tcfg, dp);
                            default ->
                                throw new IllegalArgumentException("block type '" + type + "' is not C, T, M or PM");
                        });
                in = out;
            }
            // a stage holds its blocks under "blocks"
            stages.add(addTrunkStep(new NamedSequential().add("blocks", blocks)));
            stride *= 2;
            addFeatureInfo(out, stride, "stages." + i);
        }
        setNumFeatures(in);
        TransformerCfg base = cfg.transformerCfg();
        if (cfg.headHiddenSize() > 0) {
            norm = register("norm", new Identity());
            mlpHead = registerHead(
                    "head",
                    new NormMlpClassifierHead(
                            in,
                            numClasses,
                            cfg.headHiddenSize(),
                            globalPool,
                            dropRate,
                            MaxxVitBlocks.norm(base.normLayer(), in, base.normEps()),
                            Activation.Kind.TANH));
        } else {
            norm = register("norm", MaxxVitBlocks.norm(base.normLayer(), in, base.normEps()));
            mlpHead = null;
            registerNestedClassifierHead("head", in);
        }
    }

    /** The config this model was built from. */
    public Cfg config() {
        return cfg;
    }

    /** The input size this model was built for. */
    public int imgSize() {
        return imgSize;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(forwardTrunk(x));
    }

    @Override
    public int headHiddenSize() {
        return mlpHead != null ? mlpHead.numFeatures() : numFeatures();
    }

    /**
     * timm's checkpoint_filter_fn: relative position tables of another window size are resampled to this model's
     * ({@link RelPosResize}), and weights stored as Linear where this model has a 1x1 conv (or the reverse) are
     * reshaped.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, Shape> own = stateDictShapes();
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            NDArray v = e.getValue();
            Shape target = own.get(k);
            if (target != null
                    && k.endsWith("relative_position_bias_table")
                    && !v.getShape().equals(target)) {
                v = RelPosResize.resize(v, target);
            }
            if (target != null
                    && v.getShape().dimension() != target.dimension()
                    && v.getShape().size() == target.size()) {
                v = v.reshape(target);
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** timm's _rw_coat_cfg: CoAtNet configs trained before the official MaxViT code (see timm's notes). */
    static Cfg.Builder rwCoat(
            Cfg.Builder b,
            String strideMode,
            String poolType,
            boolean attnEarly,
            String attnAct,
            boolean shortcutBias,
            String transformerNorm,
            double initValues,
            String relPosType,
            int relPosDim) {
        // a copy, so that the shared width builders stay as they are
        return b.build().toBuilder()
                .convCfg(ConvCfg.builder()
                        .strideMode(strideMode)
                        .poolType(poolType)
                        .preNormAct(true)
                        .expandOutput(false)
                        .outputBias(false)
                        .attnEarly(attnEarly)
                        .attnActLayer(attnAct)
                        .actLayer("silu")
                        .build())
                .transformerCfg(TransformerCfg.builder()
                        .expandFirst(false)
                        .shortcutBias(shortcutBias)
                        .poolType(poolType)
                        .initValues(initValues)
                        .normLayer(transformerNorm)
                        .relPosType(relPosType)
                        .relPosDim(relPosDim)
                        .build());
    }

    /** timm's _rw_max_cfg: MaxViT / small CoAtNet configs of timm's own training. */
    static Cfg.Builder rwMax(
            Cfg.Builder b,
            String strideMode,
            boolean outputBias,
            double attnRatio,
            double initValues,
            String relPosType) {
        // a copy, so that the shared width builders stay as they are
        return b.build().toBuilder()
                .convCfg(ConvCfg.builder()
                        .strideMode(strideMode)
                        .expandOutput(false)
                        .outputBias(outputBias)
                        .attnRatio(attnRatio)
                        .actLayer("silu")
                        .build())
                .transformerCfg(TransformerCfg.builder()
                        .expandFirst(false)
                        .initValues(initValues)
                        .relPosType(relPosType)
                        .build());
    }

    /** timm's _next_cfg: ConvNeXt conv blocks (MaxxViT, CoAtNeXt). */
    static Cfg.Builder next(
            Cfg.Builder b, boolean noBlockAttn, double convInit, double transformerInit, String relPosType) {
        // a copy, so that the shared width builders stay as they are
        return b.build().toBuilder()
                .convCfg(ConvCfg.builder()
                        .blockType("convnext")
                        .expandOutput(false)
                        .initValues(convInit)
                        .normLayer("layernorm2d")
                        .normLayerCl("layernorm")
                        .build())
                .transformerCfg(TransformerCfg.builder()
                        .expandFirst(false)
                        .noBlockAttn(noBlockAttn)
                        .initValues(transformerInit)
                        .relPosType(relPosType)
                        .build());
    }

    /** timm's _tf_cfg: the layout of the TensorFlow MaxViT checkpoints. */
    static Cfg.Builder tf(Cfg.Builder b) {
        // a copy, so that the shared width builders stay as they are
        return b.build().toBuilder()
                .convCfg(ConvCfg.builder()
                        .normEps(1e-3)
                        .actLayer("gelu_tanh")
                        .padding("same")
                        .build())
                .transformerCfg(TransformerCfg.builder()
                        .normEps(1e-5)
                        .actLayer("gelu_tanh")
                        .headFirst(false)
                        .relPosType("bias_tf")
                        .build());
    }

    private static Cfg.Builder dims(int d0, int d1, int d2, int d3, int... depths) {
        return Cfg.builder().embedDim(d0, d1, d2, d3).depths(depths[0], depths[1], depths[2], depths[3]);
    }

    private static Cfg.Builder coatRw(Cfg.Builder b, String strideMode, boolean attnEarly, boolean shortcutBias) {
        return rwCoat(b, strideMode, "avg2", attnEarly, "relu", shortcutBias, "layernorm2d", 0, "bias", 512);
    }

    private static Cfg.Builder maxRw(Cfg.Builder b, String relPosType, double initValues) {
        return rwMax(b, "dw", false, 1.0 / 16, initValues, relPosType).allBlocks("M");
    }

    private static Cfg.Builder tfModel(int d0, int stem, int hidden, int... depths) {
        return tf(dims(d0, d0 * 2, d0 * 4, d0 * 8, depths)
                .allBlocks("M")
                .stemWidth(stem)
                .stemBias(true)
                .headHiddenSize(hidden));
    }

    /** timm's model_cfgs, by config name. */
    static Map<String, Cfg> modelCfgs() {
        Map<String, Cfg> c = new LinkedHashMap<>();
        Cfg.Builder w64 = dims(64, 128, 256, 512, 3, 4, 6, 3).stemWidth(32, 64);
        Cfg.Builder w96 = dims(96, 192, 384, 768, 2, 3, 7, 2).stemWidth(32, 64);
        Cfg.Builder w96d = dims(96, 192, 384, 768, 2, 6, 14, 2).stemWidth(32, 64);
        Cfg.Builder w128 = dims(128, 256, 512, 1024, 2, 6, 14, 2).stemWidth(64, 128);
        Cfg.Builder w192 = dims(192, 384, 768, 1536, 2, 6, 14, 2).stemWidth(96, 192);
        // timm specific CoAtNets
        c.put(
                "coatnet_pico_rw",
                rwMax(dims(64, 128, 256, 512, 2, 3, 5, 2).stemWidth(32, 64), "dw", true, 0.25, 0, "bias")
                        .build());
        c.put("coatnet_nano_rw", rwMax(w64, "pool", true, 0.25, 0, "bias").build());
        c.put("coatnet_0_rw", coatRw(w96, "pool", true, false).build());
        c.put("coatnet_1_rw", coatRw(w96d, "dw", true, false).build());
        c.put(
                "coatnet_2_rw",
                rwCoat(w128, "dw", "avg2", false, "silu", true, "layernorm2d", 0, "bias", 512)
                        .build());
        c.put(
                "coatnet_3_rw",
                rwCoat(w192, "dw", "avg2", false, "silu", true, "layernorm2d", 1e-6, "bias", 512)
                        .build());
        // experimental CoAtNets (other norms, MLP relative positions)
        c.put(
                "coatnet_bn_0_rw",
                rwCoat(w96, "dw", "avg2", true, "relu", false, "batchnorm2d", 0, "bias", 512)
                        .build());
        c.put(
                "coatnet_rmlp_nano_rw",
                rwMax(w64, "dw", true, 0.25, 0, "mlp").build().toBuilder()
                        .transformerCfg(rwMax(w64, "dw", true, 0.25, 0, "mlp").build().transformerCfg().toBuilder()
                                .relPosDim(384)
                                .build())
                        .build());
        c.put(
                "coatnet_rmlp_0_rw",
                rwCoat(w96, "dw", "avg2", false, "relu", true, "layernorm2d", 0, "mlp", 512)
                        .build());
        c.put(
                "coatnet_rmlp_1_rw",
                rwCoat(w96d, "pool", "max", true, "relu", false, "layernorm2d", 0, "mlp", 384)
                        .build());
        c.put(
                "coatnet_rmlp_1_rw2",
                rwCoat(w96d, "dw", "avg2", false, "relu", true, "layernorm2d", 0, "mlp", 512)
                        .build());
        c.put(
                "coatnet_rmlp_2_rw",
                rwCoat(w128, "dw", "avg2", false, "silu", true, "layernorm2d", 1e-6, "mlp", 512)
                        .build());
        c.put(
                "coatnet_rmlp_3_rw",
                rwCoat(w192, "dw", "avg2", false, "silu", true, "layernorm2d", 1e-6, "mlp", 512)
                        .build());
        c.put(
                "coatnet_nano_cc",
                rwCoat(w64, "pool", "avg2", false, "relu", true, "layernorm2d", 0, "bias", 512)
                        .blockTypes("C", "C", "C,T", "C,T")
                        .build());
        c.put("coatnext_nano_rw", next(w64, false, 1e-5, 0, "bias").build());
        // CoAtNet paper-like configs
        Cfg.Builder paper = Cfg.builder();
        c.put(
                "coatnet_0",
                paper.embedDim(96, 192, 384, 768)
                        .depths(2, 3, 5, 2)
                        .stemWidth(64)
                        .headHiddenSize(768)
                        .build());
        c.put("coatnet_1", paper.depths(2, 6, 14, 2).build());
        c.put(
                "coatnet_2",
                paper.embedDim(128, 256, 512, 1024)
                        .stemWidth(128)
                        .headHiddenSize(1024)
                        .build());
        c.put(
                "coatnet_3",
                paper.embedDim(192, 384, 768, 1536)
                        .stemWidth(192)
                        .headHiddenSize(1536)
                        .build());
        c.put("coatnet_4", paper.depths(2, 12, 28, 2).build());
        c.put(
                "coatnet_5",
                paper.embedDim(256, 512, 1280, 2048).headHiddenSize(2048).build());
        // experimental MaxViTs
        Cfg.Builder pico = dims(32, 64, 128, 256, 2, 2, 5, 2).stemWidth(24, 32);
        Cfg.Builder nano = dims(64, 128, 256, 512, 1, 2, 3, 1).stemWidth(32, 64);
        Cfg.Builder tiny = dims(64, 128, 256, 512, 2, 2, 5, 2).stemWidth(32, 64);
        Cfg.Builder small = dims(96, 192, 384, 768, 2, 2, 5, 2).stemWidth(32, 64);
        c.put("maxvit_pico_rw", maxRw(pico, "bias", 0).build());
        c.put("maxvit_nano_rw", maxRw(nano, "bias", 0).build());
        c.put("maxvit_tiny_rw", maxRw(tiny, "bias", 0).build());
        c.put("maxvit_tiny_pm", maxRw(tiny, "bias", 0).allBlocks("PM").build());
        c.put("maxvit_rmlp_pico_rw", maxRw(pico, "mlp", 0).build());
        c.put("maxvit_rmlp_nano_rw", maxRw(nano, "mlp", 0).build());
        c.put("maxvit_rmlp_tiny_rw", maxRw(tiny, "mlp", 0).build());
        c.put("maxvit_rmlp_small_rw", maxRw(small, "mlp", 1e-6).build());
        c.put(
                "maxvit_rmlp_base_rw",
                maxRw(dims(96, 192, 384, 768, 2, 6, 14, 2).stemWidth(32, 64), "mlp", 0)
                        .headHiddenSize(768)
                        .build());
        // MaxxViTs: ConvNeXt conv blocks
        c.put(
                "maxxvit_rmlp_nano_rw",
                next(nano, false, 1e-6, 1e-6, "mlp").allBlocks("M").build());
        c.put(
                "maxxvit_rmlp_tiny_rw",
                next(tiny, false, 1e-6, 1e-6, "mlp").allBlocks("M").build());
        c.put(
                "maxxvit_rmlp_small_rw",
                next(dims(96, 192, 384, 768, 2, 2, 5, 2).stemWidth(48, 96), false, 1e-6, 1e-6, "mlp")
                        .allBlocks("M")
                        .build());
        c.put(
                "maxxvitv2_nano_rw",
                next(dims(96, 192, 384, 768, 1, 2, 3, 1).stemWidth(48, 96), true, 1e-6, 1e-6, "bias")
                        .allBlocks("M")
                        .build());
        c.put(
                "maxxvitv2_rmlp_base_rw",
                next(dims(128, 256, 512, 1024, 2, 6, 12, 2).stemWidth(64, 128), true, 1e-6, 1e-6, "mlp")
                        .allBlocks("M")
                        .build());
        c.put(
                "maxxvitv2_rmlp_large_rw",
                next(dims(160, 320, 640, 1280, 2, 6, 16, 2).stemWidth(80, 160), true, 1e-6, 1e-6, "mlp")
                        .allBlocks("M")
                        .headHiddenSize(1280)
                        .build());
        // MaxViT paper configs (TensorFlow checkpoints)
        c.put("maxvit_tiny_tf", tfModel(64, 64, 512, 2, 2, 5, 2).build());
        c.put("maxvit_small_tf", tfModel(96, 64, 768, 2, 2, 5, 2).build());
        c.put("maxvit_base_tf", tfModel(96, 64, 768, 2, 6, 14, 2).build());
        c.put("maxvit_large_tf", tfModel(128, 128, 1024, 2, 6, 14, 2).build());
        c.put("maxvit_xlarge_tf", tfModel(192, 192, 1536, 2, 6, 14, 2).build());
        return c;
    }

    /** Registers timm's maxxvit names: a config name and the input size as its last part. */
    public static final class Family implements ModelFamily {
        private static final List<String> NAMES = List.of(
                "coatnet_pico_rw_224",
                "coatnet_nano_rw_224",
                "coatnet_0_rw_224",
                "coatnet_1_rw_224",
                "coatnet_2_rw_224",
                "coatnet_3_rw_224",
                "coatnet_bn_0_rw_224",
                "coatnet_rmlp_nano_rw_224",
                "coatnet_rmlp_0_rw_224",
                "coatnet_rmlp_1_rw_224",
                "coatnet_rmlp_1_rw2_224",
                "coatnet_rmlp_2_rw_224",
                "coatnet_rmlp_2_rw_384",
                "coatnet_rmlp_3_rw_224",
                "coatnet_nano_cc_224",
                "coatnext_nano_rw_224",
                "coatnet_0_224",
                "coatnet_1_224",
                "coatnet_2_224",
                "coatnet_3_224",
                "coatnet_4_224",
                "coatnet_5_224",
                "maxvit_pico_rw_256",
                "maxvit_nano_rw_256",
                "maxvit_tiny_rw_224",
                "maxvit_tiny_rw_256",
                "maxvit_rmlp_pico_rw_256",
                "maxvit_rmlp_nano_rw_256",
                "maxvit_rmlp_tiny_rw_256",
                "maxvit_rmlp_small_rw_224",
                "maxvit_rmlp_small_rw_256",
                "maxvit_rmlp_base_rw_224",
                "maxvit_rmlp_base_rw_384",
                "maxvit_tiny_pm_256",
                "maxxvit_rmlp_nano_rw_256",
                "maxxvit_rmlp_tiny_rw_256",
                "maxxvit_rmlp_small_rw_256",
                "maxxvitv2_nano_rw_256",
                "maxxvitv2_rmlp_base_rw_224",
                "maxxvitv2_rmlp_base_rw_384",
                "maxxvitv2_rmlp_large_rw_224",
                "maxvit_tiny_tf_224",
                "maxvit_tiny_tf_384",
                "maxvit_tiny_tf_512",
                "maxvit_small_tf_224",
                "maxvit_small_tf_384",
                "maxvit_small_tf_512",
                "maxvit_base_tf_224",
                "maxvit_base_tf_384",
                "maxvit_base_tf_512",
                "maxvit_large_tf_224",
                "maxvit_large_tf_384",
                "maxvit_large_tf_512",
                "maxvit_xlarge_tf_224",
                "maxvit_xlarge_tf_384",
                "maxvit_xlarge_tf_512");

        @Override
        public String name() {
            return "maxxvit";
        }

        @Override
        public List<ModelEntry> models() {
            Map<String, Cfg> cfgs = modelCfgs();
            List<ModelEntry> m = new ArrayList<>();
            for (String name : NAMES) {
                int cut = name.lastIndexOf('_');
                Cfg c = cfgs.get(name.substring(0, cut));
                if (c == null) {
                    throw new IllegalStateException("no maxxvit config for " + name);
                }
                int size = Integer.parseInt(name.substring(cut + 1));
                m.add(new ModelEntry(name, "maxxvit", args -> new MaxxVit(c, size, args), defaultCfg(name, size)));
            }
            return m;
        }

        /** timm's _cfg for maxxvit: bicubic, crop 0.95, mean and std 0.5. */
        private static PretrainedCfg defaultCfg(String name, int size) {
            PretrainedCfg u = PretrainedCfg.untrained(name, size, "stem.conv1", "head.fc");
            List<Double> half = List.of(0.5, 0.5, 0.5);
            return PretrainedCfgOverride.of(u, "bicubic", 0.95, half, half, "apache-2.0");
        }
    }
}
