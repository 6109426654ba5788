package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BatchNormAct2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Conv2dSame;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.LayerNormAct2d;
import dev.jimm.layers.LayerScale;
import dev.jimm.layers.LayerScale2d;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.RelPosBias;
import dev.jimm.layers.RelPosBiasTf;
import dev.jimm.layers.RelPosMlp;
import dev.jimm.layers.RelativePositionBias;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import dev.jimm.models.MaxxVit.ConvCfg;
import dev.jimm.models.MaxxVit.TransformerCfg;
import java.util.function.IntFunction;

/**
 * The blocks of timm's {@code maxxvit.py}: MBConv and ConvNeXt conv blocks, the NCHW transformer block of CoAtNet, the
 * channels-last block / grid partition attention of MaxViT, and the MaxViT block that chains them.
 */
final class MaxxVitBlocks {
    private MaxxVitBlocks() {}

    // ---- layer factories (timm's get_norm_layer / get_norm_act_layer / create_conv2d) ------------------------

    /** A norm by timm's name: batchnorm2d, layernorm2d (NCHW) or layernorm (channels-last). */
    static Module norm(String type, int channels, double eps) {
        return switch (type) {
            case "batchnorm2d" -> new BatchNorm2d(channels, (float) eps, 0.1f);
            case "layernorm2d" -> LayerNorm.channelsFirst(channels, (float) eps);
            case "layernorm" -> new LayerNorm(channels, (float) eps);
            default ->
                throw new IllegalArgumentException(
                        "norm layer '" + type + "' is not one maxxvit uses (batchnorm2d, layernorm2d, layernorm)");
        };
    }

    /** A norm followed by an activation, under the norm's keys. */
    static Module normAct(String type, int channels, double eps, Activation.Kind act) {
        return switch (type) {
            case "batchnorm2d" -> new BatchNormAct2d(channels, (float) eps, act);
            case "layernorm2d" -> new LayerNormAct2d(channels, (float) eps, act);
            default ->
                throw new IllegalArgumentException(
                        "norm-act layer '" + type + "' is not one maxxvit uses (batchnorm2d, layernorm2d)");
        };
    }

    /** timm's create_conv2d (no bias unless asked): symmetric padding, or TF "same" padding. */
    static Conv2d conv(int in, int out, int kernel, int stride, int groups, boolean bias, String padding) {
        return Conv2dSame.create(in, out, kernel, stride, 1, groups, bias, "same".equals(padding));
    }

    /** The relative position bias of a cfg for one window shape, or null for none. */
    static IntFunction<RelativePositionBias> relPos(TransformerCfg cfg, int h, int w) {
        return switch (cfg.relPosType()) {
            case "mlp" -> heads -> new RelPosMlp(h, w, heads, cfg.relPosDim());
            case "bias" -> heads -> new RelPosBias(h, w, heads);
            case "bias_tf" -> heads -> new RelPosBiasTf(h, w, heads);
            default -> null;
        };
    }

    private static Module layerScale2d(int dim, double initValues) {
        return initValues > 0 ? new LayerScale2d(dim, (float) initValues) : new Identity();
    }

    private static Module layerScale(int dim, double initValues) {
        return initValues > 0 ? new LayerScale(dim, (float) initValues) : new Identity();
    }

    // ---- pooling downsample ------------------------------------------------------------------------------

    /**
     * timm's Downsample2d: a stride-2 pool ({@code max}, {@code max2}, {@code avg}, {@code avg2}), then a 1x1 expand.
     */
    static final class Downsample2d extends Module {
        private final Module pool;
        private final Module expand;

        Downsample2d(int dim, int dimOut, String poolType, boolean bias) {
            // TF "same" padding pads nothing here: the maps reaching a pool always have even sides
            pool = register(
                    "pool",
                    switch (poolType) {
                        case "max" -> Pool2d.max(3, 2, 1);
                        case "max2" -> Pool2d.max(2, 2, 0);
                        case "avg" -> Pool2d.avg(3, 2, 1, false, false);
                        case "avg2" -> Pool2d.avg(2, 2, 0, false, true);
                        default ->
                            throw new IllegalArgumentException(
                                    "pool type '" + poolType + "' is not max, max2, avg or avg2");
                    });
            expand = register(
                    "expand",
                    dim != dimOut
                            ? new Conv2d(
                                    dim, dimOut, 1, Conv2d.Options.defaults().bias(bias))
                            : new Identity());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return expand.forward(pool.forward(x));
        }
    }

