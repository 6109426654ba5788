package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import java.util.function.IntFunction;

/**
 * Split attention (timm's {@code SplitAttn}, "Splat", of ResNeSt): a grouped conv producing {@code radix} splits of the
 * output channels, then an attention over the splits (a softmax across them, or a sigmoid gate for radix 1) from their
 * pooled sum, and the splits summed under it. State_dict keys: {@code conv}, {@code bn0}, {@code fc1}, {@code bn1},
 * {@code fc2}.
 */
public class SplitAttention extends Module {
    private final int radix;
    private final int groups;
    private final Module conv;
    private final Module bn0;
    private final Module fc1;
    private final Module bn1;
    private final Module fc2;

    /**
     * timm's SplitAttn with its default reduction (rd_ratio 0.25 of {@code in * radix}, divisor 8, at least 32).
     *
     * @param in input channels
     * @param out output channels
     * @param kernel square kernel of the conv
     * @param stride stride of the conv
     * @param padding padding of the conv
     * @param dilation dilation of the conv
     * @param groups groups (cardinality); the conv has {@code groups * radix}
     * @param radix splits per group
     * @param norm the norm after the conv and after {@code fc1}, of a given width; null for none
     */
    public SplitAttention(
            int in,
            int out,
            int kernel,
            int stride,
            int padding,
            int dilation,
            int groups,
            int radix,
            IntFunction<Module> norm) {
        this(in, out, kernel, stride, padding, dilation, groups, radix, 0.25, 8, norm);
    }

    /** As the short constructor with timm's {@code rd_ratio} and {@code rd_divisor}. */
    public SplitAttention(
            int in,
            int out,
            int kernel,
            int stride,
            int padding,
            int dilation,
            int groups,
            int radix,
            double rdRatio,
            int rdDivisor,
            IntFunction<Module> norm) {
        if (radix < 1 || groups < 1) {
            throw new IllegalArgumentException("radix " + radix + " and groups " + groups + " must be at least 1");
        }
        this.radix = radix;
        this.groups = groups;
        int mid = out * radix;
        int attn = makeDivisible(in * radix * rdRatio, rdDivisor, 32);
        conv = register(
                "conv",
                new Conv2d(
                        in,
                        mid,
                        kernel,
                        Conv2d.Options.defaults()
                                .stride(stride)
                                .padding(padding)
                                .dilation(dilation)
                                .groups(groups * radix)
                                .bias(false)));
        bn0 = register("bn0", norm == null ? new Identity() : norm.apply(mid));
        register("drop", new Identity());
        register("act0", Activation.relu());
        fc1 = register("fc1", new Conv2d(out, attn, 1, Conv2d.Options.defaults().groups(groups)));
        bn1 = register("bn1", norm == null ? new Identity() : norm.apply(attn));
        register("act1", Activation.relu());
        fc2 = register("fc2", new Conv2d(attn, mid, 1, Conv2d.Options.defaults().groups(groups)));
    }

    /** timm's make_divisible with a min_value. */
    private static int makeDivisible(double v, int divisor, int minValue) {
        int rounded = Math.max(minValue, (int) (v + divisor / 2.0) / divisor * divisor);
        return rounded < 0.9 * v ? rounded + divisor : rounded;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        x = Activation.apply(Activation.Kind.RELU, bn0.forward(conv.forward(x)));
        long b = x.getShape().get(0);
        long c = x.getShape().get(1) / radix;
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        NDArray splits = radix > 1 ? x.reshape(b, radix, c, h, w) : x;
        NDArray gap = radix > 1 ? splits.sum(new int[] {1}) : x;
        gap = Layers.spatialMean(gap, true);
        gap = Activation.apply(Activation.Kind.RELU, bn1.forward(fc1.forward(gap)));
        NDArray attn = fc2.forward(gap);
        // timm's RadixSoftmax: a softmax across the radix splits of each group, or a sigmoid gate for one split
        if (radix > 1) {
            attn = attn.reshape(b, groups, radix, -1)
                    .transpose(0, 2, 1, 3)
                    .softmax(1)
                    .reshape(b, radix, c, 1, 1);
            return splits.mul(attn).sum(new int[] {1});
        }
        attn = Activation.apply(Activation.Kind.SIGMOID, attn).reshape(b, -1, 1, 1);
        return x.mul(attn);
    }

    @Override
    protected String extraRepr() {
        return "SplitAttn(radix=" + radix + ", groups=" + groups + ")";
    }
}
