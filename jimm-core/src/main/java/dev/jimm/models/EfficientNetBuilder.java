package dev.jimm.models;

import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.EvoNorm2dS0;
import dev.jimm.layers.GroupNormAct;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNormAct2d;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * timm's {@code _efficientnet_builder.py}: decodes arch-definition strings such as {@code ir_r2_k3_s2_e6_c24_se0.25},
 * scales depth and width, and assembles the stages of blocks with their feature levels; also timm's
 * {@code efficientnet_init_weights}.
 */
public final class EfficientNetBuilder {
    private EfficientNetBuilder() {}

    /** timm's BN_EPS_TF_DEFAULT, the eps of TensorFlow-ported ({@code tf_}) models. */
    public static final float BN_EPS_TF = 1e-3f;

    // ---- channel rounding, SE and norm choices --------------------------------------------------

    /**
     * timm's {@code round_channels} with bound arguments: {@code make_divisible(ch * multiplier, divisor,
     * round_limit)}.
     */
    public record RoundChs(double multiplier, int divisor, double roundLimit) {
        public static RoundChs of(double multiplier) {
            return new RoundChs(multiplier, 8, 0.9);
        }

        public int apply(double channels) {
            if (multiplier == 0) {
                return (int) channels;
            }
            return Layers.makeDivisible(channels * multiplier, divisor, roundLimit);
        }
    }

    /**
     * The squeeze-excite flavour of a model.
     *
     * @param gate sigmoid (EfficientNet) or hard sigmoid (MobileNet-V3)
     * @param forceAct an activation used instead of the block's, or null
     * @param rdRound how reduced channels are rounded; null for Python's round()
     * @param globalContext a GlobalContext block instead of squeeze-excite
     */
    public record SeSpec(Activation.Kind gate, Activation.Kind forceAct, RoundChs rdRound, boolean globalContext) {
        public static final SeSpec EFFICIENTNET = new SeSpec(Activation.Kind.SIGMOID, null, null);
        /** timm's GlobalContext attention in the SE's place (se_layer='gc'). */
        public static final SeSpec GLOBAL_CONTEXT = new SeSpec(Activation.Kind.SIGMOID, null, null, true);

        public SeSpec(Activation.Kind gate, Activation.Kind forceAct, RoundChs rdRound) {
            this(gate, forceAct, rdRound, false);
        }

        int reducedChannels(double v) {
            // Python's round() rounds half to even, as rint does
            return rdRound == null ? (int) Math.rint(v) : rdRound.apply(v);
        }
    }

    /** The norm layers the EfficientNet family is built with. */
    public enum NormKind {
        BATCH,
        GROUP,
        LAYER,
        EVONORM_S0
    }

    /**
     * The norm layer of a model, which also applies the block's activation where asked to.
     *
     * @param kind BatchNorm, GroupNorm, LayerNorm over channels, or EvoNorm-S0
     * @param groupSize channels per group (GroupNorm, EvoNorm)
     * @param eps the norm's eps
     */
    public record NormSpec(NormKind kind, int groupSize, float eps) {
        public static final NormSpec BN = new NormSpec(NormKind.BATCH, 0, 1e-5f);
        public static final NormSpec BN_TF = new NormSpec(NormKind.BATCH, 0, BN_EPS_TF);
        public static final NormSpec LN = new NormSpec(NormKind.LAYER, 0, 1e-5f);

        public static NormSpec groupNorm(int groupSize) {
            return new NormSpec(NormKind.GROUP, groupSize, 1e-5f);
        }

        public static NormSpec evoNormS0(int groupSize) {
            return new NormSpec(NormKind.EVONORM_S0, groupSize, 1e-5f);
        }

        public NormSpec withEps(float e) {
            return new NormSpec(kind, groupSize, e);
        }

        Module create(int channels, Activation.Kind act) {
            return switch (kind) {
                case BATCH -> new BatchNormAct2d(channels, eps, act);
                case GROUP -> GroupNormAct.withGroupSize(groupSize, channels, eps, act);
                case LAYER -> new LayerNormAct2d(channels, eps, act);
                // EvoNorm's activation is its own sigmoid gate; the block's only decides whether there is one
                case EVONORM_S0 -> new EvoNorm2dS0(channels, groupSize, act != Activation.Kind.IDENTITY, eps);
            };
        }
    }

    // ---- arch strings ---------------------------------------------------------------------------

    /** The block kinds of arch strings. */
    public enum BlockType {
        CN,
        DS,
        DSA,
        IR,
        ER,
        UIR,
        MQA
    }

