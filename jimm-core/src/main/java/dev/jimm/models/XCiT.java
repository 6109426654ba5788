package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * XCiT (Cross-Covariance Image Transformers) as timm's {@code models/xcit.py} builds it: a convolutional patch
 * embedding, Fourier position encodings, blocks of cross-covariance attention (attention between channels, over the
 * L2-normalized token axis, with a learned temperature per head), local patch interaction (two depthwise 3x3
 * convolutions) and an MLP, each layer-scaled; then CaiT's class-attention blocks ({@link Cait.ClassAttn}) on a class
 * token. The attention is linear in the number of tokens and any input side divisible by the patch works.
 */
public final class XCiT extends ClassTokenModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /**
     * timm's {@code PositionalEncodingFourier}: sine / cosine encodings of each patch's normalized row and column (32
     * frequencies each), projected to the token width by a 1x1 convolution ({@code token_projection}).
     */
    static final class PositionalEncodingFourier extends Module {
        static final int HIDDEN = 32;
        private static final double TEMPERATURE = 10000;
        private static final double EPS = 1e-6;
        private final Conv2d tokenProjection;

        PositionalEncodingFourier(int dim) {
            tokenProjection = register("token_projection", new Conv2d(HIDDEN * 2, dim, 1, Conv2d.Options.defaults()));
        }

        /** The encodings of an h x w grid as tokens [1, h * w, dim]. */
        NDArray encode(NDManager manager, int h, int w) {
            float[] grid = new float[2 * HIDDEN * h * w];
            double scale = 2 * Math.PI;
            // as timm, in float32: positions 1..n over (n + eps), times 2 pi; frequencies 10000^(2 floor(j / 2) / 32)
            float[] ys = new float[h];
            for (int i = 0; i < h; i++) {
                ys[i] = (float) ((float) ((i + 1) / (float) (h + EPS)) * scale);
            }
            float[] xs = new float[w];
            for (int j = 0; j < w; j++) {
                xs[j] = (float) ((float) ((j + 1) / (float) (w + EPS)) * scale);
            }
            float[] dimT = new float[HIDDEN];
            for (int c = 0; c < HIDDEN; c++) {
                dimT[c] = (float) Math.pow(TEMPERATURE, (float) (2 * (c / 2)) / HIDDEN);
            }
            for (int c = 0; c < HIDDEN; c++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        // channels 0..31 encode the row, 32..63 the column; even ones sin, odd ones cos
                        double py = ys[i] / dimT[c];
                        double px = xs[j] / dimT[c];
                        grid[(c * h + i) * w + j] = (float) (c % 2 == 0 ? Math.sin((float) py) : Math.cos((float) py));
                        grid[((HIDDEN + c) * h + i) * w + j] =
                                (float) (c % 2 == 0 ? Math.sin((float) px) : Math.cos((float) px));
                    }
                }
            }
            // left to the input's manager: autograd keeps it for the projection's weight gradient
            NDArray pos = manager.create(grid, new Shape(1, 2 * HIDDEN, h, w));
            NDArray projected = tokenProjection.forward(pos);
            return projected.reshape(1, projected.getShape().get(1), -1).transpose(0, 2, 1);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            throw new UnsupportedOperationException("the Fourier encoding is computed from the grid size (encode)");
        }
    }

    /** A 3x3 stride-2 convolution without bias and a BatchNorm (timm's {@code conv3x3}: keys {@code 0}, {@code 1}). */
    private static Sequential conv3x3Bn(int in, int out) {
        return new Sequential(
                new Conv2d(
                        in,
                        out,
                        3,
                        Conv2d.Options.defaults().stride(2).padding(1).bias(false)),
                new BatchNorm2d(out));
    }

    /**
     * timm's {@code ConvPatchEmbed}: 4 (patch 16) or 3 (patch 8) stride-2 conv-BN layers with GELU between, flattened
     * to tokens.
     */
    static final class ConvPatchEmbed extends Module {
        private final Module proj;

        ConvPatchEmbed(int patchSize, int inChans, int dim) {
            List<Integer> widths = switch (patchSize) {
                case 16 -> List.of(inChans, dim / 8, dim / 4, dim / 2, dim);
                case 8 -> List.of(inChans, dim / 4, dim / 2, dim);
                default ->
                    throw new IllegalArgumentException(
                            "patchSize " + patchSize + ": XCiT's convolutional patch embedding takes 8 or 16");
            };
            Sequential seq = new Sequential();
            for (int i = 0; i + 1 < widths.size(); i++) {
                if (i > 0) {
                    seq.add(new Activation(Activation.Kind.GELU));
                }
                seq.add(conv3x3Bn(widths.get(i), widths.get(i + 1)));
            }
            proj = register("proj", seq);
        }

        /** The patch map [B, C, H / p, W / p]. */
        @Override
        protected NDArray forwardImpl(NDArray x) {
            return proj.forward(x);
        }
    }

    /**
     * timm's {@code LPI} (local patch interaction): depthwise 3x3 conv, GELU, BatchNorm, depthwise 3x3 conv on the
     * tokens laid out as their h x w grid.
     */
    static final class Lpi extends Module {
        private final Conv2d conv1;
        private final Module bn;
        private final Conv2d conv2;

        Lpi(int dim) {
            Conv2d.Options dw = Conv2d.Options.defaults().padding(1).groups(dim);
            conv1 = register("conv1", new Conv2d(dim, dim, 3, dw));
            register("act", new Activation(Activation.Kind.GELU));
            bn = register("bn", new BatchNorm2d(dim));
            conv2 = register("conv2", new Conv2d(dim, dim, 3, dw));
        }

        NDArray forward(NDArray x, long h, long w) {
            long[] s = x.getShape().getShape();
            NDArray map = x.transpose(0, 2, 1).reshape(s[0], s[2], h, w);
            map = conv2.forward(bn.forward(Activation.apply(Activation.Kind.GELU, conv1.forward(map))));
            return map.reshape(s[0], s[2], s[1]).transpose(0, 2, 1);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            throw new UnsupportedOperationException("LPI needs the token grid's height and width");
        }
    }

    /**
     * timm's {@code XCA}: cross-covariance attention. Queries and keys are L2-normalized along the tokens; the
     * attention is between the d channels of each head (d x d), scaled by the head's {@code temperature}.
     */
    static final class Xca extends Cait.HeadAttention {
        private final Parameter temperature;
        private final Linear qkv;
        private final Linear proj;

        Xca(int dim, int numHeads, boolean qkvBias) {
            super(dim, numHeads);
            temperature = parameter("temperature", numHeads, 1, 1);
            qkv = register("qkv", new Linear(dim, dim * 3, qkvBias));
            register("attn_drop", new Dropout(0f));
            proj = register("proj", new Linear(dim, dim));
            register("proj_drop", new Dropout(0f));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(temperature.getArray(), 1f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long[] s = x.getShape().getShape();
            long b = s[0];
            long n = s[1];
            long c = s[2];
            // [3, B, heads, d, N]: each head's channels as rows over the tokens
            NDArray packed =
                    qkv.forward(x).reshape(b, n, 3, numHeads, c / numHeads).transpose(2, 0, 3, 4, 1);
            NDArray q = l2Normalize(packed.get(0));
            NDArray k = l2Normalize(packed.get(1));
            NDArray attn =
                    q.matMul(k.swapAxes(-1, -2)).mul(temperature.getArray()).softmax(-1);
            NDArray out = attn.matMul(packed.get(2)).transpose(0, 3, 1, 2).reshape(b, n, c);
            return proj.forward(out);
        }

        /** PyTorch's F.normalize(x, dim=-1): x / max(‖x‖, 1e-12). */
        private static NDArray l2Normalize(NDArray x) {
            NDArray norm = x.square()
                    .sum(new int[] {x.getShape().dimension() - 1}, true)
                    .sqrt();
            return x.div(norm.clip(1e-12f, Float.MAX_VALUE));
        }
    }

    /** timm's {@code XCABlock}: layer-scaled XCA, local patch interaction and MLP, each behind a LayerNorm. */
    static final class XcaBlock extends GammaScaledBlock {
        private final Parameter gamma1;
        private final Parameter gamma3;
        private final Parameter gamma2;
        private final Module norm1;
        private final Module attn;
        private final Module dropPath1;
        private final Module norm3;
        private final Lpi localMp;
        private final Module dropPath3;
        private final Module norm2;
        private final Module mlp;
        private final Module dropPath2;

        XcaBlock(Config c, float dpr) {
            super(c.eta());
            int dim = c.embedDim();
            gamma1 = gamma("gamma1", dim);
            gamma3 = gamma("gamma3", dim);
            gamma2 = gamma("gamma2", dim);
            norm1 = register("norm1", new LayerNorm(dim, 1e-6f));
            attn = register("attn", new Xca(dim, c.numHeads(), true));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            norm3 = register("norm3", new LayerNorm(dim, 1e-6f));
            localMp = register("local_mp", new Lpi(dim));
            dropPath3 = register("drop_path3", DropPath.orIdentity(dpr));
            norm2 = register("norm2", new LayerNorm(dim, 1e-6f));
            mlp = register("mlp", new Mlp(dim, dim * 4, Activation.Kind.GELU));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
        }

        NDArray forward(NDArray x, long h, long w) {
            x = addScaled(x, attn.forward(norm1.forward(x)), gamma1, dropPath1);
            x = addScaled(x, localMp.forward(norm3.forward(x), h, w), gamma3, dropPath3);
            return addScaled(x, mlp.forward(norm2.forward(x)), gamma2, dropPath2);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            throw new UnsupportedOperationException("an XCA block needs the token grid's height and width");
        }
    }

    /**
     * timm's XCiT {@code ClassAttentionBlock}. Faithful to timm, the patch tokens change too: they gain their own
     * layer-scaled norm1 output, then (after norm2 when {@code tokensNorm}) are doubled by the residual.
     */
    static final class ClassAttentionBlock extends GammaScaledBlock {
        private final boolean tokensNorm;
        private final Parameter gamma1;
        private final Parameter gamma2;
        private final Module norm1;
        private final Module attn;
        private final Module norm2;
        private final Module mlp;

        ClassAttentionBlock(Config c) {
            super(c.eta());
            int dim = c.embedDim();
            tokensNorm = c.tokensNorm();
            gamma1 = gamma("gamma1", dim);
            gamma2 = gamma("gamma2", dim);
            norm1 = register("norm1", new LayerNorm(dim, 1e-6f));
            attn = register("attn", new Cait.ClassAttn(dim, c.numHeads(), true));
            register("drop_path1", new Identity());
            norm2 = register("norm2", new LayerNorm(dim, 1e-6f));
            mlp = register("mlp", new Mlp(dim, dim * 4, Activation.Kind.GELU));
            register("drop_path2", new Identity());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray xNorm1 = norm1.forward(x);
            NDArray xAttn = NDArrays.concat(new NDList(attn.forward(xNorm1), xNorm1.get(":, 1:")), 1);
            x = x.add(xAttn.mul(gamma1.getArray()));
            if (tokensNorm) {
                x = norm2.forward(x);
            } else {
                x = NDArrays.concat(new NDList(norm2.forward(x.get(":, 0:1")), x.get(":, 1:")), 1);
            }
            NDArray cls = mlp.forward(x.get(":, 0:1")).mul(gamma2.getArray());
            return x.add(NDArrays.concat(new NDList(cls, x.get(":, 1:")), 1));
        }
    }

    // ---- model ----------------------------------------------------------------------------------

    /**
     * One XCiT variant (MLP ratio 4, two class-attention blocks, Fourier positions, as every registered name).
     *
     * @param imgSize the input side of its pretrained weights (any side divisible by the patch works)
     * @param patchSize 8 or 16
     * @param embedDim token width
     * @param depth XCA blocks
     * @param numHeads attention heads
     * @param eta initial layer scale
     * @param tokensNorm whether class-attention blocks normalize every token (else only the class token)
     */
    public record Config(
            int imgSize, int patchSize, int embedDim, int depth, int numHeads, double eta, boolean tokensNorm) {
        /** Class-attention blocks of every registered variant. */
        public static final int CLS_ATTN_LAYERS = 2;

        public Config {
            if (patchSize != 8 && patchSize != 16) {
                throw new IllegalArgumentException("patchSize " + patchSize + ": XCiT takes 8 or 16");
            }
            if (imgSize % patchSize != 0) {
                throw new IllegalArgumentException(
                        "imgSize " + imgSize + " is not divisible by patchSize " + patchSize);
            }
            if (embedDim % numHeads != 0) {
                throw new IllegalArgumentException(
                        "embedDim " + embedDim + " is not divisible by numHeads " + numHeads);
            }
        }

        /** The same variant with weights for {@code size} inputs. */
        public Config imgSize(int size) {
            return new Config(size, patchSize, embedDim, depth, numHeads, eta, tokensNorm);
        }
    }

    private final Config cfg;
    private final Parameter clsToken;
    private final ConvPatchEmbed patchEmbed;
    private final PositionalEncodingFourier posEmbed;
    private final List<XcaBlock> blocks = new ArrayList<>();
    private final Sequential clsAttnBlocks;
    private final Module norm;

    public XCiT(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int dim = cfg.embedDim();
        clsToken = parameter("cls_token", 1, 1, dim);
        patchEmbed = register("patch_embed", new ConvPatchEmbed(cfg.patchSize(), inChans, dim));
        posEmbed = register("pos_embed", new PositionalEncodingFourier(dim));
        register("pos_drop", new Dropout(0f));
        Sequential seq = new Sequential();
        // timm gives every block the same drop-path rate
        float dpr = (float) args.dropPathRate();
        for (int i = 0; i < cfg.depth(); i++) {
            XcaBlock b = new XcaBlock(cfg, dpr);
            seq.add(b);
            blocks.add(b);
            addFeatureInfo(dim, cfg.patchSize(), "blocks." + i, i);
        }
        register("blocks", seq);
        clsAttnBlocks = new Sequential();
        for (int i = 0; i < Config.CLS_ATTN_LAYERS; i++) {
            clsAttnBlocks.add(new ClassAttentionBlock(cfg));
        }
        register("cls_attn_blocks", clsAttnBlocks);
        norm = registerNormAndHead(dim);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        initClassTokenAndLinears(clsToken, random);
    }

    /** Runs the patch embedding and the XCA blocks up to {@code last}, collecting the chosen blocks' outputs. */
    private NDArray forwardBlocks(NDArray x, int last, boolean[] take, List<NDArray> out) {
        NDArray map = patchEmbed.forward(x);
        long h = map.getShape().get(2);
        long w = map.getShape().get(3);
        long b = map.getShape().get(0);
        NDArray tokens = map.reshape(b, map.getShape().get(1), -1).transpose(0, 2, 1);
        tokens = tokens.add(posEmbed.encode(x.getManager(), (int) h, (int) w));
        for (int i = 0; i <= last; i++) {
            tokens = blocks.get(i).forward(tokens, h, w);
            if (take != null && take[i]) {
                out.add(tokens.reshape(b, h, w, -1).transpose(0, 3, 1, 2));
            }
        }
        return tokens;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        NDArray tokens = forwardBlocks(x, blocks.size() - 1, null, null);
        NDArray cls = VitParts.expandToBatch(clsToken, tokens);
        return norm.forward(clsAttnBlocks.forward(NDArrays.concat(new NDList(cls, tokens), 1)));
    }

    /** Each chosen block's patch tokens as an NCHW map (the class token joins later), as timm's intermediates. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        int[] chosen = resolveIndices(indices);
        boolean[] take = new boolean[blocks.size()];
        int last = -1;
        for (int i : chosen) {
            take[i] = true;
            last = Math.max(last, i);
        }
        List<NDArray> maps = new ArrayList<>();
        forwardBlocks(x, last, take, maps);
        // in the order asked for
        NDList out = new NDList();
        for (int i : chosen) {
            int rank = 0;
            for (int j = 0; j < i; j++) {
                rank += take[j] ? 1 : 0;
            }
            out.add(maps.get(rank));
        }
        return out;
    }

    /**
     * timm's checkpoint_filter_fn: Facebook's {@code pos_embeder.} keys renamed, and packed class-attention {@code qkv}
     * projections split into {@code q}, {@code k}, {@code v}.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("pos_embed")) {
                k = k.replace("pos_embeder.", "pos_embed.");
            }
            if (k.startsWith("cls_attn_blocks.") && k.contains(".attn.qkv.")) {
                String prefix = k.substring(0, k.indexOf(".attn.qkv.") + ".attn.".length());
                String suffix = k.substring(k.lastIndexOf('.'));
                NDList parts = e.getValue().split(3, 0);
                out.put(prefix + "q" + suffix, parts.get(0));
                out.put(prefix + "k" + suffix, parts.get(1));
                out.put(prefix + "v" + suffix, parts.get(2));
            } else {
                out.put(k, e.getValue());
            }
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's xcit_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "xcit";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            for (int patch : new int[] {16, 8}) {
                Config nano12 = new Config(224, patch, 128, 12, 4, 1.0, false);
                Config tiny12 = new Config(224, patch, 192, 12, 4, 1.0, true);
                Config small12 = new Config(224, patch, 384, 12, 8, 1.0, true);
                Config tiny24 = new Config(224, patch, 192, 24, 4, 1e-5, true);
                Config small24 = new Config(224, patch, 384, 24, 8, 1e-5, true);
                Config medium24 = new Config(224, patch, 512, 24, 8, 1e-5, true);
                Config large24 = new Config(224, patch, 768, 24, 16, 1e-5, true);
                both(m, "xcit_nano_12_p" + patch, nano12);
                both(m, "xcit_tiny_12_p" + patch, tiny12);
                both(m, "xcit_small_12_p" + patch, small12);
                both(m, "xcit_tiny_24_p" + patch, tiny24);
                both(m, "xcit_small_24_p" + patch, small24);
                both(m, "xcit_medium_24_p" + patch, medium24);
                both(m, "xcit_large_24_p" + patch, large24);
            }
            return m;
        }

        /** The variant at 224 and at 384 (weights fine-tuned at 384). */
        private static void both(List<ModelEntry> m, String stem, Config c) {
            add(m, stem + "_224", c);
            add(m, stem + "_384", c.imgSize(384));
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(
                    name,
                    "xcit",
                    args -> new XCiT(c, args),
                    PretrainedCfg.untrained(name, c.imgSize(), "patch_embed.proj.0.0", "head"),
                    "token"));
        }
    }
}
