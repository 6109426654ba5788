package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Attention;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * torchvision's {@code VisionTransformer} ({@code tv/vit_b_16} …): the same computation as a timm ViT with
 * torchvision's module names ({@code conv_proj}, {@code encoder.layers.encoder_layer_N},
 * {@code nn.MultiheadAttention}'s packed {@code in_proj_weight}, {@code heads.head}).
 */
public final class TvVisionTransformer extends ImageModel {
    private final int patchSize;
    private final int imageSize;
    private final int hiddenDim;
    private final Parameter classToken;
    private final Conv2d convProj;
    private final Encoder encoder;
    private NamedSequential heads;

    /**
     * @param imageSize input size (torchvision builds 224 without weights)
     * @param patchSize patch side
     * @param numLayers blocks
     * @param numHeads attention heads
     * @param hiddenDim token width
     * @param mlpDim MLP hidden width
     */
    public TvVisionTransformer(
            int imageSize, int patchSize, int numLayers, int numHeads, int hiddenDim, int mlpDim, ModelArgs args) {
        super(new ModelArgs(args.numClasses(), args.inChans(), "", args.dropRate(), args.dropPathRate()));
        this.globalPool = validatePool(args.globalPool());
        this.patchSize = patchSize;
        this.imageSize = imageSize;
        this.hiddenDim = hiddenDim;
        if (imageSize % patchSize != 0) {
            throw new IllegalArgumentException(
                    "imageSize " + imageSize + " is not a multiple of patchSize " + patchSize);
        }
        convProj = register(
                "conv_proj",
                new Conv2d(
                        inChans, hiddenDim, patchSize, Conv2d.Options.defaults().stride(patchSize)));
        classToken = parameter("class_token", 1, 1, hiddenDim);
        int seqLength = (imageSize / patchSize) * (imageSize / patchSize) + 1;
        encoder = register(
                "encoder", new Encoder(seqLength, numLayers, numHeads, hiddenDim, mlpDim, (float) args.dropRate()));
        addTrunkSteps(encoder.layers);
        for (int i = 0; i < numLayers; i++) {
            addFeatureInfo(hiddenDim, patchSize, "encoder.layers.encoder_layer_" + i, i);
        }
        setNumFeatures(hiddenDim);
        heads = register("heads", headsFor(numClasses));
    }

    /** ViT's poolings but attention pooling, which torchvision's ViT has no module for. */
    private static String validatePool(String pool) {
        String p = VisionTransformer.validatePool(pool, true);
        if (p.equals("map")) {
            throw new IllegalArgumentException("globalPool 'map': torchvision's ViT has no attention pooling");
        }
        return p;
    }

    private NamedSequential headsFor(int n) {
        // torchvision's heads is an nn.Sequential of an OrderedDict holding "head"
        NamedSequential h = new NamedSequential();
        h.add("head", Linear.classifier(hiddenDim, n));
        return h;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // torchvision's VisionTransformer.__init__ and its children's own inits
        // trunc_normal_(std=sqrt(1/fan_in)) keeps its absolute ±2 bounds, over 25 std away here: a plain normal
        long fanIn = Init.fanIn(convProj.weight().getArray());
        Init.normal(convProj.weight().getArray(), Math.sqrt(1.0 / fanIn), random);
        Init.constant(convProj.bias().getArray(), 0f);
        Init.constant(classToken.getArray(), 0f);
        encoder.init(random);
        if (heads.child("head") instanceof Linear l) {
            Init.constant(l.weight().getArray(), 0f);
            Init.constant(l.bias().getArray(), 0f);
        }
    }

    private NDArray tokens(NDArray x) {
        long h = x.getShape().get(2);
        long w = x.getShape().get(3);
        if (h != imageSize || w != imageSize) {
            throw new IllegalArgumentException(
                    "input size " + h + "x" + w + " does not match the model's " + imageSize + "x" + imageSize);
        }
        NDArray t = convProj.forward(x);
        long b = t.getShape().get(0);
        t = t.reshape(b, hiddenDim, -1).transpose(0, 2, 1);
        NDArray cls = VitParts.expandToBatch(classToken, t);
        return NDArrays.concat(new NDList(cls, t), 1);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return encoder.forward(tokens(x));
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        x = VisionTransformer.poolTokens(x, globalPool, 1);
        return preLogits ? x : heads.forward(x);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = validatePool(newGlobalPool);
        numClasses = newNumClasses;
        globalPool = pool;
        heads = register("heads", headsFor(newNumClasses));
    }

