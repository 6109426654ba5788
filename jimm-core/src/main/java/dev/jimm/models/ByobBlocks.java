package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.EvoNorm2dS0a;
import dev.jimm.layers.GlobalContext;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.NoGrad;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * The blocks of timm's {@code byobnet.py} that {@link ByobNet} stacks: the residual blocks (basic, bottleneck, dark,
 * edge), the re-parameterisable RepVGG and MobileOne blocks with their fused form, the stems and the shortcuts.
 */
final class ByobBlocks {
    private ByobBlocks() {}

    /**
     * timm's {@code LayerFn}: how a block makes its conv-norm-act layers, bare norms, activation and attention.
     *
     * @param norm the norm (with its activation) after each convolution
     * @param act the activation of the blocks
     * @param attn the attention a block adds ({@code NONE}: none)
     * @param avgAntiAlias strided convolutions run at stride 1 and an average pool of the stride follows the norm
     *     (timm's {@code aa_layer='avg'}, CLIP's ResNets)
     */
    record LayerFn(ByobNet.NormLayer norm, Activation.Kind act, ByobNet.AttnLayer attn, boolean avgAntiAlias) {

        ConvNormAct convNormAct(int in, int out, int kernel, int stride, int groups, boolean applyAct) {
            return ByobBlocks.convNormAct(in, out, kernel, stride, groups, normAct(out, applyAct), avgAntiAlias);
        }

        /** timm's {@code norm_act}: the norm, with the activation when {@code applyAct}. */
        Module normAct(int channels, boolean applyAct) {
            return norm.create(channels, applyAct ? act : Activation.Kind.IDENTITY);
        }

        /** The attention for {@code channels}, or an identity when there is none. */
        Module attnOrIdentity(int channels) {
            return attn.isNone() ? new Identity() : attn.create(channels);
        }

        LayerFn withAttn(ByobNet.AttnLayer newAttn) {
            return new LayerFn(norm, act, newAttn, avgAntiAlias);
        }

        LayerFn withoutAntiAlias() {
            return new LayerFn(norm, act, attn, false);
        }
    }

    /** timm's {@code num_groups}: 1 for no group size, else channels per group of {@code groupSize}. */
    static int numGroups(int groupSize, int channels) {
        if (groupSize <= 0) {
            return 1;
        }
        if (channels % groupSize != 0) {
            throw new IllegalArgumentException(
                    "group size " + groupSize + " does not divide the " + channels + " channels of a block");
        }
        return channels / groupSize;
    }

    /** A bias-free convolution with timm's symmetric padding {@code ((stride - 1) + (k - 1)) / 2}. */
    static Conv2d conv(int in, int out, int kernel, int stride, int groups) {
        return Conv2d.symmetric(in, out, kernel, stride, 1, groups, false);
    }

    /** The weight of a norm module (BatchNorm or EvoNorm), or null for a norm without one. */
    static Parameter normWeight(Module norm) {
        if (norm instanceof BatchNorm2d bn) {
            return bn.weight();
        }
        if (norm instanceof EvoNorm2dS0a evo) {
            return evo.weight();
        }
        return null;
    }

    /**
     * timm's {@code ConvNormAct}: {@code conv}, {@code bn} (the norm and its activation) and, for a strided conv with
     * average anti-aliasing, {@code aa} (the conv then runs at stride 1).
     */
    static ConvNormAct convNormAct(int in, int out, int kernel, int stride, int groups, Module norm, boolean avgAa) {
        boolean useAa = avgAa && stride > 1;
        // timm's create_aa('avg', stride) is nn.AvgPool2d(stride): kernel and stride of the conv's stride
        Module aa = useAa ? Pool2d.avg(stride, stride, 0, false, true) : null;
        return new ConvNormAct(conv(in, out, kernel, useAa ? 1 : stride, groups), norm, aa);
    }

    /** timm's {@code DownsampleAvg}: a 2x2 average pool of the stride ("D" ResNets), then a 1x1 conv and norm. */
    static final class DownsampleAvg extends Module {
        private final Module pool;
        private final ConvNormAct conv;

        DownsampleAvg(int in, int out, int stride, LayerFn layers) {
            pool = register("pool", stride > 1 ? Pool2d.avg(2, stride, 0, true, false) : new Identity());
            conv = register("conv", layers.convNormAct(in, out, 1, 1, 1, false));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return conv.forward(pool.forward(x));
        }
    }

