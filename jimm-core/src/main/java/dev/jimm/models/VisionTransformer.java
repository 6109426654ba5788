package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.AttentionPoolLatent;
import dev.jimm.layers.DiffAttention;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GluMlp;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.LayerScale;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.PatchEmbed;
import dev.jimm.layers.PosEmbed;
import dev.jimm.layers.RmsNorm;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SwiGlu;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * The Vision Transformer as timm's {@code models/vision_transformer.py} builds it: patch embedding, class and register
 * tokens, learned position embeddings, pre-norm transformer blocks (with LayerScale where configured), and a token /
 * average / max pooled head with {@code norm} or {@code fc_norm}. Torchvision's ViTs ({@code tv/vit_*}) are
 * {@link TvVisionTransformer}, with torchvision's own state_dict keys.
 */
public class VisionTransformer extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** The MLP activations of the registered variants. */
    public enum Act {
        /** exact (erf) GELU, PyTorch's nn.GELU() */
        GELU,
        /** tanh-approximated GELU (SigLIP) */
        GELU_TANH,
        /** OpenAI CLIP's x·sigmoid(1.702x) */
        QUICK_GELU,
        /** SiLU, the gate activation of the SwiGLU MLPs */
        SILU;

        Activation.Kind kind() {
            return switch (this) {
                case GELU -> Activation.Kind.GELU;
                case GELU_TANH -> Activation.Kind.GELU_TANH;
                case SILU -> Activation.Kind.SILU;
                case QUICK_GELU -> throw new IllegalArgumentException("QuickGELU has no shared activation kind");
            };
        }
    }

    /** The norm layer of a variant. */
    public enum Norm {
        LAYER,
        RMS
    }

    /** The MLP of a block. */
    public enum MlpKind {
        /** fc1, act, fc2 */
        MLP,
        /** timm's SwiGLU: separate fc1_g and fc1_x (AIMv2) */
        SWIGLU,
        /** timm's SwiGLUPacked: one fc1 whose first half is the SiLU gate (DINOv2 giant) */
        SWIGLU_PACKED
    }

    /** The block structure. */
    public enum BlockKind {
        /** pre-norm residual blocks (timm's Block) */
        PRE_NORM,
        /** norm after attention / MLP inside the residual (timm's ResPostBlock) */
        RES_POST,
        /** two parallel attentions, then two parallel MLPs (timm's ParallelThingsBlock) */
        PARALLEL2,
        /** attention and MLP in parallel from one fused input projection (timm's ParallelScalingBlock) */
        PARALLEL_SCALING,
        /** the same with differential attention and one fused output projection (timm's DiffParallelScalingBlock) */
        DIFF_PARALLEL_SCALING
    }

    /**
     * The less common ViT options, kept apart so that the main config stays readable.
     *
     * @param norm LayerNorm or RmsNorm everywhere
     * @param mlp the MLP kind
     * @param projBias biases on the attention output projection and the MLP
     * @param embedNorm a norm on the patch embeddings (AIMv2)
     * @param scaleNorms norms inside attention (before proj) and the MLP (before fc2), BEiT-3
     * @param block the block structure
     * @param qkNorm per-head norms on queries and keys
     * @param diffAttn differential attention in the blocks
     */
    public record Extras(
            Norm norm,
            MlpKind mlp,
            boolean projBias,
            boolean embedNorm,
            boolean scaleNorms,
            BlockKind block,
            boolean qkNorm,
            boolean diffAttn) {
        public static final Extras DEFAULT = new Builder().build();

        /** A builder starting from this value. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** Differential attention (timm's attn_layer='diff'). */
        public Extras withDiffAttn() {
            return toBuilder().diffAttn(true).build();
        }

        /** Norms on each head's queries and keys (only in parallel-scaling blocks here). */
        public Extras withQkNorm() {
            return toBuilder().qkNorm(true).build();
        }

        public Extras norm(Norm v) {
            return toBuilder().norm(v).build();
        }

        public Extras mlp(MlpKind v) {
            return toBuilder().mlp(v).build();
        }

        public Extras noProjBias() {
            return toBuilder().projBias(false).build();
        }

        public Extras withEmbedNorm() {
            return toBuilder().embedNorm(true).build();
        }

        public Extras withScaleNorms() {
            return toBuilder().scaleNorms(true).build();
        }

        public Extras block(BlockKind v) {
            return toBuilder().block(v).build();
        }

        /** Sets {@link Extras} fields by name, from the classic ViT's values. */
        public static final class Builder {
            private Norm norm = Norm.LAYER;
            private MlpKind mlp = MlpKind.MLP;
            private boolean projBias = true;
            private boolean embedNorm = false;
            private boolean scaleNorms = false;
            private BlockKind block = BlockKind.PRE_NORM;
            private boolean qkNorm = false;
            private boolean diffAttn = false;

            private Builder() {}

            private Builder(Extras e) {
                norm = e.norm;
                mlp = e.mlp;
                projBias = e.projBias;
                embedNorm = e.embedNorm;
                scaleNorms = e.scaleNorms;
                block = e.block;
                qkNorm = e.qkNorm;
                diffAttn = e.diffAttn;
            }

            public Builder norm(Norm v) {
                norm = v;
                return this;
            }

            public Builder mlp(MlpKind v) {
                mlp = v;
                return this;
            }

            public Builder projBias(boolean v) {
                projBias = v;
                return this;
            }

            public Builder embedNorm(boolean v) {
                embedNorm = v;
                return this;
            }

            public Builder scaleNorms(boolean v) {
                scaleNorms = v;
                return this;
            }

            public Builder block(BlockKind v) {
                block = v;
                return this;
            }

            public Builder qkNorm(boolean v) {
                qkNorm = v;
                return this;
            }

            public Builder diffAttn(boolean v) {
                diffAttn = v;
                return this;
            }

            public Extras build() {
                return new Extras(norm, mlp, projBias, embedNorm, scaleNorms, block, qkNorm, diffAttn);
            }
        }
    }

    /** A norm layer of the variant over {@code dim} channels. */
    static Module newNorm(Config c, int dim) {
        return c.extras().norm() == Norm.RMS ? new RmsNorm(dim, c.normEps()) : new LayerNorm(dim, c.normEps());
    }

    static Module newAttention(Config c, int depth, float projDrop, float attnDrop) {
        int dim = c.embedDim();
        if (c.extras().diffAttn()) {
            return new DiffAttention(
                    dim,
                    c.numHeads(),
                    c.qkvBias(),
                    c.extras().projBias(),
                    c.extras().scaleNorms() ? newNorm(c, dim) : null,
                    depth);
        }
        return new Attention(
                dim,
                c.numHeads(),
                c.qkvBias(),
                c.extras().projBias(),
                c.extras().scaleNorms() ? newNorm(c, dim) : null,
                attnDrop,
                projDrop);
    }

    static Module newMlp(Config c, float projDrop) {
        int dim = c.embedDim();
        int hidden = (int) (dim * c.mlpRatio());
        boolean bias = c.extras().projBias();
        return switch (c.extras().mlp()) {
            case SWIGLU -> new SwiGlu(dim, hidden, dim, c.act().kind(), null, bias, projDrop, 0);
            case SWIGLU_PACKED -> new GluMlp(dim, hidden, dim, c.act().kind(), false, null, bias, projDrop);
            case MLP ->
                c.act() == Act.QUICK_GELU
                        ? new QuickGeluMlp(dim, hidden, projDrop)
                        : new Mlp(
                                dim,
                                hidden,
                                dim,
                                c.act().kind(),
                                projDrop,
                                c.extras().scaleNorms() ? newNorm(c, hidden) : null,
                                bias);
        };
    }

    /** LayerScale for a positive init_values, else an identity (no registered variant has init_values 0). */
    static Module layerScale(Config c) {
        return c.initValues() > 0 ? new LayerScale(c.embedDim(), (float) c.initValues()) : new Identity();
    }

    /** timm's {@code Block}: x + ls1(attn(norm1(x))), then x + ls2(mlp(norm2(x))). */
    static final class Block extends Module {
        private final Module norm1;
        private final Module attn;
        private final Module ls1;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module ls2;
        private final Module dropPath2;

        Block(Config c, int depth, float dropPath, float projDrop, float attnDrop) {
            int dim = c.embedDim();
            norm1 = register("norm1", newNorm(c, dim));
            attn = register("attn", newAttention(c, depth, projDrop, attnDrop));
            ls1 = register("ls1", layerScale(c));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            norm2 = register("norm2", newNorm(c, dim));
            mlp = register("mlp", newMlp(c, projDrop));
            ls2 = register("ls2", layerScale(c));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = x.add(dropPath1.forward(ls1.forward(attn.forward(norm1.forward(x)))));
            return x.add(dropPath2.forward(ls2.forward(mlp.forward(norm2.forward(x)))));
        }
    }

    /** timm's {@code ResPostBlock}: x + norm1(attn(x)), then x + norm2(mlp(x)); norms start at init_values. */
    static final class ResPostBlock extends Module {
        private final Module attn;
        private final Module norm1;
        private final Module dropPath1;
        private final Module mlp;
        private final Module norm2;
        private final Module dropPath2;
        private final double initValues;

        ResPostBlock(Config c, int depth, float dropPath, float projDrop, float attnDrop) {
            int dim = c.embedDim();
            initValues = c.initValues();
            attn = register("attn", newAttention(c, depth, projDrop, attnDrop));
            norm1 = register("norm1", newNorm(c, dim));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dropPath));
            mlp = register("mlp", newMlp(c, projDrop));
            norm2 = register("norm2", newNorm(c, dim));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dropPath));
        }

        /** timm's ResPostBlock.init_weights: both norm weights set to init_values. */
        void initNorms() {
            if (initValues > 0) {
                Init.constant(norm1.directParameters().get("weight").getArray(), (float) initValues);
                Init.constant(norm2.directParameters().get("weight").getArray(), (float) initValues);
            }
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            initNorms();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = x.add(dropPath1.forward(norm1.forward(attn.forward(x))));
            return x.add(dropPath2.forward(norm2.forward(mlp.forward(x))));
        }
    }

    /**
     * timm's {@code ParallelThingsBlock} with two branches: attns.N = (norm, attn, ls, drop_path), ffns.N = (norm, mlp,
     * ls, drop_path).
     */
    static final class ParallelBlock extends Module {
        private final List<Module> attns = new ArrayList<>();
        private final List<Module> ffns = new ArrayList<>();

        ParallelBlock(Config c, int depth, int numParallel, float dropPath, float projDrop, float attnDrop) {
            NamedSequential a = register("attns", new NamedSequential());
            NamedSequential f = register("ffns", new NamedSequential());
            for (int i = 0; i < numParallel; i++) {
                NamedSequential branch = new NamedSequential();
                branch.add("norm", newNorm(c, c.embedDim()));
                branch.add("attn", newAttention(c, depth, projDrop, attnDrop));
                branch.add("ls", layerScale(c));
                branch.add("drop_path", DropPath.orIdentity(dropPath));
                a.add(Integer.toString(i), branch);
                attns.add(branch);
                NamedSequential ffn = new NamedSequential();
                ffn.add("norm", newNorm(c, c.embedDim()));
                ffn.add("mlp", newMlp(c, projDrop));
                ffn.add("ls", layerScale(c));
                ffn.add("drop_path", DropPath.orIdentity(dropPath));
                f.add(Integer.toString(i), ffn);
                ffns.add(ffn);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray sum = null;
            for (Module m : attns) {
                NDArray y = m.forward(x);
                sum = sum == null ? y : sum.add(y);
            }
            x = x.add(sum);
            sum = null;
            for (Module m : ffns) {
                NDArray y = m.forward(x);
                sum = sum == null ? y : sum.add(y);
            }
            return x.add(sum);
        }
    }

    /**
     * What timm's ParallelScalingBlock and DiffParallelScalingBlock share: one {@code in_proj} (after {@code in_norm})
     * gives the MLP hidden features and q, k, v; the output is x + drop_path(ls(out)).
     */
    abstract static class InProjBlock extends Module {
        private final Parameter mlpBias;
        private final Module inNorm;
        private final Linear inProj;
        private Module ls;
        private Module dropPath;
        final Activation.Kind act;
        final int dim;
        final int hidden;
        final int numHeads;

        /** Registers {@code in_norm}, {@code in_proj} and (without qkv_bias) {@code mlp_bias}. */
        InProjBlock(Config c) {
            dim = c.embedDim();
            numHeads = c.numHeads();
            hidden = (int) (c.mlpRatio() * dim);
            act = c.act().kind();
            inNorm = register("in_norm", newNorm(c, dim));
            inProj = register("in_proj", new Linear(dim, hidden + 3 * dim, c.qkvBias()));
            // with qkv_bias the MLP's bias is part of in_proj's; otherwise it is a separate parameter
            mlpBias = c.qkvBias() ? null : parameter("mlp_bias", hidden);
        }

        /** Registers {@code ls} and {@code drop_path}, the block's last modules. */
        final void registerTail(Config c, float dropPathRate) {
            ls = register("ls", layerScale(c));
            dropPath = register("drop_path", DropPath.orIdentity(dropPathRate));
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            if (mlpBias != null) {
                Init.constant(mlpBias.getArray(), 0f);
            }
        }

        /** in_proj(in_norm(x)) split into the MLP hidden features (with mlp_bias), q, k and v, each (B, N, C). */
        final NDList project(NDArray x) {
            NDArray y = inProj.forward(inNorm.forward(x));
            NDList parts = y.split(new long[] {hidden, hidden + dim, hidden + 2L * dim}, 2);
            if (mlpBias != null) {
                parts.set(0, parts.get(0).add(mlpBias.getArray()));
            }
            return parts;
        }

        /** x + drop_path(ls(out)). */
        final NDArray residual(NDArray x, NDArray out) {
            return x.add(dropPath.forward(ls.forward(out)));
        }
    }

    /**
     * timm's {@code ParallelScalingBlock} (ViT-22B style): one {@code in_proj} gives the MLP hidden features and q, k,
     * v; x + ls(attn_out_proj(attention) + mlp_out_proj(act(mlp))).
     */
    static final class ParallelScalingBlock extends InProjBlock {
        private final Module qNorm;
        private final Module kNorm;
        private final Linear attnOutProj;
        private final Linear mlpOutProj;

        ParallelScalingBlock(Config c, float dropPathRate, float projDrop, float attnDrop) {
            super(c);
            if (c.extras().scaleNorms()) {
                throw new IllegalArgumentException("ParallelScalingBlock does not support scale norms");
            }
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by numHeads " + numHeads);
            }
            int headDim = dim / numHeads;
            qNorm = register("q_norm", c.extras().qkNorm() ? newNorm(c, headDim) : new Identity());
            kNorm = register("k_norm", c.extras().qkNorm() ? newNorm(c, headDim) : new Identity());
            register("attn_drop", new Dropout(attnDrop));
            register("mlp_drop", new Dropout(projDrop));
            register("mlp_act", new Activation(act));
            attnOutProj =
                    register("attn_out_proj", new Linear(dim, dim, c.extras().projBias()));
            mlpOutProj =
                    register("mlp_out_proj", new Linear(hidden, dim, c.extras().projBias()));
            registerTail(c, dropPathRate);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long b = x.getShape().get(0);
            long n = x.getShape().get(1);
            long d = dim / numHeads;
            NDList parts = project(x);
            NDArray xMlp = parts.get(0);
            NDArray q = qNorm.forward(parts.get(1).reshape(b, n, numHeads, d)).transpose(0, 2, 1, 3);
            NDArray k = kNorm.forward(parts.get(2).reshape(b, n, numHeads, d)).transpose(0, 2, 1, 3);
            NDArray v = parts.get(3).reshape(b, n, numHeads, d).transpose(0, 2, 1, 3);
            NDArray xAttn = Attention.scaledDotProduct(q, k, v, 0f, isTraining())
                    .transpose(0, 2, 1, 3)
                    .reshape(b, n, dim);
            xMlp = Activation.apply(act, xMlp);
            return residual(x, attnOutProj.forward(xAttn).add(mlpOutProj.forward(xMlp)));
        }
    }

    /**
     * timm's {@code DiffParallelScalingBlock}: a parallel-scaling block whose attention is differential
     * ({@link DiffAttention}) and whose attention and MLP outputs share one {@code out_proj}.
     */
    static final class DiffParallelScalingBlock extends InProjBlock {
        private final Parameter lambdaQ1;
        private final Parameter lambdaK1;
        private final Parameter lambdaQ2;
        private final Parameter lambdaK2;
        private final Module subNorm;
        private final Linear outProj;
        private final int headDim;
        private final double lambdaInit;

        DiffParallelScalingBlock(Config c, int depth, float dropPathRate, float projDrop) {
            super(c);
            if (c.extras().scaleNorms() || c.extras().qkNorm()) {
                throw new IllegalArgumentException(
                        "DiffParallelScalingBlock supports neither scale norms nor qk-norm here");
            }
            if (dim % (2 * numHeads) != 0) {
                throw new IllegalArgumentException("dim " + dim + " is not divisible by 2 * numHeads " + numHeads);
            }
            headDim = dim / numHeads / 2;
            lambdaInit = 0.8 - 0.6 * Math.exp(-0.3 * depth);
            register("q_norm", new Identity());
            register("k_norm", new Identity());
            register("attn_drop", new Dropout(0f));
            subNorm = register("sub_norm", new RmsNorm(2 * headDim, 1e-5f));
            lambdaQ1 = parameter("lambda_q1", headDim);
            lambdaK1 = parameter("lambda_k1", headDim);
            lambdaQ2 = parameter("lambda_q2", headDim);
            lambdaK2 = parameter("lambda_k2", headDim);
            register("mlp_drop", new Dropout(projDrop));
            register("mlp_act", new Activation(act));
            outProj = register(
                    "out_proj", new Linear(dim + hidden, dim, c.extras().projBias()));
            registerTail(c, dropPathRate);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            super.resetParameters(random);
            Init.normal(lambdaQ1.getArray(), 0.1, random);
            Init.normal(lambdaK1.getArray(), 0.1, random);
            Init.normal(lambdaQ2.getArray(), 0.1, random);
            Init.normal(lambdaK2.getArray(), 0.1, random);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            long b = x.getShape().get(0);
            long n = x.getShape().get(1);
            NDList parts = project(x);
            NDArray xMlp = parts.get(0);
            NDArray q = parts.get(1).reshape(b, n, 2L * numHeads, headDim).transpose(0, 2, 1, 3);
            NDArray k = parts.get(2).reshape(b, n, 2L * numHeads, headDim).transpose(0, 2, 1, 3);
            NDArray v = parts.get(3).reshape(b, n, numHeads, 2L * headDim).transpose(0, 2, 1, 3);
            NDArray lambda = lambdaQ1.getArray()
                    .mul(lambdaK1.getArray())
                    .sum()
                    .exp()
                    .sub(lambdaQ2.getArray().mul(lambdaK2.getArray()).sum().exp())
                    .add((float) lambdaInit);
            NDArray xAttn = DiffAttention.differential(q, k, v, lambda, headDim, numHeads);
            xAttn = Scalars.mul(subNorm.forward(xAttn), 1 - lambdaInit)
                    .transpose(0, 2, 1, 3)
                    .reshape(b, n, dim);
            xMlp = Activation.apply(act, xMlp);
            return residual(x, outProj.forward(NDArrays.concat(new NDList(xAttn, xMlp), 2)));
        }
    }

    /** timm's {@code Mlp} with OpenAI's QuickGELU, which the shared Mlp's activations do not cover. */
    static final class QuickGeluMlp extends Module {
        private final Module fc1;
        private final Module norm;
        private final Module fc2;
        private final float drop;

        QuickGeluMlp(int dim, int hidden, float drop) {
            this.drop = drop;
            fc1 = register("fc1", new Linear(dim, hidden));
            norm = register("norm", new Identity());
            fc2 = register("fc2", new Linear(hidden, dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = fc1.forward(x);
            x = x.mul(Scalars.mul(x, 1.702f).getNDArrayInternal().sigmoid());
            x = Dropout.apply(x, drop, isTraining());
            x = fc2.forward(norm.forward(x));
            return Dropout.apply(x, drop, isTraining());
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A ViT variant, as the keyword arguments of timm's VisionTransformer.
     *
     * @param imgSize the input size the position embeddings are built for
     * @param patchSize patch side
     * @param embedDim token width
     * @param depth number of blocks
     * @param numHeads attention heads
     * @param mlpRatio MLP hidden width over the token width
     * @param qkvBias bias on the qkv projections
     * @param initValues LayerScale init (0: no LayerScale)
     * @param classToken a class token in front of the patches
     * @param noEmbedClass position embeddings for the patches only (DeiT III, FlexiViT, reg models)
     * @param regTokens number of register tokens
     * @param preNorm a norm after the embeddings (CLIP); the patch projection then has no bias
     * @param finalNorm a norm after the blocks (as {@code norm} or, when pooling by average, {@code fc_norm})
     * @param fcNorm the final norm after pooling instead of before; null for timm's default (after pooling for
     *     avg/avgmax/max)
     * @param globalPool the default pooling: "token", "avg", "avgmax", "max" or ""
     * @param normEps LayerNorm epsilon (1e-6, CLIP's 1e-5)
     * @param act MLP activation
     * @param strictImgSize refuse inputs of other sizes (timm's dynamic_img_size=False); all registered variants run at
     *     their built size
     * @param poolIncludePrefix pool over the prefix tokens too (timm's pool_include_prefix)
     * @param extras norm, MLP and block kinds beyond the classic ViT
     */
    public record Config(
            int imgSize,
            int patchSize,
            int embedDim,
            int depth,
            int numHeads,
            double mlpRatio,
            boolean qkvBias,
            double initValues,
            boolean classToken,
            boolean noEmbedClass,
            int regTokens,
            boolean preNorm,
            boolean finalNorm,
            Boolean fcNorm,
            String globalPool,
            float normEps,
            Act act,
            boolean strictImgSize,
            boolean poolIncludePrefix,
            Extras extras) {

        public Config {
            if (imgSize <= 0 || patchSize <= 0 || embedDim <= 0 || depth <= 0 || numHeads <= 0) {
                throw new IllegalArgumentException("imgSize " + imgSize + ", patchSize " + patchSize + ", embedDim "
                        + embedDim + ", depth " + depth + " and numHeads " + numHeads + " must be positive");
            }
            if (act == null || extras == null) {
                throw new IllegalArgumentException("a ViT config needs an activation and extras (Extras.DEFAULT)");
            }
            if (!List.of("", "token", "avg", "avgmax", "max", "map").contains(globalPool)) {
                throw new IllegalArgumentException(
                        "globalPool '" + globalPool + "' is not token, avg, avgmax, max, map or ''");
            }
            if (!classToken && globalPool.equals("token")) {
                throw new IllegalArgumentException("globalPool 'token' needs a class token");
            }
        }

        /** timm's defaults with the given size, patch and widths. */
        public static Config of(int imgSize, int patchSize, int embedDim, int depth, int numHeads) {
            return builder()
                    .imgSize(imgSize)
                    .patchSize(patchSize)
                    .embedDim(embedDim)
                    .depth(depth)
                    .numHeads(numHeads)
                    .build();
        }

        /** A builder starting from timm's defaults (set at least the size, patch and widths). */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder starting from this config's values. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        public Config imgSize(int v) {
            return toBuilder().imgSize(v).build();
        }

        public Config mlpRatio(double v) {
            return toBuilder().mlpRatio(v).build();
        }

        public Config noQkvBias() {
            return toBuilder().qkvBias(false).build();
        }

        public Config initValues(double v) {
            return toBuilder().initValues(v).build();
        }

        /** No class token and average pooling with the given fc_norm choice (timm's "gap" variants). */
        public Config gap(Boolean newFcNorm) {
            return toBuilder()
                    .classToken(false)
                    .fcNorm(newFcNorm)
                    .globalPool("avg")
                    .build();
        }

        /** Average pooling, keeping the class token (EVA's fine-tuned heads). */
        public Config avgPool() {
            return toBuilder().globalPool("avg").build();
        }

        public Config withNoEmbedClass() {
            return toBuilder().noEmbedClass(true).build();
        }

        public Config regTokens(int v) {
            return toBuilder().regTokens(v).build();
        }

        /** OpenAI CLIP's tower: a norm before the blocks, LayerNorm eps 1e-5. */
        public Config clip() {
            return toBuilder().preNorm(true).normEps(1e-5f).build();
        }

        /** No class token and attention pooling ("map", SigLIP). */
        public Config map() {
            return toBuilder().classToken(false).globalPool("map").build();
        }

        public Config includePrefixInPool() {
            return toBuilder().poolIncludePrefix(true).build();
        }

        public Config extras(Extras v) {
            return toBuilder().extras(v).build();
        }

        /** Another LayerNorm / RmsNorm epsilon. */
        public Config normEps(float v) {
            return toBuilder().normEps(v).build();
        }

        public Config noFinalNorm() {
            return toBuilder().finalNorm(false).build();
        }

        public Config act(Act v) {
            return toBuilder().act(v).build();
        }

        /** Sets a {@link Config}'s fields by name; {@link #build} checks them. */
        public static final class Builder {
            private int imgSize;
            private int patchSize;
            private int embedDim;
            private int depth;
            private int numHeads;
            private double mlpRatio = 4.0;
            private boolean qkvBias = true;
            private double initValues = 0;
            private boolean classToken = true;
            private boolean noEmbedClass = false;
            private int regTokens = 0;
            private boolean preNorm = false;
            private boolean finalNorm = true;
            private Boolean fcNorm = null;
            private String globalPool = "token";
            private float normEps = 1e-6f;
            private Act act = Act.GELU;
            private boolean strictImgSize = true;
            private boolean poolIncludePrefix = false;
            private Extras extras = Extras.DEFAULT;

            private Builder() {}

            private Builder(Config c) {
                imgSize = c.imgSize;
                patchSize = c.patchSize;
                embedDim = c.embedDim;
                depth = c.depth;
                numHeads = c.numHeads;
                mlpRatio = c.mlpRatio;
                qkvBias = c.qkvBias;
                initValues = c.initValues;
                classToken = c.classToken;
                noEmbedClass = c.noEmbedClass;
                regTokens = c.regTokens;
                preNorm = c.preNorm;
                finalNorm = c.finalNorm;
                fcNorm = c.fcNorm;
                globalPool = c.globalPool;
                normEps = c.normEps;
                act = c.act;
                strictImgSize = c.strictImgSize;
                poolIncludePrefix = c.poolIncludePrefix;
                extras = c.extras;
            }

            public Builder imgSize(int v) {
                imgSize = v;
                return this;
            }

            public Builder patchSize(int v) {
                patchSize = v;
                return this;
            }

            public Builder embedDim(int v) {
                embedDim = v;
                return this;
            }

            public Builder depth(int v) {
                depth = v;
                return this;
            }

            public Builder numHeads(int v) {
                numHeads = v;
                return this;
            }

            public Builder mlpRatio(double v) {
                mlpRatio = v;
                return this;
            }

            public Builder qkvBias(boolean v) {
                qkvBias = v;
                return this;
            }

            public Builder initValues(double v) {
                initValues = v;
                return this;
            }

            public Builder classToken(boolean v) {
                classToken = v;
                return this;
            }

            public Builder noEmbedClass(boolean v) {
                noEmbedClass = v;
                return this;
            }

            public Builder regTokens(int v) {
                regTokens = v;
                return this;
            }

            public Builder preNorm(boolean v) {
                preNorm = v;
                return this;
            }

            public Builder finalNorm(boolean v) {
                finalNorm = v;
                return this;
            }

            public Builder fcNorm(Boolean v) {
                fcNorm = v;
                return this;
            }

            public Builder globalPool(String v) {
                globalPool = v;
                return this;
            }

            public Builder normEps(float v) {
                normEps = v;
                return this;
            }

            public Builder act(Act v) {
                act = v;
                return this;
            }

            public Builder strictImgSize(boolean v) {
                strictImgSize = v;
                return this;
            }

            public Builder poolIncludePrefix(boolean v) {
                poolIncludePrefix = v;
                return this;
            }

            public Builder extras(Extras v) {
                extras = v;
                return this;
            }

            /** The config, checked as the record's constructor checks it. */
            public Config build() {
                return new Config(
                        imgSize,
                        patchSize,
                        embedDim,
                        depth,
                        numHeads,
                        mlpRatio,
                        qkvBias,
                        initValues,
                        classToken,
                        noEmbedClass,
                        regTokens,
                        preNorm,
                        finalNorm,
                        fcNorm,
                        globalPool,
                        normEps,
                        act,
                        strictImgSize,
                        poolIncludePrefix,
                        extras);
            }
        }

        /** Tokens ahead of the patches: the class token and the registers. */
        public int numPrefixTokens() {
            return (classToken ? 1 : 0) + regTokens;
        }

        /** Whether the final norm sits after pooling, for a given pooling. */
        boolean useFcNorm(String pool) {
            return fcNorm == null ? List.of("avg", "avgmax", "max").contains(pool) : fcNorm;
        }
    }

    protected final Config cfg;
    protected final PatchEmbed patchEmbed;
    protected final Parameter clsToken;
    protected final Parameter regToken;
    protected Parameter posEmbed;
    protected int numPrefixTokens;
    private final Module normPre;
    protected final List<Module> blocks = new ArrayList<>();
    protected final Module norm;
    protected Module attnPool;
    protected Module fcNorm;

    /**
     * A ViT of the given variant; {@link ModelArgs#imgSize()}, when set, replaces the variant's input size (timm's
     * {@code img_size}: the patch grid and the position embeddings follow it).
     */
    public VisionTransformer(Config cfg, ModelArgs args) {
        // the shared ImageModel knows only CNN poolings; ViT's own are checked here
        super(new ModelArgs(args.numClasses(), args.inChans(), "", args.dropRate(), args.dropPathRate()));
        cfg = args.imgSize() == null ? cfg : cfg.imgSize(args.imgSize());
        this.cfg = cfg;
        this.globalPool = validatePool(args.globalPool(), cfg.classToken());
        int dim = cfg.embedDim();
        boolean useFcNorm = cfg.useFcNorm(globalPool);

        patchEmbed = register(
                "patch_embed",
                new PatchEmbed(
                        cfg.imgSize(),
                        cfg.patchSize(),
                        inChans,
                        dim,
                        !cfg.preNorm(),
                        cfg.extras().embedNorm() ? newNorm(cfg, dim) : null,
                        true,
                        cfg.strictImgSize()));
        clsToken = cfg.classToken() ? parameter("cls_token", 1, 1, dim) : null;
        regToken = cfg.regTokens() > 0 ? parameter("reg_token", 1, cfg.regTokens(), dim) : null;
        numPrefixTokens = cfg.numPrefixTokens();
        int embedLen = patchEmbed.numPatches() + (cfg.noEmbedClass() ? 0 : numPrefixTokens);
        posEmbed = parameter("pos_embed", 1, embedLen, dim);
        register("pos_drop", new Dropout(0f));
        register("patch_drop", new Identity());
        normPre = register("norm_pre", cfg.preNorm() ? newNorm(cfg, dim) : new Identity());

        Config c = cfg; // the parameter is reassigned above, so the lambda takes this copy
        Sequential seq = VitParts.stackBlocks(
                this,
                VitParts.linearRates(args.dropPathRate(), cfg.depth()),
                dim,
                cfg.patchSize(),
                blocks,
                (i, dpr) -> switch (c.extras().block()) {
                    case PRE_NORM -> new Block(c, i, dpr, 0f, 0f);
                    case RES_POST -> new ResPostBlock(c, i, dpr, 0f, 0f);
                    case PARALLEL2 -> new ParallelBlock(c, i, 2, dpr, 0f, 0f);
                    case PARALLEL_SCALING -> new ParallelScalingBlock(c, dpr, 0f, 0f);
                    case DIFF_PARALLEL_SCALING -> new DiffParallelScalingBlock(c, i, dpr, 0f);
                });
        register("blocks", seq);
        norm = register("norm", cfg.finalNorm() && !useFcNorm ? newNorm(cfg, dim) : new Identity());
        attnPool = register("attn_pool", globalPool.equals("map") ? newAttnPool() : new Identity());
        fcNorm = register("fc_norm", cfg.finalNorm() && useFcNorm ? newNorm(cfg, dim) : new Identity());
        registerTokenClassifier(dim);
    }

    /** A classifier of {@code n} outputs on the token width, or an identity for none. */
    protected final Module newHead(int n) {
        return Linear.classifier(cfg.embedDim(), n);
    }

    private AttentionPoolLatent newAttnPool() {
        if (cfg.act() == Act.QUICK_GELU) {
            throw new IllegalArgumentException("attention pooling ('map') with QuickGELU is not supported");
        }
        return new AttentionPoolLatent(
                cfg.embedDim(),
                cfg.numHeads(),
                cfg.mlpRatio(),
                newNorm(cfg, cfg.embedDim()),
                cfg.act().kind());
    }

    static String validatePool(String pool, boolean classToken) {
        String p = pool == null ? "token" : pool;
        if (!List.of("", "token", "avg", "avgmax", "max", "map").contains(p)) {
            throw new IllegalArgumentException("globalPool '" + pool
                    + "' is not one of token, avg, avgmax, max, map or '' (no pooling) for a ViT");
        }
        if (p.equals("token") && !classToken) {
            throw new IllegalArgumentException("globalPool 'token' needs a class token; this ViT has none");
        }
        return p;
    }

    /** The variant this model was built from (at the input size it was built for). */
    public Config config() {
        return cfg;
    }

    /**
     * timm's ViT {@code checkpoint_filter_fn}: position embeddings of another grid (weights trained at another input
     * size) are resampled to this model's ({@link PosEmbed#resampleAbsPosEmbed}, prefix tokens kept; bicubic with
     * antialias, FlexiViT's bilinear without), and the old {@code pre_logits} layers dropped.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        long ownLen = posEmbed.getArray().getShape().get(1);
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            NDArray v = e.getValue();
            if (k.contains("pre_logits")) {
                continue;
            }
            if (k.equals("pos_embed")
                    && v.getShape().dimension() == 3
                    && v.getShape().get(1) != ownLen) {
                boolean flexi = name().contains("flexi");
                int grid = patchEmbed.gridSize();
                v = PosEmbed.resampleAbsPosEmbed(
                        v,
                        grid,
                        grid,
                        cfg.noEmbedClass() ? 0 : numPrefixTokens,
                        flexi ? "bilinear" : "bicubic",
                        !flexi);
            }
            out.put(k, v);
        }
        return out;
    }

    /** Tokens ahead of the patch tokens (class, distillation and register tokens). */
    public int numPrefixTokens() {
        return numPrefixTokens;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's init_weights(mode=''): std 0.02 is far inside trunc_normal_'s absolute [-2, 2]
        // bounds, so a plain normal draws the same distribution
        Init.normal(posEmbed.getArray(), 0.02, random);
        if (clsToken != null) {
            Init.normal(clsToken.getArray(), 1e-6, random);
        }
        if (regToken != null) {
            Init.normal(regToken.getArray(), 1e-6, random);
        }
        TimmInit.normalLinears(this, 0.02, random);
        // then the modules with their own init_weights, as timm's named_apply reaches them
        for (Module m : namedModules().values()) {
            if (m instanceof SwiGlu g) {
                g.initGate(random);
            } else if (m instanceof GluMlp g) {
                g.initGate(random);
            } else if (m instanceof ResPostBlock r) {
                r.initNorms();
            }
        }
        if (attnPool instanceof AttentionPoolLatent p) {
            p.initLatent(random);
        }
    }

    /** Patch tokens with the class / register tokens and position embeddings (timm's _pos_embed). */
    protected NDArray posEmbed(NDArray x) {
        return addPositions(x, VitParts.prefixTokens(x, clsToken, regToken));
    }

    /** Concatenates prefix tokens and adds positions, before or after the concat by noEmbedClass. */
    protected final NDArray addPositions(NDArray x, List<NDArray> prefix) {
        return VitParts.addPositions(x, prefix, posEmbed.getArray(), cfg.noEmbedClass());
    }

    private NDArray embed(NDArray x) {
        return normPre.forward(posEmbed(patchEmbed.forward(x)));
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(forwardTrunk(embed(x)));
    }

    /** timm's global_pool_nlc on tokens [B, N, C]. */
    protected NDArray pool(NDArray x) {
        int skip = cfg.poolIncludePrefix() ? 0 : numPrefixTokens;
        if (attnPool instanceof AttentionPoolLatent) {
            return attnPool.forward(skip == 0 ? x : x.get(":, " + skip + ":"));
        }
        return poolTokens(x, globalPool, skip);
    }

    /**
     * timm's global_pool_nlc without attention pooling: the first token ("token"), or the average / max / their mean
     * over the tokens after the first {@code skip}; "" keeps every token.
     */
    static NDArray poolTokens(NDArray x, String pool, int skip) {
        if (pool.isEmpty()) {
            return x;
        }
        if (pool.equals("token")) {
            return x.get(":, 0");
        }
        NDArray patches = skip == 0 ? x : x.get(":, " + skip + ":");
        return switch (pool) {
            case "avg" -> patches.mean(new int[] {1});
            case "max" -> patches.max(new int[] {1});
            case "avgmax" -> Scalars.mul(patches.max(new int[] {1}).add(patches.mean(new int[] {1})), 0.5f);
            default -> throw new IllegalStateException("globalPool '" + pool + "' is not a token pooling");
        };
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return tokenClassifier(fcNorm.forward(pool(x)), preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        // as timm, a classifier without pooling is applied to every token
        String pool = validatePool(newGlobalPool, cfg.classToken());
        VitParts.checkMapPool(pool, attnPool instanceof AttentionPoolLatent);
        if (!pool.equals("map") && attnPool instanceof AttentionPoolLatent) {
            attnPool = register("attn_pool", new Identity());
        }
        // as timm, fc_norm stays as built: changing the pooling does not move the final norm
        resetTokenClassifier(newNumClasses, pool);
    }

    /** Each chosen block's output as an NCHW map of the patch tokens (prefix tokens dropped), as timm. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        return forwardLevels(embed(x), indices, tokenMaps(x, cfg.patchSize(), numPrefixTokens));
    }

    /**
     * Reads the tokens [B, prefix + h * w, C] of {@code image}'s patches as an NCHW map of h x w (prefix tokens
     * dropped), as timm's intermediates.
     */
    static UnaryOperator<NDArray> tokenMaps(NDArray image, int patchSize, int prefix) {
        long b = image.getShape().get(0);
        long h = image.getShape().get(2) / patchSize;
        long w = image.getShape().get(3) / patchSize;
        return tokens -> {
            NDArray patches = prefix > 0 ? tokens.get(":, " + prefix + ":") : tokens;
            return patches.reshape(b, h, w, -1).transpose(0, 3, 1, 2);
        };
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** timm's fallback config for ViTs without pretrained tags: bicubic, crop 0.9, mean/std 0.5. */
    static PretrainedCfg vitCfg(String name, int size) {
        List<Double> half = List.of(0.5, 0.5, 0.5);
        return vitCfg(name, size, half, half, "head");
    }

    /** timm's ViT / DeiT {@code _cfg} at {@code size}: bicubic, crop 0.9, the given statistics and classifier(s). */
    static PretrainedCfg vitCfg(String name, int size, List<Double> mean, List<Double> std, String classifier) {
        return new PretrainedCfg(
                name,
                "",
                "",
                "",
                List.of(3, size, size),
                "bicubic",
                0.9,
                "center",
                mean,
                std,
                1000,
                "patch_embed.proj",
                classifier,
                "",
                "");
    }

    /** Registers the timm vision_transformer names this code builds (torchvision's: {@link TvVisionTransformer}). */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "vision_transformer";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Config ti16 = Config.of(224, 16, 192, 12, 3);
            Config s32 = Config.of(224, 32, 384, 12, 6);
            Config s16 = Config.of(224, 16, 384, 12, 6);
            Config s8 = Config.of(224, 8, 384, 12, 6);
            Config b32 = Config.of(224, 32, 768, 12, 12);
            Config b16 = Config.of(224, 16, 768, 12, 12);
            Config b8 = Config.of(224, 8, 768, 12, 12);
            Config l32 = Config.of(224, 32, 1024, 24, 16);
            Config l16 = Config.of(224, 16, 1024, 24, 16);
            Config l14 = Config.of(224, 14, 1024, 24, 16);
            Config h14 = Config.of(224, 14, 1280, 32, 16);
            Config g14 = Config.of(224, 14, 1408, 40, 16).mlpRatio(48.0 / 11);
            Config gg14 = Config.of(224, 14, 1664, 48, 16).mlpRatio(64.0 / 13);

            add(m, "vit_tiny_patch16_224", ti16);
            add(m, "vit_tiny_patch16_384", ti16.imgSize(384));
            add(m, "vit_small_patch32_224", s32);
            add(m, "vit_small_patch32_384", s32.imgSize(384));
            add(m, "vit_small_patch16_224", s16);
            add(m, "vit_small_patch16_384", s16.imgSize(384));
            add(m, "vit_small_patch8_224", s8);
            add(m, "vit_base_patch32_224", b32);
            add(m, "vit_base_patch32_384", b32.imgSize(384));
            add(m, "vit_base_patch16_224", b16);
            add(m, "vit_base_patch16_384", b16.imgSize(384));
            add(m, "vit_base_patch8_224", b8);
            add(m, "vit_large_patch32_224", l32);
            add(m, "vit_large_patch32_384", l32.imgSize(384));
            add(m, "vit_large_patch16_224", l16);
            add(m, "vit_large_patch16_384", l16.imgSize(384));
            add(m, "vit_large_patch14_224", l14);
            add(m, "vit_huge_patch14_224", h14);
            add(m, "vit_giant_patch14_224", g14);
            add(m, "vit_gigantic_patch14_224", gg14);
            add(m, "vit_base_patch16_224_miil", b16.noQkvBias());

            // global average pooling, no class token
            Config med16 = Config.of(224, 16, 512, 12, 8);
            Config bet16 = Config.of(224, 16, 640, 12, 10);
            Config medGap = med16.gap(false).noQkvBias().initValues(1e-6);
            add(m, "vit_medium_patch16_gap_240", medGap.imgSize(240));
            add(m, "vit_medium_patch16_gap_256", medGap.imgSize(256));
            add(m, "vit_medium_patch16_gap_384", medGap.imgSize(384));
            add(
                    m,
                    "vit_betwixt_patch16_gap_256",
                    bet16.gap(false).noQkvBias().initValues(1e-6).imgSize(256));
            add(m, "vit_base_patch16_gap_224", Config.of(224, 16, 768, 12, 16).gap(false));
            add(m, "vit_huge_patch14_gap_224", h14.gap(false));
            add(m, "vit_huge_patch16_gap_448", Config.of(448, 16, 1280, 32, 16).gap(false));
            add(
                    m,
                    "vit_giant_patch16_gap_224",
                    Config.of(224, 16, 1408, 40, 16).mlpRatio(48.0 / 11).gap(false));

            // CLIP image towers: pre-norm, LayerNorm eps 1e-5 (patch 16 unless named)
            add(m, "vit_xsmall_patch16_clip_224", Config.of(224, 16, 256, 10, 4).clip());
            add(m, "vit_medium_patch32_clip_224", Config.of(224, 32, 512, 12, 8).clip());
            add(m, "vit_medium_patch16_clip_224", med16.clip());
            add(
                    m,
                    "vit_betwixt_patch32_clip_224",
                    Config.of(224, 32, 640, 12, 10).clip());
            add(m, "vit_base_patch32_clip_224", b32.clip());
            add(m, "vit_base_patch32_clip_256", b32.clip().imgSize(256));
            add(m, "vit_base_patch32_clip_384", b32.clip().imgSize(384));
            add(m, "vit_base_patch32_clip_448", b32.clip().imgSize(448));
            add(m, "vit_base_patch16_clip_224", b16.clip());
            add(m, "vit_base_patch16_clip_384", b16.clip().imgSize(384));
            add(
                    m,
                    "vit_base_patch16_plus_clip_240",
                    Config.of(240, 16, 896, 12, 14).clip());
            add(m, "vit_large_patch14_clip_224", l14.clip());
            add(m, "vit_large_patch14_clip_336", l14.clip().imgSize(336));
            add(m, "vit_huge_patch14_clip_224", h14.clip());
            add(m, "vit_huge_patch14_clip_336", h14.clip().imgSize(336));
            add(m, "vit_huge_patch14_clip_378", h14.clip().imgSize(378));
            add(m, "vit_giant_patch14_clip_224", g14.clip());
            add(m, "vit_gigantic_patch14_clip_224", gg14.clip());
            add(m, "vit_gigantic_patch14_clip_378", gg14.clip().imgSize(378));
            add(m, "vit_base_patch32_clip_quickgelu_224", b32.clip().act(Act.QUICK_GELU));
            add(m, "vit_base_patch16_clip_quickgelu_224", b16.clip().act(Act.QUICK_GELU));
            add(m, "vit_large_patch14_clip_quickgelu_224", l14.clip().act(Act.QUICK_GELU));
            add(
                    m,
                    "vit_large_patch14_clip_quickgelu_336",
                    l14.clip().act(Act.QUICK_GELU).imgSize(336));
            add(m, "vit_huge_patch14_clip_quickgelu_224", h14.clip().act(Act.QUICK_GELU));
            add(
                    m,
                    "vit_huge_patch14_clip_quickgelu_378",
                    h14.clip().act(Act.QUICK_GELU).imgSize(378));
            add(m, "vit_gigantic_patch14_clip_quickgelu_224", gg14.clip().act(Act.QUICK_GELU));

            // LayerScale variants
            add(m, "vit_base_patch32_plus_256", Config.of(256, 32, 896, 12, 14).initValues(1e-5));
            add(m, "vit_base_patch16_plus_240", Config.of(240, 16, 896, 12, 14).initValues(1e-5));
            add(m, "vit_small_patch16_36x1_224", Config.of(224, 16, 384, 36, 6).initValues(1e-5));

            // EVA fine-tunes (avg pool with fc_norm), FlexiViT (patch-only position embeddings)
            add(m, "eva_large_patch14_196", l14.avgPool().imgSize(196));
            add(m, "eva_large_patch14_336", l14.avgPool().imgSize(336));
            add(m, "flexivit_small", s16.withNoEmbedClass().imgSize(240));
            add(m, "flexivit_base", b16.withNoEmbedClass().imgSize(240));
            add(m, "flexivit_large", l16.withNoEmbedClass().imgSize(240));

            // DINOv2 (518 px), with registers, and TIPSv2 (448 px)
            add(m, "vit_small_patch14_dinov2", Config.of(518, 14, 384, 12, 6).initValues(1e-5));
            add(m, "vit_base_patch14_dinov2", Config.of(518, 14, 768, 12, 12).initValues(1e-5));
            add(m, "vit_large_patch14_dinov2", Config.of(518, 14, 1024, 24, 16).initValues(1e-5));
            add(
                    m,
                    "vit_small_patch14_reg4_dinov2",
                    Config.of(518, 14, 384, 12, 6).initValues(1e-5).regTokens(4).withNoEmbedClass());
            add(
                    m,
                    "vit_base_patch14_reg4_dinov2",
                    Config.of(518, 14, 768, 12, 12)
                            .initValues(1e-5)
                            .regTokens(4)
                            .withNoEmbedClass());
            add(
                    m,
                    "vit_large_patch14_reg4_dinov2",
                    Config.of(518, 14, 1024, 24, 16)
                            .initValues(1e-5)
                            .regTokens(4)
                            .withNoEmbedClass());
            add(
                    m,
                    "vit_base_patch14_reg1_tipsv2",
                    Config.of(448, 14, 768, 12, 12).initValues(1.0).regTokens(1).withNoEmbedClass());
            add(
                    m,
                    "vit_large_patch14_reg1_tipsv2",
                    Config.of(448, 14, 1024, 24, 16)
                            .initValues(1.0)
                            .regTokens(1)
                            .withNoEmbedClass());
            add(
                    m,
                    "vit_so400m_patch14_reg1_tipsv2",
                    Config.of(448, 14, 1152, 27, 16)
                            .mlpRatio(4304.0 / 1152)
                            .initValues(1.0)
                            .regTokens(1)
                            .withNoEmbedClass());

            // SigLIP towers with attention pooling ("map")
            Config mb16 = b16.map();
            Config ml16 = l16.map();
            Config mso14 = Config.of(224, 14, 1152, 27, 16).mlpRatio(3.7362).map();
            Config mso16 =
                    Config.of(256, 16, 1152, 27, 16).mlpRatio(3.7362).map().act(Act.GELU_TANH);
            Config mgo16 = Config.of(256, 16, 1536, 40, 16).map().act(Act.GELU_TANH);
            add(m, "vit_base_patch32_siglip_256", b32.map().act(Act.GELU_TANH).imgSize(256));
            add(m, "vit_base_patch16_siglip_224", mb16);
            add(m, "vit_base_patch16_siglip_256", mb16.imgSize(256));
            add(m, "vit_base_patch16_siglip_384", mb16.imgSize(384));
            add(m, "vit_base_patch16_siglip_512", mb16.imgSize(512));
            add(m, "vit_large_patch16_siglip_256", ml16.imgSize(256));
            add(m, "vit_large_patch16_siglip_384", ml16.imgSize(384));
            add(m, "vit_large_patch16_siglip_512", ml16.act(Act.GELU_TANH).imgSize(512));
            add(m, "vit_so400m_patch14_siglip_224", mso14);
            add(m, "vit_so400m_patch14_siglip_378", mso14.imgSize(378));
            add(m, "vit_so400m_patch14_siglip_384", mso14.imgSize(384));
            add(m, "vit_so400m_patch16_siglip_256", mso16);
            add(m, "vit_so400m_patch16_siglip_384", mso16.imgSize(384));
            add(m, "vit_so400m_patch16_siglip_512", mso16.imgSize(512));
            add(m, "vit_giantopt_patch16_siglip_256", mgo16);
            add(m, "vit_giantopt_patch16_siglip_384", mgo16.imgSize(384));
            add(
                    m,
                    "vit_so150m_patch16_reg4_map_256",
                    Config.of(256, 16, 896, 18, 14).mlpRatio(2.572).map().regTokens(4));
            add(
                    m,
                    "test_vit3",
                    Config.of(160, 16, 96, 9, 3)
                            .mlpRatio(2)
                            .map()
                            .regTokens(1)
                            .includePrefixInPool()
                            .initValues(1e-5));

            // SigLIP towers with average pooling
            Config sb32 = b32.gap(false).act(Act.GELU_TANH);
            Config sb16 = b16.gap(false);
            Config sl16 = l16.gap(false);
            Config so14 = Config.of(224, 14, 1152, 27, 16).mlpRatio(3.7362).gap(false);
            Config so16 =
                    Config.of(224, 16, 1152, 27, 16).mlpRatio(3.7362).gap(false).act(Act.GELU_TANH);
            Config go16 = Config.of(224, 16, 1536, 40, 16).gap(false).act(Act.GELU_TANH);
            add(m, "vit_base_patch32_siglip_gap_256", sb32.imgSize(256));
            add(m, "vit_base_patch16_siglip_gap_224", sb16);
            add(m, "vit_base_patch16_siglip_gap_256", sb16.imgSize(256));
            add(m, "vit_base_patch16_siglip_gap_384", sb16.imgSize(384));
            add(m, "vit_base_patch16_siglip_gap_512", sb16.imgSize(512));
            add(m, "vit_large_patch16_siglip_gap_256", sl16.imgSize(256));
            add(m, "vit_large_patch16_siglip_gap_384", sl16.imgSize(384));
            add(m, "vit_large_patch16_siglip_gap_512", sl16.act(Act.GELU_TANH).imgSize(512));
            add(m, "vit_so400m_patch14_siglip_gap_224", so14);
            add(m, "vit_so400m_patch14_siglip_gap_378", so14.imgSize(378));
            add(m, "vit_so400m_patch14_siglip_gap_384", so14.imgSize(384));
            add(m, "vit_so400m_patch14_siglip_gap_448", so14.imgSize(448));
            add(m, "vit_so400m_patch14_siglip_gap_896", so14.imgSize(896));
            add(m, "vit_so400m_patch16_siglip_gap_256", so16.imgSize(256));
            add(m, "vit_so400m_patch16_siglip_gap_384", so16.imgSize(384));
            add(m, "vit_so400m_patch16_siglip_gap_512", so16.imgSize(512));
            add(m, "vit_giantopt_patch16_siglip_gap_256", go16.imgSize(256));
            add(m, "vit_giantopt_patch16_siglip_gap_384", go16.imgSize(384));

            // register-token models with average pooling (patch 16, 256 px unless named)
            Config reg =
                    Config.of(256, 16, 256, 14, 4).initValues(1e-5).gap(null).withNoEmbedClass();
            add(m, "vit_wee_patch16_reg1_gap_256", reg.mlpRatio(5).regTokens(1));
            Config little = Config.of(256, 16, 320, 14, 5)
                    .initValues(1e-5)
                    .mlpRatio(5.6)
                    .gap(null)
                    .withNoEmbedClass();
            add(m, "vit_little_patch16_reg1_gap_256", little.regTokens(1));
            add(m, "vit_little_patch16_reg4_gap_256", little.regTokens(4));
            Config medReg =
                    Config.of(256, 16, 512, 12, 8).initValues(1e-5).gap(null).withNoEmbedClass();
            add(m, "vit_medium_patch16_reg1_gap_256", medReg.regTokens(1));
            add(m, "vit_medium_patch16_reg4_gap_256", medReg.regTokens(4));
            Config medD = Config.of(256, 16, 512, 20, 8)
                    .initValues(1e-5)
                    .gap(null)
                    .withNoEmbedClass()
                    .regTokens(4);
            add(m, "vit_mediumd_patch16_reg4_gap_256", medD);
            add(m, "vit_mediumd_patch16_reg4_gap_384", medD.imgSize(384));
            Config betReg =
                    Config.of(256, 16, 640, 12, 10).initValues(1e-5).gap(null).withNoEmbedClass();
            add(m, "vit_betwixt_patch16_reg1_gap_256", betReg.regTokens(1));
            add(m, "vit_betwixt_patch16_reg4_gap_256", betReg.regTokens(4));
            add(m, "vit_betwixt_patch16_reg4_gap_384", betReg.regTokens(4).imgSize(384));
            add(
                    m,
                    "vit_base_patch16_reg4_gap_256",
                    Config.of(256, 16, 768, 12, 12).gap(null).withNoEmbedClass().regTokens(4));
            Config so150 =
                    Config.of(256, 16, 896, 18, 14).mlpRatio(2.572).gap(false).regTokens(4);
            add(m, "vit_so150m_patch16_reg4_gap_256", so150);
            add(m, "vit_so150m_patch16_reg4_gap_384", so150.imgSize(384));
            Config so150v2 = Config.of(256, 16, 832, 21, 13)
                    .mlpRatio(34.0 / 13)
                    .initValues(1e-5)
                    .noQkvBias()
                    .gap(null)
                    .regTokens(1);
            add(m, "vit_so150m2_patch16_reg1_gap_256", so150v2);
            add(m, "vit_so150m2_patch16_reg1_gap_384", so150v2.imgSize(384));
            add(m, "vit_so150m2_patch16_reg1_gap_448", so150v2.imgSize(448));

            // ResPostBlock and two-branch parallel blocks
            add(
                    m,
                    "vit_base_patch16_rpn_224",
                    Config.of(224, 16, 768, 12, 12)
                            .noQkvBias()
                            .initValues(1e-5)
                            .gap(null)
                            .extras(Extras.DEFAULT.block(BlockKind.RES_POST)));
            add(
                    m,
                    "vit_small_patch16_18x2_224",
                    Config.of(224, 16, 384, 18, 6).initValues(1e-5).extras(Extras.DEFAULT.block(BlockKind.PARALLEL2)));
            add(
                    m,
                    "vit_base_patch16_18x2_224",
                    Config.of(224, 16, 768, 18, 12).initValues(1e-5).extras(Extras.DEFAULT.block(BlockKind.PARALLEL2)));

            // DINOv2 / TIPSv2 giants with SwiGLUPacked MLPs
            Config giantGlu = Config.of(518, 14, 1536, 40, 24)
                    .initValues(1e-5)
                    .mlpRatio(2.66667 * 2)
                    .act(Act.SILU)
                    .extras(Extras.DEFAULT.mlp(MlpKind.SWIGLU_PACKED));
            add(m, "vit_giant_patch14_dinov2", giantGlu);
            add(m, "vit_giant_patch14_reg4_dinov2", giantGlu.regTokens(4).withNoEmbedClass());
            add(
                    m,
                    "vit_giant_patch14_reg1_tipsv2",
                    giantGlu.initValues(1.0).regTokens(1).withNoEmbedClass().imgSize(448));

            // AIMv2: RmsNorm (also on the patch embeddings), SwiGLU, no biases but the patch projection's
            Extras aim = Extras.DEFAULT
                    .norm(Norm.RMS)
                    .mlp(MlpKind.SWIGLU)
                    .noProjBias()
                    .withEmbedNorm();
            Config aimL = Config.of(224, 14, 1024, 24, 8)
                    .mlpRatio(2.75)
                    .gap(false)
                    .noQkvBias()
                    .act(Act.SILU)
                    .normEps(1e-5f)
                    .extras(aim);
            Config aimH = Config.of(224, 14, 1536, 24, 12)
                    .mlpRatio(2.6667)
                    .gap(false)
                    .noQkvBias()
                    .act(Act.SILU)
                    .normEps(1e-5f)
                    .extras(aim);
            Config aim1b = Config.of(224, 14, 2048, 24, 16)
                    .mlpRatio(2.75)
                    .gap(false)
                    .noQkvBias()
                    .act(Act.SILU)
                    .normEps(1e-5f)
                    .extras(aim);
            Config aim3b = Config.of(224, 14, 3072, 24, 24)
                    .mlpRatio(2.6667)
                    .gap(false)
                    .noQkvBias()
                    .act(Act.SILU)
                    .normEps(1e-5f)
                    .extras(aim);
            for (int size : new int[] {224, 336, 448}) {
                add(m, "aimv2_large_patch14_" + size, aimL.imgSize(size));
                add(m, "aimv2_huge_patch14_" + size, aimH.imgSize(size));
                add(m, "aimv2_1b_patch14_" + size, aim1b.imgSize(size));
                add(m, "aimv2_3b_patch14_" + size, aim3b.imgSize(size));
            }

            // BEiT-3 towers remapped to ViT: norms inside attention and MLP, avg pool with fc_norm
            Extras beit3 = Extras.DEFAULT.withScaleNorms();
            add(m, "beit3_base_patch16_224", b16.avgPool().normEps(1e-5f).extras(beit3));
            add(m, "beit3_large_patch16_224", l16.avgPool().normEps(1e-5f).extras(beit3));
            Config beit3g = Config.of(224, 14, 1408, 40, 16)
                    .mlpRatio(4.3637)
                    .avgPool()
                    .normEps(1e-5f)
                    .extras(beit3);
            add(m, "beit3_giant_patch14_224", beit3g);
            add(m, "beit3_giant_patch14_336", beit3g.imgSize(336));

            // parallel-scaling blocks (the differential-attention ones are not built here)
            Extras xp = Extras.DEFAULT
                    .norm(Norm.RMS)
                    .block(BlockKind.PARALLEL_SCALING)
                    .withQkNorm();
            add(
                    m,
                    "vit_base_patch16_xp_224",
                    b16.clip().normEps(1e-6f).withNoEmbedClass().noQkvBias().extras(xp));
            add(
                    m,
                    "vit_large_patch14_xp_224",
                    l14.clip().normEps(1e-6f).withNoEmbedClass().noQkvBias().extras(xp));
            add(
                    m,
                    "vit_huge_patch14_xp_224",
                    h14.clip().normEps(1e-6f).withNoEmbedClass().noQkvBias().extras(xp));
            add(
                    m,
                    "vit_pwee_patch16_reg1_gap_256",
                    Config.of(256, 16, 256, 16, 4)
                            .initValues(1e-5)
                            .mlpRatio(5)
                            .gap(null)
                            .withNoEmbedClass()
                            .regTokens(1)
                            .extras(Extras.DEFAULT.block(BlockKind.PARALLEL_SCALING)));

            Extras diff = Extras.DEFAULT.withDiffAttn();
            add(m, "vit_dwee_patch16_reg1_gap_256", reg.mlpRatio(5).regTokens(1).extras(diff));
            add(m, "vit_dlittle_patch16_reg1_gap_256", little.regTokens(1).extras(diff));
            add(
                    m,
                    "vit_dpwee_patch16_reg1_gap_256",
                    Config.of(256, 16, 256, 16, 4)
                            .initValues(1e-5)
                            .mlpRatio(5)
                            .gap(null)
                            .withNoEmbedClass()
                            .regTokens(1)
                            .extras(Extras.DEFAULT.block(BlockKind.DIFF_PARALLEL_SCALING)));

            add(
                    m,
                    "test_vit4",
                    Config.of(160, 16, 96, 9, 3)
                            .mlpRatio(3)
                            .gap(null)
                            .regTokens(1)
                            .initValues(1e-5)
                            .extras(Extras.DEFAULT.norm(Norm.RMS)));

            // timm builds these with dynamic_img_size; here they run at their default size only
            add(
                    m,
                    "vit_intern300m_patch14_448",
                    Config.of(448, 14, 1024, 24, 16).initValues(0.1).noFinalNorm());
            add(m, "test_vit", Config.of(160, 16, 64, 6, 2).mlpRatio(3));
            add(
                    m,
                    "test_vit2",
                    Config.of(160, 16, 64, 8, 2)
                            .mlpRatio(3)
                            .gap(null)
                            .regTokens(1)
                            .initValues(1e-5));

            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(
                            name,
                            "vision_transformer",
                            args -> new VisionTransformer(c, args),
                            vitCfg(name, c.imgSize()),
                            c.globalPool())
                    .takingImgSize());
        }
    }
}