    /**
     * The attention options of an {@code mqa} block.
     *
     * @param numHeads query heads
     * @param keyDim key (and value) width of each head
     * @param kvStride the stride of the keys' and values' depthwise downsampling
     */
    public record AttnArgs(int numHeads, int keyDim, int kvStride) {}

    /**
     * One decoded block definition.
     *
     * @param type the block kind
     * @param outChs output channels before width scaling
     * @param stride 1 or 2
     * @param act the block's activation, or null for the model default
     * @param kernel the depthwise kernel (ds, ir), the expansion kernel (er), the conv kernel (cn) or the middle
     *     depthwise kernel (uir, 0 for none); several sizes make a MixNet mixed conv
     * @param expKernel kernel(s) of ir's pointwise expansion; uir's starting depthwise kernel (0: none)
     * @param pwKernel kernel(s) of the pointwise projection; uir's ending depthwise kernel (0: none)
     * @param expRatio expansion ratio (ir, er)
     * @param seRatio squeeze-excite ratio, 0 for none
     * @param noskip no residual connection
     * @param skip a residual connection (cn only)
     * @param pwAct an activation after the pointwise conv (dsa)
     * @param s2d space-to-depth at this block
     * @param forceInChs channels that size er's expansion instead of its input (0: none)
     * @param groupSize the group size of the spatial conv, or null for the block's default
     * @param numExperts CondConv experts of an ir block (0: a plain inverted residual)
     * @param attn the attention of an mqa block, else null
     */
    public record BlockArgs(
            BlockType type,
            int outChs,
            int stride,
            Activation.Kind act,
            List<Integer> kernel,
            List<Integer> expKernel,
            List<Integer> pwKernel,
            double expRatio,
            double seRatio,
            boolean noskip,
            boolean skip,
            boolean pwAct,
            boolean s2d,
            int forceInChs,
            Integer groupSize,
            int numExperts,
            AttnArgs attn) {

        public BlockArgs {
            kernel = List.copyOf(kernel);
            expKernel = List.copyOf(expKernel);
            pwKernel = List.copyOf(pwKernel);
        }

        /** This block with the fields {@code change} sets on a mutable copy. */
        private BlockArgs with(Consumer<Copy> change) {
            Copy c = new Copy(this);
            change.accept(c);
            return c.build();
        }

        int groupSizeOr(int dflt) {
            return groupSize == null ? dflt : groupSize;
        }

        BlockArgs withStride(int s) {
            return with(c -> c.stride = s);
        }

        BlockArgs withExpRatio(double e) {
            return with(c -> c.expRatio = e);
        }

        BlockArgs withExperts(int e) {
            return with(c -> c.numExperts = e);
        }

        BlockArgs withGroupSize(Integer g) {
            return with(c -> c.groupSize = g);
        }

        /** A mutable copy of the fields the {@code with} methods change, so that each sets one by name. */
        private static final class Copy {
            private final BlockArgs a;
            private int stride;
            private double expRatio;
            private Integer groupSize;
            private int numExperts;

            Copy(BlockArgs a) {
                this.a = a;
                stride = a.stride();
                expRatio = a.expRatio();
                groupSize = a.groupSize();
                numExperts = a.numExperts();
            }

            BlockArgs build() {
                return new BlockArgs(
                        a.type(),
                        a.outChs(),
                        stride,
                        a.act(),
                        a.kernel(),
                        a.expKernel(),
                        a.pwKernel(),
                        expRatio,
                        a.seRatio(),
                        a.noskip(),
                        a.skip(),
                        a.pwAct(),
                        a.s2d(),
                        a.forceInChs(),
                        groupSize,
                        numExperts,
                        a.attn());
            }
        }
    }

    /** timm's _parse_ksize: "3" is one kernel, "3.5.7" a list for a mixed conv. */
    private static List<Integer> kernelOf(String v) {
        List<Integer> k = new ArrayList<>();
        for (String p : v.split("\\.")) {
            k.add(Integer.parseInt(p));
        }
        return k;
    }

    /** The kernel sizes of option {@code key}, or {@code dflt} when the block string has none. */
    private static List<Integer> kernelOr(Map<String, String> o, String key, List<Integer> dflt) {
        return o.containsKey(key) ? kernelOf(o.get(key)) : dflt;
    }

    private static String required(String block, Map<String, String> o, String key) {
        String v = o.get(key);
        if (v == null) {
            throw new IllegalArgumentException("block '" + block + "' has no '" + key + "' option");
        }
        return v;
    }

