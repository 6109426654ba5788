package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * timm's {@code BatNonLocalAttn} (BAT, "Non-Local Neural Networks With Grouped Bilinear Attentional Transforms"), the
 * {@code 'bat'} attention of {@code get_attn}: a 1x1 conv-bn-relu reduction ({@code conv1}), a bilinear attentional
 * transform ({@code ba}), a 1x1 conv-bn-relu expansion ({@code conv2}), channel dropout (train mode only) and a
 * residual sum with the input.
 *
 * <p>The transform pools the reduced map to {@code blockSize} rows and columns, turns them into per-group row and
 * column mixing matrices {@code P} and {@code Q} (sigmoid, normalized), widens them to the map's size as {@code kron(P,
 * I)} and {@code kron(Q, I)}, and returns {@code conv2(P x Q)}. The map's height and width must be multiples of
 * {@code blockSize}.
 */
public class BatNonLocalAttn extends Module {
    private final ConvNormAct conv1;
    private final BilinearAttnTransform ba;
    private final ConvNormAct conv2;
    private final float dropRate;

    /** timm's defaults but the block size: 2 groups, reduction 1/4 (multiple of 8), channel dropout 0.2. */
    public BatNonLocalAttn(int channels, int blockSize) {
        this(channels, blockSize, 2, 0.25, 8, 0.2f);
    }

    /**
     * @param channels input (and output) channels
     * @param blockSize rows and columns of the pooled attention matrices
     * @param groups groups sharing one pair of matrices
     * @param rdRatio reduced width relative to {@code channels}
     * @param rdDivisor the reduced width is a multiple of this (timm's make_divisible)
     * @param dropRate channel dropout before the residual sum (train mode only)
     */
    public BatNonLocalAttn(int channels, int blockSize, int groups, double rdRatio, int rdDivisor, float dropRate) {
        int rd = Layers.makeDivisible(channels * rdRatio, rdDivisor);
        if (rd % groups != 0) {
            throw new IllegalArgumentException(
                    "BatNonLocalAttn: reduced width " + rd + " is not divisible by groups " + groups);
        }
        conv1 = register("conv1", convBnRelu(channels, rd));
        ba = register("ba", new BilinearAttnTransform(rd, blockSize, groups));
        conv2 = register("conv2", convBnRelu(rd, channels));
        register("dropout", new Identity());
        this.dropRate = dropRate;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        NDArray y = conv2.forward(ba.forward(conv1.forward(x)));
        return dropChannels(y).add(x);
    }

    // PyTorch's Dropout2d: whole channels of a sample zeroed with probability p, the rest scaled by 1 / (1 - p)
    private NDArray dropChannels(NDArray y) {
        if (!isTraining() || dropRate == 0f) {
            return y;
        }
        Shape s = y.getShape();
        float keep = 1f - dropRate;
        NDArray mask = y.getManager()
                .randomUniform(0f, 1f, new Shape(s.get(0), s.get(1), 1, 1))
                .lt(keep)
                .toType(y.getDataType(), false);
        return Scalars.div(y.mul(mask), keep);
    }

    @Override
    protected String extraRepr() {
        return "BatNonLocalAttn(block_size=" + ba.blockSize + ", groups=" + ba.groups + ")";
    }

    /**
     * {@code kron(m, I_t)} over the last two axes of [B, C, n, n]: each entry of {@code m} becomes a {@code t x t}
     * diagonal block (timm's {@code resize_mat}).
     */
    static NDArray kronIdentity(NDArray m, int t) {
        if (t <= 1) {
            return m;
        }
        Shape s = m.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long n = s.get(2);
        NDArray eye = m.getManager().eye(t).toType(m.getDataType(), false).reshape(1, 1, 1, t, 1, t);
        return m.reshape(b, c, n, 1, n, 1).mul(eye).reshape(b, c, n * t, n * t);
    }

    /** timm's ConvNormAct with BatchNorm and ReLU for a 1x1 conv: {@code conv}, {@code bn}. */
    private static ConvNormAct convBnRelu(int in, int out) {
        return ConvNormAct.batchNorm(in, out, 1, 1, 1, 1, Activation.Kind.RELU);
    }

    /** timm's {@code BilinearAttnTransform}: {@code conv1}, {@code conv_p}, {@code conv_q}, {@code conv2}. */
    private static final class BilinearAttnTransform extends Module {
        private final int blockSize;
        private final int groups;
        private final ConvNormAct conv1;
        private final Conv2d convP;
        private final Conv2d convQ;
        private final ConvNormAct conv2;

        BilinearAttnTransform(int channels, int blockSize, int groups) {
            this.blockSize = blockSize;
            this.groups = groups;
            int mixes = blockSize * blockSize * groups;
            conv1 = register("conv1", convBnRelu(channels, groups));
            convP = register("conv_p", new Conv2d(groups, mixes, blockSize, 1, 0, 0, Conv2d.Options.defaults()));
            convQ = register("conv_q", new Conv2d(groups, mixes, 1, blockSize, 0, 0, Conv2d.Options.defaults()));
            conv2 = register("conv2", convBnRelu(channels, channels));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long c = s.get(1);
            long h = s.get(2);
            long w = s.get(3);
            if (h % blockSize != 0 || w % blockSize != 0) {
                throw new IllegalArgumentException("BatNonLocalAttn needs a map whose height and width are multiples"
                        + " of its block size " + blockSize + ", got " + s
                        + " (timm asserts the same; use a larger input, e.g. 256 for bat_resnext26ts)");
            }
            int bs = blockSize;
            NDArray out = conv1.forward(x);
            // adaptive max pools to (bs, 1) and (1, bs): the bins are whole when the sides are multiples of bs
            NDArray rows =
                    out.reshape(b, groups, bs, h / bs, w).max(new int[] {4}).max(new int[] {3});
            NDArray cols =
                    out.reshape(b, groups, h, bs, w / bs).max(new int[] {4}).max(new int[] {2});
            NDArray p = Activation.apply(
                    Activation.Kind.SIGMOID,
                    convP.forward(rows.reshape(b, groups, bs, 1)).reshape(b, groups, bs, bs));
            NDArray q = Activation.apply(
                    Activation.Kind.SIGMOID,
                    convQ.forward(cols.reshape(b, groups, 1, bs)).reshape(b, groups, bs, bs));
            p = p.div(p.sum(new int[] {3}, true));
            q = q.div(q.sum(new int[] {2}, true));
            Shape perChannel = new Shape(b, groups, c / groups, bs, bs);
            p = p.reshape(b, groups, 1, bs, bs).broadcast(perChannel).reshape(b, c, bs, bs);
            q = q.reshape(b, groups, 1, bs, bs).broadcast(perChannel).reshape(b, c, bs, bs);
            p = kronIdentity(p, (int) (h / bs));
            q = kronIdentity(q, (int) (w / bs));
            return conv2.forward(p.matMul(x).matMul(q));
        }
    }
}
