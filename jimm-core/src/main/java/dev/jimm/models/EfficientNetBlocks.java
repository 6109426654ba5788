package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BlurPool2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Conv2dSame;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.LayerScale2d;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.MixedConv2d;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Scalars;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The blocks of timm's {@code _efficientnet_blocks.py} that EfficientNet, MobileNet-V2/V3, MnasNet, LCNet and their
 * relatives are assembled from: {@link ConvBnAct}, {@link DepthwiseSeparableConv}, {@link InvertedResidual} (MBConv),
 * {@link EdgeResidual} (FusedMBConv) and their {@link SqueezeExcite}. Module names and order are timm's, so are the
 * state_dict keys.
 */
public final class EfficientNetBlocks {
    private EfficientNetBlocks() {}

    /**
     * Whatever a block needs from the model: padding, norm, SE layer, anti-aliasing, and the block's pruned widths
     * (null but in a pruned variant).
     */
    record BlockContext(
            boolean padSame,
            EfficientNetBuilder.NormSpec norm,
            EfficientNetBuilder.SeSpec se,
            String aa,
            Double layerScale,
            PrunedWidths widths) {
        /** The same context for a block of a pruned variant, with its widths. */
        BlockContext withWidths(PrunedWidths blockWidths) {
            return new BlockContext(padSame, norm, se, aa, layerScale, blockWidths);
        }

        boolean useAa(int stride) {
            return !aa.isEmpty() && stride > 1;
        }

        /** timm's create_aa: the downsampling that replaces a strided conv's stride. */
        Module antiAlias(int channels, int stride) {
            return switch (aa) {
                case "avg" -> Pool2d.avg(stride, stride, 0, false, true);
                case "blur" -> new BlurPool2d(channels, stride);
                case "blurpc" -> new ConstantPadBlurPool(channels, stride);
                default -> throw new IllegalArgumentException("unknown anti-aliasing layer '" + aa + "'");
            };
        }

        /** The se module of a block: its attention at a ratio above 0 (when the model has one), else an Identity. */
        Module seOrIdentity(int channels, double ratio, Activation.Kind blockAct) {
            if (widths != null && ratio > 0 && se != null) {
                // a pruned SE has the listed reduced width
                return new SqueezeExcite(channels, widths.out("se.conv_reduce"), blockAct, se);
            }
            return ratio > 0 && se != null ? attention(channels, ratio, blockAct, se) : new Identity();
        }

        /** The aa module of a block: the anti-aliasing when it strides, else timm's Identity. */
        Module aaOrIdentity(int channels, int stride) {
            return useAa(stride) ? antiAlias(channels, stride) : new Identity();
        }

        /** timm's create_conv2d: a mixed conv for several kernel sizes, else a plain or "same" conv. */
        Module conv(int in, int out, List<Integer> kernel, int stride, int groups) {
            if (kernel.size() == 1) {
                return Conv2dSame.create(in, out, kernel.get(0), stride, 1, groups, false, padSame);
            }
            if (groups != 1 && groups != in) {
                throw new IllegalArgumentException(
                        "a mixed conv " + kernel + " is depthwise or dense, not " + groups + " groups");
            }
            return new MixedConv2d(in, out, kernel, stride, groups == in && groups > 1, padSame);
        }

        /** A conv at the block's stride, or at stride 1 where the anti-aliasing after it does the downsampling. */
        Module aaStridedConv(int in, int out, List<Integer> kernel, int stride, int groups) {
            return conv(in, out, kernel, useAa(stride) ? 1 : stride, groups);
        }

        /** As {@link #conv(int, int, List, int, int)} with the padding chosen by the caller. */
        Module conv(int in, int out, List<Integer> kernel, int stride, int groups, boolean same) {
            return new BlockContext(same, norm, se, aa, layerScale, widths).conv(in, out, kernel, stride, groups);
        }

        Module norm(int channels, Activation.Kind act) {
            return norm.create(channels, act);
        }

        /** The layer_scale of uir and mqa blocks: timm's LayerScale2d where the model sets an init, else Identity. */
        Module layerScaleOrIdentity(int channels) {
            return layerScale == null ? new Identity() : new LayerScale2d(channels, layerScale.floatValue());
        }
    }

