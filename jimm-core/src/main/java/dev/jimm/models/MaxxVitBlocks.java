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

    /** Multi-head attention on NCHW maps with 1x1-conv projections (timm's Attention2d). */
    static final class Attention2d extends Module {
        private final int numHeads;
        private final int dimHead;
        private final boolean headFirst;
        private final double scale;
        private final Module qkv;
        private final RelativePositionBias relPos;
        private final float attnDrop;
        private final Module proj;

        Attention2d(
                int dim,
                int dimOut,
                int dimHead,
                boolean bias,
                boolean expandFirst,
                boolean headFirst,
                IntFunction<RelativePositionBias> relPosCls,
                double attnDrop) {
            int dimAttn = expandFirst ? dimOut : dim;
            this.numHeads = dimAttn / dimHead;
            this.dimHead = dimHead;
            this.headFirst = headFirst;
            this.scale = Math.pow(dimHead, -0.5);
            this.attnDrop = (float) attnDrop;
            qkv = register(
                    "qkv",
                    new Conv2d(dim, dimAttn * 3, 1, Conv2d.Options.defaults().bias(bias)));
            relPos = relPosCls != null ? register("rel_pos", relPosCls.apply(numHeads)) : null;
            register("attn_drop", new Dropout(this.attnDrop));
            proj = register(
                    "proj",
                    new Conv2d(dimAttn, dimOut, 1, Conv2d.Options.defaults().bias(bias)));
            register("proj_drop", new Dropout(0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long h = s.get(2);
            long w = s.get(3);
            NDArray t = qkv.forward(x);
            NDArray q;
            NDArray k;
            NDArray v;
            if (headFirst) {
                NDList parts = t.reshape(b, numHeads, 3L * dimHead, -1).split(3, 2);
                q = parts.get(0);
                k = parts.get(1);
                v = parts.get(2);
            } else {
                t = t.reshape(b, 3, numHeads, dimHead, -1);
                q = t.get(":, 0");
                k = t.get(":, 1");
                v = t.get(":, 2");
            }
            // q, k, v: [B, heads, dimHead, N]
            NDArray attn = Scalars.mul(q, scale).transpose(0, 1, 3, 2).matMul(k);
            if (relPos != null) {
                attn = attn.add(relPos.getBias());
            }
            attn = Dropout.apply(attn.softmax(-1), attnDrop, isTraining());
            NDArray out = v.matMul(attn.transpose(0, 1, 3, 2)).reshape(b, -1, h, w);
            return proj.forward(out);
        }
    }

    /** Multi-head attention on channels-last tokens [B, ..., C] with linear projections (timm's AttentionCl). */
    static final class AttentionCl extends Module {
        private final int numHeads;
        private final int dimHead;
        private final boolean headFirst;
        private final double scale;
        private final Module qkv;
        private final RelativePositionBias relPos;
        private final float attnDrop;
        private final Module proj;

        AttentionCl(
                int dim,
                int dimOut,
                int dimHead,
                boolean bias,
                boolean headFirst,
                IntFunction<RelativePositionBias> relPosCls,
                double attnDrop) {
            // timm's expand_first (default on) widens only when the output is wider than the input
            int dimAttn = dimOut > dim ? dimOut : dim;
            if (dimAttn % dimHead != 0) {
                throw new IllegalArgumentException(
                        "attention width " + dimAttn + " is not divisible by the head width " + dimHead);
            }
            this.numHeads = dimAttn / dimHead;
            this.dimHead = dimHead;
            this.headFirst = headFirst;
            this.scale = Math.pow(dimHead, -0.5);
            this.attnDrop = (float) attnDrop;
            qkv = register("qkv", new Linear(dim, dimAttn * 3, bias));
            relPos = relPosCls != null ? register("rel_pos", relPosCls.apply(numHeads)) : null;
            register("attn_drop", new Dropout(this.attnDrop));
            proj = register("proj", new Linear(dimAttn, dimOut, bias));
            register("proj_drop", new Dropout(0f));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            NDArray t = qkv.forward(x);
            NDArray q;
            NDArray k;
            NDArray v;
            if (headFirst) {
                NDList parts = t.reshape(b, -1, numHeads, 3L * dimHead)
                        .transpose(0, 2, 1, 3)
                        .split(3, 3);
                q = parts.get(0);
                k = parts.get(1);
                v = parts.get(2);
            } else {
                t = t.reshape(b, -1, 3, numHeads, dimHead).transpose(0, 3, 2, 1, 4);
                q = t.get(":, :, 0");
                k = t.get(":, :, 1");
                v = t.get(":, :, 2");
            }
            // q, k, v: [B, heads, N, dimHead]
            NDArray attn = Scalars.mul(q, scale).matMul(k.transpose(0, 1, 3, 2));
            if (relPos != null) {
                attn = attn.add(relPos.getBias());
            }
            attn = Dropout.apply(attn.softmax(-1), attnDrop, isTraining());
            long[] restore = s.getShape().clone();
            restore[restore.length - 1] = -1;
            NDArray out = attn.matMul(v).transpose(0, 2, 1, 3).reshape(new Shape(restore));
            return proj.forward(out);
        }
    }

    // ---- partitions of channels-last maps -------------------------------------------------------------

    /** [B, H, W, C] to [B * windows, wh, ww, C]: non-overlapping windows. */
    static NDArray windowPartition(NDArray x, int wh, int ww) {
        Shape s = x.getShape();
        checkDivisible(s, wh, ww, "window");
        return x.reshape(s.get(0), s.get(1) / wh, wh, s.get(2) / ww, ww, s.get(3))
                .transpose(0, 1, 3, 2, 4, 5)
                .reshape(-1, wh, ww, s.get(3));
    }

    static NDArray windowReverse(NDArray windows, int wh, int ww, long h, long w) {
        long c = windows.getShape().get(3);
        return windows.reshape(-1, h / wh, w / ww, wh, ww, c)
                .transpose(0, 1, 3, 2, 4, 5)
                .reshape(-1, h, w, c);
    }

    /** [B, H, W, C] to [B * cells, gh, gw, C]: a gh x gw grid strided over the whole map. */
    static NDArray gridPartition(NDArray x, int gh, int gw) {
        Shape s = x.getShape();
        checkDivisible(s, gh, gw, "grid");
        return x.reshape(s.get(0), gh, s.get(1) / gh, gw, s.get(2) / gw, s.get(3))
                .transpose(0, 2, 4, 1, 3, 5)
                .reshape(-1, gh, gw, s.get(3));
    }

    static NDArray gridReverse(NDArray windows, int gh, int gw, long h, long w) {
        long c = windows.getShape().get(3);
        return windows.reshape(-1, h / gh, w / gw, gh, gw, c)
                .transpose(0, 3, 1, 4, 2, 5)
                .reshape(-1, h, w, c);
    }

    private static void checkDivisible(Shape s, int ph, int pw, String what) {
        if (s.get(1) % ph != 0 || s.get(2) % pw != 0) {
            throw new IllegalArgumentException("a " + s.get(1) + "x" + s.get(2) + " map is not divisible by the " + what
                    + " " + ph + "x" + pw + " (MaxViT is built for one input size)");
        }
    }

    /** Block (window) or grid partition, attention and an MLP on channels-last maps (timm's PartitionAttentionCl). */
    static final class PartitionAttentionCl extends Module {
        private final boolean block;
        private final int ph;
        private final int pw;
        private final Module norm1;
        private final Module attn;
        private final Module ls1;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module ls2;
        private final Module dropPath2;

        PartitionAttentionCl(int dim, boolean block, TransformerCfg cfg, double dropPath) {
            this.block = block;
            this.ph = block ? cfg.windowSize() : cfg.gridSize();
            this.pw = ph;
            norm1 = register("norm1", norm(cfg.normLayerCl(), dim, cfg.normEps()));
            attn = register(
                    "attn",
                    new AttentionCl(
                            dim,
                            dim,
                            cfg.dimHead(),
                            cfg.attnBias(),
                            cfg.headFirst(),
                            relPos(cfg, ph, pw),
                            cfg.attnDrop()));
            ls1 = register("ls1", layerScale(dim, cfg.initValues()));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            norm2 = register("norm2", norm(cfg.normLayerCl(), dim, cfg.normEps()));
            mlp = register(
                    "mlp",
                    new Mlp(dim, (int) (dim * cfg.expandRatio()), dim, Activation.Kind.parse(cfg.actLayer()), (float)
                            cfg.projDrop()));
            ls2 = register("ls2", layerScale(dim, cfg.initValues()));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        private NDArray partitionAttn(NDArray x) {
            long h = x.getShape().get(1);
            long w = x.getShape().get(2);
            if (block) {
                return windowReverse(attn.forward(windowPartition(x, ph, pw)), ph, pw, h, w);
            }
            return gridReverse(attn.forward(gridPartition(x, ph, pw)), ph, pw, h, w);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = x.add(dropPath1.forward(ls1.forward(partitionAttn(norm1.forward(x)))));
            return x.add(dropPath2.forward(ls2.forward(mlp.forward(norm2.forward(x)))));
        }
    }

    /**
     * Window and grid attention side by side on half the channels each, one MLP (timm's ParallelPartitionAttention).
     */
    static final class ParallelPartitionAttention extends Module {
        private final int ps;
        private final Module norm1;
        private final Module attnBlock;
        private final Module attnGrid;
        private final Module ls1;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module ls2;
        private final Module dropPath2;

        ParallelPartitionAttention(int dim, TransformerCfg cfg, double dropPath) {
            if (dim % 2 != 0 || cfg.windowSize() != cfg.gridSize()) {
                throw new IllegalArgumentException("parallel partition attention needs an even width (" + dim
                        + ") and window == grid (" + cfg.windowSize() + ", " + cfg.gridSize() + ")");
            }
            this.ps = cfg.windowSize();
            norm1 = register("norm1", norm(cfg.normLayerCl(), dim, cfg.normEps()));
            attnBlock = register("attn_block", half(dim, cfg));
            attnGrid = register("attn_grid", half(dim, cfg));
            ls1 = register("ls1", layerScale(dim, cfg.initValues()));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            norm2 = register("norm2", norm(cfg.normLayerCl(), dim, cfg.normEps()));
            mlp = register(
                    "mlp",
                    new Mlp(dim, (int) (dim * cfg.expandRatio()), dim, Activation.Kind.parse(cfg.actLayer()), (float)
                            cfg.projDrop()));
            ls2 = register("ls2", layerScale(dim, cfg.initValues()));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        private AttentionCl half(int dim, TransformerCfg cfg) {
            return new AttentionCl(
                    dim, dim / 2, cfg.dimHead(), cfg.attnBias(), cfg.headFirst(), relPos(cfg, ps, ps), cfg.attnDrop());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = norm1.forward(x);
            long h = y.getShape().get(1);
            long w = y.getShape().get(2);
            NDArray xw = windowReverse(attnBlock.forward(windowPartition(y, ps, ps)), ps, ps, h, w);
            NDArray xg = gridReverse(attnGrid.forward(gridPartition(y, ps, ps)), ps, ps, h, w);
            x = x.add(dropPath1.forward(ls1.forward(xw.concat(xg, -1))));
            return x.add(dropPath2.forward(ls2.forward(mlp.forward(norm2.forward(x)))));
        }
    }

    /** CoAtNet's transformer block on NCHW maps, pooling on a stride-2 entry (timm's TransformerBlock2d). */
    static final class TransformerBlock2d extends Module {
        private final Module shortcut;
        private final Module norm1;
        private final Module attn;
        private final Module ls1;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module ls2;
        private final Module dropPath2;

        TransformerBlock2d(
                int dim,
                int dimOut,
                int stride,
                IntFunction<RelativePositionBias> relPosCls,
                TransformerCfg cfg,
                double dropPath) {
            if (stride == 2) {
                shortcut = register("shortcut", new Downsample2d(dim, dimOut, cfg.poolType(), cfg.shortcutBias()));
                norm1 = register(
                        "norm1",
                        new NamedSequential()
                                .add("norm", norm(cfg.normLayer(), dim, cfg.normEps()))
                                .add("down", new Downsample2d(dim, dim, cfg.poolType(), true)));
            } else {
                if (dim != dimOut) {
                    throw new IllegalArgumentException(
                            "a stride-1 transformer block keeps its width, not " + dim + " -> " + dimOut);
                }
                shortcut = register("shortcut", new Identity());
                norm1 = register("norm1", norm(cfg.normLayer(), dim, cfg.normEps()));
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
            ls1 = register("ls1", layerScale2d(dimOut, cfg.initValues()));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            norm2 = register("norm2", norm(cfg.normLayer(), dimOut, cfg.normEps()));
            mlp = register(
                    "mlp",
                    Mlp.conv(
                            dimOut,
                            (int) (dimOut * cfg.expandRatio()),
                            dimOut,
                            Activation.Kind.parse(cfg.actLayer()),
                            (float) cfg.projDrop()));
            ls2 = register("ls2", layerScale2d(dimOut, cfg.initValues()));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = shortcut.forward(x).add(dropPath1.forward(ls1.forward(attn.forward(norm1.forward(x)))));
            return x.add(dropPath2.forward(ls2.forward(mlp.forward(norm2.forward(x)))));
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