    /** Each chosen layer's output as an NCHW map of the patch tokens (class token dropped). */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        NDArray tokens = tokens(x).add(encoder.posEmbedding.getArray());
        return forwardLevels(tokens, indices, VisionTransformer.tokenMaps(x, patchSize, 1));
    }

    public int imageSize() {
        return imageSize;
    }

    /** torchvision's {@code Encoder}: position embedding, the layers, a final LayerNorm. */
    static final class Encoder extends Module {
        final Parameter posEmbedding;
        final List<EncoderBlock> layers = new ArrayList<>();
        private final Module ln;
        private final float dropout;

        Encoder(int seqLength, int numLayers, int numHeads, int hiddenDim, int mlpDim, float dropout) {
            this.dropout = dropout;
            posEmbedding = parameter("pos_embedding", 1, seqLength, hiddenDim);
            register("dropout", new Dropout(dropout));
            NamedSequential seq = register("layers", new NamedSequential());
            for (int i = 0; i < numLayers; i++) {
                EncoderBlock b = new EncoderBlock(numHeads, hiddenDim, mlpDim, dropout);
                seq.add("encoder_layer_" + i, b);
                layers.add(b);
            }
            ln = register("ln", new LayerNorm(hiddenDim, 1e-6f));
        }

        void init(SplittableRandom random) {
            Init.normal(posEmbedding.getArray(), 0.02, random);
            for (EncoderBlock b : layers) {
                b.init(random);
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Dropout.apply(x.add(posEmbedding.getArray()), dropout, isTraining());
            for (EncoderBlock b : layers) {
                x = b.forward(x);
            }
            return ln.forward(x);
        }
    }

    /** torchvision's {@code EncoderBlock}: ln_1, self_attention, ln_2, mlp (Linear, GELU, Dropout, Linear, Dropout). */
    static final class EncoderBlock extends Module {
        private final Module ln1;
        private final MultiheadAttention attn;
        private final Module ln2;
        private final Linear fc1;
        private final Linear fc2;
        private final float dropout;

        EncoderBlock(int numHeads, int hiddenDim, int mlpDim, float dropout) {
            this.dropout = dropout;
            ln1 = register("ln_1", new LayerNorm(hiddenDim, 1e-6f));
            attn = register("self_attention", new MultiheadAttention(hiddenDim, numHeads));
            register("dropout", new Dropout(dropout));
            ln2 = register("ln_2", new LayerNorm(hiddenDim, 1e-6f));
            fc1 = new Linear(hiddenDim, mlpDim);
            fc2 = new Linear(mlpDim, hiddenDim);
            register(
                    "mlp",
                    new Sequential(
                            fc1,
                            new Activation(Activation.Kind.GELU),
                            new Dropout(dropout),
                            fc2,
                            new Dropout(dropout)));
        }

        void init(SplittableRandom random) {
            // MLPBlock: xavier_uniform_ weights, normal(std=1e-6) biases
            xavierUniform(fc1.weight().getArray(), random);
            Init.normal(fc1.bias().getArray(), 1e-6, random);
            xavierUniform(fc2.weight().getArray(), random);
            Init.normal(fc2.bias().getArray(), 1e-6, random);
            attn.init(random);
        }

        @Override
        protected NDArray forwardImpl(NDArray input) {
            NDArray x = Dropout.apply(attn.forward(ln1.forward(input)), dropout, isTraining())
                    .add(input);
            NDArray y = ln2.forward(x);
            y = Activation.apply(Activation.Kind.GELU, fc1.forward(y));
            y = Dropout.apply(y, dropout, isTraining());
            y = Dropout.apply(fc2.forward(y), dropout, isTraining());
            return x.add(y);
        }
    }

    /** PyTorch's {@code nn.MultiheadAttention} (self-attention, batch first): packed in_proj, out_proj. */
    static final class MultiheadAttention extends Module {
        private final Parameter inProjWeight;
        private final Parameter inProjBias;
        private final Linear outProj;
        private final int numHeads;

        MultiheadAttention(int dim, int numHeads) {
            if (dim % numHeads != 0) {
                throw new IllegalArgumentException("hiddenDim " + dim + " is not divisible by numHeads " + numHeads);
            }
            this.numHeads = numHeads;
            inProjWeight = parameter("in_proj_weight", 3L * dim, dim);
            inProjBias = parameter("in_proj_bias", 3L * dim);
            outProj = register("out_proj", new Linear(dim, dim));
        }

        void init(SplittableRandom random) {
            // _reset_parameters: xavier_uniform_ in_proj, zero biases; out_proj keeps Linear's default weight
            xavierUniform(inProjWeight.getArray(), random);
            Init.constant(inProjBias.getArray(), 0f);
            Init.constant(outProj.bias().getArray(), 0f);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray qkv = x.getNDArrayInternal()
                    .linear(x, inProjWeight.getArray(), inProjBias.getArray())
                    .singletonOrThrow();
            return outProj.forward(Attention.selfAttention(qkv, numHeads, 0f, false));
        }
    }

    static void xavierUniform(NDArray w, SplittableRandom random) {
        long[] s = w.getShape().getShape();
        Init.uniform(w, Math.sqrt(6.0 / (s[0] + s[1])), random);
    }

    // ---- registrations ----------------------------------------------------------------------------

    /** Registers torchvision's ViTs ({@code tv/vit_*}). */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            // the entries' family is "torchvision", shared with the other tv/ registrations
            return "tv_vision_transformer";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "tv/vit_b_16", 16, 12, 12, 768, 3072);
            add(m, "tv/vit_b_32", 32, 12, 12, 768, 3072);
            add(m, "tv/vit_l_16", 16, 24, 16, 1024, 4096);
            add(m, "tv/vit_l_32", 32, 24, 16, 1024, 4096);
            add(m, "tv/vit_h_14", 14, 32, 16, 1280, 5120);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, int patch, int layers, int heads, int dim, int mlp) {
            m.add(new ModelEntry(
                    name,
                    "torchvision",
                    args -> new TvVisionTransformer(224, patch, layers, heads, dim, mlp, args),
                    PretrainedCfg.untrained(name, 224, "conv_proj", "heads.head"),
                    "token"));
        }
    }
}