    /**
     * timm's {@code create_shortcut}: an identity when the shape holds, else by {@code downsample} a strided 1x1 conv
     * and norm, an average pool then one, or none at all (null: the block has no residual).
     */
    static Module shortcut(ByobNet.Downsample downsample, int in, int out, int stride, LayerFn layers) {
        if (in == out && stride == 1) {
            return new Identity();
        }
        return switch (downsample) {
            case NONE -> null;
            case AVG -> new DownsampleAvg(in, out, stride, layers);
            case CONV1X1 -> layers.convNormAct(in, out, 1, stride, 1, false);
        };
    }

    /** What a block is built from (timm's block kwargs). */
    record BlockArgs(
            int in,
            int out,
            int stride,
            int groupSize,
            double bottleRatio,
            ByobNet.Downsample downsample,
            ByobNet.BlockOptions options,
            LayerFn layers,
            double dropPath) {}

    /** Blocks with an init of their own (timm's block {@code init_weights}), run after the model's conv/norm init. */
    interface OwnInit {
        void initWeights(boolean zeroInitLast, SplittableRandom random);
    }

    /** Re-parameterisable blocks: several conv-BN branches (and a BN identity) that sum into one convolution. */
    interface Reparameterizable {
        /** The fused block, built but not materialized; {@link #loadFused} fills it once its parent holds it. */
        FusedConvBlock fusedStructure();

        /** The fused kernel and bias (eval-mode BN statistics) and the attention's state, copied out of this block. */
        Fused fuse();
    }

    /** The result of fusing: the kernel and bias values and the attention's arrays (copies). */
    record Fused(float[] kernel, float[] bias, Map<String, NDArray> attnState) {}

    /** Builds one block of the given type. */
    static Module create(ByobNet.BlockType type, BlockArgs a) {
        return switch (type) {
            case BASIC, BOTTLE, DARK, EDGE -> new ResidualBlock(type, a);
            case REP ->
                new RepVggBlock(
                        a.in(), a.out(), a.options().kernelSize(), a.stride(), a.groupSize(), a.layers(), a.dropPath());
            case ONE ->
                new MobileOneBlock(
                        a.in(),
                        a.out(),
                        a.options().kernelSize(),
                        a.stride(),
                        a.groupSize(),
                        a.options().numConvBranches(),
                        a.layers(),
                        a.dropPath());
            case MOBILEVIT -> new MobileVitBlocks.MobileVitBlock(a);
            case MOBILEVIT2 -> new MobileVitBlocks.MobileVitV2Block(a);
        };
    }

    /**
     * timm's {@code BasicBlock} (kxk, kxk), {@code BottleneckBlock} (1x1, kxk, optional second kxk, 1x1),
     * {@code DarkBlock} (1x1, strided kxk) and {@code EdgeBlock} (strided kxk, 1x1): a residual path of conv-norm-acts
     * with attention after the mid (bottleneck, edge) or last (basic, dark) conv, drop path, the shortcut sum and the
     * activation (none for {@code linearOut}). The modules keep timm's names and order.
     */
    static final class ResidualBlock extends Module implements OwnInit {
        private final Module shortcut;
        private final List<Module> path = new ArrayList<>();
        private final Module lastNorm;
        private final List<Module> attns = new ArrayList<>();
        private final Module dropPath;
        private final Activation.Kind act;