    /** timm's num_groups: 0 (or none) means a dense conv, 1 a depthwise one. */
    static int numGroups(int groupSize, int channels) {
        if (groupSize <= 0) {
            return 1;
        }
        if (channels % groupSize != 0) {
            throw new IllegalArgumentException(
                    "group size " + groupSize + " does not divide the " + channels + " channels");
        }
        return channels / groupSize;
    }

    /**
     * Squeeze-and-excitation of the EfficientNet family ({@code conv_reduce}, {@code conv_expand}): reduced width
     * {@code rdRound(inChs * rdRatio)}, the block's activation unless forced, and a sigmoid or hard-sigmoid gate.
     */
    public static final class SqueezeExcite extends Module {
        private final Conv2d convReduce;
        private final Activation.Kind act;
        private final Conv2d convExpand;
        private final Activation.Kind gate;

        SqueezeExcite(int inChs, double rdRatio, Activation.Kind blockAct, EfficientNetBuilder.SeSpec spec) {
            this(inChs, spec.reducedChannels(inChs * rdRatio), blockAct, spec);
        }

        /** With the reduced width given (a pruned variant's). */
        SqueezeExcite(int inChs, int rd, Activation.Kind blockAct, EfficientNetBuilder.SeSpec spec) {
            act = spec.forceAct() != null ? spec.forceAct() : blockAct;
            gate = spec.gate();
            convReduce = register("conv_reduce", new Conv2d(inChs, rd, 1, Conv2d.Options.defaults()));
            convExpand = register("conv_expand", new Conv2d(rd, inChs, 1, Conv2d.Options.defaults()));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray s = Layers.spatialMean(x, true);
            s = convExpand.forward(Activation.apply(act, convReduce.forward(s)));
            return x.mul(Activation.apply(gate, s));
        }

        @Override
        protected String extraRepr() {
            return "SqueezeExcite";
        }
    }

    /**
     * What the builder hands a block, as timm's builder fills each block's keyword arguments: the model's context, the
     * decoded block string, and the widths, activation, SE ratio, space-to-depth state and drop-path rate it worked out
     * for this block.
     *
     * @param ctx the model-wide settings
     * @param a the decoded block string
     * @param inChs input channels
     * @param outChs output channels (before any pruning)
     * @param act the block's activation
     * @param seRatio the SE ratio relative to the block's SE input, 0 for none
     * @param s2d timm's space-to-depth state of the block (1: it enters space-to-depth)
     * @param forceInChs channels that size er's expansion instead of its input (0: none)
     * @param dpr the block's drop-path rate
     */
    record BlockSpec(
            BlockContext ctx,
            EfficientNetBuilder.BlockArgs a,
            int inChs,
            int outChs,
            Activation.Kind act,
            double seRatio,
            int s2d,
            int forceInChs,
            double dpr) {}

    /**
     * Base of the blocks: the skip connection with drop path, the output width, and the tail the ds, ir and er blocks
     * share in timm: {@code aa}, {@code se}, the pointwise projection and its norm without activation.
     */
    abstract static class Block extends Module {
        final int outChs;
        boolean hasSkip;
        Module dropPath;
        private Module convS2d;
        private Module bnS2d;
        private Module aa;
        private Module se;
        private Module proj;
        private Module projNorm;

        Block(int outChs) {
            this.outChs = outChs;
        }

        NDArray residual(NDArray x, NDArray shortcut) {
            if (!hasSkip) {
                return x;
            }
            if (dropPath != null) {
                x = dropPath.forward(x);
            }
            return x.add(shortcut);
        }

        void registerDropPath(double rate) {
            // timm puts an Identity here at rate 0; neither has state
            dropPath = rate > 0 ? register("drop_path", new DropPath((float) rate)) : null;
        }

        /**
         * Registers the shared tail after the block's spatial conv: {@code aa} (given), {@code se} on {@code midChs},
         * the projection {@code projName} to {@code outChs} and its norm {@code normName} with {@code projAct}, then
         * drop path.
         */
        void registerTail(
                BlockSpec b,
                Module aaModule,
                int midChs,
                int outChs,
                String projName,
                String normName,
                boolean projAct) {
            aa = register("aa", aaModule);
            se = register("se", b.ctx().seOrIdentity(midChs, b.seRatio(), b.act()));
            proj = register(projName, b.ctx().conv(midChs, outChs, b.a().pwKernel(), 1, 1));
            projNorm = register(normName, b.ctx().norm(outChs, projAct ? b.act() : Activation.Kind.IDENTITY));
            registerDropPath(b.dpr());
        }