    /** Decodes one block string into its args and repeat count (timm's _decode_block_str). */
    static Map.Entry<BlockArgs, Integer> decodeBlock(String block) {
        String[] ops = block.split("_");
        BlockType type = switch (ops[0]) {
            case "cn" -> BlockType.CN;
            case "ds" -> BlockType.DS;
            case "dsa" -> BlockType.DSA;
            case "ir" -> BlockType.IR;
            case "er" -> BlockType.ER;
            case "uir" -> BlockType.UIR;
            case "mqa" -> BlockType.MQA;
            default ->
                throw new UnsupportedOperationException(
                        "block '" + block + "': block type '" + ops[0] + "' is not supported");
        };
        Map<String, String> o = new HashMap<>();
        Boolean skip = null;
        Activation.Kind act = null;
        for (int i = 1; i < ops.length; i++) {
            String op = ops[i];
            if (op.equals("noskip")) {
                skip = false;
            } else if (op.equals("skip")) {
                skip = true;
            } else if (op.startsWith("n")) {
                String v = op.substring(1);
                switch (v) {
                    case "re" -> act = Activation.Kind.RELU;
                    case "r6" -> act = Activation.Kind.RELU6;
                    case "hs" -> act = Activation.Kind.HARD_SWISH;
                    case "sw" -> act = Activation.Kind.SILU;
                    default -> {
                        // timm ignores activations it does not know
                    }
                }
            } else {
                int d = 0;
                while (d < op.length() && !Character.isDigit(op.charAt(d))) {
                    d++;
                }
                if (d < op.length()) {
                    o.put(op.substring(0, d), op.substring(d));
                }
            }
        }
        int experts = o.containsKey("cc") ? Integer.parseInt(o.get("cc")) : 0;
        int repeats = Integer.parseInt(required(block, o, "r"));
        int outChs = Integer.parseInt(required(block, o, "c"));
        int stride = Integer.parseInt(required(block, o, "s"));
        List<Integer> one = List.of(1);
        double se = o.containsKey("se") ? Double.parseDouble(o.get("se")) : 0;
        boolean s2d = o.containsKey("d") && Integer.parseInt(o.get("d")) > 0;
        Integer gs = o.containsKey("gs") ? Integer.valueOf(o.get("gs")) : null;
        List<Integer> k = kernelOf(required(block, o, "k"));
        // what each kind reads of the options; the rest keeps the defaults of timm's _decode_block_str
        boolean ir = type == BlockType.IR;
        boolean uir = type == BlockType.UIR;
        boolean cn = type == BlockType.CN;
        boolean mqa = type == BlockType.MQA;
        boolean expands = ir || uir || type == BlockType.ER;
        // uir's a and p are its optional start and end depthwise kernels, 0 for none
        List<Integer> noKernel = uir ? List.of(0) : one;
        BlockArgs a = new BlockArgs(
                type,
                outChs,
                stride,
                act,
                cn ? List.of(Integer.parseInt(required(block, o, "k"))) : k,
                ir || uir ? kernelOr(o, "a", noKernel) : one,
                cn || mqa ? one : kernelOr(o, "p", noKernel),
                expands ? Double.parseDouble(required(block, o, "e")) : 1.0,
                cn || mqa ? 0 : se,
                type == BlockType.DSA || (!cn && Boolean.FALSE.equals(skip)),
                cn && Boolean.TRUE.equals(skip),
                type == BlockType.DSA,
                (ir || type == BlockType.DS || type == BlockType.DSA) && s2d,
                type == BlockType.ER && o.containsKey("fc") ? Integer.parseInt(o.get("fc")) : 0,
                gs,
                ir ? experts : 0,
                mqa
                        ? new AttnArgs(
                                Integer.parseInt(required(block, o, "h")),
                                Integer.parseInt(required(block, o, "d")),
                                o.containsKey("v") ? Integer.parseInt(o.get("v")) : 1)
                        : null);
        return Map.entry(a, repeats);
    }