    // ---- attention -------------------------------------------------------------------------------------

    /**
     * What timm's Attention2d and AttentionCl share: heads of {@code dimHead} channels over {@code dimAttn}, the qkv
     * projection, an optional relative position bias, attention dropout and the output projection, registered in timm's
     * order. The subclasses give the projections (1x1 convs or linears) and the token layout.
     */
    abstract static class PartitionedHeadsAttention extends Module {
        final int numHeads;
        final int dimHead;
        final boolean headFirst;
        final double scale;
        final Module qkv;
        private final RelativePositionBias relPos;
        private final float attnDrop;
        final Module proj;

        PartitionedHeadsAttention(
                int dimAttn,
                int dimHead,
                boolean headFirst,
                IntFunction<RelativePositionBias> relPosCls,
                double attnDrop,
                Module qkv,
                IntFunction<Module> proj) {
            this.numHeads = dimAttn / dimHead;
            this.dimHead = dimHead;
            this.headFirst = headFirst;
            this.scale = Math.pow(dimHead, -0.5);
            this.attnDrop = (float) attnDrop;
            this.qkv = register("qkv", qkv);
            relPos = relPosCls != null ? register("rel_pos", relPosCls.apply(numHeads)) : null;
            register("attn_drop", new Dropout(this.attnDrop));
            this.proj = register("proj", proj.apply(dimAttn));
            register("proj_drop", new Dropout(0f));
        }

        /** q, k, v of the qkv projection's output, in the subclass's layout. */
        abstract NDList splitQkv(NDArray qkvOut, long batch);

        /** The attention logits plus the position bias, softmaxed, with attention dropout. */
        final NDArray softmax(NDArray attn) {
            if (relPos != null) {
                attn = attn.add(relPos.getBias());
            }
            return Dropout.apply(attn.softmax(-1), attnDrop, isTraining());
        }
    }

    /** Multi-head attention on NCHW maps with 1x1-conv projections (timm's Attention2d). */
    static final class Attention2d extends PartitionedHeadsAttention {
        Attention2d(
                int dim,
                int dimOut,
                int dimHead,
                boolean bias,
                boolean expandFirst,
                boolean headFirst,
                IntFunction<RelativePositionBias> relPosCls,
                double attnDrop) {
            super(
                    expandFirst ? dimOut : dim,
                    dimHead,
                    headFirst,
                    relPosCls,
                    attnDrop,
                    new Conv2d(
                            dim,
                            (expandFirst ? dimOut : dim) * 3,
                            1,
                            Conv2d.Options.defaults().bias(bias)),
                    dimAttn -> new Conv2d(
                            dimAttn, dimOut, 1, Conv2d.Options.defaults().bias(bias)));
        }

        @Override
        NDList splitQkv(NDArray t, long b) {
            if (headFirst) {
                return t.reshape(b, numHeads, 3L * dimHead, -1).split(3, 2);
            }
            t = t.reshape(b, 3, numHeads, dimHead, -1);
            return new NDList(t.get(":, 0"), t.get(":, 1"), t.get(":, 2"));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            // q, k, v: [B, heads, dimHead, N]
            NDList qkvs = splitQkv(qkv.forward(x), b);
            NDArray attn = softmax(
                    Scalars.mul(qkvs.get(0), scale).transpose(0, 1, 3, 2).matMul(qkvs.get(1)));
            NDArray out = qkvs.get(2).matMul(attn.transpose(0, 1, 3, 2)).reshape(b, -1, s.get(2), s.get(3));
            return proj.forward(out);
        }
    }

    /** Multi-head attention on channels-last tokens [B, ..., C] with linear projections (timm's AttentionCl). */
    static final class AttentionCl extends PartitionedHeadsAttention {
        AttentionCl(
                int dim,
                int dimOut,
                int dimHead,
                boolean bias,
                boolean headFirst,
                IntFunction<RelativePositionBias> relPosCls,
                double attnDrop) {
            super(
                    attnWidth(dim, dimOut, dimHead),
                    dimHead,
                    headFirst,
                    relPosCls,
                    attnDrop,
                    new Linear(dim, attnWidth(dim, dimOut, dimHead) * 3, bias),
                    dimAttn -> new Linear(dimAttn, dimOut, bias));
        }