        /** The shared tail on the spatial conv's output {@code x}, then the skip from {@code shortcut}. */
        NDArray forwardTail(NDArray x, NDArray shortcut) {
            x = se.forward(aa.forward(x));
            return residual(projNorm.forward(proj.forward(x)), shortcut);
        }

        /** The aa module of a block whose spatial conv strides only without anti-aliasing. */
        static Module aaOrIdentity(BlockSpec b, boolean useAa, int channels) {
            return useAa ? b.ctx().antiAlias(channels, b.a().stride()) : new Identity();
        }

        /**
         * The depthwise conv's input after timm's space-to-depth entry ({@code s2d == 1}: registers {@code conv_s2d}
         * and {@code bn_s2d}, 4x the channels, the kernel halved), or as it is.
         */
        DwInput spaceToDepth(BlockSpec b) {
            List<Integer> dwKernel = b.a().kernel();
            int inChs = b.inChs();
            if (b.s2d() != 1) {
                return new DwInput(inChs, dwKernel, b.ctx().padSame());
            }
            int sdChs = inChs * 4;
            convS2d = register("conv_s2d", Conv2dSame.create(inChs, sdChs, 2, 2, 1, 1, false, true));
            bnS2d = register("bn_s2d", b.ctx().norm(sdChs, b.act()));
            if (dwKernel.size() != 1) {
                throw new IllegalArgumentException("space-to-depth blocks take one kernel size, not " + dwKernel);
            }
            int k = (dwKernel.get(0) + 1) / 2;
            return new DwInput(sdChs, List.of(k), k == 2 || b.ctx().padSame());
        }

        /** The space-to-depth conv and norm, where the block has them. */
        NDArray forwardSpaceToDepth(NDArray x) {
            return convS2d == null ? x : bnS2d.forward(convS2d.forward(x));
        }
    }

    /** The depthwise conv's input channels, kernel sizes and whether it pads "same". */
    record DwInput(int chs, List<Integer> kernel, boolean same) {}

    /** Conv, norm and activation with an optional skip ({@code cn} in arch strings). */
    static final class ConvBnAct extends Block {
        private final Module conv;
        private final Module bn1;
        private final Module aa;

        ConvBnAct(BlockSpec b) {
            super(b.outChs());
            int groups = numGroups(b.a().groupSizeOr(0), b.inChs());
            hasSkip = b.a().skip() && b.a().stride() == 1 && b.inChs() == outChs;
            conv = register("conv", b.ctx().aaStridedConv(b.inChs(), outChs, b.a().kernel(), b.a().stride(), groups));
            bn1 = register("bn1", b.ctx().norm(outChs, b.act()));
            aa = register("aa", b.ctx().aaOrIdentity(outChs, b.a().stride()));
            registerDropPath(b.dpr());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return residual(aa.forward(bn1.forward(conv.forward(x))), x);
        }
    }

    /** Depthwise conv, SE, pointwise conv ({@code ds}, and {@code dsa} with an activation after pw). */
    static final class DepthwiseSeparableConv extends Block {
        private final Module convDw;
        private final Module bn1;

        DepthwiseSeparableConv(BlockSpec b) {
            super(b.ctx().widths() == null ? b.outChs() : b.ctx().widths().out("conv_pw"));
            // with pruned widths the skip is still decided by the unpruned ones, as timm prunes a built model
            hasSkip = b.a().stride() == 1 && b.inChs() == b.outChs() && !b.a().noskip();
            DwInput dw = spaceToDepth(b);
            int inChs = b.ctx().widths() != null ? b.ctx().widths().out("conv_dw") : dw.chs();
            int groups = numGroups(b.a().groupSizeOr(1), inChs);
            boolean useAa = b.s2d() != 1 && b.ctx().useAa(b.a().stride());
            convDw = register(
                    "conv_dw", b.ctx().conv(inChs, inChs, dw.kernel(), useAa ? 1 : b.a().stride(), groups, dw.same()));
            bn1 = register("bn1", b.ctx().norm(inChs, b.act()));
            registerTail(b, aaOrIdentity(b, useAa, inChs), inChs, outChs, "conv_pw", "bn2", b.a().pwAct());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forwardTail(bn1.forward(convDw.forward(forwardSpaceToDepth(x))), x);
        }
    }

