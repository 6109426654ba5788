package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GroupNorm;
import dev.jimm.layers.Identity;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import dev.jimm.models.ByobBlocks.BlockArgs;
import dev.jimm.models.ByobBlocks.LayerFn;

/**
 * The two block types timm's {@code models/mobilevit.py} registers with byobnet ({@code mobilevit},
 * {@code mobilevit2}), which {@link ByobNet} stacks after inverted-residual bottlenecks: local convolutions, a
 * transformer over the pixels of patches unfolded from the map, and the fold back.
 */
final class MobileVitBlocks {
    private MobileVitBlocks() {}

    /** timm's {@code transformer_dim or make_divisible(bottle_ratio * in_chs)}. */
    private static int transformerDim(BlockArgs a) {
        int dim = a.options().transformerDim();
        return dim > 0 ? dim : Layers.makeDivisible(a.bottleRatio() * a.in(), 8);
    }

    /** A bias-free 1x1 convolution ({@code conv_1x1}). */
    private static Conv2d pointwise(int in, int out, boolean bias) {
        return new Conv2d(in, out, 1, Conv2d.Options.defaults().bias(bias));
    }

    /** Patches per side after rounding {@code size} up to a multiple of {@code patch}. */
    private static long patches(long size, int patch) {
        return (size + patch - 1) / patch;
    }

    /**
     * PyTorch's {@code F.interpolate(x, size=(outH, outW), mode='bilinear', align_corners=...)} on an NCHW map, as two
     * interpolation matrices (separable, hence exact): the rows along the height, the columns along the width.
     */
    static NDArray resizeBilinear(NDArray x, int outH, int outW, boolean alignCorners) {
        long[] s = x.getShape().getShape();
        NDArray mh = interpolationMatrix(x, (int) s[2], outH, alignCorners);
        NDArray mw = interpolationMatrix(x, (int) s[3], outW, alignCorners).transpose();
        NDArray out = mh.matMul(x.matMul(mw));
        return out;
    }

    /** The [out, in] matrix of one axis' linear interpolation, with PyTorch's source-index rules. */
    private static NDArray interpolationMatrix(NDArray like, int in, int out, boolean alignCorners) {
        float[] m = new float[out * in];
        for (int o = 0; o < out; o++) {
            double src;
            if (alignCorners) {
                src = out > 1 ? o * (double) (in - 1) / (out - 1) : 0;
            } else {
                src = Math.max((o + 0.5) * ((double) in / out) - 0.5, 0);
            }
            int i0 = Math.min((int) Math.floor(src), in - 1);
            int i1 = Math.min(i0 + 1, in - 1);
            double l1 = src - i0;
            m[o * in + i0] += (float) (1 - l1);
            m[o * in + i1] += (float) l1;
        }
        return like.getManager().create(m, new Shape(out, in)).toType(like.getDataType(), false);
    }

    /**
     * The pre-norm residual pair both MobileViT blocks stack: {@code x + attn(norm1(x))}, then {@code x +
     * mlp(norm2(x))}, each through drop path. {@link #vit} is timm's ViT {@code Block} (MobileViT), {@link #linear} its
     * {@code LinearTransformerBlock} (MobileViT-V2).
     */
    static final class TransformerBlock extends Module {
        private final String kind;
        private final Module norm1;
        private final Module attn;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module dropPath2;

