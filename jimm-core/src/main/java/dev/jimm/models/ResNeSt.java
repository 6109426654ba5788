package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.SplitAttention;
import java.util.List;

/**
 * ResNeSt (timm's {@code models/resnest.py}): timm's {@link ResNet} with the {@link ResNestBottleneck} block, whose 3x3
 * conv is a {@link SplitAttention} and whose stride is an average pool beside it ({@code avd}).
 */
public final class ResNeSt {
    private ResNeSt() {}

    /**
     * timm's {@code ResNestBottleneck} as a {@link ResNet.Block} ({@code block_args=dict(radix, avd, avd_first)}).
     *
     * @param radix splits of the split-attention conv (0: a plain conv, norm and activation instead)
     * @param avd a strided block's stride goes to a 3x3 average pool instead of its conv
     * @param avdFirst that pool comes before the conv, not after
     */
    public record ResNestBottleneck(int radix, boolean avd, boolean avdFirst) implements ResNet.Block {
        public ResNestBottleneck {
            if (radix < 0) {
                throw new IllegalArgumentException("ResNestBottleneck radix " + radix + " is negative");
            }
        }

        @Override
        public int expansion() {
            return 4;
        }

        @Override
        public Module create(ResNet.BlockArgs args) {
            return new ResNestBottleneckBlock(args, this);
        }
    }

    /** The ResNeSt bottleneck: 1x1 conv, split-attention 3x3 conv (with the avd pool), 1x1 conv, residual sum. */
    static final class ResNestBottleneckBlock extends Module implements ResNet.ZeroInitLast {
        private final Module conv1;
        private final Module bn1;
        private final Module act1;
        private final Module avdFirst;
        private final Module conv2;
        private final Module bn2;
        private final Module act2;
        private final Module avdLast;
        private final Module conv3;
        private final Module bn3;
        private final Module act3;
        private final Module downsample;
        private final Module dropPath;

        ResNestBottleneckBlock(ResNet.BlockArgs a, ResNestBottleneck kind) {
            String block = "ResNestBottleneck";
            a.require(a.reduceFirst() == 1, "block_reduce_first " + a.reduceFirst(), block);
            a.require(a.config().attention() == ResNet.Attention.NONE, "attention layers", block);
            a.require(a.config().antiAlias() == ResNet.AntiAlias.NONE, "anti-aliasing", block);
            int groupWidth = (int) (a.planes() * (a.baseWidth() / 64.0)) * a.cardinality();
            int fd = a.firstDilation();
            // timm passes no is_first, so only strided blocks move their stride to the pool
            int stride = a.stride();
            int avdStride = 0;
            if (kind.avd() && stride > 1) {
                avdStride = stride;
                stride = 1;
            }
            conv1 = register(
                    "conv1",
                    new Conv2d(
                            a.inplanes(),
                            groupWidth,
                            1,
                            Conv2d.Options.defaults().bias(false)));
            bn1 = register("bn1", a.norm().apply(groupWidth));
            act1 = register("act1", Activation.relu());
            avdFirst = avdStride > 0 && kind.avdFirst() ? register("avd_first", avdPool(avdStride)) : null;
            if (kind.radix() >= 1) {
                conv2 = register(
                        "conv2",
                        new SplitAttention(
                                groupWidth, groupWidth, 3, stride, fd, fd, a.cardinality(), kind.radix(), a.norm()));
                bn2 = register("bn2", new Identity());
                register("drop_block", new Identity());
                act2 = register("act2", new Identity());
            } else {
                conv2 = register(
                        "conv2",
                        new Conv2d(
                                groupWidth,
                                groupWidth,
                                3,
                                Conv2d.Options.defaults()
                                        .stride(stride)
                                        .padding(fd)
                                        .dilation(fd)
                                        .groups(a.cardinality())
                                        .bias(false)));
                bn2 = register("bn2", a.norm().apply(groupWidth));
                register("drop_block", new Identity());
                act2 = register("act2", Activation.relu());
            }
            avdLast = avdStride > 0 && !kind.avdFirst() ? register("avd_last", avdPool(avdStride)) : null;
            int outplanes = a.planes() * 4;
            conv3 = register(
                    "conv3",
                    new Conv2d(
                            groupWidth, outplanes, 1, Conv2d.Options.defaults().bias(false)));
            bn3 = register("bn3", a.norm().apply(outplanes));
            act3 = register("act3", Activation.relu());
            downsample = a.downsample() == null ? null : register("downsample", a.downsample());
            Module dp = a.dropPath();
            dropPath = dp == null ? null : register("drop_path", dp);
        }

        private static Module avdPool(int stride) {
            return Pool2d.avg(3, stride, 1, false, true);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out = act1.forward(bn1.forward(conv1.forward(x)));
            if (avdFirst != null) {
                out = avdFirst.forward(out);
            }
            out = act2.forward(bn2.forward(conv2.forward(out)));
            if (avdLast != null) {
                out = avdLast.forward(out);
            }
            out = bn3.forward(conv3.forward(out));
            // as timm's block: the drop path acts on the block's input, before the shortcut's projection
            if (dropPath != null) {
                x = dropPath.forward(x);
            }
            NDArray shortcut = downsample != null ? downsample.forward(x) : x;
            return act3.forward(out.add(shortcut));
        }

        @Override
        public Module lastNorm() {
            return bn3;
        }
    }

    /** A ResNeSt: deep stem of {@code stemWidth}, average-pool shortcuts, the given depths, widths and block args. */
    static ResNet.Config config(
            List<Integer> layers, int stemWidth, int baseWidth, int cardinality, ResNestBottleneck block) {
        return ResNet.Config.builder()
                .block(block)
                .layers(layers.stream().mapToInt(Integer::intValue).toArray())
                .stemType("deep")
                .stemWidth(stemWidth)
                .avgDown(true)
                .baseWidth(baseWidth)
                .cardinality(cardinality)
                .build();
    }

    /** Registers timm's resnest names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "resnest";
        }

        @Override
        public List<ModelEntry> models() {
            ResNestBottleneck radix2 = new ResNestBottleneck(2, true, false);
            List<Integer> r50 = List.of(3, 4, 6, 3);
            return List.of(
                    entry("resnest14d", config(List.of(1, 1, 1, 1), 32, 64, 1, radix2), 224),
                    entry("resnest26d", config(List.of(2, 2, 2, 2), 32, 64, 1, radix2), 224),
                    entry("resnest50d", config(r50, 32, 64, 1, radix2), 224),
                    entry("resnest101e", config(List.of(3, 4, 23, 3), 64, 64, 1, radix2), 256),
                    entry("resnest200e", config(List.of(3, 24, 36, 3), 64, 64, 1, radix2), 320),
                    entry("resnest269e", config(List.of(3, 30, 48, 8), 64, 64, 1, radix2), 416),
                    entry("resnest50d_4s2x40d", config(r50, 32, 40, 2, new ResNestBottleneck(4, true, true)), 224),
                    entry("resnest50d_1s4x24d", config(r50, 32, 24, 4, new ResNestBottleneck(1, true, true)), 224));
        }

        private static ModelEntry entry(String name, ResNet.Config c, int size) {
            return ResNet.entry(name, "resnest", c, size);
        }
    }
}