    /** Inverted residual (MBConv, {@code ir}): pw expansion, depthwise conv, SE, pw linear projection. */
    static final class InvertedResidual extends Block {
        private final Module convPw;
        private final Module bn1;
        private final Module convDw;
        private final Module bn2;

        InvertedResidual(BlockSpec b) {
            super(b.ctx().widths() == null ? b.outChs() : b.ctx().widths().out("conv_pwl"));
            // with pruned widths the skip is still decided by the unpruned ones, as timm prunes a built model
            hasSkip = b.inChs() == b.outChs() && b.a().stride() == 1 && !b.a().noskip();
            DwInput dw = spaceToDepth(b);
            int inChs = dw.chs();
            int midChs = Layers.makeDivisible(inChs * b.a().expRatio(), 8);
            if (b.ctx().widths() != null) {
                inChs = b.ctx().widths().in("conv_pw");
                midChs = b.ctx().widths().out("conv_pw");
            }
            int groups = numGroups(b.a().groupSizeOr(1), midChs);
            convPw = register("conv_pw", b.ctx().conv(inChs, midChs, b.a().expKernel(), 1, 1));
            bn1 = register("bn1", b.ctx().norm(midChs, b.act()));
            boolean useAa = b.s2d() != 1 && b.ctx().useAa(b.a().stride());
            convDw = register(
                    "conv_dw",
                    b.ctx().conv(midChs, midChs, dw.kernel(), useAa ? 1 : b.a().stride(), groups, dw.same()));
            bn2 = register("bn2", b.ctx().norm(midChs, b.act()));
            registerTail(b, aaOrIdentity(b, useAa, midChs), midChs, outChs, "conv_pwl", "bn3", false);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = bn1.forward(convPw.forward(forwardSpaceToDepth(x)));
            return forwardTail(bn2.forward(convDw.forward(y)), x);
        }
    }

    /** Edge residual (FusedMBConv, {@code er}): a full expansion conv, SE, pw linear projection. */
    static final class EdgeResidual extends Block {
        private final Module convExp;
        private final Module bn1;

        EdgeResidual(BlockSpec b) {
            super(b.outChs());
            int midChs = Layers.makeDivisible((b.forceInChs() > 0 ? b.forceInChs() : b.inChs()) * b.a().expRatio(), 8);
            // timm sizes the groups from the expansion conv's output channels
            int groups = numGroups(b.a().groupSizeOr(0), midChs);
            hasSkip = b.inChs() == outChs && b.a().stride() == 1 && !b.a().noskip();
            convExp = register(
                    "conv_exp", b.ctx().aaStridedConv(b.inChs(), midChs, b.a().kernel(), b.a().stride(), groups));
            bn1 = register("bn1", b.ctx().norm(midChs, b.act()));
            registerTail(b, b.ctx().aaOrIdentity(midChs, b.a().stride()), midChs, outChs, "conv_pwl", "bn2", false);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forwardTail(bn1.forward(convExp.forward(x)), x);
        }
    }

    /** timm's ConvNormAct: {@code conv} then {@code bn} (a norm with or without its activation). */
    static final class ConvNormAct extends Module {
        private final Module conv;
        private final Module bn;
        private final Module aa;

        ConvNormAct(
                BlockContext ctx,
                int in,
                int out,
                int kernel,
                int stride,
                int groups,
                Activation.Kind act,
                boolean allowAa) {
            boolean useAa = allowAa && ctx.useAa(stride);
            conv = register("conv", ctx.conv(in, out, List.of(kernel), useAa ? 1 : stride, groups));
            bn = register("bn", ctx.norm(out, act));
            // timm registers no aa at all when it is off
            aa = useAa ? register("aa", ctx.antiAlias(out, stride)) : null;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = bn.forward(conv.forward(x));
            return aa == null ? x : aa.forward(x);
        }
    }