        ResidualBlock(ByobNet.BlockType type, BlockArgs a) {
            LayerFn l = a.layers();
            ByobNet.BlockOptions o = a.options();
            int k = o.kernelSize();
            int base = type == ByobNet.BlockType.BOTTLE && o.bottleIn() ? a.in() : a.out();
            int mid = Layers.makeDivisible(base * a.bottleRatio(), 8);
            int groups = numGroups(a.groupSize(), mid);
            Module sc = shortcut(a.downsample(), a.in(), a.out(), a.stride(), l);
            shortcut = sc == null ? null : register("shortcut", sc);
            ConvNormAct last;
            switch (type) {
                case BASIC -> {
                    step("conv1_kxk", l.convNormAct(a.in(), mid, k, a.stride(), 1, true));
                    step("attn", new Identity());
                    last = step("conv2_kxk", l.convNormAct(mid, a.out(), k, 1, groups, false));
                    attn("attn_last", l, a.out());
                }
                case BOTTLE -> {
                    step("conv1_1x1", l.convNormAct(a.in(), mid, 1, 1, 1, true));
                    step("conv2_kxk", l.convNormAct(mid, mid, k, a.stride(), groups, true));
                    step("conv2b_kxk", o.extraConv() ? l.convNormAct(mid, mid, k, 1, groups, true) : new Identity());
                    attn("attn", l, mid);
                    last = step("conv3_1x1", l.convNormAct(mid, a.out(), 1, 1, 1, false));
                    step("attn_last", new Identity());
                }
                case DARK -> {
                    step("conv1_1x1", l.convNormAct(a.in(), mid, 1, 1, 1, true));
                    step("attn", new Identity());
                    last = step("conv2_kxk", l.convNormAct(mid, a.out(), k, a.stride(), groups, false));
                    attn("attn_last", l, a.out());
                }
                case EDGE -> {
                    step("conv1_kxk", l.convNormAct(a.in(), mid, k, a.stride(), groups, true));
                    attn("attn", l, mid);
                    last = step("conv2_1x1", l.convNormAct(mid, a.out(), 1, 1, 1, false));
                    step("attn_last", new Identity());
                }
                default -> throw new IllegalArgumentException(type + " is not a residual conv block");
            }
            lastNorm = last.norm();
            dropPath = register("drop_path", DropPath.orIdentity(a.dropPath()));
            act = o.linearOut() ? Activation.Kind.IDENTITY : l.act();
            register("act", new Activation(act));
        }

        private <M extends Module> M step(String name, M m) {
            path.add(register(name, m));
            return m;
        }

        private void attn(String name, LayerFn l, int channels) {
            attns.add(step(name, l.attnOrIdentity(channels)));
        }

        /** Whether the block adds its input back (timm makes none for {@code downsample=''} where shapes change). */
        boolean hasShortcut() {
            return shortcut != null;
        }

        @Override
        public void initWeights(boolean zeroInitLast, SplittableRandom random) {
            Parameter w = normWeight(lastNorm);
            if (zeroInitLast && shortcut != null && w != null) {
                Init.constant(w.getArray(), 0f);
            }
            resetAttention(attns, random);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray residual = x;
            for (Module m : path) {
                x = m.forward(x);
            }
            x = dropPath.forward(x);
            if (shortcut != null) {
                x = x.add(shortcut.forward(residual));
            }
            return Activation.apply(act, x);
        }
    }

    /** timm calls {@code reset_parameters} of a block's attention in the block's init (GlobalContext has one). */
    static void resetAttention(List<Module> attns, SplittableRandom random) {
        for (Module m : attns) {
            if (m instanceof GlobalContext gc) {
                gc.reset(random);
            }
        }
    }

    /**
     * timm's {@code RepVggBlock}: a kxk conv-BN and a 1x1 conv-BN (and a BN identity where the shape holds) summed,
     * then attention and the activation. {@link ByobNet#reparameterize} fuses the branches into one kxk conv with bias.
     */
    static final class RepVggBlock extends Module implements OwnInit, Reparameterizable {
        private final int in;
        private final int out;
        private final int kernel;
        private final int stride;
        private final int groups;
        private final LayerFn layers;
        private final Module identity;
        private final ConvNormAct convKxk;
        private final ConvNormAct conv1x1;
        private final Module dropPath;
        private final Module attn;
        private final Activation.Kind act;