        /** timm's expand_first (default on) widens only when the output is wider than the input. */
        private static int attnWidth(int dim, int dimOut, int dimHead) {
            int dimAttn = Math.max(dimOut, dim);
            if (dimAttn % dimHead != 0) {
                throw new IllegalArgumentException(
                        "attention width " + dimAttn + " is not divisible by the head width " + dimHead);
            }
            return dimAttn;
        }

        @Override
        NDList splitQkv(NDArray t, long b) {
            if (headFirst) {
                return t.reshape(b, -1, numHeads, 3L * dimHead)
                        .transpose(0, 2, 1, 3)
                        .split(3, 3);
            }
            t = t.reshape(b, -1, 3, numHeads, dimHead).transpose(0, 3, 2, 1, 4);
            return new NDList(t.get(":, :, 0"), t.get(":, :, 1"), t.get(":, :, 2"));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            // q, k, v: [B, heads, N, dimHead]
            NDList qkvs = splitQkv(qkv.forward(x), s.get(0));
            NDArray attn =
                    softmax(Scalars.mul(qkvs.get(0), scale).matMul(qkvs.get(1).transpose(0, 1, 3, 2)));
            long[] restore = s.getShape().clone();
            restore[restore.length - 1] = -1;
            NDArray out = attn.matMul(qkvs.get(2)).transpose(0, 2, 1, 3).reshape(new Shape(restore));
            return proj.forward(out);
        }
    }

    // ---- partitions of channels-last maps -------------------------------------------------------------

    /**
     * [B, H, W, C] to [B * n, ph, pw, C]: non-overlapping ph x pw windows (timm's window_partition), or with
     * {@code grid} a ph x pw grid strided over the whole map (grid_partition).
     */
    static NDArray partition(NDArray x, int ph, int pw, boolean grid) {
        Shape s = x.getShape();
        if (s.get(1) % ph != 0 || s.get(2) % pw != 0) {
            throw new IllegalArgumentException("a " + s.get(1) + "x" + s.get(2) + " map is not divisible by the "
                    + (grid ? "grid" : "window") + " " + ph + "x" + pw + " (MaxViT is built for one input size)");
        }
        long nh = s.get(1) / ph;
        long nw = s.get(2) / pw;
        NDArray t = grid
                ? x.reshape(s.get(0), ph, nh, pw, nw, s.get(3)).transpose(0, 2, 4, 1, 3, 5)
                : x.reshape(s.get(0), nh, ph, nw, pw, s.get(3)).transpose(0, 1, 3, 2, 4, 5);
        return t.reshape(-1, ph, pw, s.get(3));
    }

    /** The inverse of {@link #partition}: back to [B, h, w, C] (timm's window_reverse / grid_reverse). */
    static NDArray unpartition(NDArray windows, int ph, int pw, long h, long w, boolean grid) {
        long c = windows.getShape().get(3);
        NDArray t = windows.reshape(-1, h / ph, w / pw, ph, pw, c);
        t = grid ? t.transpose(0, 3, 1, 4, 2, 5) : t.transpose(0, 1, 3, 2, 4, 5);
        return t.reshape(-1, h, w, c);
    }

    /** A cfg's channels-last attention for ps x ps partitions. */
    static AttentionCl attentionCl(int dim, int dimOut, TransformerCfg cfg, int ps) {
        return new AttentionCl(
                dim, dimOut, cfg.dimHead(), cfg.attnBias(), cfg.headFirst(), relPos(cfg, ps, ps), cfg.attnDrop());
    }

    /** The attention of one partition: partition, attend, reverse. */
    static NDArray partitionAttention(Module attn, NDArray x, int ps, boolean grid) {
        long h = x.getShape().get(1);
        long w = x.getShape().get(2);
        return unpartition(attn.forward(partition(x, ps, ps, grid)), ps, ps, h, w, grid);
    }

    /**
     * The pre-norm residual layout of timm's maxxvit transformer blocks: x + drop(ls1(attn(norm1(x)))), then x +
     * drop(ls2(mlp(norm2(x)))). Subclasses register what comes before {@code norm1} and the attention between the two
     * halves, and give the attention's forward.
     */
    abstract static class ResidualAttnMlp extends Module {
        private Module norm1;
        private Module ls1;
        private Module dropPath1;
        private Module norm2;
        private Module mlp;
        private Module ls2;
        private Module dropPath2;

        /** Registers {@code norm1}; the subclass registers its attention right after. */
        final void registerNorm1(Module norm) {
            norm1 = register("norm1", norm);
        }

