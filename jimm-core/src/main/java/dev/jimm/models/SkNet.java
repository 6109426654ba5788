package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.Module;
import dev.jimm.layers.SelectiveKernel;
import java.util.List;

/**
 * Selective Kernel networks (timm's {@code models/sknet.py}): timm's {@link ResNet} with blocks whose 3x3 conv is a
 * {@link SelectiveKernel} (a 3x3 and a dilated 3x3 path mixed by attention), basic ({@link SelectiveKernelBasic}) and
 * bottleneck ({@link SelectiveKernelBottleneck}). timm builds them with {@code zero_init_last=False}.
 */
public final class SkNet {
    private SkNet() {}

    /**
     * timm's {@code sk_kwargs}: the attention's reduction and whether each path takes its own input channels.
     *
     * @param rdRatio width of the attention's bottleneck relative to the block width
     * @param rdDivisor the bottleneck width is a multiple of this
     * @param splitInput each path takes its own share of the input channels
     */
    public record SkOptions(double rdRatio, int rdDivisor, boolean splitInput) {
        /** timm's SelectiveKernel defaults (rd_ratio 1/16, rd_divisor 8) with the input split or not. */
        public static SkOptions defaults(boolean splitInput) {
            return new SkOptions(1.0 / 16, 8, splitInput);
        }

        SelectiveKernel create(int in, int out, int stride, int dilation, int groups) {
            return new SelectiveKernel(in, out, stride, dilation, groups, rdRatio, rdDivisor, splitInput);
        }
    }

    /** timm's {@code SelectiveKernelBasic} as a {@link ResNet.Block} ({@code block_args=dict(sk_kwargs=...)}). */
    public record SelectiveKernelBasic(SkOptions sk) implements ResNet.Block {
        @Override
        public int expansion() {
            return 1;
        }

        @Override
        public Module create(ResNet.BlockArgs args) {
            return new BasicBlock(args, sk);
        }
    }

    /** timm's {@code SelectiveKernelBottleneck} as a {@link ResNet.Block}. */
    public record SelectiveKernelBottleneck(SkOptions sk) implements ResNet.Block {
        @Override
        public int expansion() {
            return 4;
        }

        @Override
        public Module create(ResNet.BlockArgs args) {
            return new BottleneckBlock(args, sk);
        }
    }

    private static void requireNoAntiAlias(ResNet.BlockArgs a, String block) {
        // timm's SelectiveKernel would put the aa layer in each path; no registered model has it
        a.require(a.config().antiAlias() == ResNet.AntiAlias.NONE, "anti-aliasing", block);
    }

    /** The basic block: a selective kernel conv (strided), a 3x3 conv-norm, the residual sum. */
    static final class BasicBlock extends ResNet.ResBlock {
        private final Module conv1;
        private final ConvNormAct conv2;

        BasicBlock(ResNet.BlockArgs a, SkOptions sk) {
            String block = "SelectiveKernelBasic";
            a.require(a.cardinality() == 1 && a.baseWidth() == 64, "cardinality or base width", block);
            requireNoAntiAlias(a, block);
            int firstPlanes = a.planes() / a.reduceFirst();
            int outplanes = a.planes();
            conv1 = register("conv1", sk.create(a.inplanes(), firstPlanes, a.stride(), a.firstDilation(), 1));
            conv2 = register(
                    "conv2",
                    ConvNormAct.batchNorm(firstPlanes, outplanes, 3, 1, a.dilation(), 1, Activation.Kind.IDENTITY));
            registerTail(a, outplanes, outplanes, "act");
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return residual(conv2.forward(conv1.forward(x)), x);
        }

        @Override
        public Module lastNorm() {
            return conv2.norm();
        }
    }

    /** The bottleneck block: 1x1 conv-norm-act, selective kernel conv (strided, grouped), 1x1 conv-norm, sum. */
    static final class BottleneckBlock extends ResNet.ResBlock {
        private final Module conv1;
        private final Module conv2;
        private final ConvNormAct conv3;

        BottleneckBlock(ResNet.BlockArgs a, SkOptions sk) {
            requireNoAntiAlias(a, "SelectiveKernelBottleneck");
            int width = (int) Math.floor(a.planes() * (a.baseWidth() / 64.0)) * a.cardinality();
            int firstPlanes = width / a.reduceFirst();
            int outplanes = a.planes() * 4;
            conv1 = register(
                    "conv1", ConvNormAct.batchNorm(a.inplanes(), firstPlanes, 1, 1, 1, 1, Activation.Kind.RELU));
            conv2 = register("conv2", sk.create(firstPlanes, width, a.stride(), a.firstDilation(), a.cardinality()));
            conv3 = register("conv3", ConvNormAct.batchNorm(width, outplanes, 1, 1, 1, 1, Activation.Kind.IDENTITY));
            registerTail(a, outplanes, outplanes, "act");
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return residual(conv3.forward(conv2.forward(conv1.forward(x))), x);
        }

        @Override
        public Module lastNorm() {
            return conv3.norm();
        }
    }

    /** An SKNet of one block kind, the given depths, without timm's zero_init_last. */
    static ResNet.Config config(ResNet.Block block, int... layers) {
        return ResNet.Config.builder()
                .block(block)
                .layers(layers)
                .zeroInitLast(false)
                .build();
    }

    /** Registers timm's sknet names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "sknet";
        }

        @Override
        public List<ModelEntry> models() {
            ResNet.Block basic = new SelectiveKernelBasic(new SkOptions(1.0 / 8, 16, true));
            ResNet.Block bottle = new SelectiveKernelBottleneck(SkOptions.defaults(true));
            return List.of(
                    entry("skresnet18", config(basic, 2, 2, 2, 2)),
                    entry("skresnet34", config(basic, 3, 4, 6, 3)),
                    entry("skresnet50", config(bottle, 3, 4, 6, 3)),
                    entry("skresnet50d", config(bottle, 3, 4, 6, 3).d()),
                    entry(
                            "skresnext50_32x4d",
                            config(new SelectiveKernelBottleneck(new SkOptions(1.0 / 16, 32, false)), 3, 4, 6, 3)
                                    .groups(32, 4)));
        }

        private static ModelEntry entry(String name, ResNet.Config c) {
            return ResNet.entry(name, "sknet", c, 224);
        }
    }
}