    /**
     * MobileNet-V4's universal inverted residual ({@code uir}): optional depthwise conv before the expansion
     * ({@code dw_start}), pw expansion, optional middle depthwise conv, SE, pw projection, optional depthwise conv
     * after it ({@code dw_end}). Its kinds: ExtraDW, IR, ConvNeXt-like, FFN.
     */
    static final class UniversalInvertedResidual extends Block {
        private final Module dwStart;
        private final Module pwExp;
        private final Module dwMid;
        private final Module se;
        private final Module pwProj;
        private final Module dwEnd;
        private final Module layerScale;

        UniversalInvertedResidual(BlockSpec b) {
            super(b.outChs());
            BlockContext ctx = b.ctx();
            EfficientNetBuilder.BlockArgs a = b.a();
            int inChs = b.inChs();
            Activation.Kind act = b.act();
            int start = single(a.expKernel());
            int mid = single(a.kernel());
            int end = single(a.pwKernel());
            int stride = a.stride();
            hasSkip = inChs == outChs && stride == 1 && !a.noskip();
            if (stride > 1 && start == 0 && mid == 0 && end == 0) {
                throw new IllegalArgumentException("a strided uir block needs a depthwise kernel");
            }
            int gs = a.groupSizeOr(1);
            Activation.Kind none = Activation.Kind.IDENTITY;
            dwStart = register(
                    "dw_start",
                    start > 0
                            ? new ConvNormAct(
                                    ctx, inChs, inChs, start, mid > 0 ? 1 : stride, numGroups(gs, inChs), none, true)
                            : new Identity());
            int midChs = Layers.makeDivisible(inChs * a.expRatio(), 8);
            pwExp = register("pw_exp", new ConvNormAct(ctx, inChs, midChs, 1, 1, 1, act, false));
            dwMid = register(
                    "dw_mid",
                    mid > 0
                            ? new ConvNormAct(ctx, midChs, midChs, mid, stride, numGroups(gs, midChs), act, true)
                            : new Identity());
            se = register("se", ctx.seOrIdentity(midChs, b.seRatio(), act));
            pwProj = register("pw_proj", new ConvNormAct(ctx, midChs, outChs, 1, 1, 1, none, false));
            dwEnd = register(
                    "dw_end",
                    end > 0
                            ? new ConvNormAct(
                                    ctx,
                                    outChs,
                                    outChs,
                                    end,
                                    start == 0 && mid == 0 ? stride : 1,
                                    numGroups(gs, outChs),
                                    none,
                                    false)
                            : new Identity());
            layerScale = register("layer_scale", ctx.layerScaleOrIdentity(outChs));
            registerDropPath(b.dpr());
        }

        private static int single(List<Integer> k) {
            if (k.size() != 1) {
                throw new IllegalArgumentException("uir blocks take one kernel size per conv, not " + k);
            }
            return k.get(0);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = dwStart.forward(x);
            x = pwExp.forward(x);
            x = dwMid.forward(x);
            x = se.forward(x);
            x = pwProj.forward(x);
            x = dwEnd.forward(x);
            x = layerScale.forward(x);
            return residual(x, shortcut);
        }
    }

    /**
     * timm's BlurPool2d with {@code pad_mode='constant'} ("blurpc"): zero padding, then a depthwise 3x3 binomial blur
     * with stride. Its filter is a non-persistent buffer, as in timm.
     */
    static final class ConstantPadBlurPool extends Module {
        private final int channels;
        private final int stride;
        private final Buffer filt;

        ConstantPadBlurPool(int channels, int stride) {
            this.channels = channels;
            this.stride = stride;
            filt = buffer("filt", DataType.FLOAT32, false, channels, 1, 3, 3);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            float[] k = {1, 2, 1, 2, 4, 2, 1, 2, 1};
            float[] v = new float[channels * 9];
            for (int i = 0; i < v.length; i++) {
                v[i] = k[i % 9] / 16f;
            }
            Module.assign(filt.array(), v);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            int pad = Layers.padding(3, stride, 1);
            return x.getNDArrayInternal()
                    .convolution(
                            x,
                            filt.array(),
                            null,
                            new Shape(stride, stride),
                            new Shape(pad, pad),
                            new Shape(1, 1),
                            channels)
                    .singletonOrThrow();
        }

