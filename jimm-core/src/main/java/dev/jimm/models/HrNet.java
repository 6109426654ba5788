package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.Upsample;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * HRNet (High-Resolution Network) as timm's {@code models/hrnet.py} builds it: a two-conv stem, a bottleneck layer,
 * then three stages of parallel branches at strides 4, 8, 16 and 32 that exchange information after every module
 * ({@code fuse_layers}), and timm's classification head: each branch widened by one bottleneck ({@code incre_modules},
 * to 128, 256, 512 and 1024 channels), summed from fine to coarse through strided convs ({@code downsamp_modules}),
 * then a 1x1 conv to 2048 ({@code final_layer}) before pooling and the classifier.
 *
 * <p>The feature levels are those of timm's {@code features_only} model ({@code HighResolutionNetFeatures}): the stem's
 * first conv (stride 2), then, for {@link Head#CLASSIFICATION} and {@link Head#INCRE}, each branch through its
 * {@code incre_modules} bottleneck (timm's default {@code feature_location='incre'}), or for {@link Head#BRANCHES} the
 * branch outputs as they are ({@code feature_location=''}). {@link #createFeatureExtractor} builds timm's features-only
 * model itself, with exactly its state_dict.
 */
public final class HrNet extends ImageModel {

    /** Widths of the classification head's four bottlenecks, before their expansion of 4. */
    private static final int[] HEAD_CHANNELS = {32, 64, 128, 256};

    private static final int NUM_FEATURES = 2048;

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's resnet block types as HRNet's configs name them; the expansion multiplies a branch's width. */
    public enum BlockType {
        BASIC(1),
        BOTTLENECK(4);

        final int expansion;

        BlockType(int expansion) {
            this.expansion = expansion;
        }
    }

    private static Conv2d conv(int in, int out, int kernel, int stride, boolean bias) {
        return new Conv2d(
                in,
                out,
                kernel,
                Conv2d.Options.defaults().stride(stride).padding(kernel / 2).bias(bias));
    }

    /** conv, BatchNorm and (when {@code relu}) ReLU, numbered 0, 1, 2 as timm's {@code nn.Sequential}. */
    private static Sequential convBn(int in, int out, int kernel, int stride, boolean bias, boolean relu) {
        Sequential s = new Sequential(conv(in, out, kernel, stride, bias), new BatchNorm2d(out));
        return relu ? s.add(Activation.relu()) : s;
    }

    /**
     * timm's resnet BasicBlock (two 3x3 convs, the first strided) or Bottleneck (1x1, strided 3x3, 1x1 to 4x the
     * width): numbered conv, BatchNorm and ReLU layers, the last ReLU over the sum with the shortcut. One class serves
     * both because they differ only in their list of convs.
     */
    static final class Block extends Module {
        private final List<Module> convs = new ArrayList<>();
        private final List<Module> bns = new ArrayList<>();
        private final List<Module> acts = new ArrayList<>();
        private final Module downsample;

        Block(BlockType type, int inplanes, int planes, int stride, Module downsample) {
            int outplanes = planes * type.expansion;
            // {in, out, kernel, stride} of each conv
            int[][] layers = type == BlockType.BASIC
                    ? new int[][] {{inplanes, planes, 3, stride}, {planes, planes, 3, 1}}
                    : new int[][] {{inplanes, planes, 1, 1}, {planes, planes, 3, stride}, {planes, outplanes, 1, 1}};
            for (int i = 0; i < layers.length; i++) {
                int[] l = layers[i];
                convs.add(register("conv" + (i + 1), conv(l[0], l[1], l[2], l[3], false)));
                bns.add(register("bn" + (i + 1), new BatchNorm2d(l[1])));
                acts.add(register("act" + (i + 1), Activation.relu()));
            }
            this.downsample = downsample == null ? null : register("downsample", downsample);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            int last = convs.size() - 1;
            NDArray y = x;
            for (int i = 0; i < last; i++) {
                y = acts.get(i).forward(bns.get(i).forward(convs.get(i).forward(y)));
            }
            y = bns.get(last).forward(convs.get(last).forward(y));
            return acts.get(last).forward(y.add(downsample == null ? x : downsample.forward(x)));
        }
    }

    /**
     * timm's {@code _make_layer} (and {@code _make_one_branch}): {@code blocks} blocks of one type, the first with a
     * 1x1 projection shortcut when the width or stride changes.
     */
    static Sequential makeLayer(BlockType type, int inplanes, int planes, int blocks, int stride) {
        int outplanes = planes * type.expansion;
        Module downsample =
                stride != 1 || inplanes != outplanes ? convBn(inplanes, outplanes, 1, stride, false, false) : null;
        Sequential layer = new Sequential();
        for (int b = 0; b < blocks; b++) {
            int in = b == 0 ? inplanes : outplanes;
            int st = b == 0 ? stride : 1;
            Module ds = b == 0 ? downsample : null;
            layer.add(new Block(type, in, planes, st, ds));
        }
        return layer;
    }

    /**
     * timm's {@code HighResolutionModule}: one block sequence per branch ({@code branches}), then every output branch i
     * sums all input branches j brought to its width and resolution ({@code fuse_layers.i.j}: a 1x1 conv and nearest
     * upsampling from a coarser branch, strided 3x3 convs from a finer one, the identity from itself), then ReLU.
     */
    static final class HighResolutionModule extends Module {
        private final Sequential branches;
        private final Sequential fuseLayers;
        private final Module fuseAct;

        /** {@code channels}: each branch's width (its input's, as timm's stages are built). */
        HighResolutionModule(BlockType type, List<Integer> numBlocks, List<Integer> channels) {
            int n = channels.size();
            if (numBlocks.size() != n) {
                throw new IllegalArgumentException(
                        "num_branches(" + n + ") <> num_blocks(" + numBlocks.size() + "): " + numBlocks);
            }
            branches = register("branches", new Sequential());
            List<Integer> out = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int planes = channels.get(i) / type.expansion;
                branches.add(makeLayer(type, channels.get(i), planes, numBlocks.get(i), 1));
                out.add(planes * type.expansion);
            }
            if (n == 1) {
                register("fuse_layers", new Identity());
                fuseLayers = null;
            } else {
                fuseLayers = register("fuse_layers", new Sequential());
                for (int i = 0; i < n; i++) {
                    Sequential fuse = new Sequential();
                    for (int j = 0; j < n; j++) {
                        fuse.add(fuse(out, j, i));
                    }
                    fuseLayers.add(fuse);
                }
            }
            fuseAct = register("fuse_act", Activation.relu());
        }

        /** From branch {@code j} to branch {@code i}'s width and resolution. */
        private static Module fuse(List<Integer> chs, int j, int i) {
            if (j > i) {
                Sequential up = convBn(chs.get(j), chs.get(i), 1, 1, false, false);
                return up.add(new Upsample(1 << (j - i)));
            }
            if (j == i) {
                return new Identity();
            }
            Sequential down = new Sequential();
            for (int k = 0; k < i - j; k++) {
                boolean last = k == i - j - 1;
                down.add(convBn(chs.get(j), last ? chs.get(i) : chs.get(j), 3, 2, false, !last));
            }
            return down;
        }

        /** The branches' outputs, one per input map (finest first). */
        List<NDArray> forward(List<NDArray> x) {
            int n = branches.size();
            if (x.size() != n) {
                throw new IllegalArgumentException(
                        "a module of " + n + " branches takes " + n + " maps, got " + x.size());
            }
            List<NDArray> y = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                y.add(branches.get(i).forward(x.get(i)));
            }
            if (fuseLayers == null) {
                return y;
            }
            List<NDArray> fused = new ArrayList<>();
            for (int i = 0; i < fuseLayers.size(); i++) {
                Sequential fuse = (Sequential) fuseLayers.get(i);
                NDArray sum = null;
                for (int j = 0; j < n; j++) {
                    NDArray f = fuse.get(j).forward(y.get(j));
                    sum = sum == null ? f : sum.add(f);
                }
                fused.add(fuseAct.forward(sum));
            }
            return fused;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            throw new UnsupportedOperationException("a HighResolutionModule takes one map per branch: forward(List)");
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** Which head HRNet has: timm's {@code head} argument, and its features-only model's {@code feature_location}. */
    public enum Head {
        /** The classification head (timm's default): incre, downsampling, final layer, pooling, classifier. */
        CLASSIFICATION,
        /** Only {@code incre_modules}: the features-only model of timm's default {@code feature_location='incre'}. */
        INCRE,
        /** No head: the features-only model of {@code feature_location=''}, the branch outputs as they are. */
        BRANCHES
    }

    /**
     * One stage of HRNet's config (timm's {@code stageN} dict; its {@code fuse_method} is always SUM).
     *
     * @param numModules HighResolutionModules in the stage
     * @param blockType the blocks of every branch
     * @param numBlocks blocks per branch (its size is the number of branches)
     * @param numChannels width per branch, before the block expansion
     */
    public record StageConfig(int numModules, BlockType blockType, List<Integer> numBlocks, List<Integer> numChannels) {
        public StageConfig {
            numBlocks = List.copyOf(numBlocks);
            numChannels = List.copyOf(numChannels);
            if (numBlocks.size() != numChannels.size()) {
                throw new IllegalArgumentException("numBlocks " + numBlocks + " and numChannels " + numChannels
                        + " must have one entry per branch");
            }
            if (numModules < 1) {
                throw new IllegalArgumentException("numModules " + numModules + " must be at least 1");
            }
        }

        int numBranches() {
            return numBlocks.size();
        }

        /** Branch widths after the block expansion. */
        List<Integer> expandedChannels() {
            return numChannels.stream().map(c -> c * blockType.expansion).toList();
        }
    }

    /**
     * An HRNet variant, as timm's {@code cfg_cls} entries.
     *
     * @param stemWidth channels of the first stem conv
     * @param stages the four stages: stage 1 (one branch, the bottleneck layer) and stages 2 to 4
     * @param headConvBias whether the head's downsampling and final convs have biases (off for the PaddlePaddle
     *     {@code _ssld} weights)
     */
    public record Config(int stemWidth, List<StageConfig> stages, boolean headConvBias) {
        public Config {
            stages = List.copyOf(stages);
            if (stages.size() != 4) {
                throw new IllegalArgumentException("HRNet has 4 stages, got " + stages.size());
            }
            for (int s = 0; s < 4; s++) {
                // stage N runs N parallel branches
                if (stages.get(s).numBranches() != s + 1) {
                    throw new IllegalArgumentException("stage " + (s + 1) + " must have " + (s + 1) + " branches, got "
                            + stages.get(s).numBranches());
                }
            }
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            return new Builder().stemWidth(stemWidth).stages(stages).headConvBias(headConvBias);
        }

        /**
         * The standard HRNet-W{width}: a stage 1 of 4 bottlenecks of 64, then 1, 4 and 3 modules of 4 basic blocks per
         * branch, branches {@code width}, 2x, 4x, 8x.
         */
        public static Config standard(int width) {
            return builder()
                    .stages(List.of(
                            new StageConfig(1, BlockType.BOTTLENECK, List.of(4), List.of(64)),
                            basic(1, 4, width, 2),
                            basic(4, 4, width, 3),
                            basic(3, 4, width, 4)))
                    .build();
        }

        /** A stage of basic blocks: {@code branches} branches of {@code blocks} blocks, widths w, 2w, 4w, … */
        static StageConfig basic(int modules, int blocks, int width, int branches) {
            List<Integer> nb = new ArrayList<>();
            List<Integer> nc = new ArrayList<>();
            for (int b = 0; b < branches; b++) {
                nb.add(blocks);
                nc.add(width << b);
            }
            return new StageConfig(modules, BlockType.BASIC, nb, nc);
        }

        /** Builder of {@link Config}; timm's stem width 64 and head conv biases by default. */
        public static final class Builder {
            private int stemWidth = 64;
            private List<StageConfig> stages;
            private boolean headConvBias = true;

            public Builder stemWidth(int v) {
                stemWidth = v;
                return this;
            }

            public Builder stages(List<StageConfig> v) {
                stages = v;
                return this;
            }

            public Builder headConvBias(boolean v) {
                headConvBias = v;
                return this;
            }

            public Config build() {
                if (stages == null) {
                    throw new IllegalStateException("HrNet.Config needs its stages");
                }
                return new Config(stemWidth, stages, headConvBias);
            }
        }
    }

    private final Config cfg;
    private final Head head;
    private final Module conv1;
    private final Module bn1;
    private final Module act1;
    private final Module conv2;
    private final Module bn2;
    private final Module act2;
    private final Module layer1;
    private final List<Sequential> transitions = new ArrayList<>();
    private final List<Sequential> stages = new ArrayList<>();
    private final Sequential increModules;
    private final Sequential downsampModules;
    private final Module finalLayer;

    /** The classification model (timm's {@code HighResolutionNet}). */
    public HrNet(Config cfg, ModelArgs args) {
        this(cfg, args, Head.CLASSIFICATION);
    }

    /**
     * HRNet with the given head. {@link Head#INCRE} and {@link Head#BRANCHES} are timm's features-only models: no
     * classifier or pooling (the arguments' classes and pooling are ignored, as timm's features-only builder drops
     * them), and {@link #forwardIntermediates} gives their maps.
     */
    public HrNet(Config cfg, ModelArgs args, Head head) {
        super(head == Head.CLASSIFICATION ? args : featuresOnlyArgs(args));
        this.cfg = cfg;
        this.head = head;
        int stem = cfg.stemWidth();
        conv1 = register("conv1", conv(inChans, stem, 3, 2, false));
        bn1 = register("bn1", new BatchNorm2d(stem));
        act1 = register("act1", Activation.relu());
        conv2 = register("conv2", conv(stem, 64, 3, 2, false));
        bn2 = register("bn2", new BatchNorm2d(64));
        act2 = register("act2", Activation.relu());

        StageConfig s1 = cfg.stages().get(0);
        int planes = s1.numChannels().get(0);
        layer1 = register(
                "layer1", makeLayer(s1.blockType(), 64, planes, s1.numBlocks().get(0), 1));
        List<Integer> pre = List.of(planes * s1.blockType().expansion);
        for (int s = 1; s < 4; s++) {
            StageConfig sc = cfg.stages().get(s);
            List<Integer> chs = sc.expandedChannels();
            transitions.add(register("transition" + s, transition(pre, chs)));
            Sequential stage = new Sequential();
            for (int m = 0; m < sc.numModules(); m++) {
                stage.add(new HighResolutionModule(sc.blockType(), sc.numBlocks(), chs));
            }
            stages.add(register("stage" + (s + 1), stage));
            pre = chs;
        }

        if (head == Head.BRANCHES) {
            increModules = null;
        } else {
            increModules = register("incre_modules", new Sequential());
            for (int i = 0; i < pre.size(); i++) {
                increModules.add(makeLayer(BlockType.BOTTLENECK, pre.get(i), HEAD_CHANNELS[i], 1, 1));
            }
        }
        if (head == Head.CLASSIFICATION) {
            int e = BlockType.BOTTLENECK.expansion;
            downsampModules = register("downsamp_modules", new Sequential());
            for (int i = 0; i < pre.size() - 1; i++) {
                downsampModules.add(
                        convBn(HEAD_CHANNELS[i] * e, HEAD_CHANNELS[i + 1] * e, 3, 2, cfg.headConvBias(), true));
            }
            finalLayer =
                    register("final_layer", convBn(HEAD_CHANNELS[3] * e, NUM_FEATURES, 1, 1, cfg.headConvBias(), true));
        } else {
            downsampModules = null;
            finalLayer = null;
        }
        // timm: 2048 with the incre modules, 256 without (nothing reads it there, as there is no classifier)
        registerClassifierHead("classifier", head == Head.BRANCHES ? 256 : NUM_FEATURES);

        addFeatureInfo(stem, 2, "stem");
        int reduction = 2;
        for (int i = 0; i < pre.size(); i++) {
            reduction *= 2;
            int c = head == Head.BRANCHES ? pre.get(i) : HEAD_CHANNELS[i] * BlockType.BOTTLENECK.expansion;
            addFeatureInfo(c, reduction, "stage" + (i + 1));
        }
    }

    /** A features-only HRNet takes no classifier: only {@code resetClassifier(0, ...)}, as its extractor does. */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        if (head != Head.CLASSIFICATION && newNumClasses > 0) {
            throw new IllegalArgumentException("HRNet with head " + head + " is features-only and takes no classifier"
                    + " (numClasses " + newNumClasses + "); build it with Head.CLASSIFICATION");
        }
        super.resetClassifier(newNumClasses, newGlobalPool);
    }

    private static ModelArgs featuresOnlyArgs(ModelArgs args) {
        return new ModelArgs(0, args.inChans(), "", 0, args.dropPathRate(), args.zeroInitLast());
    }

    /**
     * timm's {@code _make_transition_layer}: a branch that keeps its width passes through (identity), one that changes
     * it gets a 3x3 conv; each new, coarser branch comes from the coarsest old one through strided 3x3 convs.
     */
    private static Sequential transition(List<Integer> pre, List<Integer> cur) {
        Sequential t = new Sequential();
        for (int i = 0; i < cur.size(); i++) {
            if (i < pre.size()) {
                t.add(
                        cur.get(i).equals(pre.get(i))
                                ? new Identity()
                                : convBn(pre.get(i), cur.get(i), 3, 1, false, true));
            } else {
                Sequential down = new Sequential();
                int in = pre.get(pre.size() - 1);
                for (int j = 0; j < i + 1 - pre.size(); j++) {
                    int out = j == i - pre.size() ? cur.get(i) : in;
                    down.add(convBn(in, out, 3, 2, false, true));
                }
                t.add(down);
            }
        }
        return t;
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** The head this model was built with. */
    public Head head() {
        return head;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: kaiming_normal_(fan_out, relu) on every conv; BatchNorm at 1 and 0 (its default); the
        // classifier and conv biases keep PyTorch's default
        ConvNetInit.fanOutConvs().apply(this, random);
    }

    private NDArray stem1(NDArray x) {
        return act1.forward(bn1.forward(conv1.forward(x)));
    }

    /** timm's {@code stages}: from the stem's output (stride 4) to the four branch outputs, finest first. */
    private List<NDArray> branches(NDArray x) {
        x = act2.forward(bn2.forward(conv2.forward(x)));
        List<NDArray> y = List.of(layer1.forward(x));
        for (int s = 0; s < 3; s++) {
            List<NDArray> in = new ArrayList<>();
            Sequential t = transitions.get(s);
            for (int i = 0; i < t.size(); i++) {
                Module ti = t.get(i);
                // as timm: a branch without a transition passes through; every other transition reads the
                // coarsest branch
                in.add(ti instanceof Identity ? y.get(i) : ti.forward(y.get(y.size() - 1)));
            }
            for (Module m : stages.get(s).children().values()) {
                in = ((HighResolutionModule) m).forward(in);
            }
            y = in;
        }
        return y;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        if (head != Head.CLASSIFICATION) {
            throw new UnsupportedOperationException(
                    "HRNet with head " + head + " is a features-only model: use forwardIntermediates");
        }
        List<NDArray> yl = branches(stem1(x));
        NDArray y = increModules.get(0).forward(yl.get(0));
        for (int i = 1; i < yl.size(); i++) {
            y = increModules
                    .get(i)
                    .forward(yl.get(i))
                    .add(downsampModules.get(i - 1).forward(y));
        }
        return finalLayer.forward(y);
    }

    /**
     * The maps of the chosen levels, as timm's {@code HighResolutionNetFeatures} returns them: level 0 the stem's first
     * conv (stride 2), levels 1 to 4 the branches (through {@code incre_modules} unless the head is
     * {@link Head#BRANCHES}).
     */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        int[] take = resolveIndices(indices);
        List<NDArray> all = new ArrayList<>();
        x = stem1(x);
        all.add(x);
        if (deepest(take) > 0) {
            List<NDArray> yl = branches(x);
            for (int i = 0; i < yl.size(); i++) {
                boolean wanted = false;
                for (int t : take) {
                    wanted |= t == i + 1;
                }
                // a level nobody asked for is not widened
                all.add(
                        increModules == null || !wanted
                                ? yl.get(i)
                                : increModules.get(i).forward(yl.get(i)));
            }
        }
        return select(all, take);
    }

    /**
     * timm loads pretrained classification weights into its features-only models leniently: the keys of the parts they
     * lack (the head beyond {@code incre_modules}, or all of it) are dropped here.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (head == Head.CLASSIFICATION) {
            return checkpoint;
        }
        List<String> absent = new ArrayList<>(List.of("downsamp_modules.", "final_layer.", "classifier."));
        if (head == Head.BRANCHES) {
            absent.add("incre_modules.");
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        checkpoint.forEach((k, v) -> {
            if (absent.stream().noneMatch(k::startsWith)) {
                out.put(k, v);
            }
        });
        return out;
    }

    /**
     * timm's {@code create_model(name, features_only=True, feature_location=...)} for a registered HRNet name: the
     * features-only model with {@code location} ({@link Head#INCRE}, timm's default, or {@link Head#BRANCHES}) and
     * exactly its state_dict; pretrained weights ({@code options}) load from the classification checkpoint, less the
     * head keys it lacks. {@code options.outIndices()} picks the levels (all five by default).
     */
    public static FeatureExtractor createFeatureExtractor(String name, Head location, ModelOptions options) {
        if (location == Head.CLASSIFICATION) {
            throw new IllegalArgumentException("a features-only HRNet has head INCRE or BRANCHES, not CLASSIFICATION"
                    + " (Models.createFeatureExtractor cuts the classification model)");
        }
        String base = ModelRegistry.baseName(name);
        Config c = Family.config(base);
        HrNet model = new HrNet(
                c,
                new ModelArgs(0, options.inChans(), "", 0, options.dropPathRate() == null ? 0 : options.dropPathRate()),
                location);
        model.setIdentity(base, ModelRegistry.builtIn().config(name));
        NDManager manager = NDManager.newBaseManager();
        model.setOwnedManager(manager);
        try {
            model.materialize(manager);
            model.initialize(new SplittableRandom(options.seed()));
            model.eval();
            if (options.pretrained()) {
                ModelOptions.Builder b = ModelOptions.builder()
                        .pretrained(options.pretrained() && options.pretrainedFile() == null)
                        .inChans(options.inChans())
                        .hub(options.hub())
                        .keyMapping(options.keyMapping());
                if (options.pretrainedFile() != null) {
                    b.pretrainedFile(options.pretrainedFile());
                }
                try (ImageModel full = Models.createModel(name, b.build())) {
                    PretrainedLoader.loadExactly(model, full.stateDict());
                }
            }
            return new FeatureExtractor(model, options.outIndices());
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    // ---- registrations ----------------------------------------------------------------------------

    /** Registers timm's eleven hrnet_* names. */
    public static final class Family implements ModelFamily {
        private static final List<String> NAMES = List.of(
                "hrnet_w18_small",
                "hrnet_w18_small_v2",
                "hrnet_w18",
                "hrnet_w30",
                "hrnet_w32",
                "hrnet_w40",
                "hrnet_w44",
                "hrnet_w48",
                "hrnet_w64",
                "hrnet_w18_ssld",
                "hrnet_w48_ssld");

        @Override
        public String name() {
            return "hrnet";
        }

        /** The config of a registered HRNet name (timm's {@code cfg_cls}, with the {@code _ssld} head convs). */
        public static Config config(String name) {
            return switch (name) {
                case "hrnet_w18_small" ->
                    Config.builder()
                            .stages(List.of(
                                    new StageConfig(1, BlockType.BOTTLENECK, List.of(1), List.of(32)),
                                    Config.basic(1, 2, 16, 2),
                                    Config.basic(1, 2, 16, 3),
                                    Config.basic(1, 2, 16, 4)))
                            .build();
                case "hrnet_w18_small_v2" ->
                    Config.builder()
                            .stages(List.of(
                                    new StageConfig(1, BlockType.BOTTLENECK, List.of(2), List.of(64)),
                                    Config.basic(1, 2, 18, 2),
                                    Config.basic(3, 2, 18, 3),
                                    Config.basic(2, 2, 18, 4)))
                            .build();
                case "hrnet_w18", "hrnet_w30", "hrnet_w32", "hrnet_w40", "hrnet_w44", "hrnet_w48", "hrnet_w64" ->
                    Config.standard(Integer.parseInt(name.substring("hrnet_w".length())));
                case "hrnet_w18_ssld" ->
                    Config.standard(18).toBuilder().headConvBias(false).build();
                case "hrnet_w48_ssld" ->
                    Config.standard(48).toBuilder().headConvBias(false).build();
                default -> throw new IllegalArgumentException("'" + name + "' is not an HRNet name; one of " + NAMES);
            };
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            for (String n : NAMES) {
                Config c = config(n);
                m.add(ModelEntry.untrained(n, "hrnet", args -> new HrNet(c, args), 224, "conv1", "classifier"));
            }
            return m;
        }
    }
}
