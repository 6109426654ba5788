package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.GluMlp;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.PatchEmbed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MLP-Mixer, ResMLP and gMLP as timm's {@code models/mlp_mixer.py} builds them: a patch embedding ({@code stem}) and
 * blocks that mix tokens with an MLP or a linear layer across the patch axis (so the input size is fixed by the
 * weights) and channels with an MLP. ResMLP replaces the norms with a per-channel {@link Affine} and scales its
 * branches ({@code ls1}, {@code ls2}); gMLP gates half of its channel MLP with a spatial projection.
 */
public final class MlpMixer extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** The block kinds of the family. */
    public enum BlockKind {
        /** MLP-Mixer's token-mixing and channel MLPs behind LayerNorms. */
        MIXER,
        /** ResMLP: an Affine "norm", one linear layer over the tokens, layer-scaled branches. */
        RES,
        /** gMLP: one channel MLP whose hidden half is gated by a spatial projection. */
        SPATIAL_GATING
    }

    /** The channel / token MLP kinds. */
    public enum MlpKind {
        /** timm's {@code Mlp} with GELU. */
        MLP,
        /** timm's {@code GluMlp} with SiLU (SwiGLU; the gate is the second half of fc1). */
        GLU_SILU
    }

    /** timm's {@code MixerBlock}: x + mlp_tokens(norm1(x)ᵀ)ᵀ, then x + mlp_channels(norm2(x)). */
    static final class MixerBlock extends Module {
        private final Module norm1;
        private final Module mlpTokens;
        private final Module dropPath;
        private final Module norm2;
        private final Module mlpChannels;

        MixerBlock(int dim, int seqLen, Config c, float dpr) {
            int tokensDim = (int) (c.tokensMlpRatio() * dim);
            int channelsDim = (int) (c.mlpRatio() * dim);
            norm1 = register("norm1", new LayerNorm(dim, 1e-6f));
            mlpTokens = register("mlp_tokens", newMlp(c.mlp(), seqLen, tokensDim));
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
            norm2 = register("norm2", new LayerNorm(dim, 1e-6f));
            mlpChannels = register("mlp_channels", newMlp(c.mlp(), dim, channelsDim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray t = mlpTokens.forward(norm1.forward(x).swapAxes(1, 2)).swapAxes(1, 2);
            x = x.add(dropPath.forward(t));
            return x.add(dropPath.forward(mlpChannels.forward(norm2.forward(x))));
        }
    }

    /** timm's ResMLP {@code Affine}: beta + alpha · x, per channel ({@code alpha}, {@code beta} of [1, 1, dim]). */
    public static final class Affine extends Module {
        private final Parameter alpha;
        private final Parameter beta;

        public Affine(int dim) {
            alpha = parameter("alpha", 1, 1, dim);
            beta = parameter("beta", 1, 1, dim);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.mul(alpha.getArray()).add(beta.getArray());
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(alpha.getArray(), 1f);
            Init.constant(beta.getArray(), 0f);
        }
    }

    /** timm's ResMLP {@code ResBlock}: x + ls1 · linear_tokens(norm1(x)ᵀ)ᵀ, then x + ls2 · mlp_channels(norm2(x)). */
    static final class ResBlock extends GammaScaledBlock {
        private final Parameter ls1;
        private final Parameter ls2;
        private final Module norm1;
        private final Module linearTokens;
        private final Module dropPath;
        private final Module norm2;
        private final Module mlpChannels;

        ResBlock(int dim, int seqLen, Config c, float dpr) {
            super(c.initValues());
            // own parameters first, as PyTorch's state_dict lists them
            ls1 = gamma("ls1", dim);
            ls2 = gamma("ls2", dim);
            norm1 = register("norm1", new Affine(dim));
            linearTokens = register("linear_tokens", new Linear(seqLen, seqLen));
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
            norm2 = register("norm2", new Affine(dim));
            mlpChannels = register("mlp_channels", newMlp(c.mlp(), dim, (int) (c.mlpRatio() * dim)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray t = linearTokens.forward(norm1.forward(x).swapAxes(1, 2)).swapAxes(1, 2);
            x = addScaled(x, t, ls1, dropPath);
            return addScaled(x, mlpChannels.forward(norm2.forward(x)), ls2, dropPath);
        }
    }

    /** timm's {@code SpatialGatingUnit}: u · proj(norm(v)ᵀ)ᵀ for the halves u, v of the channels. */
    static final class SpatialGatingUnit extends Module {
        private final Module norm;
        private final Linear proj;

        SpatialGatingUnit(int dim, int seqLen) {
            // nn.LayerNorm's default eps: timm passes no norm_layer to the gate
            norm = register("norm", new LayerNorm(dim / 2));
            proj = register("proj", new Linear(seqLen, seqLen));
        }

        /** timm's init_weights: the projection starts near zero with a bias of one, so the gate passes u. */
        void initGate(SplittableRandom random) {
            Init.normal(proj.weight().getArray(), 1e-6, random);
            Init.constant(proj.bias().getArray(), 1f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDList uv = x.split(2, 2);
            NDArray v = proj.forward(norm.forward(uv.get(1)).swapAxes(1, 2));
            return uv.get(0).mul(v.swapAxes(1, 2));
        }
    }

    /** timm's {@code GatedMlp} with a spatial gate: fc2(gate(GELU(fc1(x)))). */
    static final class GatedMlp extends Module {
        private final Module fc1;
        private final Module gate;
        private final Module fc2;

        GatedMlp(int dim, int hidden, int seqLen) {
            if (hidden % 2 != 0) {
                throw new IllegalArgumentException("gMLP hidden width " + hidden + " is odd; the gate halves it");
            }
            fc1 = register("fc1", new Linear(dim, hidden));
            gate = register("gate", new SpatialGatingUnit(hidden, seqLen));
            register("norm", new Identity());
            fc2 = register("fc2", new Linear(hidden / 2, dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return fc2.forward(gate.forward(Activation.apply(Activation.Kind.GELU, fc1.forward(x))));
        }
    }

    /** timm's {@code SpatialGatingBlock}: x + mlp_channels(norm(x)). */
    static final class SpatialGatingBlock extends Module {
        private final Module norm;
        private final Module mlpChannels;
        private final Module dropPath;

        SpatialGatingBlock(int dim, int seqLen, Config c, float dpr) {
            norm = register("norm", new LayerNorm(dim, 1e-6f));
            mlpChannels = register("mlp_channels", new GatedMlp(dim, (int) (c.mlpRatio() * dim), seqLen));
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.add(dropPath.forward(mlpChannels.forward(norm.forward(x))));
        }
    }

    static Module newMlp(MlpKind kind, int dim, int hidden) {
        return switch (kind) {
            case MLP -> new Mlp(dim, hidden, Activation.Kind.GELU);
            case GLU_SILU -> new GluMlp(dim, hidden, dim, Activation.Kind.SILU, true, null, true, 0f);
        };
    }

    // ---- model ----------------------------------------------------------------------------------

    /**
     * One variant of the family.
     *
     * @param imgSize input side (fixed: the token mixing is as wide as the patch count)
     * @param patchSize patch side
     * @param numBlocks blocks
     * @param embedDim token width
     * @param block the block kind
     * @param mlp the MLP kind of Mixer blocks (ResMLP and gMLP use the plain one)
     * @param tokensMlpRatio token-mixing MLP width per channel (Mixer blocks)
     * @param mlpRatio channel MLP width per channel
     * @param initValues ResMLP's initial layer scale
     */
    public record Config(
            int imgSize,
            int patchSize,
            int numBlocks,
            int embedDim,
            BlockKind block,
            MlpKind mlp,
            double tokensMlpRatio,
            double mlpRatio,
            double initValues) {
        public Config {
            if (imgSize % patchSize != 0) {
                throw new IllegalArgumentException(
                        "imgSize " + imgSize + " is not divisible by patchSize " + patchSize);
            }
            if (numBlocks < 1 || embedDim < 1) {
                throw new IllegalArgumentException(
                        "numBlocks " + numBlocks + " and embedDim " + embedDim + " must be positive");
            }
        }

        /** MLP-Mixer at 224 with the (0.5, 4) MLP ratios. */
        public static Config mixer(int patchSize, int numBlocks, int embedDim) {
            return new Config(224, patchSize, numBlocks, embedDim, BlockKind.MIXER, MlpKind.MLP, 0.5, 4, 0);
        }

        /** Mixer with SwiGLU MLPs and (1, 4) ratios (timm's gmixer). */
        public static Config gmixer(int numBlocks, int embedDim) {
            return new Config(224, 16, numBlocks, embedDim, BlockKind.MIXER, MlpKind.GLU_SILU, 1, 4, 0);
        }

        /** ResMLP at 224, MLP ratio 4. */
        public static Config resmlp(int patchSize, int numBlocks, int embedDim, double initValues) {
            return new Config(224, patchSize, numBlocks, embedDim, BlockKind.RES, MlpKind.MLP, 0, 4, initValues);
        }

        /** gMLP at 224, patch 16, 30 blocks, MLP ratio 6. */
        public static Config gmlp(int embedDim) {
            return new Config(224, 16, 30, embedDim, BlockKind.SPATIAL_GATING, MlpKind.MLP, 0, 6, 0);
        }

        public int numPatches() {
            return (imgSize / patchSize) * (imgSize / patchSize);
        }
    }

    private final Config cfg;
    private final PatchEmbed stem;
    private final Module norm;

    public MlpMixer(Config cfg, ModelArgs args) {
        super(new ModelArgs(args.numClasses(), args.inChans(), "", args.dropRate(), args.dropPathRate()));
        this.cfg = cfg;
        this.globalPool = validatePool(args.globalPool());
        int dim = cfg.embedDim();
        boolean affine = cfg.block() == BlockKind.RES;
        stem = register("stem", new PatchEmbed(cfg.imgSize(), cfg.patchSize(), inChans, dim));
        // timm gives every block the same drop-path rate
        double[] rates = new double[cfg.numBlocks()];
        Arrays.fill(rates, args.dropPathRate());
        register(
                "blocks",
                VitParts.stackBlocks(this, rates, dim, cfg.patchSize(), null, (i, dpr) -> switch (cfg.block()) {
                    case MIXER -> new MixerBlock(dim, cfg.numPatches(), cfg, dpr);
                    case RES -> new ResBlock(dim, cfg.numPatches(), cfg, dpr);
                    case SPATIAL_GATING -> new SpatialGatingBlock(dim, cfg.numPatches(), cfg, dpr);
                }));
        norm = register("norm", affine ? new Affine(dim) : new LayerNorm(dim, 1e-6f));
        registerTokenClassifier(dim);
    }

    private static String validatePool(String pool) {
        if (pool == null || pool.equals("avg")) {
            return "avg";
        }
        if (pool.isEmpty()) {
            return "";
        }
        throw new IllegalArgumentException("globalPool '" + pool + "' is not 'avg' or '' (no pooling) for MLP-Mixer");
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's _init_weights (not flax): xavier-uniform linears, 1e-6 normal MLP biases, a zero head; then the
        // gates' own init_weights
        for (Map.Entry<String, Module> e : namedModules().entrySet()) {
            if (e.getValue() instanceof Linear l) {
                if (e.getKey().startsWith("head")) {
                    Init.constant(l.weight().getArray(), 0f);
                    Init.constant(l.bias().getArray(), 0f);
                } else {
                    Shape s = l.weight().getArray().getShape();
                    Init.uniform(l.weight().getArray(), Math.sqrt(6.0 / (s.get(0) + s.get(1))), random);
                    if (e.getKey().contains("mlp")) {
                        Init.normal(l.bias().getArray(), 1e-6, random);
                    } else {
                        Init.constant(l.bias().getArray(), 0f);
                    }
                }
            }
        }
        for (Module m : namedModules().values()) {
            if (m instanceof SpatialGatingUnit g) {
                g.initGate(random);
            } else if (m instanceof GluMlp g) {
                g.initGate(random);
            }
        }
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(forwardTrunk(stem.forward(x)));
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        if (globalPool.equals("avg")) {
            x = x.mean(new int[] {1});
        }
        return tokenClassifier(x, preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        resetTokenClassifier(newNumClasses, validatePool(newGlobalPool));
    }

    /** Each chosen block's tokens as an NCHW map, as timm's intermediates. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        return forwardLevels(stem.forward(x), indices, VisionTransformer.tokenMaps(x, cfg.patchSize(), 0));
    }

    /** timm's checkpoint_filter_fn: Facebook's ResMLP keys (patch_embed, attn, mlp, gamma_) to timm's. */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (!checkpoint.containsKey("patch_embed.proj.weight")) {
            return checkpoint;
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey()
                    .replace("patch_embed.", "stem.")
                    .replace("attn.", "linear_tokens.")
                    .replace("mlp.", "mlp_channels.")
                    .replace("gamma_", "ls");
            NDArray v = e.getValue();
            if (k.endsWith(".alpha") || k.endsWith(".beta")) {
                v = v.reshape(1, 1, -1);
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's mlp_mixer names: mixer_*, gmixer_*, resmlp_*, gmlp_*. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "mlp_mixer";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "mixer_s32_224", Config.mixer(32, 8, 512));
            add(m, "mixer_s16_224", Config.mixer(16, 8, 512));
            add(m, "mixer_b32_224", Config.mixer(32, 12, 768));
            add(m, "mixer_b16_224", Config.mixer(16, 12, 768));
            add(m, "mixer_l32_224", Config.mixer(32, 24, 1024));
            add(m, "mixer_l16_224", Config.mixer(16, 24, 1024));
            add(m, "gmixer_12_224", Config.gmixer(12, 384));
            add(m, "gmixer_24_224", Config.gmixer(24, 384));
            add(m, "resmlp_12_224", Config.resmlp(16, 12, 384, 1e-4));
            add(m, "resmlp_24_224", Config.resmlp(16, 24, 384, 1e-5));
            add(m, "resmlp_36_224", Config.resmlp(16, 36, 384, 1e-6));
            add(m, "resmlp_big_24_224", Config.resmlp(8, 24, 768, 1e-6));
            add(m, "gmlp_ti16_224", Config.gmlp(128));
            add(m, "gmlp_s16_224", Config.gmlp(256));
            add(m, "gmlp_b16_224", Config.gmlp(512));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "mlp_mixer", args -> new MlpMixer(c, args), c.imgSize(), "stem.proj", "head"));
        }
    }
}