        @Override
        protected String extraRepr() {
            return "BlurPool2d(channels=" + channels + ", stride=" + stride + ", pad_mode=constant)";
        }
    }

    /**
     * timm's CondConv2d: {@code num_experts} kernels ({@code weight} [experts, out*in/groups*k*k]), mixed per sample by
     * routing weights and applied as one grouped conv over the batch.
     */
    static final class CondConv2d extends Module {
        private final int in;
        private final int out;
        private final int kernel;
        private final int stride;
        private final int groups;
        private final int experts;
        private final boolean dynamicPad;
        private final int pad;
        private final Parameter weight;

        CondConv2d(int in, int out, int kernel, int stride, int groups, int experts, boolean padSame) {
            if (in % groups != 0 || out % groups != 0) {
                throw new IllegalArgumentException(
                        "CondConv2d channels " + in + "->" + out + " are not divisible by groups " + groups);
            }
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.groups = groups;
            this.experts = experts;
            boolean staticPad = stride == 1 && (kernel - 1) % 2 == 0;
            dynamicPad = padSame && !staticPad;
            pad = dynamicPad ? 0 : padSame ? (kernel - 1) / 2 : Layers.padding(kernel, stride, 1);
            weight = parameter("weight", experts, (long) out * (in / groups) * kernel * kernel);
        }

        /** _init_weight_goog: each expert N(0, sqrt(2 / fan_out)), fan_out = k*k*out/groups. */
        void initExperts(SplittableRandom random) {
            long fanOut = (long) kernel * kernel * out / groups;
            Init.normal(weight.getArray(), Math.sqrt(2.0 / fanOut), random);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            // kaiming_uniform_(a=sqrt(5)) per expert: U(+-1/sqrt(fan_in))
            Init.uniform(weight.getArray(), 1.0 / Math.sqrt((double) (in / groups) * kernel * kernel), random);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            throw new UnsupportedOperationException("CondConv2d needs routing weights: use forward(x, routing)");
        }

        NDArray forward(NDArray x, NDArray routing) {
            long b = x.getShape().get(0);
            long h = x.getShape().get(2);
            long w = x.getShape().get(3);
            NDArray kernels = routing.matMul(weight.getArray()).reshape(b * out, in / groups, kernel, kernel);
            NDArray flat = x.reshape(1, b * in, h, w);
            if (dynamicPad) {
                long ph = samePad(h);
                long pw = samePad(w);
                flat = flat.pad(new Shape(pw / 2, pw - pw / 2, ph / 2, ph - ph / 2), 0);
            }
            NDArray y = flat.getNDArrayInternal()
                    .convolution(
                            flat, kernels, null, new Shape(stride, stride), new Shape(pad, pad), new Shape(1, 1), (int)
                                    (groups * b))
                    .singletonOrThrow();
            return y.reshape(b, out, y.getShape().get(2), y.getShape().get(3));
        }

        private long samePad(long size) {
            long o = (size + stride - 1) / stride;
            return Math.max((o - 1) * stride + kernel - size, 0);
        }

        @Override
        protected String extraRepr() {
            return "CondConv2d(" + in + ", " + out + ", kernel_size=" + kernel + ", stride=" + stride + ", experts="
                    + experts + ")";
        }
    }

    /** timm's CondConvResidual: an inverted residual whose three convs are CondConv2d, routed per sample. */
    static final class CondConvResidual extends Block {
        private final CondConv2d convPw;
        private final Module bn1;
        private final CondConv2d convDw;
        private final Module bn2;
        private final Module se;
        private final CondConv2d convPwl;
        private final Module bn3;
        private final Module routingFn;