    /**
     * An architecture: the block strings of each stage and how their depth scales.
     *
     * @param stages block strings per stage
     * @param depthMultiplier one multiplier, or one per stage
     * @param roundDepth "round" depth truncation (else timm's default "ceil")
     * @param fixFirstLast keep the first and last stage depths unscaled
     * @param groupSize a group size for blocks that set none, or null
     * @param expertsMultiplier multiplies the CondConv experts of {@code cc} blocks
     */
    public record ArchDef(
            List<List<String>> stages,
            List<Double> depthMultiplier,
            boolean roundDepth,
            boolean fixFirstLast,
            Integer groupSize,
            int expertsMultiplier) {
        public ArchDef {
            List<List<String>> copy = new ArrayList<>();
            stages.forEach(s -> copy.add(List.copyOf(s)));
            stages = List.copyOf(copy);
            depthMultiplier = List.copyOf(depthMultiplier);
            if (depthMultiplier.size() != 1 && depthMultiplier.size() != stages.size()) {
                throw new IllegalArgumentException(
                        "depthMultiplier has " + depthMultiplier.size() + " values for " + stages.size() + " stages");
            }
        }

        public static ArchDef of(List<List<String>> stages) {
            return new ArchDef(stages, List.of(1.0), false, false, null, 1);
        }

        /** This arch with the fields {@code change} sets on a mutable copy. */
        private ArchDef with(Consumer<Copy> change) {
            Copy c = new Copy(this);
            change.accept(c);
            return c.build();
        }

        public ArchDef depth(double... multipliers) {
            List<Double> m = new ArrayList<>();
            for (double v : multipliers) {
                m.add(v);
            }
            return with(c -> c.depthMultiplier = m);
        }

        public ArchDef withRoundDepth() {
            return with(c -> c.roundDepth = true);
        }

        public ArchDef fixFirstLast(boolean fix) {
            return with(c -> c.fixFirstLast = fix);
        }

        public ArchDef experts(int multiplier) {
            return with(c -> c.expertsMultiplier = multiplier);
        }

        public ArchDef groupSize(Integer g) {
            return with(c -> c.groupSize = g);
        }

        /** A mutable copy, so that each {@code with} method changes one field by name. */
        private static final class Copy {
            private final List<List<String>> stages;
            private List<Double> depthMultiplier;
            private boolean roundDepth;
            private boolean fixFirstLast;
            private Integer groupSize;
            private int expertsMultiplier;

            Copy(ArchDef a) {
                stages = a.stages();
                depthMultiplier = a.depthMultiplier();
                roundDepth = a.roundDepth();
                fixFirstLast = a.fixFirstLast();
                groupSize = a.groupSize();
                expertsMultiplier = a.expertsMultiplier();
            }

            ArchDef build() {
                return new ArchDef(stages, depthMultiplier, roundDepth, fixFirstLast, groupSize, expertsMultiplier);
            }
        }

        double multiplier(int stage) {
            return depthMultiplier.size() == 1 ? depthMultiplier.get(0) : depthMultiplier.get(stage);
        }

        /** The decoded, depth-scaled blocks of each stage (timm's decode_arch_def). */
        public List<List<BlockArgs>> decode() {
            List<List<BlockArgs>> out = new ArrayList<>();
            for (int s = 0; s < stages.size(); s++) {
                List<BlockArgs> args = new ArrayList<>();
                List<Integer> repeats = new ArrayList<>();
                for (String b : stages.get(s)) {
                    Map.Entry<BlockArgs, Integer> e = decodeBlock(b);
                    BlockArgs a = e.getKey();
                    if (a.numExperts() > 0 && expertsMultiplier > 1) {
                        a = a.withExperts(a.numExperts() * expertsMultiplier);
                    }
                    if (groupSize != null && a.groupSize() == null) {
                        a = a.withGroupSize(groupSize);
                    }
                    args.add(a);
                    repeats.add(e.getValue());
                }
                boolean fixed = fixFirstLast && (s == 0 || s == stages.size() - 1);
                out.add(scaleStageDepth(args, repeats, fixed ? 1.0 : multiplier(s), roundDepth));
            }
            return out;
        }
    }

    private static List<BlockArgs> scaleStageDepth(
            List<BlockArgs> args, List<Integer> repeats, double multiplier, boolean round) {
        int numRepeat = repeats.stream().mapToInt(Integer::intValue).sum();
        int scaled =
                round ? (int) Math.max(1, Math.rint(numRepeat * multiplier)) : (int) Math.ceil(numRepeat * multiplier);
        // distributed in reverse, so the first block def of a stage is the least likely to grow
        int[] rs = new int[repeats.size()];
        for (int i = repeats.size() - 1; i >= 0; i--) {
            int r = repeats.get(i);
            int v = (int) Math.max(1, Math.rint((double) r / numRepeat * scaled));
            rs[i] = v;
            numRepeat -= r;
            scaled -= v;
        }
        List<BlockArgs> out = new ArrayList<>();
        for (int i = 0; i < args.size(); i++) {
            for (int k = 0; k < rs[i]; k++) {
                out.add(args.get(i));
            }
        }
        return out;
    }