        RepVggBlock(int in, int out, int kernel, int stride, int groupSize, LayerFn layers, double dpr) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.groups = numGroups(groupSize, in);
            this.layers = layers;
            boolean useIdent = in == out && stride == 1;
            identity = useIdent ? register("identity", layers.normAct(out, false)) : null;
            convKxk = register("conv_kxk", layers.convNormAct(in, out, kernel, stride, groups, false));
            conv1x1 = register("conv_1x1", layers.convNormAct(in, out, 1, stride, groups, false));
            dropPath = register("drop_path", useIdent ? DropPath.orIdentity(dpr) : new Identity());
            attn = register("attn", layers.attnOrIdentity(out));
            act = layers.act();
            register("act", new Activation(act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y;
            if (identity == null) {
                y = conv1x1.forward(x).add(convKxk.forward(x));
            } else {
                NDArray id = identity.forward(x);
                y = dropPath.forward(conv1x1.forward(x).add(convKxk.forward(x))).add(id);
            }
            return Activation.apply(act, attn.forward(y));
        }

        /** timm's RepVGG init: every BN weight N(0.1, 0.1) and bias N(0, 0.1), over the model's init. */
        @Override
        public void initWeights(boolean zeroInitLast, SplittableRandom random) {
            for (Module m : namedModules().values()) {
                if (m instanceof BatchNorm2d bn) {
                    NDArray w = bn.weight().getArray();
                    Init.normal(w, 0.1, random);
                    try (NoGrad g = NoGrad.enter();
                            NDArray shift = w.getManager().create(0.1f)) {
                        w.addi(shift);
                    }
                    Init.normal(bn.bias().getArray(), 0.1, random);
                }
            }
            resetAttention(List.of(attn), random);
        }

        @Override
        public FusedConvBlock fusedStructure() {
            return new FusedConvBlock(in, out, kernel, stride, groups, layers);
        }

        @Override
        public Fused fuse() {
            FusedKernel f = new FusedKernel(out, in / groups, kernel);
            f.addBranch(convKxk);
            f.addBranch(conv1x1);
            if (identity != null) {
                f.addIdentity(identity, groups);
            }
            return new Fused(f.kernel, f.bias, copyState(attn));
        }
    }

    /**
     * timm's {@code MobileOneBlock}: {@code numConvBranches} kxk conv-BNs, a 1x1 conv-BN "scale" branch (for k &gt; 1)
     * and a BN identity where the shape holds, summed, then attention and the activation; fused like RepVGG.
     */
    static final class MobileOneBlock extends Module implements Reparameterizable {
        private final int in;
        private final int out;
        private final int kernel;
        private final int stride;
        private final int groups;
        private final LayerFn layers;
        private final Module identity;
        private final List<ConvNormAct> convKxk = new ArrayList<>();
        private final ConvNormAct convScale;
        private final Module dropPath;
        private final Module attn;
        private final Activation.Kind act;

        MobileOneBlock(
                int in, int out, int kernel, int stride, int groupSize, int branches, LayerFn layers, double dpr) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.groups = numGroups(groupSize, in);
            this.layers = layers;
            boolean useIdent = in == out && stride == 1;
            identity = useIdent ? register("identity", layers.normAct(out, false)) : null;
            Sequential list = new Sequential();
            for (int i = 0; i < branches; i++) {
                ConvNormAct c = layers.convNormAct(in, out, kernel, stride, groups, false);
                convKxk.add(c);
                list.add(c);
            }
            register("conv_kxk", list);
            convScale =
                    kernel > 1 ? register("conv_scale", layers.convNormAct(in, out, 1, stride, groups, false)) : null;
            dropPath = register("drop_path", useIdent ? DropPath.orIdentity(dpr) : new Identity());
            attn = register("attn", layers.attnOrIdentity(out));
            act = layers.act();
            register("act", new Activation(act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray id = identity == null ? null : identity.forward(x);
            NDArray y = convScale == null ? null : convScale.forward(x);
            for (ConvNormAct c : convKxk) {
                y = y == null ? c.forward(x) : y.add(c.forward(x));
            }
            y = dropPath.forward(y);
            if (id != null) {
                y = y.add(id);
            }
            return Activation.apply(act, attn.forward(y));
        }

        @Override
        public FusedConvBlock fusedStructure() {
            return new FusedConvBlock(in, out, kernel, stride, groups, layers);
        }

        @Override
        public Fused fuse() {
            FusedKernel f = new FusedKernel(out, in / groups, kernel);
            for (ConvNormAct c : convKxk) {
                f.addBranch(c);
            }
            if (convScale != null) {
                f.addBranch(convScale);
            }
            if (identity != null) {
                f.addIdentity(identity, groups);
            }
            return new Fused(f.kernel, f.bias, copyState(attn));
        }
    }

    /** Copies of a module's state arrays (they outlive the module, which is closed when replaced). */
    private static Map<String, NDArray> copyState(Module m) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (NoGrad g = NoGrad.enter()) {
            m.stateDict().forEach((k, v) -> out.put(k, v.duplicate()));
        }
        return out;
    }