        private TransformerBlock(
                String kind, Module norm1, Module attn, Module norm2, Module mlp, double dropPath, boolean lsSlots) {
            this.kind = kind;
            this.norm1 = register("norm1", norm1);
            this.attn = register("attn", attn);
            // the ViT Block's ls1/ls2 are identities here (no init values): they only keep timm's module names
            if (lsSlots) {
                register("ls1", new Identity());
            }
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            this.norm2 = register("norm2", norm2);
            this.mlp = register("mlp", mlp);
            if (lsSlots) {
                register("ls2", new Identity());
            }
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        /** timm's ViT {@code Block} as MobileViT uses it: LayerNorm, attention with a qkv bias, an MLP. */
        static TransformerBlock vit(int dim, int numHeads, double mlpRatio, Activation.Kind act, double dropPath) {
            return new TransformerBlock(
                    "TransformerBlock",
                    new LayerNorm(dim),
                    new Attention(dim, numHeads, true, 0f, 0f),
                    new LayerNorm(dim),
                    new Mlp(dim, (int) (dim * mlpRatio), dim, act, 0f),
                    dropPath,
                    true);
        }

        /** timm's LinearTransformerBlock: GroupNorm1, linear self-attention, GroupNorm1, a 1x1-conv MLP. */
        static TransformerBlock linear(int dim, double mlpRatio, Activation.Kind act, double dropPath) {
            return new TransformerBlock(
                    "LinearTransformerBlock",
                    new GroupNorm(1, dim),
                    new LinearSelfAttention(dim, 0f),
                    new GroupNorm(1, dim),
                    Mlp.conv(dim, (int) (dim * mlpRatio), dim, act, 0f),
                    dropPath,
                    false);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = x.add(dropPath1.forward(attn.forward(norm1.forward(x))));
            return x.add(dropPath2.forward(mlp.forward(norm2.forward(x))));
        }

        @Override
        protected String extraRepr() {
            return kind;
        }
    }

    /**
     * What both MobileViT blocks start with: {@code conv_kxk} (a conv-norm-act), {@code conv_1x1} to the transformer
     * width, the {@code transformer} blocks and their {@code norm}.
     */
    abstract static class PatchTransformer extends Module {
        final Module convKxk;
        final Module conv1x1;
        final Sequential transformer;
        final Module norm;
        final int patch;

        /** {@code linear}: MobileViT-V2's linear transformer blocks and GroupNorm1, else ViT blocks and LayerNorm. */
        PatchTransformer(BlockArgs a, int kxkStride, boolean linear) {
            LayerFn l = a.layers();
            int dim = transformerDim(a);
            int groups = ByobBlocks.numGroups(a.groupSize(), a.in());
            convKxk = register(
                    "conv_kxk", l.convNormAct(a.in(), a.in(), a.options().kernelSize(), kxkStride, groups, true));
            conv1x1 = register("conv_1x1", pointwise(a.in(), dim, false));
            transformer = register("transformer", new Sequential());
            for (int i = 0; i < a.options().transformerDepth(); i++) {
                transformer.add(
                        linear
                                ? TransformerBlock.linear(dim, 2.0, l.act(), a.dropPath())
                                : TransformerBlock.vit(dim, 4, 2.0, l.act(), a.dropPath()));
            }
            norm = register("norm", linear ? new GroupNorm(1, dim) : new LayerNorm(dim));
            patch = a.options().patchSize();
        }
    }

    /**
     * timm's {@code MobileVitBlock}: a kxk and a 1x1 conv, the map unfolded into [B * P, N, C] (P pixels per patch, N
     * patches; bilinearly resized, align_corners False, to a multiple of the patch size and back), ViT blocks and a
     * LayerNorm, the fold back, a 1x1 conv-norm-act projection, and a kxk conv-norm-act fusing it with the input.
     */
    static final class MobileVitBlock extends PatchTransformer {
        private final Module convProj;
        private final Module convFusion;

