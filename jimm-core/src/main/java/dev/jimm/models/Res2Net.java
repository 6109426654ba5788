package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Res2Net and Res2NeXt (timm's {@code models/res2net.py}): timm's {@link ResNet} with the {@link Bottle2neck} block,
 * whose 3x3 conv is split into {@code scale} channel groups processed as a hierarchy (each group's conv also sees the
 * previous group's output), for multi-scale features inside one block.
 */
public final class Res2Net {
    private Res2Net() {}

    /**
     * timm's {@code Bottle2neck} as a {@link ResNet.Block} ({@code block_args=dict(scale=...)}).
     *
     * @param scale the channel groups (scales) of the 3x3 stage
     */
    public record Bottle2neck(int scale) implements ResNet.Block {
        public Bottle2neck {
            if (scale < 1) {
                throw new IllegalArgumentException("Bottle2neck scale " + scale + " must be at least 1");
            }
        }

        @Override
        public int expansion() {
            return 4;
        }

        @Override
        public Module create(ResNet.BlockArgs args) {
            return new Bottle2neckBlock(args, scale);
        }
    }

    /**
     * The Res2Net bottleneck: a 1x1 conv to {@code width * scale} channels, split into {@code scale} groups; each but
     * the last passes a 3x3 conv ({@code convs.i}, {@code bns.i}) after adding the previous group's result (the first
     * block of a stage convs each group alone and average-pools the last one to the stride), then concat, a 1x1 conv
     * and the residual sum. timm's block ignores drop path and anti-aliasing.
     */
    static final class Bottle2neckBlock extends Module implements ResNet.ZeroInitLast {
        private final Module conv1;
        private final Module bn1;
        private final SplitConvs split;
        private final Module conv3;
        private final Module bn3;
        private final Module se;
        private final Module relu;
        private final Module downsample;

        Bottle2neckBlock(ResNet.BlockArgs a, int scale) {
            int width = (int) Math.floor(a.planes() * (a.baseWidth() / 64.0)) * a.cardinality();
            int outplanes = a.planes() * 4;
            int fd = a.firstDilation();
            conv1 = register(
                    "conv1",
                    new Conv2d(
                            a.inplanes(),
                            width * scale,
                            1,
                            Conv2d.Options.defaults().bias(false)));
            bn1 = register("bn1", a.norm().apply(width * scale));
            split = new SplitConvs(
                    scale,
                    a.stride(),
                    a.stride() > 1 || a.downsample() != null,
                    () -> new Conv2d(
                            width,
                            width,
                            3,
                            Conv2d.Options.defaults()
                                    .stride(a.stride())
                                    .padding(fd)
                                    .dilation(fd)
                                    .groups(a.cardinality())
                                    .bias(false)),
                    () -> a.norm().apply(width),
                    this::register);
            conv3 = register(
                    "conv3",
                    new Conv2d(
                            width * scale,
                            outplanes,
                            1,
                            Conv2d.Options.defaults().bias(false)));
            bn3 = register("bn3", a.norm().apply(outplanes));
            Module attn = a.attention(outplanes, outplanes);
            se = attn == null ? null : register("se", attn);
            relu = register("relu", Activation.relu());
            downsample = a.downsample() == null ? null : register("downsample", a.downsample());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out = relu.forward(bn1.forward(conv1.forward(x)));
            out = bn3.forward(conv3.forward(split.forward(out, relu)));
            if (se != null) {
                out = se.forward(out);
            }
            NDArray shortcut = downsample != null ? downsample.forward(x) : x;
            return relu.forward(out.add(shortcut));
        }

        @Override
        public Module lastNorm() {
            return bn3;
        }
    }

    /**
     * The multi-scale 3x3 stage of a Bottle2neck, the same maths in timm's res2net.py and dla.py: the input split into
     * {@code scale} channel groups; each but the last passes its 3x3 conv, norm and ReLU ({@code convs.i},
     * {@code bns.i}) after the previous group's result is added, except in a block's first (strided or downsampling)
     * pass, where each group is convolved alone and the last one average-pooled to the stride; the groups concatenated.
     * Its modules are registered on the owning block, so their keys ({@code convs}, {@code bns}, {@code pool}) and
     * places among the block's own stay timm's.
     */
    static final class SplitConvs {
        private final int scale;
        private final boolean isFirst;
        private final Sequential convs = new Sequential();
        private final Sequential bns = new Sequential();
        private final Module pool;

        /**
         * @param conv a new 3x3 conv of one group
         * @param norm a new norm of one group
         * @param register the owning block's {@code register}
         */
        SplitConvs(
                int scale,
                int stride,
                boolean isFirst,
                Supplier<Module> conv,
                Supplier<Module> norm,
                BiConsumer<String, Module> register) {
            this.scale = scale;
            this.isFirst = isFirst;
            for (int i = 0; i < Math.max(1, scale - 1); i++) {
                convs.add(conv.get());
                bns.add(norm.get());
            }
            register.accept("convs", convs);
            register.accept("bns", bns);
            // timm keeps count_include_pad=True here, as the original weights were trained with it
            pool = isFirst ? Pool2d.avg(3, stride, 1, false, true) : null;
            if (pool != null) {
                register.accept("pool", pool);
            }
        }

        /** The stage on {@code x}, with the owning block's ReLU after each group's norm. */
        NDArray forward(NDArray x, Module relu) {
            NDList spx = x.split(scale, 1);
            NDList spo = new NDList();
            NDArray sp = null;
            for (int i = 0; i < convs.size(); i++) {
                sp = i == 0 || isFirst ? spx.get(i) : sp.add(spx.get(i));
                sp = relu.forward(bns.get(i).forward(convs.get(i).forward(sp)));
                spo.add(sp);
            }
            if (scale > 1) {
                NDArray last = spx.get(scale - 1);
                spo.add(pool != null ? pool.forward(last) : last);
            }
            return NDArrays.concat(spo, 1);
        }
    }

    /** A Res2Net of the given depths, base width and scale (timm's model_args). */
    static ResNet.Config config(List<Integer> layers, int baseWidth, int scale) {
        return ResNet.Config.builder()
                .block(new Bottle2neck(scale))
                .layers(layers.stream().mapToInt(Integer::intValue).toArray())
                .baseWidth(baseWidth)
                .build();
    }

    /** Registers timm's res2net names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "res2net";
        }

        @Override
        public List<ModelEntry> models() {
            List<Integer> r50 = List.of(3, 4, 6, 3);
            List<Integer> r101 = List.of(3, 4, 23, 3);
            return List.of(
                    entry("res2net50_26w_4s", config(r50, 26, 4)),
                    entry("res2net101_26w_4s", config(r101, 26, 4)),
                    entry("res2net50_26w_6s", config(r50, 26, 6)),
                    entry("res2net50_26w_8s", config(r50, 26, 8)),
                    entry("res2net50_48w_2s", config(r50, 48, 2)),
                    entry("res2net50_14w_8s", config(r50, 14, 8)),
                    entry("res2next50", config(r50, 4, 4).groups(8, 4)),
                    entry("res2net50d", config(r50, 26, 4).d()),
                    entry("res2net101d", config(r101, 26, 4).d()));
        }

        private static ModelEntry entry(String name, ResNet.Config c) {
            return ResNet.entry(name, "res2net", c, 224);
        }
    }
}