        /** Registers ls1, drop_path1, norm2, mlp, ls2 and drop_path2, after the attention. */
        final void registerRest(
                Module layerScale1, double dropPath, Module norm, Module mlpModule, Module layerScale2) {
            ls1 = register("ls1", layerScale1);
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            norm2 = register("norm2", norm);
            mlp = register("mlp", mlpModule);
            ls2 = register("ls2", layerScale2);
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        /**
         * The channels-last form of {@link #registerRest}: LayerScale and a Linear MLP (timm's PartitionAttentionCl).
         */
        final void registerRestCl(int dim, TransformerCfg cfg, double dropPath) {
            registerRest(
                    layerScale(dim, cfg.initValues()),
                    dropPath,
                    norm(cfg.normLayerCl(), dim, cfg.normEps()),
                    new Mlp(dim, (int) (dim * cfg.expandRatio()), dim, Activation.Kind.parse(cfg.actLayer()), (float)
                            cfg.projDrop()),
                    layerScale(dim, cfg.initValues()));
        }

        /** The block's attention on norm1's output. */
        abstract NDArray attention(NDArray y);

        /** The shortcut of the attention residual (the input itself unless a subclass pools it). */
        NDArray attnShortcut(NDArray x) {
            return x;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = attnShortcut(x).add(dropPath1.forward(ls1.forward(attention(norm1.forward(x)))));
            return x.add(dropPath2.forward(ls2.forward(mlp.forward(norm2.forward(x)))));
        }
    }

    /** Block (window) or grid partition, attention and an MLP on channels-last maps (timm's PartitionAttentionCl). */
    static final class PartitionAttentionCl extends ResidualAttnMlp {
        private final boolean grid;
        private final int ps;
        private final Module attn;

        PartitionAttentionCl(int dim, boolean block, TransformerCfg cfg, double dropPath) {
            this.grid = !block;
            this.ps = block ? cfg.windowSize() : cfg.gridSize();
            registerNorm1(norm(cfg.normLayerCl(), dim, cfg.normEps()));
            attn = register("attn", attentionCl(dim, dim, cfg, ps));
            registerRestCl(dim, cfg, dropPath);
        }

        @Override
        NDArray attention(NDArray y) {
            return partitionAttention(attn, y, ps, grid);
        }
    }

    /**
     * Window and grid attention side by side on half the channels each, one MLP (timm's ParallelPartitionAttention).
     */
    static final class ParallelPartitionAttention extends ResidualAttnMlp {
        private final int ps;
        private final Module attnBlock;
        private final Module attnGrid;

        ParallelPartitionAttention(int dim, TransformerCfg cfg, double dropPath) {
            if (dim % 2 != 0 || cfg.windowSize() != cfg.gridSize()) {
                throw new IllegalArgumentException("parallel partition attention needs an even width (" + dim
                        + ") and window == grid (" + cfg.windowSize() + ", " + cfg.gridSize() + ")");
            }
            this.ps = cfg.windowSize();
            registerNorm1(norm(cfg.normLayerCl(), dim, cfg.normEps()));
            attnBlock = register("attn_block", attentionCl(dim, dim / 2, cfg, ps));
            attnGrid = register("attn_grid", attentionCl(dim, dim / 2, cfg, ps));
            registerRestCl(dim, cfg, dropPath);
        }

        @Override
        NDArray attention(NDArray y) {
            NDArray xw = partitionAttention(attnBlock, y, ps, false);
            NDArray xg = partitionAttention(attnGrid, y, ps, true);
            return xw.concat(xg, -1);
        }
    }

    /** CoAtNet's transformer block on NCHW maps, pooling on a stride-2 entry (timm's TransformerBlock2d). */
    static final class TransformerBlock2d extends ResidualAttnMlp {
        private final Module shortcut;
        private final Module attn;