    /**
     * timm's {@code _fuse_bn_tensor} and {@code _get_kernel_bias}, in float32 as timm computes them: each conv-BN
     * branch becomes {@code (w * gamma / std, beta - mean * gamma / std)}, a 1x1 kernel centred in the kxk one, the BN
     * identity a kernel with {@code gamma / std} at the centre tap of its own channel.
     */
    private static final class FusedKernel {
        private final int out;
        private final int inPerGroup;
        private final int k;
        final float[] kernel;
        final float[] bias;

        FusedKernel(int out, int inPerGroup, int k) {
            this.out = out;
            this.inPerGroup = inPerGroup;
            this.k = k;
            kernel = new float[out * inPerGroup * k * k];
            bias = new float[out];
        }

        void addBranch(ConvNormAct branch) {
            if (branch.hasAntiAlias()) {
                throw new UnsupportedOperationException("cannot fuse a branch with anti-aliasing pooling");
            }
            BatchNorm2d bn = batchNorm(branch.norm());
            float[] t = scale(bn);
            float[] w = branch.conv().weight().getArray().toFloatArray();
            int kb = (int) branch.conv().kernelSize()[0];
            int off = (k - kb) / 2;
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < inPerGroup; i++) {
                    for (int y = 0; y < kb; y++) {
                        for (int x = 0; x < kb; x++) {
                            int src = ((o * inPerGroup + i) * kb + y) * kb + x;
                            int dst = ((o * inPerGroup + i) * k + y + off) * k + x + off;
                            kernel[dst] += w[src] * t[o];
                        }
                    }
                }
            }
            addBias(bn);
        }

        void addIdentity(Module norm, int groups) {
            BatchNorm2d bn = batchNorm(norm);
            float[] t = scale(bn);
            int c = k / 2;
            for (int o = 0; o < out; o++) {
                int i = o % inPerGroup;
                kernel[((o * inPerGroup + i) * k + c) * k + c] += t[o];
            }
            addBias(bn);
        }

        private void addBias(BatchNorm2d bn) {
            float[] gamma = bn.weight().getArray().toFloatArray();
            float[] beta = bn.bias().getArray().toFloatArray();
            float[] mean = bn.runningMean().array().toFloatArray();
            float[] std = std(bn);
            for (int o = 0; o < out; o++) {
                bias[o] += beta[o] - mean[o] * gamma[o] / std[o];
            }
        }

        private static float[] std(BatchNorm2d bn) {
            float[] var = bn.runningVar().array().toFloatArray();
            float[] std = new float[var.length];
            for (int i = 0; i < var.length; i++) {
                std[i] = (float) Math.sqrt(var[i] + bn.eps());
            }
            return std;
        }

        private static float[] scale(BatchNorm2d bn) {
            float[] gamma = bn.weight().getArray().toFloatArray();
            float[] std = std(bn);
            float[] t = new float[gamma.length];
            for (int i = 0; i < t.length; i++) {
                t[i] = gamma[i] / std[i];
            }
            return t;
        }