        CondConvResidual(BlockSpec b) {
            super(b.outChs());
            EfficientNetBuilder.BlockArgs a = b.a();
            if (a.kernel().size() != 1
                    || a.expKernel().size() != 1
                    || a.pwKernel().size() != 1) {
                throw new IllegalArgumentException("CondConv blocks take one kernel size per conv");
            }
            BlockContext ctx = b.ctx();
            int inChs = b.inChs();
            Activation.Kind act = b.act();
            hasSkip = inChs == outChs && a.stride() == 1 && !a.noskip();
            int e = a.numExperts();
            int midChs = Layers.makeDivisible(inChs * a.expRatio(), 8);
            int groups = numGroups(a.groupSizeOr(1), midChs);
            convPw = register(
                    "conv_pw", new CondConv2d(inChs, midChs, a.expKernel().get(0), 1, 1, e, ctx.padSame()));
            bn1 = register("bn1", ctx.norm(midChs, act));
            convDw = register(
                    "conv_dw", new CondConv2d(midChs, midChs, a.kernel().get(0), a.stride(), groups, e, ctx.padSame()));
            bn2 = register("bn2", ctx.norm(midChs, act));
            register("aa", new Identity());
            se = register("se", ctx.seOrIdentity(midChs, b.seRatio(), act));
            convPwl = register(
                    "conv_pwl", new CondConv2d(midChs, outChs, a.pwKernel().get(0), 1, 1, e, ctx.padSame()));
            bn3 = register("bn3", ctx.norm(outChs, Activation.Kind.IDENTITY));
            registerDropPath(b.dpr());
            routingFn = register("routing_fn", new Linear(inChs, e));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            NDArray routing =
                    Activation.apply(Activation.Kind.SIGMOID, routingFn.forward(Layers.spatialMean(x, false)));
            x = bn1.forward(convPw.forward(x, routing));
            x = bn2.forward(convDw.forward(x, routing));
            x = se.forward(x);
            x = bn3.forward(convPwl.forward(x, routing));
            return residual(x, shortcut);
        }
    }

    /** The block's attention: squeeze-excite, or GlobalContext where the model asks for it. */
    static Module attention(int channels, double rdRatio, Activation.Kind blockAct, EfficientNetBuilder.SeSpec spec) {
        return spec.globalContext()
                ? new GlobalContext(channels, rdRatio, blockAct)
                : new SqueezeExcite(channels, rdRatio, blockAct, spec);
    }

    /**
     * timm's GlobalContext with its defaults (attention pooling, scale fusion only): a softmax over positions of a 1x1
     * conv pools the context, a conv MLP with LayerNorm2d maps it, and its sigmoid scales the input.
     */
    static final class GlobalContext extends Module {
        private final Conv2d convAttn;
        private final ConvMlp mlp;
        private final Activation.Kind act;

        GlobalContext(int channels, double rdRatio, Activation.Kind act) {
            int rd = Layers.makeDivisible(channels * rdRatio, 1, 0.0);
            this.act = act;
            convAttn = register("conv_attn", new Conv2d(channels, 1, 1, Conv2d.Options.defaults()));
            mlp = register("mlp_scale", new ConvMlp(channels, rd));
            register("gate", new Activation(Activation.Kind.SIGMOID));
        }

        /** timm's ConvMlp as GlobalContext uses it: fc1, LayerNorm2d (eps 1e-6), activation, fc2. */
        static final class ConvMlp extends Module {
            final Conv2d fc1;
            final Module norm;
            final Conv2d fc2;

            ConvMlp(int channels, int hidden) {
                fc1 = register("fc1", new Conv2d(channels, hidden, 1, Conv2d.Options.defaults()));
                norm = register("norm", LayerNorm.channelsFirst(hidden, 1e-6f));
                fc2 = register("fc2", new Conv2d(hidden, channels, 1, Conv2d.Options.defaults()));
            }

            @Override
            protected NDArray forwardImpl(NDArray x) {
                throw new UnsupportedOperationException("mlp_scale runs inside GlobalContext with its activation");
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long b = x.getShape().get(0);
            long c = x.getShape().get(1);
            long hw = x.getShape().get(2) * x.getShape().get(3);
            NDArray attn = convAttn.forward(x).reshape(b, hw, 1).softmax(1);
            NDArray context = x.reshape(b, c, hw).matMul(attn).reshape(b, c, 1, 1);
            NDArray s = mlp.fc2.forward(Activation.apply(act, mlp.norm.forward(mlp.fc1.forward(context))));
            return x.mul(Activation.apply(Activation.Kind.SIGMOID, s));
        }
    }