        TransformerBlock2d(
                int dim,
                int dimOut,
                int stride,
                IntFunction<RelativePositionBias> relPosCls,
                TransformerCfg cfg,
                double dropPath) {
            if (stride == 2) {
                shortcut = register("shortcut", new Downsample2d(dim, dimOut, cfg.poolType(), cfg.shortcutBias()));
                registerNorm1(new NamedSequential()
                        .add("norm", norm(cfg.normLayer(), dim, cfg.normEps()))
                        .add("down", new Downsample2d(dim, dim, cfg.poolType(), true)));
            } else {
                if (dim != dimOut) {
                    throw new IllegalArgumentException(
                            "a stride-1 transformer block keeps its width, not " + dim + " -> " + dimOut);
                }
                shortcut = register("shortcut", new Identity());
                registerNorm1(norm(cfg.normLayer(), dim, cfg.normEps()));
            }
            attn = register(
                    "attn",
                    new Attention2d(
                            dim,
                            dimOut,
                            cfg.dimHead(),
                            cfg.attnBias(),
                            cfg.expandFirst(),
                            true,
                            relPosCls,
                            cfg.attnDrop()));
            registerRest(
                    layerScale2d(dimOut, cfg.initValues()),
                    dropPath,
                    norm(cfg.normLayer(), dimOut, cfg.normEps()),
                    Mlp.conv(
                            dimOut,
                            (int) (dimOut * cfg.expandRatio()),
                            dimOut,
                            Activation.Kind.parse(cfg.actLayer()),
                            (float) cfg.projDrop()),
                    layerScale2d(dimOut, cfg.initValues()));
        }

        @Override
        NDArray attnShortcut(NDArray x) {
            return shortcut.forward(x);
        }

        @Override
        NDArray attention(NDArray y) {
            return attn.forward(y);
        }
    }

    // ---- conv blocks -------------------------------------------------------------------------------------

    /** Pre-norm inverted bottleneck: 1x1 expand, kxk depthwise with SE, 1x1 project (timm's MbConvBlock). */
    static final class MbConvBlock extends Module {
        private final Module shortcut;
        private final Module preNorm;
        private final Module down;
        private final Module conv1;
        private final Module norm1;
        private final Module conv2;
        private final Module seEarly;
        private final Module norm2;
        private final Module se;
        private final Module conv3;
        private final Module dropPath;

        MbConvBlock(int in, int out, int stride, ConvCfg cfg, double dropPath) {
            Activation.Kind act = Activation.Kind.parse(cfg.actLayer());
            int mid = Layers.makeDivisible((cfg.expandOutput() ? out : in) * cfg.expandRatio(), 8);
            int groups = cfg.groupSize() == 0 ? 1 : mid / cfg.groupSize();
            shortcut = register(
                    "shortcut",
                    stride == 2 ? new Downsample2d(in, out, cfg.poolType(), cfg.outputBias()) : new Identity());
            int strideDown = "pool".equals(cfg.strideMode()) ? stride : 1;
            int stride1 = "1x1".equals(cfg.strideMode()) ? stride : 1;
            int stride2 = "dw".equals(cfg.strideMode()) ? stride : 1;
            preNorm = register(
                    "pre_norm",
                    normAct(cfg.normLayer(), in, cfg.normEps(), cfg.preNormAct() ? act : Activation.Kind.IDENTITY));
            down = register(
                    "down", strideDown > 1 ? new Downsample2d(in, in, cfg.downsamplePoolType(), true) : new Identity());
            conv1 = register("conv1_1x1", conv(in, mid, 1, stride1, 1, false, ""));
            norm1 = register("norm1", normAct(cfg.normLayer(), mid, cfg.normEps(), act));
            conv2 = register("conv2_kxk", conv(mid, mid, cfg.kernelSize(), stride2, groups, false, cfg.padding()));
            int rd = (int) (cfg.attnRatio() * (cfg.expandOutput() ? out : mid));
            Activation.Kind seAct = Activation.Kind.parse(cfg.attnActLayer());
            if (cfg.attnEarly()) {
                seEarly = register("se_early", new SqueezeExcite(mid, rd, seAct, Activation.Kind.SIGMOID));
                norm2 = register("norm2", normAct(cfg.normLayer(), mid, cfg.normEps(), act));
                se = new Identity();
            } else {
                seEarly = new Identity();
                norm2 = register("norm2", normAct(cfg.normLayer(), mid, cfg.normEps(), act));
                se = register("se", new SqueezeExcite(mid, rd, seAct, Activation.Kind.SIGMOID));
            }
            conv3 = register("conv3_1x1", conv(mid, out, 1, 1, 1, cfg.outputBias(), ""));
            this.dropPath = register("drop_path", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray sc = shortcut.forward(x);
            x = down.forward(preNorm.forward(x));
            x = norm1.forward(conv1.forward(x));
            x = se.forward(norm2.forward(seEarly.forward(conv2.forward(x))));
            return dropPath.forward(conv3.forward(x)).add(sc);
        }
    }