        private static BatchNorm2d batchNorm(Module m) {
            if (m instanceof BatchNorm2d bn && !bn.isFolded()) {
                return bn;
            }
            throw new UnsupportedOperationException("re-parameterisation fuses BatchNorm branches only, not "
                    + m.getClass().getSimpleName());
        }
    }

    /**
     * A RepVGG or MobileOne block after {@code reparameterize()}: attention, activation and the fused kxk conv with
     * bias ({@code reparam_conv}), in the order timm's in-place fusing leaves them.
     */
    static final class FusedConvBlock extends Module {
        private final Module attn;
        private final Activation.Kind act;
        private final Conv2d reparamConv;

        FusedConvBlock(int in, int out, int kernel, int stride, int groups, LayerFn layers) {
            // a fresh attention of the same kind; its values are copied from the old block's
            attn = register("attn", layers.attnOrIdentity(out));
            act = layers.act();
            register("act", new Activation(act));
            reparamConv = register("reparam_conv", Conv2d.symmetric(in, out, kernel, stride, 1, groups, true));
        }

        /** Fills the fused conv and the attention from {@code f}, and frees its copies. */
        void loadFused(Fused f) {
            Module.assign(reparamConv.weight().getArray(), f.kernel());
            Module.assign(reparamConv.bias().getArray(), f.bias());
            if (!f.attnState().isEmpty()) {
                attn.loadStateDict(f.attnState(), true);
            }
            f.attnState().values().forEach(NDArray::close);
        }

        Conv2d reparamConv() {
            return reparamConv;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return Activation.apply(act, attn.forward(reparamConv.forward(x)));
        }
    }

    /**
     * Replaces {@code block} by its fused form: {@code install} puts the new module where the block was (the parent's
     * register, which closes the old block), then the fused values are loaded. Returns the new module.
     */
    static Module reparameterize(Module block, Consumer<Module> install) {
        if (!(block instanceof Reparameterizable r)) {
            return block;
        }
        boolean training = block.isTraining();
        Fused values = r.fuse();
        FusedConvBlock fused = r.fusedStructure();
        install.accept(fused);
        fused.train(training);
        fused.loadFused(values);
        return fused;
    }

    /**
     * timm's {@code Stem}: a stack of 3x3 (or 7x7) convs {@code conv1..convN} (conv-norm-acts, the first ones bare
     * convs when fewer are activated), the first strided, then an optional pool; stride 4 without a pool strides the
     * last conv too. It remembers the output before its last stride, a feature level of its own.
     */
    static final class Stem extends NamedSequential {
        /** A feature level inside the stem, the module name relative to the stem. */
        record Level(int channels, int reduction, String module) {}

        private final List<Level> levels = new ArrayList<>();
        private final int lastFeatIdx;

        Stem(int in, List<Integer> chs, int kernel, int stride, ByobNet.StemPool pool, int numAct, LayerFn layers) {
            int numRep = chs.size();
            int[] strides = new int[numRep];
            Arrays.fill(strides, 1);
            strides[0] = 2;
            if (stride == 4 && pool == ByobNet.StemPool.NONE) {
                strides[numRep - 1] = 2;
            }
            int act = numAct < 0 ? numRep : numAct;
            int prev = in;
            int curStride = 1;
            int lastIdx = -1;
            String prevFeat = "";
            for (int i = 0; i < numRep; i++) {
                int ch = chs.get(i);
                int s = strides[i];
                boolean normAct = i >= numRep - act;
                if (i > 0 && s > 1) {
                    lastIdx = i - 1;
                    levels.add(new Level(prev, curStride, prevFeat));
                }
                String name = "conv" + (i + 1);
                add(name, normAct ? layers.convNormAct(prev, ch, kernel, s, 1, true) : conv(prev, ch, kernel, s, 1));
                prev = ch;
                curStride *= s;
                prevFeat = name;
            }
            if (pool != ByobNet.StemPool.NONE) {
                lastIdx = numRep - 1;
                levels.add(new Level(prev, curStride, prevFeat));
                add(
                        "pool",
                        switch (pool) {
                            case MAX2 -> Pool2d.max(2, 2, 0);
                            case AVG2 -> Pool2d.avg(2, 2, 0, false, true);
                            case MAX -> Pool2d.max(3, 2, 1);
                            case AVG -> Pool2d.avg(3, 2, 1, false, false);
                            case NONE -> throw new IllegalStateException();
                        });
                curStride *= 2;
                prevFeat = "pool";
            }
            levels.add(new Level(prev, curStride, prevFeat));
            if (curStride != stride) {
                throw new IllegalArgumentException("stem of stride " + curStride + ", expected " + stride);
            }
            this.lastFeatIdx = lastIdx;
        }

        /** Its levels (timm's {@code Stem.feature_info}): those before a stride, then the output. */
        List<Level> levels() {
            return levels;
        }

        /** The output and the output of the child before the last stride (null when there is none). */
        NDArray[] forwardWithIntermediate(NDArray x) {
            NDArray inter = null;
            int i = 0;
            for (Module m : children().values()) {
                x = m.forward(x);
                if (i++ == lastFeatIdx) {
                    inter = x;
                }
            }
            return new NDArray[] {x, inter};
        }
    }

    /** A model stage: blocks numbered from 0, whose re-parameterisable blocks it can fuse in place. */
    static final class Stage extends Sequential {
        /** Replaces every RepVGG / MobileOne block by its fused form. */
        void reparameterize() {
            for (int i = 0; i < size(); i++) {
                String name = Integer.toString(i);
                ByobBlocks.reparameterize(get(i), m -> register(name, m));
            }
        }
    }
}
