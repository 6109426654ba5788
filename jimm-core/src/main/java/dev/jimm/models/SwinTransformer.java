package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.PosEmbed;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Swin Transformer (v1), as timm's {@code models/swin_transformer.py} builds it: a patch embedding, four stages of
 * (shifted) window attention blocks on NHWC maps with patch merging at the start of stages 1..3, a final LayerNorm and
 * a pooled linear head. {@link TvSwinTransformer} is torchvision's {@code swin_t/s/b}: the same computation under
 * torchvision's module names.
 *
 * <p>Like timm (its {@code strict_img_size}), a timm Swin is built for one input size: the window sizes and the
 * shifted-window masks depend on it. {@link #forwardFeatures} returns NHWC maps, as timm's does;
 * {@link #forwardIntermediates} returns NCHW maps.
 */
public final class SwinTransformer extends SwinBase {

    // ---- window operations, shared with SwinTransformerV2 -------------------------------------------

    /** The tensor plumbing of window attention on NHWC maps. */
    static final class Windows {
        private Windows() {}

        /** torch.roll(x, shifts=(sh, sw), dims=(1, 2)). */
        static NDArray roll(NDArray x, int sh, int sw) {
            return rollAxis(rollAxis(x, 1, sh), 2, sw);
        }

        private static NDArray rollAxis(NDArray x, int axis, int shift) {
            long n = x.getShape().get(axis);
            int s = (int) Math.floorMod(shift, n);
            if (s == 0) {
                return x;
            }
            String head = ":,".repeat(axis);
            NDArray tail = x.get(head + (n - s) + ":");
            NDArray front = x.get(head + ":" + (n - s));
            return tail.concat(front, axis);
        }

        /** Zero padding at the bottom and right of an NHWC map (F.pad(x, (0, 0, 0, pw, 0, ph))). */
        static NDArray padBottomRight(NDArray x, int padH, int padW) {
            Shape s = x.getShape();
            if (padH > 0) {
                x = x.concat(x.getManager().zeros(new Shape(s.get(0), padH, s.get(2), s.get(3)), x.getDataType()), 1);
            }
            if (padW > 0) {
                Shape t = x.getShape();
                x = x.concat(x.getManager().zeros(new Shape(t.get(0), t.get(1), padW, t.get(3)), x.getDataType()), 2);
            }
            return x;
        }

        /** [B, H, W, C] to [B * nW, wh * ww, C], windows in row-major order. */
        static NDArray partition(NDArray x, int wh, int ww) {
            Shape s = x.getShape();
            long b = s.get(0);
            long h = s.get(1);
            long w = s.get(2);
            long c = s.get(3);
            return x.reshape(b, h / wh, wh, w / ww, ww, c)
                    .transpose(0, 1, 3, 2, 4, 5)
                    .reshape(-1, (long) wh * ww, c);
        }

        /** The inverse of {@link #partition}: [B * nW, wh * ww, C] to [B, H, W, C]. */
        static NDArray reverse(NDArray windows, int wh, int ww, long h, long w) {
            long c = windows.getShape().get(2);
            return windows.reshape(-1, h / wh, w / ww, wh, ww, c)
                    .transpose(0, 1, 3, 2, 4, 5)
                    .reshape(-1, h, w, c);
        }

        /** Pairwise relative position index of a window (timm's get_relative_position_index), row-major N x N. */
        static long[] relativePositionIndex(int wh, int ww) {
            int n = wh * ww;
            long[] out = new long[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    int dh = i / ww - j / ww + wh - 1;
                    int dw = i % ww - j % ww + ww - 1;
                    out[i * n + j] = (long) dh * (2 * ww - 1) + dw;
                }
            }
            return out;
        }

        /**
         * The shifted-window mask (0 within a region, -100 across regions) of an h x w map, h and w multiples of the
         * window: [nW, N, N] row-major.
         */
        static float[] attentionMask(int h, int w, int wh, int ww, int sh, int sw) {
            int[] img = new int[h * w];
            int[] hb = {0, h - wh, h - sh, h};
            int[] wb = {0, w - ww, w - sw, w};
            int cnt = 0;
            for (int a = 0; a < 3; a++) {
                for (int b = 0; b < 3; b++) {
                    for (int y = Math.max(0, hb[a]); y < hb[a + 1]; y++) {
                        for (int x = Math.max(0, wb[b]); x < wb[b + 1]; x++) {
                            img[y * w + x] = cnt;
                        }
                    }
                    cnt++;
                }
            }
            int nwh = h / wh;
            int nww = w / ww;
            int n = wh * ww;
            float[] out = new float[nwh * nww * n * n];
            int[] win = new int[n];
            for (int wy = 0; wy < nwh; wy++) {
                for (int wx = 0; wx < nww; wx++) {
                    for (int t = 0; t < n; t++) {
                        win[t] = img[(wy * wh + t / ww) * w + wx * ww + t % ww];
                    }
                    int base = (wy * nww + wx) * n * n;
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < n; j++) {
                            out[base + i * n + j] = win[i] == win[j] ? 0f : -100f;
                        }
                    }
                }
            }
            return out;
        }

        /** table[index] as [1, nH, N, N] from a [T, nH] table and an N x N (or N*N) index. */
        static NDArray gatherBias(NDArray table, NDArray index, int n) {
            NDArray rows = table.get(new NDIndex("{}", index.reshape(-1)));
            return rows.reshape(n, n, -1).transpose(2, 0, 1).expandDims(0);
        }

        /** [B_, N, 3C] to q, k, v of [B_, nH, N, C / nH]. */
        static NDList splitHeads(NDArray qkv, int numHeads) {
            Shape s = qkv.getShape();
            NDArray t = qkv.reshape(s.get(0), s.get(1), 3, numHeads, -1).transpose(2, 0, 3, 1, 4);
            return new NDList(t.get(0), t.get(1), t.get(2));
        }

        /** Adds the shifted-window mask, softmax, dropout, weights v, merges heads: [B_, N, C]. */
        static NDArray attend(NDArray attn, NDArray v, NDArray mask, float attnDrop, boolean training) {
            Shape s = attn.getShape();
            long bw = s.get(0);
            long heads = s.get(1);
            long n = s.get(2);
            if (mask != null) {
                long nw = mask.getShape().get(0);
                attn = attn.reshape(bw / nw, nw, heads, n, n)
                        .add(mask.reshape(1, nw, 1, n, n))
                        .reshape(bw, heads, n, n);
            }
            attn = Dropout.apply(attn.softmax(-1), attnDrop, training);
            return attn.matMul(v).transpose(0, 2, 1, 3).reshape(bw, n, -1);
        }

        /** Merges 2x2 neighbours of an NHWC map into [B, H/2, W/2, 4C] (odd sizes zero-padded). */
        static NDArray mergePatches(NDArray x) {
            Shape s = x.getShape();
            x = padBottomRight(x, (int) (s.get(1) % 2), (int) (s.get(2) % 2));
            Shape p = x.getShape();
            long b = p.get(0);
            long h = p.get(1);
            long w = p.get(2);
            long c = p.get(3);
            // timm's order (0,1,3,4,2,5) gives torchvision's x0, x1, x2, x3 = (0,0), (1,0), (0,1), (1,1)
            return x.reshape(b, h / 2, 2, w / 2, 2, c)
                    .transpose(0, 1, 3, 4, 2, 5)
                    .reshape(b, h / 2, w / 2, 4 * c);
        }

        static NDArray toNchw(NDArray x) {
            return x.transpose(0, 3, 1, 2);
        }

        static void fillLong(NDArray dst, long[] values) {
            try (NDArray tmp = dst.getManager().create(values, dst.getShape())) {
                Module.copyInto(dst, tmp);
            }
        }
    }

    /** Which library's conventions a block follows (names, shift rule, persistent buffers). */
    enum Flavor {
        TIMM,
        TORCHVISION
    }

    /**
     * Window and shift of a block. timm clips the window to a smaller feature map and then does not shift; torchvision
     * keeps the window, pads the map to it, and does not shift when the window covers the padded map.
     */
    record WindowGeometry(int wh, int ww, int sh, int sw) {
        static WindowGeometry of(Flavor flavor, int resH, int resW, int winH, int winW, int shiftH, int shiftW) {
            if (flavor == Flavor.TIMM) {
                return new WindowGeometry(
                        Math.min(resH, winH),
                        Math.min(resW, winW),
                        resH <= winH ? 0 : shiftH,
                        resW <= winW ? 0 : shiftW);
            }
            int ph = ceilTo(resH, winH);
            int pw = ceilTo(resW, winW);
            return new WindowGeometry(winH, winW, winH >= ph ? 0 : shiftH, winW >= pw ? 0 : shiftW);
        }

        boolean shifted() {
            return sh > 0 || sw > 0;
        }

        int area() {
            return wh * ww;
        }
    }

    static int ceilTo(int v, int m) {
        return (v + m - 1) / m * m;
    }

    /**
     * The arguments of a v1 / v2 block, {@code index} its place in the stage: even blocks attend in plain windows, odd
     * ones in windows shifted by half a window (timm's and torchvision's rule).
     */
    record BlockArgs(
            Flavor flavor,
            int dim,
            int res,
            int numHeads,
            int window,
            int index,
            double mlpRatio,
            boolean qkvBias,
            double dropPath) {
        int shift() {
            return index % 2 == 0 ? 0 : window / 2;
        }

        int hidden() {
            return (int) (dim * mlpRatio);
        }
    }

    /** A window attention taking the shifted-window mask: [B * nW, N, C] windows, an optional [nW, N, N] mask. */
    interface MaskedWindowAttention {
        NDArray forward(NDArray windows, NDArray mask);
    }

    /** Checks a Swin config's sizes and that its per-stage lists have one entry per stage. */
    static void checkConfig(
            String what,
            int imgSize,
            String sizeName,
            int size,
            int embedDim,
            List<Integer> depths,
            List<Integer> numHeads,
            String listName,
            List<Integer> perStage) {
        if (depths == null || numHeads == null || perStage == null) {
            throw new IllegalArgumentException("a " + what + " config needs depths, numHeads and " + listName);
        }
        if (imgSize <= 0 || size <= 0 || embedDim <= 0) {
            throw new IllegalArgumentException("imgSize " + imgSize + ", " + sizeName + " " + size + " and embedDim "
                    + embedDim + " must be positive");
        }
        if (depths.size() != numHeads.size() || depths.size() != perStage.size()) {
            throw new IllegalArgumentException("depths " + depths + ", numHeads " + numHeads + " and " + listName + " "
                    + perStage + " must have one entry per stage");
        }
    }

    /**
     * The attention part of a Swin block, v1 and v2 alike: shift, pad, partition, attend, merge, unpad, shift back; and
     * the residual layouts around it, pre-norm (v1) or res-post-norm (v2). Subclasses register the attention, norms,
     * MLP and drop paths in their library's order.
     */
    abstract static class WindowedBlock extends Module {
        final Flavor flavor;
        final int resH;
        final int resW;
        final int winH;
        final int winW;
        final int shiftH;
        final int shiftW;
        final WindowGeometry geometry;
        private Buffer attnMask;
        private MaskedWindowAttention attn;
        private Module norm1;
        private Module dropPath1;
        private Module norm2;
        private Module mlp;
        private Module dropPath2;

        WindowedBlock(Flavor flavor, int resH, int resW, int window, int shift) {
            this.flavor = flavor;
            this.resH = resH;
            this.resW = resW;
            this.winH = window;
            this.winW = window;
            this.shiftH = shift;
            this.shiftW = shift;
            this.geometry = WindowGeometry.of(flavor, resH, resW, window, window, shift, shift);
        }

        WindowedBlock(BlockArgs a) {
            this(a.flavor(), a.res(), a.res(), a.window(), a.shift());
        }

        /** Registers the window attention as {@code attn}. */
        final <A extends Module & MaskedWindowAttention> A registerAttn(A attention) {
            attn = register("attn", attention);
            return attention;
        }

        final <M extends Module> M registerNorm1(M norm) {
            norm1 = register("norm1", norm);
            return norm;
        }

        final <M extends Module> M registerNorm2(M norm) {
            norm2 = register("norm2", norm);
            return norm;
        }

        final void registerMlp(Module module) {
            mlp = register("mlp", module);
        }

        /** timm's drop_path1 and drop_path2. */
        final void registerDropPath1(double rate) {
            dropPath1 = register("drop_path1", DropPath.orIdentity(rate));
        }

        final void registerDropPath2(double rate) {
            dropPath2 = register("drop_path2", DropPath.orIdentity(rate));
        }

        /** torchvision's tail after norm1 and attn: one {@code stochastic_depth} for both residuals, norm2, the MLP. */
        final void registerTorchvisionTail(int dim, int hidden, double dropPath) {
            dropPath1 = register("stochastic_depth", DropPath.orIdentity(dropPath));
            dropPath2 = dropPath1;
            registerNorm2(new LayerNorm(dim));
            registerMlp(torchvisionMlp(dim, hidden, 0f));
        }

        /** timm's v2 order after attn: norm1, drop_path1, mlp, norm2, drop_path2. */
        final void registerResPostNormTail(int dim, int hidden, double dropPath) {
            registerNorm1(new LayerNorm(dim));
            registerDropPath1(dropPath);
            registerMlp(new Mlp(dim, hidden, Activation.Kind.GELU));
            registerNorm2(new LayerNorm(dim));
            registerDropPath2(dropPath);
        }

        /** norm1 and norm2. */
        final List<Module> norms() {
            return List.of(norm1, norm2);
        }

        /** v1: x + drop(attn(norm1(x))), then x + drop(mlp(norm2(x))). */
        final NDArray preNormForward(NDArray x) {
            x = x.add(dropPath1.forward(shiftedWindowAttention(norm1.forward(x))));
            return x.add(dropPath2.forward(mlp.forward(norm2.forward(x))));
        }

        /** v2: x + drop(norm1(attn(x))), then x + drop(norm2(mlp(x))). */
        final NDArray resPostNormForward(NDArray x) {
            x = x.add(dropPath1.forward(norm1.forward(shiftedWindowAttention(x))));
            return x.add(dropPath2.forward(norm2.forward(mlp.forward(x))));
        }

        /** Declares the non-persistent {@code attn_mask} for the block's own resolution (after its children). */
        final void declareMask() {
            if (geometry.shifted()) {
                int ph = ceilTo(resH, geometry.wh());
                int pw = ceilTo(resW, geometry.ww());
                long nw = (long) (ph / geometry.wh()) * (pw / geometry.ww());
                attnMask = buffer("attn_mask", DataType.FLOAT32, false, nw, geometry.area(), geometry.area());
            }
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            if (attnMask != null) {
                int ph = ceilTo(resH, geometry.wh());
                int pw = ceilTo(resW, geometry.ww());
                Module.assign(
                        attnMask.array(),
                        Windows.attentionMask(ph, pw, geometry.wh(), geometry.ww(), geometry.sh(), geometry.sw()));
            }
        }

        /** Shifted-window attention of an NHWC map, same shape out. */
        final NDArray shiftedWindowAttention(NDArray x) {
            Shape s = x.getShape();
            int h = (int) s.get(1);
            int w = (int) s.get(2);
            long c = s.get(3);
            WindowGeometry g = geometry;
            boolean own = h == resH && w == resW;
            if (!own) {
                if (flavor == Flavor.TIMM) {
                    throw new IllegalArgumentException(
                            "block built for a " + resH + "x" + resW + " map got " + h + "x" + w);
                }
                g = WindowGeometry.of(flavor, h, w, winH, winW, shiftH, shiftW);
            }
            int ph = ceilTo(h, g.wh());
            int pw = ceilTo(w, g.ww());
            NDArray y;
            if (flavor == Flavor.TIMM) {
                y = g.shifted() ? Windows.roll(x, -g.sh(), -g.sw()) : x;
                y = Windows.padBottomRight(y, ph - h, pw - w);
            } else {
                y = Windows.padBottomRight(x, ph - h, pw - w);
                y = g.shifted() ? Windows.roll(y, -g.sh(), -g.sw()) : y;
            }
            NDArray mask = null;
            if (g.shifted()) {
                if (own && attnMask != null) {
                    mask = attnMask.array();
                } else {
                    long nw = (long) (ph / g.wh()) * (pw / g.ww());
                    mask = x.getManager()
                            .create(
                                    Windows.attentionMask(ph, pw, g.wh(), g.ww(), g.sh(), g.sw()),
                                    new Shape(nw, g.area(), g.area()));
                }
            }
            NDArray windows = attn.forward(Windows.partition(y, g.wh(), g.ww()), mask);
            y = Windows.reverse(windows.reshape(-1, g.area(), c), g.wh(), g.ww(), ph, pw);
            if (flavor == Flavor.TIMM) {
                if (ph != h || pw != w) {
                    y = y.get(":, :" + h + ", :" + w + ", :");
                }
                return g.shifted() ? Windows.roll(y, g.sh(), g.sw()) : y;
            }
            y = g.shifted() ? Windows.roll(y, g.sh(), g.sw()) : y;
            return ph != h || pw != w ? y.get(":, :" + h + ", :" + w + ", :") : y;
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** Window multi-head self-attention with a learned relative position bias table. */
    static final class WindowAttention extends Module implements MaskedWindowAttention {
        private final int numHeads;
        private final int window;
        private final float scale;
        private final Parameter table;
        private final Buffer index;
        private final Linear qkv;
        private final Linear proj;

        WindowAttention(Flavor flavor, int dim, int numHeads, int window, boolean qkvBias) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.numHeads = numHeads;
            this.window = window;
            this.scale = (float) Math.pow(dim / numHeads, -0.5);
            table = parameter("relative_position_bias_table", (2L * window - 1) * (2L * window - 1), numHeads);
            // torchvision keeps the index in its state_dict (flat); timm rebuilds it (N x N)
            long n = (long) window * window;
            index = flavor == Flavor.TORCHVISION
                    ? buffer("relative_position_index", DataType.INT64, true, n * n)
                    : buffer("relative_position_index", DataType.INT64, false, n, n);
            qkv = register("qkv", new Linear(dim, dim * 3, qkvBias));
            if (flavor == Flavor.TIMM) {
                register("attn_drop", new Dropout(0f));
            }
            proj = register("proj", new Linear(dim, dim));
            if (flavor == Flavor.TIMM) {
                register("proj_drop", new Dropout(0f));
            }
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            // timm's trunc_normal_(std=.02) cuts at +-2 absolute, i.e. never at this std
            Init.normal(table.getArray(), 0.02, random);
            Windows.fillLong(index.array(), Windows.relativePositionIndex(window, window));
        }

        @Override
        public NDArray forward(NDArray x, NDArray mask) {
            NDList qkvs = Windows.splitHeads(qkv.forward(x), numHeads);
            NDArray attn = Scalars.mul(qkvs.get(0), scale).matMul(qkvs.get(1).transpose(0, 1, 3, 2));
            attn = attn.add(Windows.gatherBias(table.getArray(), index.array(), window * window));
            return proj.forward(Windows.attend(attn, qkvs.get(2), mask, 0f, isTraining()));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, null);
        }
    }

    /** torchvision's MLP: Linear, GELU, Dropout, Linear, Dropout (keys {@code 0.*}, {@code 3.*}). */
    static Sequential torchvisionMlp(int dim, int hidden, float drop) {
        return new Sequential(
                new Linear(dim, hidden),
                new Activation(Activation.Kind.GELU),
                new Dropout(drop),
                new Linear(hidden, dim),
                new Dropout(drop));
    }

    /** The pre-norm Swin block: x + attn(norm1(x)), then x + mlp(norm2(x)). */
    static final class Block extends WindowedBlock {
        Block(BlockArgs a) {
            super(a);
            registerNorm1(new LayerNorm(a.dim()));
            // timm clips the window (and so the bias table) to a smaller map; torchvision does not
            registerAttn(new WindowAttention(a.flavor(), a.dim(), a.numHeads(), geometry.wh(), a.qkvBias()));
            if (a.flavor() == Flavor.TIMM) {
                registerDropPath1(a.dropPath());
                registerNorm2(new LayerNorm(a.dim()));
                registerMlp(new Mlp(a.dim(), a.hidden(), Activation.Kind.GELU));
                registerDropPath2(a.dropPath());
            } else {
                registerTorchvisionTail(a.dim(), a.hidden(), a.dropPath());
            }
            declareMask();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return preNormForward(x);
        }
    }

    /**
     * Patch merging: 2x2 neighbours concatenated, then LayerNorm(4C) and a linear reduction (v1), or the reduction and
     * then LayerNorm(out) (v2's res-post-norm). {@code reductionFirst} is only the registration order (torchvision
     * registers the reduction first in both versions).
     */
    static final class PatchMerging extends Module {
        private final Module norm;
        private final Module reduction;
        private final boolean postNorm;

        PatchMerging(int dim, int outDim, boolean postNorm, boolean reductionFirst) {
            this.postNorm = postNorm;
            int normDim = postNorm ? outDim : 4 * dim;
            if (reductionFirst) {
                reduction = register("reduction", new Linear(4 * dim, outDim, false));
                norm = register("norm", new LayerNorm(normDim));
            } else {
                norm = register("norm", new LayerNorm(normDim));
                reduction = register("reduction", new Linear(4 * dim, outDim, false));
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Windows.mergePatches(x);
            return postNorm ? norm.forward(reduction.forward(x)) : reduction.forward(norm.forward(x));
        }
    }

    /** NCHW to NHWC (torchvision's {@code Permute([0, 2, 3, 1])}). */
    static final class ToNhwc extends Module {
        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.transpose(0, 2, 3, 1);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A Swin variant, as the keyword arguments of timm's SwinTransformer.
     *
     * @param imgSize the fixed input size (timm's img_size, from the default pretrained config)
     * @param patchSize patch embedding stride
     * @param embedDim width of stage 0 (doubling per stage)
     * @param depths blocks per stage
     * @param numHeads attention heads per stage
     * @param windowSizes window size per stage
     * @param mlpRatio MLP hidden width over block width
     * @param qkvBias bias in the qkv projection
     */
    public record Config(
            int imgSize,
            int patchSize,
            int embedDim,
            List<Integer> depths,
            List<Integer> numHeads,
            List<Integer> windowSizes,
            double mlpRatio,
            boolean qkvBias) {
        public Config {
            checkConfig(
                    "Swin", imgSize, "patchSize", patchSize, embedDim, depths, numHeads, "windowSizes", windowSizes);
            depths = List.copyOf(depths);
            numHeads = List.copyOf(numHeads);
            windowSizes = List.copyOf(windowSizes);
        }

        /** Four stages with one window size, patch 4, MLP ratio 4 and qkv biases. */
        public static Config of(int imgSize, int window, int embedDim, List<Integer> depths, List<Integer> heads) {
            return new Config(imgSize, 4, embedDim, depths, heads, List.of(window, window, window, window), 4.0, true);
        }

        /** The same config for another input size (timm's img_size; the windows stay, clipped to smaller maps). */
        public Config imgSize(int size) {
            return new Config(size, patchSize, embedDim, depths, numHeads, windowSizes, mlpRatio, qkvBias);
        }

        /** The same config with other window sizes, one per stage (the only field variants change). */
        public Config windowSizes(Integer... sizes) {
            return new Config(imgSize, patchSize, embedDim, depths, numHeads, List.of(sizes), mlpRatio, qkvBias);
        }

        public int numFeatures() {
            return embedDim << (depths.size() - 1);
        }
    }

    private final Config cfg;

    /** A Swin of the given variant, at {@link ModelArgs#imgSize()} when set (timm's img_size). */
    public SwinTransformer(Config cfg, ModelArgs args) {
        super(
                args,
                args.imgSize(cfg.imgSize()),
                cfg.patchSize(),
                cfg.embedDim(),
                cfg.depths(),
                (inDim, outDim) -> new PatchMerging(inDim, outDim, false, false),
                (stage, index, dim, res, dpr) -> new Block(new BlockArgs(
                        Flavor.TIMM,
                        dim,
                        res,
                        cfg.numHeads().get(stage),
                        cfg.windowSizes().get(stage),
                        index,
                        cfg.mlpRatio(),
                        cfg.qkvBias(),
                        dpr)));
        this.cfg = args.imgSize() == null ? cfg : cfg.imgSize(args.imgSize());
    }

    /** The variant this model was built from (at the input size it was built for). */
    public Config config() {
        return cfg;
    }

    /**
     * timm's v1 {@code checkpoint_filter_fn}: a relative position bias table of another window (weights trained at
     * another input size, where a stage's window is clipped to its map) is resized to this block's
     * ({@link PosEmbed#resizeRelPosBiasTable}).
     */
    @Override
    NDArray adaptEntry(String key, NDArray value) {
        if (key.endsWith("relative_position_bias_table")) {
            Parameter own = namedParameters().get(key);
            if (own != null && !own.getArray().getShape().equals(value.getShape())) {
                long rows = own.getArray().getShape().get(0);
                int window = ((int) Math.round(Math.sqrt(rows)) + 1) / 2;
                return PosEmbed.resizeRelPosBiasTable(value, window, window, rows);
            }
        }
        return value;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's swin_transformer names (torchvision's: {@link TvSwinTransformer}). */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "swin_transformer";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "swin_tiny_patch4_window7_224", Config.of(224, 7, 96, DEPTHS_T, HEADS_T));
            add(m, "swin_small_patch4_window7_224", Config.of(224, 7, 96, DEPTHS_S, HEADS_T));
            add(m, "swin_base_patch4_window7_224", Config.of(224, 7, 128, DEPTHS_S, HEADS_B));
            add(m, "swin_base_patch4_window12_384", Config.of(384, 12, 128, DEPTHS_S, HEADS_B));
            add(m, "swin_large_patch4_window7_224", Config.of(224, 7, 192, DEPTHS_S, HEADS_L));
            add(m, "swin_large_patch4_window12_384", Config.of(384, 12, 192, DEPTHS_S, HEADS_L));
            add(m, "swin_s3_tiny_224", Config.of(224, 7, 96, DEPTHS_T, HEADS_T).windowSizes(7, 7, 14, 7));
            add(m, "swin_s3_small_224", Config.of(224, 7, 96, DEPTHS_S, HEADS_T).windowSizes(14, 14, 14, 7));
            add(
                    m,
                    "swin_s3_base_224",
                    Config.of(224, 7, 96, List.of(2, 2, 30, 2), HEADS_T).windowSizes(7, 7, 14, 7));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(timmEntry(name, "swin_transformer", c.imgSize(), args -> new SwinTransformer(c, args)));
        }
    }

    /** A timm Swin (v1 or v2) registration: built for its input size (or the caller's), Swin's default config. */
    static ModelEntry timmEntry(String name, String family, int imgSize, Function<ModelArgs, ImageModel> factory) {
        return new ModelEntry(name, family, factory, swinCfg(name, imgSize, "patch_embed.proj", "head.fc"))
                .takingImgSize();
    }

    /** Swin's default config: bicubic, crop 0.9, ImageNet statistics. */
    static PretrainedCfg swinCfg(String name, int size, String firstConv, String classifier) {
        PretrainedCfg u = PretrainedCfg.untrained(name, size, firstConv, classifier);
        return PretrainedCfgOverride.of(u, "bicubic", 0.9, u.mean(), u.std(), u.license());
    }
}