    /** ConvNeXt block with 1x1-conv MLP and layer scale on NCHW maps (timm's maxxvit ConvNeXtBlock, conv_mlp). */
    static final class ConvNeXtBlock extends Module {
        private static final int KERNEL = 7;
        private final Module shortcut;
        private final Module down;
        private final Module convDw;
        private final Module norm;
        private final Module mlp;
        private final Module ls;
        private final Module dropPath;

        ConvNeXtBlock(int in, int out, int stride, ConvCfg cfg, double dropPath) {
            if (stride == 2) {
                shortcut = register("shortcut", new Downsample2d(in, out, "avg2", true));
            } else if (in != out) {
                shortcut = register(
                        "shortcut",
                        new Conv2d(in, out, 1, Conv2d.Options.defaults().bias(cfg.outputBias())));
            } else {
                shortcut = register("shortcut", new Identity());
            }
            boolean poolStride = "pool".equals(cfg.strideMode());
            down = register(
                    "down",
                    poolStride && stride == 2
                            ? new Downsample2d(in, in, cfg.downsamplePoolType(), true)
                            : new Identity());
            convDw = register("conv_dw", conv(in, out, KERNEL, poolStride ? 1 : stride, in, cfg.outputBias(), ""));
            norm = register("norm", norm(cfg.normLayer(), out, cfg.normEps()));
            mlp = register(
                    "mlp",
                    Mlp.conv(out, (int) (cfg.expandRatio() * out), out, Activation.Kind.parse(cfg.actLayer()), 0f));
            ls = register("ls", layerScale2d(out, cfg.initValues()));
            this.dropPath = register("drop_path", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray sc = shortcut.forward(x);
            x = convDw.forward(down.forward(x));
            x = ls.forward(mlp.forward(norm.forward(x)));
            return dropPath.forward(x).add(sc);
        }
    }

    /** The conv block a cfg asks for. */
    static Module convBlock(int in, int out, int stride, ConvCfg cfg, double dropPath) {
        return "convnext".equals(cfg.blockType())
                ? new ConvNeXtBlock(in, out, stride, cfg, dropPath)
                : new MbConvBlock(in, out, stride, cfg, dropPath);
    }

    /** MaxViT's block: a conv block, then window and grid partition attention on channels-last maps. */
    static final class MaxxVitBlock extends Module {
        private final Module conv;
        private final Module attnBlock;
        private final Module attnGrid;

        MaxxVitBlock(int dim, int dimOut, int stride, ConvCfg convCfg, TransformerCfg cfg, double dropPath) {
            conv = register("conv", convBlock(dim, dimOut, stride, convCfg, dropPath));
            attnBlock = cfg.noBlockAttn()
                    ? new Identity()
                    : register("attn_block", new PartitionAttentionCl(dimOut, true, cfg, dropPath));
            attnGrid = register("attn_grid", new PartitionAttentionCl(dimOut, false, cfg, dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = conv.forward(x).transpose(0, 2, 3, 1);
            x = attnGrid.forward(attnBlock.forward(x));
            return x.transpose(0, 3, 1, 2);
        }
    }

    /** timm's experimental ParallelMaxxVitBlock: two conv blocks, then parallel window and grid attention. */
    static final class ParallelMaxxVitBlock extends Module {
        private final Module conv;
        private final Module attn;

        ParallelMaxxVitBlock(int dim, int dimOut, int stride, ConvCfg convCfg, TransformerCfg cfg, double dropPath) {
            conv = register(
                    "conv",
                    new Sequential(
                            convBlock(dim, dimOut, stride, convCfg, dropPath),
                            convBlock(dimOut, dimOut, 1, convCfg, dropPath)));
            attn = register("attn", new ParallelPartitionAttention(dimOut, cfg, dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = conv.forward(x).transpose(0, 2, 3, 1);
            return attn.forward(x).transpose(0, 3, 1, 2);
        }
    }

    /** The stem: a stride-2 3x3 conv, norm-act, a 3x3 conv. */
    static final class Stem extends Module {
        private final Module conv1;
        private final Module norm1;
        private final Module conv2;

        Stem(int in, int out0, int out1, ConvCfg cfg, boolean bias) {
            conv1 = register("conv1", conv(in, out0, 3, 2, 1, bias, cfg.padding()));
            norm1 = register(
                    "norm1", normAct(cfg.normLayer(), out0, cfg.normEps(), Activation.Kind.parse(cfg.actLayer())));
            conv2 = register("conv2", conv(out0, out1, 3, 1, 1, bias, cfg.padding()));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return conv2.forward(norm1.forward(conv1.forward(x)));
        }
    }
}