        MobileVitBlock(BlockArgs a) {
            super(a, a.stride(), false);
            LayerFn l = a.layers();
            int k = a.options().kernelSize();
            convProj = register("conv_proj", l.convNormAct(transformerDim(a), a.out(), 1, 1, 1, true));
            convFusion = register("conv_fusion", l.convNormAct(a.in() + a.out(), a.out(), k, 1, 1, true));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray shortcut = x;
            x = conv1x1.forward(convKxk.forward(x));
            long[] s = x.getShape().getShape();
            long b = s[0];
            long c = s[1];
            long h = s[2];
            long w = s[3];
            long nh = patches(h, patch);
            long nw = patches(w, patch);
            boolean resize = nh * patch != h || nw * patch != w;
            if (resize) {
                x = resizeBilinear(x, (int) (nh * patch), (int) (nw * patch), false);
            }
            // [B, C, nh, ph, nw, pw] -> [B, ph, pw, nh, nw, C] -> [B * P, N, C]
            x = x.reshape(b, c, nh, patch, nw, patch)
                    .transpose(0, 3, 5, 2, 4, 1)
                    .reshape(b * patch * patch, nh * nw, c);
            x = norm.forward(transformer.forward(x));
            // [B, ph, pw, nh, nw, C] -> [B, C, nh, ph, nw, pw] -> [B, C, H', W']
            x = x.reshape(b, patch, patch, nh, nw, c)
                    .transpose(0, 5, 3, 1, 4, 2)
                    .reshape(b, c, nh * patch, nw * patch);
            if (resize) {
                x = resizeBilinear(x, (int) h, (int) w, false);
            }
            x = convProj.forward(x);
            return convFusion.forward(NDArrays.concat(new NDList(shortcut, x), 1));
        }
    }

    /**
     * timm's {@code LinearSelfAttention} on [B, C, P, N]: a 1x1 conv to one query channel, keys and values; the query's
     * softmax over the patches weights the keys into one context vector per pixel position, which scales relu(values)
     * before the output 1x1 conv.
     */
    static final class LinearSelfAttention extends Module {
        private final int dim;
        private final Module qkvProj;
        private final Module outProj;
        private final float attnDrop;

        LinearSelfAttention(int dim, float attnDrop) {
            this.dim = dim;
            this.attnDrop = attnDrop;
            qkvProj = register("qkv_proj", pointwise(dim, 1 + 2 * dim, true));
            register("attn_drop", new Dropout(attnDrop));
            outProj = register("out_proj", pointwise(dim, dim, true));
            register("out_drop", new Dropout(0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDList qkv = qkvProj.forward(x).split(new long[] {1, 1 + dim}, 1);
            NDArray scores = Dropout.apply(qkv.get(0).softmax(-1), attnDrop, isTraining());
            NDArray context = qkv.get(1).mul(scores).sum(new int[] {-1}, true);
            NDArray out = Activation.apply(Activation.Kind.RELU, qkv.get(2)).mul(context);
            return outProj.forward(out);
        }
    }

    /**
     * timm's {@code MobileVitV2Block}: the map bilinearly resized (align_corners True) up to a multiple of the patch
     * size and left so, a kxk conv-norm-act (depthwise) and a 1x1 conv, unfolded into [B, C, P, N], linear transformer
     * blocks and a GroupNorm1, folded back, and a 1x1 conv-norm projection without activation.
     */
    static final class MobileVitV2Block extends PatchTransformer {
        private final ConvNormAct convProj;

        MobileVitV2Block(BlockArgs a) {
            super(a, 1, true);
            convProj = register("conv_proj", a.layers().convNormAct(transformerDim(a), a.out(), 1, 1, 1, false));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long[] s = x.getShape().getShape();
            long b = s[0];
            long nh = patches(s[2], patch);
            long nw = patches(s[3], patch);
            if (nh * patch != s[2] || nw * patch != s[3]) {
                x = resizeBilinear(x, (int) (nh * patch), (int) (nw * patch), true);
            }
            x = conv1x1.forward(convKxk.forward(x));
            long c = x.getShape().get(1);
            // [B, C, nh, ph, nw, pw] -> [B, C, ph, pw, nh, nw] -> [B, C, P, N]
            x = x.reshape(b, c, nh, patch, nw, patch)
                    .transpose(0, 1, 3, 5, 2, 4)
                    .reshape(b, c, (long) patch * patch, nh * nw);
            x = norm.forward(transformer.forward(x));
            // [B, C, ph, pw, nh, nw] -> [B, C, nh, ph, nw, pw] -> [B, C, H', W']
            x = x.reshape(b, c, patch, patch, nh, nw)
                    .transpose(0, 1, 4, 2, 5, 3)
                    .reshape(b, c, nh * patch, nw * patch);
            return convProj.forward(x);
        }
    }
}
