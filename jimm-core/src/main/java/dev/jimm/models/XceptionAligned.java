package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * The modified Aligned Xception of DeepLab (Xception-41, -65, -71) and timm's pre-activation variants (41p, 65p), as
 * timm's {@code models/xception_aligned.py} builds them: a two-conv {@code stem}, {@code blocks} of three separable 3x3
 * convolutions ({@code stack.conv1..3}, the last one strided where the block downsamples) with a 1x1 {@code shortcut},
 * and the head {@code head.global_pool}, dropout, {@code head.fc}.
 *
 * <p>Feature levels are timm's: for each downsampling block the activation before its strided conv
 * ({@code blocks.N.stack.act3}; {@code blocks.N.stack.conv2} in the pre-activation variants), then the last block's
 * output. They are read by hooks on those modules, as timm's {@code feature_cls='hook'}. timm's weights init is
 * PyTorch's default.
 */
public final class XceptionAligned extends ImageModel {

    /**
     * One block of the net, as an entry of timm's {@code block_cfg}.
     *
     * @param in input channels
     * @param out the output channels of the three separable convs
     * @param stride the stride of the third one (and of the shortcut)
     * @param noSkip no residual connection
     * @param startWithRelu a ReLU before each separable conv and none inside them (the blocks of the non-pre-activation
     *     nets but the last, which has its ReLUs inside the separable convs)
     */
    public record BlockCfg(int in, List<Integer> out, int stride, boolean noSkip, boolean startWithRelu) {
        public BlockCfg {
            out = List.copyOf(out);
            if (out.size() != 3) {
                throw new IllegalArgumentException("a block has 3 separable convs, out " + out + " has " + out.size());
            }
            if (stride < 1) {
                throw new IllegalArgumentException("block stride " + stride + " must be positive");
            }
        }

        /** A residual block whose three convs all output {@code out} channels. */
        public static BlockCfg of(int in, int out, int stride) {
            return new BlockCfg(in, List.of(out, out, out), stride, false, true);
        }

        /** A residual block with its own width per conv. */
        public static BlockCfg of(int in, int out1, int out2, int out3, int stride) {
            return new BlockCfg(in, List.of(out1, out2, out3), stride, false, true);
        }

        /** The same block without the residual connection. */
        public BlockCfg withoutSkip() {
            return new BlockCfg(in, out, stride, true, startWithRelu);
        }

        /** The same block with its ReLUs inside the separable convs instead of before them. */
        public BlockCfg reluInside() {
            return new BlockCfg(in, out, stride, noSkip, false);
        }

        int outChannels() {
            return out.get(2);
        }
    }

    /**
     * A variant, as timm's keyword arguments of {@code XceptionAligned}.
     *
     * @param blocks the blocks in order (timm's {@code block_cfg})
     * @param preact pre-activation blocks ({@code PreXceptionModule}), a plain conv ending the stem and a final ReLU
     * @param normEps the BatchNorm eps (0.001 for the TensorFlow-trained nets, 1e-5 for xception41p)
     */
    public record Config(List<BlockCfg> blocks, boolean preact, float normEps) {
        public Config {
            blocks = List.copyOf(blocks);
            if (blocks.isEmpty()) {
                throw new IllegalArgumentException("XceptionAligned needs at least one block");
            }
            for (int i = 0; i < blocks.size(); i++) {
                BlockCfg b = blocks.get(i);
                if (!preact && b.stride() > 1 && !b.startWithRelu()) {
                    throw new IllegalArgumentException("block " + i + " downsamples but has no stack.act3 for its"
                            + " feature level (startWithRelu false)");
                }
                if (i > 0 && b.in() != blocks.get(i - 1).outChannels()) {
                    throw new IllegalArgumentException("block " + i + " takes " + b.in() + " channels, block " + (i - 1)
                            + " gives " + blocks.get(i - 1).outChannels());
                }
            }
        }

        /** A builder: blocks required, not pre-activation, eps 0.001. */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private final List<BlockCfg> blocks = new ArrayList<>();
            private boolean preact;
            private float normEps = 1e-3f;

            private Builder() {}

            /** Appends a block. */
            public Builder block(BlockCfg b) {
                blocks.add(b);
                return this;
            }

            /** Appends {@code n} copies of a block (the middle flow). */
            public Builder repeat(int n, BlockCfg b) {
                for (int i = 0; i < n; i++) {
                    blocks.add(b);
                }
                return this;
            }

