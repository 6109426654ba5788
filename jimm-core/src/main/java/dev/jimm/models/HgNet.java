package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.ClassifierHead;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.ResettableHead;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * PP-HGNet (V1) and PP-HGNetV2 as timm's {@code models/hgnet.py} builds them ({@code HighPerfGpuNet}): a stem, four
 * stages of HG blocks that concatenate the input with every layer's output and aggregate them with 1x1 convs (V1: a
 * conv and ESE attention; V2: a squeeze and an excitation conv), V2's light blocks (a 1x1 conv and a large depthwise
 * conv) and its learnable affine blocks ({@code lab}: a scalar scale and bias after each activation, B0-B3), and a head
 * that pools, widens the features with a 1x1 conv ({@code head.last_conv}, to 2048) and classifies ({@code head.fc}).
 *
 * <p>Feature levels: the four stages ({@code stages.0} at /4 to {@code stages.3} at /32). {@link #numFeatures()} is the
 * last stage's width, what the pool sees; {@link #headHiddenSize()} is last_conv's, the pre-logits.
 */
public final class HgNet extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's LearnableAffineBlock: {@code scale * x + bias} with one learned scalar each. */
    static final class LearnableAffineBlock extends ScalarAffine {
        @Override
        protected NDArray forwardImpl(NDArray x) {
            return affine(x);
        }
    }

    /**
     * timm's ConvBNAct of hgnet.py: a bias-free conv with symmetric padding, BatchNorm, ReLU when {@code useAct}, and a
     * learnable affine block after the ReLU when also {@code useLab}.
     */
    static final class ConvBnAct extends Module {
        private final Module conv;
        private final Module bn;
        private final Module act;
        private final Module lab;

        ConvBnAct(int in, int out, int kernel, int stride, int groups, boolean useAct, boolean useLab) {
            conv = register("conv", Conv2d.symmetric(in, out, kernel, stride, 1, groups, false));
            bn = register("bn", new BatchNorm2d(out));
            act = register("act", useAct ? Activation.relu() : new Identity());
            lab = register("lab", useAct && useLab ? new LearnableAffineBlock() : new Identity());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return lab.forward(act.forward(bn.forward(conv.forward(x))));
        }
    }

    /** timm's LightConvBNAct: a 1x1 conv without activation, then a depthwise conv with one. */
    static final class LightConvBnAct extends Module {
        private final Module conv1;
        private final Module conv2;

        LightConvBnAct(int in, int out, int kernel, boolean useLab) {
            conv1 = register("conv1", new ConvBnAct(in, out, 1, 1, 1, false, useLab));
            conv2 = register("conv2", new ConvBnAct(out, out, kernel, 1, out, true, useLab));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return conv2.forward(conv1.forward(x));
        }
    }

    /** Effective squeeze-excitation: the input times the sigmoid of a 1x1 conv of its spatial mean. */
    static final class EseModule extends Module {
        private final Module conv;

        EseModule(int channels) {
            conv = register("conv", new Conv2d(channels, channels, 1, Conv2d.Options.defaults()));
            register("sigmoid", new Activation(Activation.Kind.SIGMOID));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray s = conv.forward(Layers.spatialMean(x, true));
            return x.mul(Activation.apply(Activation.Kind.SIGMOID, s));
        }
    }

    /** PP-HGNet's stem: 3x3 ConvBNActs (the first strided) and a 3x3 max pool of stride 2. */
    static final class StemV1 extends Module {
        private final Module stem;
        private final Module pool;

        StemV1(List<Integer> chs) {
            Sequential convs = new Sequential();
            for (int i = 0; i < chs.size() - 1; i++) {
                convs.add(new ConvBnAct(chs.get(i), chs.get(i + 1), 3, i == 0 ? 2 : 1, 1, true, false));
            }
            stem = register("stem", convs);
            pool = register("pool", Pool2d.max(3, 2, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return pool.forward(stem.forward(x));
        }
    }

    /**
     * PP-HGNetV2's stem: a strided 3x3 conv, then two branches on its output padded by one pixel at the right and
     * bottom (a 2x2 max pool of stride 1; two 2x2 convs), concatenated, a strided 3x3 conv and a 1x1 conv.
     */
    static final class StemV2 extends Module {
        private final Module stem1;
        private final Module stem2a;
        private final Module stem2b;
        private final Module stem3;
        private final Module stem4;
        private final Module pool;

        StemV2(int in, int mid, int out, boolean useLab) {
            stem1 = register("stem1", new ConvBnAct(in, mid, 3, 2, 1, true, useLab));
            stem2a = register("stem2a", new ConvBnAct(mid, mid / 2, 2, 1, 1, true, useLab));
            stem2b = register("stem2b", new ConvBnAct(mid / 2, mid, 2, 1, 1, true, useLab));
            stem3 = register("stem3", new ConvBnAct(mid * 2, mid, 3, 2, 1, true, useLab));
            stem4 = register("stem4", new ConvBnAct(mid, out, 1, 1, 1, true, useLab));
            pool = register("pool", Pool2d.max(2, 1, 0, true));
        }

        /** F.pad(x, (0, 1, 0, 1)): one zero column at the right, one zero row at the bottom. */
        private static NDArray padRightBottom(NDArray x) {
            return x.pad(new Shape(0, 1, 0, 1), 0);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = padRightBottom(stem1.forward(x));
            NDArray x2 = stem2b.forward(padRightBottom(stem2a.forward(x)));
            NDArray x1 = pool.forward(x);
            x = NDArrays.concat(new NDList(x1, x2), 1);
            return stem4.forward(stem3.forward(x));
        }
    }

    /**
     * timm's HighPerfGpuBlock: {@code layerNum} convs in a chain, the block input and every conv's output concatenated,
     * then the aggregation ({@code ese}: a 1x1 ConvBNAct to the output width and ESE; {@code se}: a 1x1 ConvBNAct to
     * half the output width and one to the full width); all but a stage's first block are residual.
     */
    static final class HighPerfGpuBlock extends Module {
        private final boolean residual;
        private final List<Module> layers = new ArrayList<>();
        private final Module aggregation;
        private final Module dropPath;

        HighPerfGpuBlock(
                int in,
                int mid,
                int out,
                int layerNum,
                int kernel,
                boolean residual,
                boolean lightBlock,
                boolean useLab,
                boolean ese,
                double dropPathRate) {
            this.residual = residual;
            Sequential list = new Sequential();
            for (int i = 0; i < layerNum; i++) {
                int layerIn = i == 0 ? in : mid;
                Module layer = lightBlock
                        ? new LightConvBnAct(layerIn, mid, kernel, useLab)
                        : new ConvBnAct(layerIn, mid, kernel, 1, 1, true, useLab);
                list.add(layer);
                layers.add(layer);
            }
            register("layers", list);
            int total = in + layerNum * mid;
            aggregation = register(
                    "aggregation",
                    ese
                            ? new Sequential(new ConvBnAct(total, out, 1, 1, 1, true, useLab), new EseModule(out))
                            : new Sequential(
                                    new ConvBnAct(total, out / 2, 1, 1, 1, true, useLab),
                                    new ConvBnAct(out / 2, out, 1, 1, 1, true, useLab)));
            dropPath = register("drop_path", DropPath.orIdentity(dropPathRate));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray identity = x;
            List<NDArray> outputs = new ArrayList<>();
            outputs.add(x);
            for (Module layer : layers) {
                x = layer.forward(x);
                outputs.add(x);
            }
            x = aggregation.forward(NDArrays.concat(new NDList(outputs), 1));
            return residual ? dropPath.forward(x).add(identity) : x;
        }
    }

    /** timm's HighPerfGpuStage: an optional strided depthwise ConvBNAct without activation, then the blocks. */
    static final class HighPerfGpuStage extends Module {
        private final Module downsample;
        private final Module blocks;

        HighPerfGpuStage(StageCfg s, boolean useLab, boolean ese, double[] dropPath) {
            downsample = register(
                    "downsample",
                    s.downsample()
                            ? new ConvBnAct(s.inChs(), s.inChs(), 3, 2, s.inChs(), false, useLab)
                            : new Identity());
            Sequential list = new Sequential();
            for (int i = 0; i < s.blocks(); i++) {
                list.add(new HighPerfGpuBlock(
                        i == 0 ? s.inChs() : s.outChs(),
                        s.midChs(),
                        s.outChs(),
                        s.layerNum(),
                        s.kernelSize(),
                        i > 0,
                        s.lightBlock(),
                        useLab,
                        ese,
                        dropPath[i]));
            }
            blocks = register("blocks", list);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(downsample.forward(x));
        }
    }

    /**
     * The head of hgnet.py: global pooling (kept 4-d), {@code last_conv} (a bias-free 1x1 conv to the hidden width,
     * ReLU and, with {@code useLab}, a learnable affine block), dropout, flatten, {@code fc}. Without pooling last_conv
     * runs on the maps and there is no classifier.
     */
    static final class Head extends Module implements ResettableHead {
        private final int hiddenSize;
        private final float dropRate;
        private GlobalPool pool;
        private final Module lastConv;
        private Module fc;

        Head(int inFeatures, int numClasses, String poolType, double dropRate, int hiddenSize, boolean useLab) {
            this.hiddenSize = hiddenSize > 0 ? hiddenSize : inFeatures;
            this.dropRate = (float) dropRate;
            String p = checkPool(poolType);
            pool = register("global_pool", new GlobalPool(p, false));
            if (hiddenSize > 0) {
                Sequential conv = new Sequential(
                        new Conv2d(
                                inFeatures,
                                hiddenSize,
                                1,
                                Conv2d.Options.defaults().bias(false)),
                        Activation.relu());
                if (useLab) {
                    conv.add(new LearnableAffineBlock());
                }
                lastConv = register("last_conv", conv);
            } else {
                lastConv = register("last_conv", new Identity());
            }
            register("dropout", new Identity());
            register("flatten", new Identity());
            fc = register("fc", ClassifierHead.fc(this.hiddenSize, numClasses, p));
        }

        private static String checkPool(String poolType) {
            String p = GlobalPool.validate(poolType);
            if (p.equals("catavgmax")) {
                throw new IllegalArgumentException("globalPool 'catavgmax' doubles the channels into head.last_conv,"
                        + " which takes the last stage's width; use avg, max, avgmax or ''");
            }
            return p;
        }

        int hiddenSize() {
            return hiddenSize;
        }

        @Override
        public void reset(int numClasses, String poolType) {
            String p = checkPool(poolType);
            Module newFc = ClassifierHead.fc(hiddenSize, numClasses, p);
            pool = register("global_pool", new GlobalPool(p, false));
            fc = register("fc", newFc);
        }

        @Override
        public NDArray forward(NDArray x, boolean preLogits) {
            x = lastConv.forward(pool.forward(x));
            x = Dropout.apply(x, dropRate, isTraining());
            if (!pool.isIdentity()) {
                x = x.reshape(x.getShape().get(0), -1);
            }
            return preLogits ? x : fc.forward(x);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, false);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** The stem kind: PP-HGNet's 3x3 convs and max pool, or PP-HGNetV2's two-branch stem. */
    public enum Stem {
        V1,
        V2
    }

    /**
     * One stage, a row of timm's {@code model_cfgs}.
     *
     * @param inChs input channels
     * @param midChs width of the block's convs
     * @param outChs output channels of each block
     * @param blocks HG blocks in the stage
     * @param downsample a strided depthwise conv first (stride 2)
     * @param lightBlock light convs (1x1 then depthwise) instead of full ones
     * @param kernelSize kernel of the block's convs
     * @param layerNum convs per block
     */
    public record StageCfg(
            int inChs,
            int midChs,
            int outChs,
            int blocks,
            boolean downsample,
            boolean lightBlock,
            int kernelSize,
            int layerNum) {
        public StageCfg {
            if (inChs < 1 || midChs < 1 || outChs < 2 || blocks < 1 || kernelSize < 1 || layerNum < 1) {
                throw new IllegalArgumentException("invalid HGNet stage: in " + inChs + ", mid " + midChs + ", out "
                        + outChs + ", blocks " + blocks + ", kernel " + kernelSize + ", layers " + layerNum);
            }
        }
    }

    /**
     * An HGNet variant.
     *
     * @param stem the stem kind; V1 also means ESE aggregation, V2 the squeeze-excitation convs
     * @param stemChs V1: the widths of the stem's convs; V2: its middle and output widths
     * @param stages the four stages
     * @param useLab learnable affine blocks after the activations (timm's {@code use_lab})
     * @param headHiddenSize width of the head's last_conv (0: none)
     */
    public record Config(Stem stem, List<Integer> stemChs, List<StageCfg> stages, boolean useLab, int headHiddenSize) {
        public Config {
            stemChs = List.copyOf(stemChs);
            stages = List.copyOf(stages);
            if (stem == Stem.V2 && stemChs.size() != 2) {
                throw new IllegalArgumentException("the V2 stem takes 2 widths (mid, out), got " + stemChs);
            }
            if (stemChs.isEmpty() || stages.isEmpty()) {
                throw new IllegalArgumentException("stemChs " + stemChs + " and stages " + stages + " must be set");
            }
        }

        /** PP-HGNet: the V1 stem and ESE aggregation, no learnable affine blocks, last_conv to 2048. */
        public static Config v1(List<Integer> stemChs, StageCfg... stages) {
            return new Config(Stem.V1, stemChs, List.of(stages), false, 2048);
        }

        /** PP-HGNetV2: the V2 stem and squeeze-excitation aggregation, last_conv to 2048. */
        public static Config v2(int stemMid, int stemOut, StageCfg... stages) {
            return new Config(Stem.V2, List.of(stemMid, stemOut), List.of(stages), false, 2048);
        }

        /** With learnable affine blocks after each activation (timm's HGNetV2-B0 to B3). */
        public Config withLab() {
            return new Config(stem, stemChs, stages, true, headHiddenSize);
        }
    }

    /** A stage row: in, mid, out, blocks, downsample, light block, kernel, layers per block. */
    static StageCfg stage(int in, int mid, int out, int blocks, boolean down, boolean light, int k, int layers) {
        return new StageCfg(in, mid, out, blocks, down, light, k, layers);
    }

    private final Config cfg;
    private final Head head;

    public HgNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        if (cfg.stem() == Stem.V2) {
            addTrunkStep(register(
                    "stem",
                    new StemV2(inChans, cfg.stemChs().get(0), cfg.stemChs().get(1), cfg.useLab())));
        } else {
            List<Integer> chs = new ArrayList<>();
            chs.add(inChans);
            chs.addAll(cfg.stemChs());
            addTrunkStep(register("stem", new StemV1(chs)));
        }
        List<Integer> depths = cfg.stages().stream().map(StageCfg::blocks).toList();
        double[][] dpr = DropPath.schedule(args.dropPathRate(), depths);
        Sequential stages = new Sequential();
        for (int i = 0; i < cfg.stages().size(); i++) {
            stages.add(new HighPerfGpuStage(cfg.stages().get(i), cfg.useLab(), cfg.stem() == Stem.V1, dpr[i]));
        }
        register("stages", stages);
        int reduction = 4;
        for (int i = 0; i < stages.size(); i++) {
            StageCfg s = cfg.stages().get(i);
            addTrunkStep(stages.get(i));
            reduction *= s.downsample() ? 2 : 1;
            addFeatureInfo(s.outChs(), reduction, "stages." + i);
        }
        int width = cfg.stages().get(cfg.stages().size() - 1).outChs();
        setNumFeatures(width);
        head = registerHead(
                "head", new Head(width, numClasses, globalPool, dropRate, cfg.headHiddenSize(), cfg.useLab()));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: kaiming_normal_(fan_out) convs, BatchNorm ones and zeros, zero Linear biases
        ConvNetInit.fanOutConvs().withZeroLinearBiases().apply(this, random);
    }

    /** Width of head.last_conv's output, the pre-logits ({@link #numFeatures()} is the last stage's). */
    @Override
    public int headHiddenSize() {
        return head.hiddenSize();
    }

    // ---- registrations --------------------------------------------------------------------------

    /** Registers timm's hgnet_* (PP-HGNet) and hgnetv2_b0..b6 (PP-HGNetV2) names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "hgnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            // in_chs, mid_chs, out_chs, blocks, downsample, light_block, kernel_size, layer_num
            add(
                    m,
                    "hgnet_tiny",
                    Config.v1(
                            List.of(48, 48, 96),
                            stage(96, 96, 224, 1, false, false, 3, 5),
                            stage(224, 128, 448, 1, true, false, 3, 5),
                            stage(448, 160, 512, 2, true, false, 3, 5),
                            stage(512, 192, 768, 1, true, false, 3, 5)));
            add(
                    m,
                    "hgnet_small",
                    Config.v1(
                            List.of(64, 64, 128),
                            stage(128, 128, 256, 1, false, false, 3, 6),
                            stage(256, 160, 512, 1, true, false, 3, 6),
                            stage(512, 192, 768, 2, true, false, 3, 6),
                            stage(768, 224, 1024, 1, true, false, 3, 6)));
            add(
                    m,
                    "hgnet_base",
                    Config.v1(
                            List.of(96, 96, 160),
                            stage(160, 192, 320, 1, false, false, 3, 7),
                            stage(320, 224, 640, 2, true, false, 3, 7),
                            stage(640, 256, 960, 3, true, false, 3, 7),
                            stage(960, 288, 1280, 2, true, false, 3, 7)));
            add(
                    m,
                    "hgnetv2_b0",
                    Config.v2(
                                    16,
                                    16,
                                    stage(16, 16, 64, 1, false, false, 3, 3),
                                    stage(64, 32, 256, 1, true, false, 3, 3),
                                    stage(256, 64, 512, 2, true, true, 5, 3),
                                    stage(512, 128, 1024, 1, true, true, 5, 3))
                            .withLab());
            add(
                    m,
                    "hgnetv2_b1",
                    Config.v2(
                                    24,
                                    32,
                                    stage(32, 32, 64, 1, false, false, 3, 3),
                                    stage(64, 48, 256, 1, true, false, 3, 3),
                                    stage(256, 96, 512, 2, true, true, 5, 3),
                                    stage(512, 192, 1024, 1, true, true, 5, 3))
                            .withLab());
            add(
                    m,
                    "hgnetv2_b2",
                    Config.v2(
                                    24,
                                    32,
                                    stage(32, 32, 96, 1, false, false, 3, 4),
                                    stage(96, 64, 384, 1, true, false, 3, 4),
                                    stage(384, 128, 768, 3, true, true, 5, 4),
                                    stage(768, 256, 1536, 1, true, true, 5, 4))
                            .withLab());
            add(
                    m,
                    "hgnetv2_b3",
                    Config.v2(
                                    24,
                                    32,
                                    stage(32, 32, 128, 1, false, false, 3, 5),
                                    stage(128, 64, 512, 1, true, false, 3, 5),
                                    stage(512, 128, 1024, 3, true, true, 5, 5),
                                    stage(1024, 256, 2048, 1, true, true, 5, 5))
                            .withLab());
            add(
                    m,
                    "hgnetv2_b4",
                    Config.v2(
                            32,
                            48,
                            stage(48, 48, 128, 1, false, false, 3, 6),
                            stage(128, 96, 512, 1, true, false, 3, 6),
                            stage(512, 192, 1024, 3, true, true, 5, 6),
                            stage(1024, 384, 2048, 1, true, true, 5, 6)));
            add(
                    m,
                    "hgnetv2_b5",
                    Config.v2(
                            32,
                            64,
                            stage(64, 64, 128, 1, false, false, 3, 6),
                            stage(128, 128, 512, 2, true, false, 3, 6),
                            stage(512, 256, 1024, 5, true, true, 5, 6),
                            stage(1024, 512, 2048, 2, true, true, 5, 6)));
            add(
                    m,
                    "hgnetv2_b6",
                    Config.v2(
                            48,
                            96,
                            stage(96, 96, 192, 2, false, false, 3, 6),
                            stage(192, 192, 512, 3, true, false, 3, 6),
                            stage(512, 384, 1024, 6, true, true, 5, 6),
                            stage(1024, 768, 2048, 3, true, true, 5, 6)));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            String firstConv = c.stem() == Stem.V2 ? "stem.stem1.conv" : "stem.stem.0.conv";
            m.add(ModelEntry.untrained(name, "hgnet", args -> new HgNet(c, args), 224, firstConv, "head.fc"));
        }
    }
}