    // ---- building -------------------------------------------------------------------------------

    /**
     * What a model passes to the builder.
     *
     * @param roundChs width scaling of block outputs
     * @param padSame TensorFlow "same" padding
     * @param act the default activation of blocks
     * @param norm the norm layer
     * @param se the squeeze-excite flavour, or null for none
     * @param seFromExp SE ratios relative to the expanded width (MobileNet-V3) rather than the block input
     * @param dropPathRate the stochastic depth rate at the last block
     * @param aa anti-aliasing of strided blocks ("", "avg", "blur", "blurpc")
     * @param layerScale the LayerScale2d init of uir and mqa blocks, or null for none
     * @param pruned the widths of a pruned variant, or null
     */
    record Settings(
            RoundChs roundChs,
            boolean padSame,
            Activation.Kind act,
            NormSpec norm,
            SeSpec se,
            boolean seFromExp,
            double dropPathRate,
            String aa,
            Double layerScale,
            PrunedWidths pruned) {}

    /**
     * The stages built, their feature levels, and the width of the last block.
     *
     * @param stages one Sequential per stage
     * @param features feature levels (the stem's where the first block strides)
     * @param stageEnds for each feature level, how many stages precede it (0: the stem)
     * @param outChs channels of the last block
     */
    record Built(List<Sequential> stages, List<FeatureInfo> features, List<Integer> stageEnds, int outChs) {}

    /** timm's EfficientNetBuilder.__call__ at output stride 32. */
    static Built build(Settings st, int inChs, List<List<BlockArgs>> arch) {
        EfficientNetBlocks.BlockContext ctx =
                new EfficientNetBlocks.BlockContext(st.padSame(), st.norm(), st.se(), st.aa(), st.layerScale(), null);
        int total = arch.stream().mapToInt(List::size).sum();
        int blockIdx = 0;
        int currentStride = 2;
        List<FeatureInfo> features = new ArrayList<>();
        List<Integer> stageEnds = new ArrayList<>();
        if (arch.get(0).get(0).stride() > 1) {
            features.add(new FeatureInfo(inChs, currentStride, "bn1"));
            stageEnds.add(0);
        }
        List<Sequential> stages = new ArrayList<>();
        int space2depth = 0;
        int lastOut = inChs;
        for (int s = 0; s < arch.size(); s++) {
            List<BlockArgs> stack = arch.get(s);
            Sequential stage = new Sequential();
            for (int b = 0; b < stack.size(); b++) {
                BlockArgs a = stack.get(b);
                if (a.stride() != 1 && a.stride() != 2) {
                    throw new IllegalArgumentException("block stride " + a.stride() + " is not 1 or 2");
                }
                if (b >= 1) {
                    a = a.withStride(1);
                }
                int s2d = 0;
                if (space2depth == 0 && a.s2d()) {
                    if (a.stride() != 1) {
                        throw new IllegalArgumentException("space-to-depth needs a stride-1 block");
                    }
                    space2depth = 1;
                }
                if (space2depth > 0) {
                    if (space2depth == 2 && a.stride() == 2) {
                        // leaving space-to-depth: the stride was done by it, the expansion is relative to 4x input
                        a = a.withStride(1).withExpRatio(a.expRatio() / 4);
                        space2depth = 0;
                    } else {
                        s2d = space2depth;
                    }
                }
                boolean lastBlock = b + 1 == stack.size();
                boolean extract = lastBlock
                        && (s + 1 >= arch.size() || arch.get(s + 1).get(0).stride() > 1);
                currentStride *= a.stride();
                double dpr = st.dropPathRate() * blockIdx / total;
                EfficientNetBlocks.BlockContext blockCtx =
                        st.pruned() == null ? ctx : ctx.withWidths(st.pruned().at("blocks." + s + "." + b + "."));
                EfficientNetBlocks.Block block = makeBlock(st, blockCtx, a, inChs, s2d, dpr);
                stage.add(block);
                // the unpruned widths chain on (they decide the skips); the block's own may be pruned
                inChs = st.pruned() == null ? block.outChs : designOutChs(st, a, s2d);
                lastOut = block.outChs;
                if (space2depth == 1) {
                    space2depth = 2;
                }
                if (extract) {
                    features.add(new FeatureInfo(block.outChs, currentStride, "blocks." + s));
                    stageEnds.add(s + 1);
                }
                blockIdx++;
            }
            stages.add(stage);
        }
        return new Built(stages, features, stageEnds, lastOut);
    }