            /** Pre-activation blocks. */
            public Builder preact(boolean value) {
                preact = value;
                return this;
            }

            /** The BatchNorm eps (default 0.001). */
            public Builder normEps(float value) {
                normEps = value;
                return this;
            }

            public Config build() {
                return new Config(blocks, preact, normEps);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    private static Conv2d conv(int in, int out, int kernel, int stride, int groups) {
        return Conv2d.symmetric(in, out, kernel, stride, 1, groups, false);
    }

    static ConvNormAct convNormAct(int in, int out, int kernel, int stride, float eps, Activation.Kind act) {
        return ConvNormAct.batchNorm(in, out, kernel, stride, 1, 1, eps, act);
    }

    /**
     * Depthwise 3x3 ({@code conv_dw}, {@code bn_dw}, {@code act_dw}) then pointwise ({@code conv_pw}, {@code bn_pw},
     * {@code act_pw}); the activations are identities unless {@code act} is given.
     */
    static final class SeparableConv2d extends Module {
        private final Module convDw;
        private final Module bnDw;
        private final Module actDw;
        private final Module convPw;
        private final Module bnPw;
        private final Module actPw;

        SeparableConv2d(int in, int out, int stride, float eps, Activation.Kind act) {
            convDw = register("conv_dw", conv(in, in, 3, stride, in));
            bnDw = register("bn_dw", new BatchNorm2d(in, eps, 0.1f));
            actDw = register("act_dw", act == null ? new Identity() : new Activation(act));
            convPw = register("conv_pw", conv(in, out, 1, 1, 1));
            bnPw = register("bn_pw", new BatchNorm2d(out, eps, 0.1f));
            actPw = register("act_pw", act == null ? new Identity() : new Activation(act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = actDw.forward(bnDw.forward(convDw.forward(x)));
            return actPw.forward(bnPw.forward(convPw.forward(x)));
        }
    }

    /**
     * A pre-activation separable conv: {@code norm} (BatchNorm and ReLU, or none), {@code conv_dw}, {@code conv_pw}.
     */
    static final class PreSeparableConv2d extends Module {
        private final Module norm;
        private final Module convDw;
        private final Module convPw;

        PreSeparableConv2d(int in, int out, int stride, float eps, boolean firstAct) {
            norm = register("norm", firstAct ? new BatchNormAct2d(in, eps, Activation.Kind.RELU) : new Identity());
            convDw = register("conv_dw", conv(in, in, 3, stride, in));
            convPw = register("conv_pw", conv(in, out, 1, 1, 1));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return convPw.forward(convDw.forward(norm.forward(x)));
        }
    }

    /**
     * timm's {@code XceptionModule}: the {@code stack} (ReLU and separable conv, three times) plus the input through
     * the {@code shortcut} (ConvNormAct without act) where the shape changes.
     */
    static final class XceptionModule extends Module {
        private final Module shortcut;
        private final Module stack;
        private final Module dropPath;
        private final boolean noSkip;

        XceptionModule(BlockCfg b, float eps, double dpr) {
            noSkip = b.noSkip();
            int out = b.outChannels();
            shortcut = !noSkip && (out != b.in() || b.stride() != 1)
                    ? register("shortcut", convNormAct(b.in(), out, 1, b.stride(), eps, Activation.Kind.IDENTITY))
                    : null;
            NamedSequential s = new NamedSequential();
            int in = b.in();
            for (int i = 0; i < 3; i++) {
                if (b.startWithRelu()) {
                    s.add("act" + (i + 1), new Activation(Activation.Kind.RELU));
                }
                int stride = i == 2 ? b.stride() : 1;
                Activation.Kind inner = b.startWithRelu() ? null : Activation.Kind.RELU;
                s.add("conv" + (i + 1), new SeparableConv2d(in, b.out().get(i), stride, eps, inner));
                in = b.out().get(i);
            }
            stack = register("stack", s);
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = stack.forward(x);
            if (noSkip) {
                return y;
            }
            return dropPath.forward(y).add(shortcut == null ? x : shortcut.forward(x));
        }
    }

    /**
     * timm's {@code PreXceptionModule}: {@code norm} (BatchNorm and ReLU) first, then the {@code stack} of
     * pre-activation separable convs, plus the normed input through the 1x1 {@code shortcut} conv (or unchanged).
     */
    static final class PreXceptionModule extends Module {
        private final Module shortcut;
        private final Module norm;
        private final Module stack;
        private final Module dropPath;
        private final boolean noSkip;

        PreXceptionModule(BlockCfg b, float eps, double dpr) {
            noSkip = b.noSkip();
            int out = b.outChannels();
            shortcut = register(
                    "shortcut",
                    !noSkip && (out != b.in() || b.stride() != 1)
                            ? conv(b.in(), out, 1, b.stride(), 1)
                            : new Identity());
            norm = register("norm", new BatchNormAct2d(b.in(), eps, Activation.Kind.RELU));
            NamedSequential s = new NamedSequential();
            int in = b.in();
            for (int i = 0; i < 3; i++) {
                int stride = i == 2 ? b.stride() : 1;
                s.add("conv" + (i + 1), new PreSeparableConv2d(in, b.out().get(i), stride, eps, i > 0));
                in = b.out().get(i);
            }
            stack = register("stack", s);
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = norm.forward(x);
            NDArray y = stack.forward(x);
            return noSkip ? y : dropPath.forward(y).add(shortcut.forward(x));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module act;

    public XceptionAligned(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        float eps = cfg.normEps();
        Sequential stem = register(
                "stem",
                new Sequential(
                        convNormAct(inChans, 32, 3, 2, eps, Activation.Kind.RELU),
                        cfg.preact() ? conv(32, 64, 3, 1, 1) : convNormAct(32, 64, 3, 1, eps, Activation.Kind.RELU)));
        addTrunkStep(stem);
        Sequential blocks = register("blocks", new Sequential());
        int n = cfg.blocks().size();
        int stride = 2;
        for (int i = 0; i < n; i++) {
            BlockCfg b = cfg.blocks().get(i);
            // timm's stochastic depth: linear in the block index over all blocks
            double dpr = n > 1 ? args.dropPathRate() * i / (n - 1) : 0;
            blocks.add(
                    addTrunkStep(cfg.preact() ? new PreXceptionModule(b, eps, dpr) : new XceptionModule(b, eps, dpr)));
            if (b.stride() > 1) {
                String tap = cfg.preact() ? ".stack.conv2" : ".stack.act3";
                addFeatureInfo(b.out().get(1), stride, "blocks." + i + tap);
                stride *= b.stride();
            }
        }
        int numFeatures = cfg.blocks().get(n - 1).outChannels();
        addFeatureInfo(numFeatures, stride, "blocks." + (n - 1));
        act = register("act", cfg.preact() ? new Activation(Activation.Kind.RELU) : new Identity());
        registerNestedClassifierHead("head", numFeatures);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return act.forward(forwardTrunk(x));
    }

    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        return HookedLevels.forward(this, x, indices);
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code xception41}, {@code xception65}, {@code xception71} and the pre-activation 41p, 65p. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "xception_aligned";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "xception41", net(entryFlow(), 8, false, 1e-3f));
            add(m, "xception65", net(entryFlow(), 16, false, 1e-3f));
            add(m, "xception71", net(entryFlow71(), 16, false, 1e-3f));
            // xception41p keeps nn.BatchNorm2d's eps; xception65p has the TF eps like the others
            add(m, "xception41p", net(entryFlow(), 8, true, 1e-5f));
            add(m, "xception65p", net(entryFlow(), 16, true, 1e-3f));
            return m;
        }

        private static List<BlockCfg> entryFlow() {
            return List.of(BlockCfg.of(64, 128, 2), BlockCfg.of(128, 256, 2), BlockCfg.of(256, 728, 2));
        }

        private static List<BlockCfg> entryFlow71() {
            return List.of(
                    BlockCfg.of(64, 128, 2),
                    BlockCfg.of(128, 256, 1),
                    BlockCfg.of(256, 256, 2),
                    BlockCfg.of(256, 728, 1),
                    BlockCfg.of(728, 728, 2));
        }

        /** Entry flow, {@code middle} 728-channel blocks, and the exit flow. */
        private static Config net(List<BlockCfg> entry, int middle, boolean preact, float eps) {
            Config.Builder b = Config.builder().preact(preact).normEps(eps);
            entry.forEach(b::block);
            b.repeat(middle, BlockCfg.of(728, 728, 1));
            b.block(BlockCfg.of(728, 728, 1024, 1024, 2));
            BlockCfg last = BlockCfg.of(1024, 1536, 1536, 2048, 1).withoutSkip();
            // the pre-activation nets have no ReLUs inside their separable convs to move
            b.block(preact ? last : last.reluInside());
            return b.build();
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "xception_aligned", args -> new XceptionAligned(c, args), 299, "stem.0.conv", "head.fc"));
        }
    }
}