    /**
     * timm's MultiQueryAttention2d without query striding: per-head queries, one shared key and value (optionally
     * downsampled by a strided depthwise conv and norm), all as 1x1 convs.
     */
    static final class MultiQueryAttention2d extends Module {
        private final int numHeads;
        private final int keyDim;
        private final Module query;
        private final Module key;
        private final Module value;
        private final Module output;
        private final List<Conv2d> xavier = new ArrayList<>();

        MultiQueryAttention2d(BlockContext ctx, int dim, int dimOut, EfficientNetBuilder.AttnArgs a, int dwKernel) {
            numHeads = a.numHeads();
            keyDim = a.keyDim();
            query = register("query", new NamedSequential().add("proj", conv(ctx, dim, numHeads * keyDim, 1, 1, 1)));
            key = register("key", kv(ctx, dim, keyDim, a.kvStride(), dwKernel));
            value = register("value", kv(ctx, dim, keyDim, a.kvStride(), dwKernel));
            output = register(
                    "output", new NamedSequential().add("proj", conv(ctx, keyDim * numHeads, dimOut, 1, 1, 1)));
        }

        private Conv2d conv(BlockContext ctx, int in, int out, int k, int stride, int groups) {
            Conv2d c = Conv2dSame.create(in, out, k, stride, 1, groups, false, ctx.padSame());
            xavier.add(c);
            return c;
        }

        private NamedSequential kv(BlockContext ctx, int dim, int outDim, int stride, int dwKernel) {
            NamedSequential n = new NamedSequential();
            if (stride > 1) {
                n.add("down_conv", conv(ctx, dim, dim, dwKernel, stride, dim));
                // a plain norm (no activation), as the builder's norm_layer
                n.add("norm", ctx.norm(dim, Activation.Kind.IDENTITY));
            }
            return n.add("proj", conv(ctx, dim, outDim, 1, 1, 1));
        }

        /** timm's MultiQueryAttention2d.init_weights: xavier_uniform_ on every conv. */
        void xavierInit(SplittableRandom random) {
            for (Conv2d c : xavier) {
                long[] k = c.kernelSize();
                long rf = k[0] * k[1];
                double fanIn = (double) c.inChannels() / c.groups() * rf;
                double fanOut = (double) c.outChannels() * rf;
                Init.uniform(c.weight().getArray(), Math.sqrt(6.0 / (fanIn + fanOut)), random);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long b = x.getShape().get(0);
            long h = x.getShape().get(2);
            long w = x.getShape().get(3);
            NDArray q = query.forward(x).reshape(b, numHeads, keyDim, h * w).transpose(0, 1, 3, 2);
            NDArray k = key.forward(x);
            k = k.reshape(b, 1, keyDim, -1);
            NDArray v = value.forward(x);
            v = v.reshape(b, 1, keyDim, -1).transpose(0, 1, 3, 2);
            NDArray attn = Scalars.mul(q, Math.pow(keyDim, -0.5)).matMul(k).softmax(-1);
            NDArray o = attn.matMul(v); // [b, heads, hw, vd]
            o = o.transpose(0, 2, 1, 3)
                    .reshape(b, h, w, (long) numHeads * keyDim)
                    .transpose(0, 3, 1, 2);
            return output.forward(o);
        }
    }

    /** MobileNet-V4's attention block ({@code mqa}): norm, multi-query attention, layer scale, skip. */
    static final class MobileAttention extends Block {
        private final Module norm;
        private final MultiQueryAttention2d attn;
        private final Module layerScale;

        MobileAttention(BlockSpec b) {
            super(b.outChs());
            if (b.a().stride() != 1) {
                throw new IllegalArgumentException("mqa blocks with a query stride are not supported");
            }
            BlockContext ctx = b.ctx();
            hasSkip = b.inChs() == outChs && !b.a().noskip();
            norm = register("norm", ctx.norm(b.inChs(), Activation.Kind.IDENTITY));
            attn = register(
                    "attn",
                    new MultiQueryAttention2d(
                            ctx, b.inChs(), outChs, b.a().attn(), b.a().kernel().get(0)));
            layerScale = register("layer_scale", ctx.layerScaleOrIdentity(outChs));
            registerDropPath(b.dpr());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = layerScale.forward(attn.forward(norm.forward(x)));
            return residual(x, shortcut);
        }
    }
}