    /** A block's output width before any pruning: the rounded width, 4x inside space-to-depth. */
    private static int designOutChs(Settings st, BlockArgs a, int s2d) {
        int outChs = st.roundChs().apply(a.outChs());
        return s2d > 0 ? outChs * 4 : outChs;
    }

    private static EfficientNetBlocks.Block makeBlock(
            Settings st, EfficientNetBlocks.BlockContext ctx, BlockArgs a, int inChs, int s2d, double dpr) {
        int outChs = designOutChs(st, a, s2d);
        if (ctx.widths() != null
                && (s2d > 0 || a.numExperts() > 0 || (a.type() != BlockType.IR && a.type() != BlockType.DS))) {
            throw new IllegalArgumentException("pruned widths are read by plain ds and ir blocks, not " + a.type()
                    + (s2d > 0 ? " in space-to-depth" : "") + (a.numExperts() > 0 ? " with CondConv experts" : ""));
        }
        int forceIn = a.forceInChs() > 0 ? st.roundChs().apply(a.forceInChs()) : 0;
        Activation.Kind act = a.act() != null ? a.act() : st.act();
        double se = 0;
        if (a.seRatio() > 0 && st.se() != null) {
            se = a.seRatio();
            if (!st.seFromExp()) {
                // ds blocks have no expansion ratio: timm's ba.get('exp_ratio', 1.0)
                boolean hasExp = a.type() == BlockType.IR || a.type() == BlockType.ER || a.type() == BlockType.UIR;
                se /= hasExp ? a.expRatio() : 1.0;
            }
            if (s2d == 1) {
                se /= 4;
            }
        }
        EfficientNetBlocks.BlockSpec b =
                new EfficientNetBlocks.BlockSpec(ctx, a, inChs, outChs, act, se, s2d, forceIn, dpr);
        return switch (a.type()) {
            case IR ->
                a.numExperts() > 0
                        ? new EfficientNetBlocks.CondConvResidual(b)
                        : new EfficientNetBlocks.InvertedResidual(b);
            case DS, DSA -> new EfficientNetBlocks.DepthwiseSeparableConv(b);
            case ER -> new EfficientNetBlocks.EdgeResidual(b);
            case CN -> new EfficientNetBlocks.ConvBnAct(b);
            case UIR -> new EfficientNetBlocks.UniversalInvertedResidual(b);
            case MQA -> new EfficientNetBlocks.MobileAttention(b);
        };
    }

    // ---- init -----------------------------------------------------------------------------------

    /**
     * timm's efficientnet_init_weights (_init_weight_goog): convs N(0, sqrt(2 / fan_out)) with fan_out = k*k*out/groups
     * and zero bias (per expert for CondConv), BatchNorm ones and zeros, linear layers U(+-1/sqrt(out_features))
     * (U(+-1/sqrt(in + out)) for CondConv routing) with zero bias.
     */
    static void initWeights(Module root, SplittableRandom random) {
        for (Map.Entry<String, Module> e : root.namedModules().entrySet()) {
            Module m = e.getValue();
            if (m instanceof EfficientNetBlocks.CondConv2d cc) {
                cc.initExperts(random);
            } else if (m instanceof Conv2d c) {
                long[] k = c.kernelSize();
                long fanOut = 1;
                for (long v : k) {
                    fanOut *= v;
                }
                fanOut = fanOut * c.outChannels() / c.groups();
                Init.normal(c.weight().getArray(), Math.sqrt(2.0 / fanOut), random);
                if (c.bias() != null) {
                    Init.constant(c.bias().getArray(), 0f);
                }
            } else if (m instanceof BatchNorm2d bn) {
                Init.constant(bn.weight().getArray(), 1f);
                Init.constant(bn.bias().getArray(), 0f);
            } else if (m instanceof Linear l) {
                // fan_in counts only for CondConv's routing layer
                int fanIn = e.getKey().contains("routing_fn") ? l.inFeatures() : 0;
                double range = 1.0 / Math.sqrt(fanIn + l.outFeatures());
                Init.uniform(l.weight().getArray(), range, random);
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            }
        }
        // then each module's own init_weights, as timm calls them after the generic pass
        for (Module m : root.namedModules().values()) {
            if (m instanceof EfficientNetBlocks.MultiQueryAttention2d a) {
                a.xavierInit(random);
            }
        }
    }
}
