package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import dev.jimm.hub.KeyMapping;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.KeptWeights;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.LayerScale;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * MambaOut (Yu and Wang 2024, "MambaOut: Do We Really Need Mamba for Vision?"), as timm's {@code models/mambaout.py}
 * builds it, channels-last (NHWC) after the stem: a two-conv {@code stem}, four {@code stages} of gated CNN blocks
 * (LayerNorm, {@code fc1} to a gate, an identity part and a depthwise-conv part, {@code fc2}), each stage after the
 * first opening with a 3x3 stride-2 conv and a LayerNorm (after the conv, or before it for the {@code _rw} variants);
 * and an MLP head: timm's {@code MlpHead} (norm, fc to 4x, GELU, norm, fc) or, for the {@code _rw} variants,
 * {@code ClNormMlpClassifierHead} (norm, fc to 4x, GELU, dropout, fc).
 *
 * <p>As in timm, {@link #forwardFeatures} gives NHWC maps and {@link #forwardIntermediates} NCHW ones. The pre-logits
 * are the head's 4x-wide hidden features ({@link #headHiddenSize()}).
 */
public final class MambaOut extends ImageModel {

    /**
     * A variant, as timm's {@code MambaOut} keyword arguments.
     *
     * @param depths blocks per stage
     * @param dims channels per stage
     * @param expansionRatio the gated block's hidden width as a multiple of the channels
     * @param convRatio the share of the channels (times the hidden part) the depthwise conv takes
     * @param stemMidNorm a LayerNorm between the stem's convs
     * @param normFirstDownsample the norm before the downsampling conv ({@code conv_nf}) rather than after
     * @param layerScale the blocks have layer scale ({@code ls_init_value} set; timm initializes it to 1e-5 whatever
     *     the value)
     * @param act the activation of the stem and the gates (GELU or SiLU)
     * @param clNormHead timm's {@code ClNormMlpClassifierHead} ({@code head_fn='norm_mlp'}) instead of its MlpHead
     */
    public record Config(
            List<Integer> depths,
            List<Integer> dims,
            double expansionRatio,
            double convRatio,
            boolean stemMidNorm,
            boolean normFirstDownsample,
            boolean layerScale,
            Activation.Kind act,
            boolean clNormHead) {
        public Config {
            depths = List.copyOf(depths);
            dims = List.copyOf(dims);
            if (depths.size() != dims.size()) {
                throw new IllegalArgumentException("MambaOut stages disagree: depths " + depths + ", dims " + dims);
            }
        }

        /** A builder with timm's defaults (depths and dims required): expansion 8/3, conv ratio 1, GELU, MlpHead. */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder extends StagedConfigBuilder<Builder> {
            private double expansionRatio = 8.0 / 3;
            private double convRatio = 1.0;
            private boolean stemMidNorm = true;
            private boolean normFirstDownsample;
            private boolean layerScale;
            private Activation.Kind act = Activation.Kind.GELU;
            private boolean clNormHead;

            private Builder() {}

            @Override
            protected Builder self() {
                return this;
            }

            /** The gated block's hidden width as a multiple of the channels. */
            public Builder expansionRatio(double value) {
                expansionRatio = value;
                return this;
            }

            /** The depthwise conv's share of the channels. */
            public Builder convRatio(double value) {
                convRatio = value;
                return this;
            }

            /** The activation of the stem and gates. */
            public Builder act(Activation.Kind value) {
                act = value;
                return this;
            }

            /**
             * Ross Wightman's {@code _rw} form: no stem mid-norm, norm-first downsampling, layer scale and the
             * ClNormMlpClassifierHead.
             */
            public Builder rw() {
                stemMidNorm = false;
                normFirstDownsample = true;
                layerScale = true;
                clNormHead = true;
                return this;
            }

            public Config build() {
                requireStages("MambaOut");
                return new Config(
                        depths,
                        dims,
                        expansionRatio,
                        convRatio,
                        stemMidNorm,
                        normFirstDownsample,
                        layerScale,
                        act,
                        clNormHead);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's {@code LayerNorm} default eps. */
    private static final float LN_EPS = 1e-6f;

    /** timm's LayerScale default, which MambaOut's blocks keep (they do not pass {@code ls_init_value} on). */
    static final float LAYER_SCALE_INIT = 1e-5f;

    private static Conv2d conv3x3s2(int in, int out) {
        return new Conv2d(in, out, 3, Conv2d.Options.defaults().stride(2).padding(1));
    }

    private static NDArray toNchw(NDArray x) {
        return x.transpose(0, 3, 1, 2);
    }

    private static NDArray toNhwc(NDArray x) {
        return x.transpose(0, 2, 3, 1);
    }

    /** timm's MambaOut {@code Stem}: conv, optional LayerNorm, activation, conv, LayerNorm; NCHW in, NHWC out. */
    static final class Stem extends Module {
        private final Module conv1;
        private final Module norm1;
        private final Activation.Kind act;
        private final Module conv2;
        private final Module norm2;

        Stem(int in, int out, boolean midNorm, Activation.Kind act) {
            this.act = act;
            conv1 = register("conv1", conv3x3s2(in, out / 2));
            norm1 = midNorm ? register("norm1", new LayerNorm(out / 2, LN_EPS)) : null;
            conv2 = register("conv2", conv3x3s2(out / 2, out));
            norm2 = register("norm2", new LayerNorm(out, LN_EPS));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = conv1.forward(x);
            if (norm1 != null) {
                x = toNchw(norm1.forward(toNhwc(x)));
            }
            x = conv2.forward(Activation.apply(act, x));
            return norm2.forward(toNhwc(x));
        }
    }

    /**
     * A stage's downsampling on NHWC maps: a 3x3 stride-2 {@code conv} with a LayerNorm {@code norm} after or before.
     */
    static final class Downsample extends Module {
        private final Module norm;
        private final Module conv;
        private final boolean normFirst;

        Downsample(int in, int out, boolean normFirst) {
            this.normFirst = normFirst;
            if (normFirst) {
                norm = register("norm", new LayerNorm(in, LN_EPS));
                conv = register("conv", conv3x3s2(in, out));
            } else {
                conv = register("conv", conv3x3s2(in, out));
                norm = register("norm", new LayerNorm(out, LN_EPS));
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            if (normFirst) {
                x = norm.forward(x);
            }
            x = toNhwc(conv.forward(toNchw(x)));
            return normFirst ? x : norm.forward(x);
        }
    }

    /**
     * timm's {@code GatedConvBlock} on NHWC maps: {@code fc1} to twice the hidden width, split into a gate {@code g},
     * an identity part {@code i} and a part {@code c} through the depthwise {@code conv}; {@code fc2(act(g) * [i, c])},
     * optional layer scale {@code ls}, drop path, residual.
     */
    static final class GatedConvBlock extends Module {
        private final Module norm;
        private final Module fc1;
        private final Module conv;
        private final Module fc2;
        private final Module ls;
        private final Module dropPath;
        private final Activation.Kind act;
        private final int hidden;
        private final int convChannels;

        GatedConvBlock(Config cfg, int dim, double dpr) {
            this.act = cfg.act();
            hidden = (int) (cfg.expansionRatio() * dim);
            convChannels = (int) (cfg.convRatio() * dim);
            norm = register("norm", new LayerNorm(dim, LN_EPS));
            fc1 = register("fc1", new Linear(dim, 2 * hidden));
            conv = register(
                    "conv",
                    new Conv2d(
                            convChannels,
                            convChannels,
                            7,
                            Conv2d.Options.defaults().padding(3).groups(convChannels)));
            fc2 = register("fc2", new Linear(hidden, dim));
            ls = register("ls", cfg.layerScale() ? new LayerScale(dim, LAYER_SCALE_INIT) : new Identity());
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = fc1.forward(norm.forward(x));
            NDArray g = y.get("..., 0:" + hidden);
            NDArray i = y.get("..., " + hidden + ":" + (2 * hidden - convChannels));
            NDArray c = toNhwc(conv.forward(toNchw(y.get("..., " + (2 * hidden - convChannels) + ":"))));
            y = fc2.forward(Activation.apply(act, g).mul(NDArrays.concat(new NDList(i, c), -1)));
            return dropPath.forward(ls.forward(y)).add(x);
        }
    }

    /** timm's {@code MambaOutStage}: {@code downsample} (or identity), then {@code blocks}. */
    static final class Stage extends DownsampledStage {
        Stage(Config cfg, int in, int out, int depth, double[] dpr) {
            super(in == out ? null : new Downsample(in, out, cfg.normFirstDownsample()), in, out);
            Sequential b = new Sequential();
            for (int j = 0; j < depth; j++) {
                b.add(new GatedConvBlock(cfg, out, dpr[j]));
            }
            blocks(b);
        }
    }

    /**
     * The head on NHWC maps: pooling, LayerNorm {@code norm}, {@code pre_logits} (fc to the hidden width, GELU, and in
     * timm's MlpHead a LayerNorm), dropout, {@code fc}. timm's MlpHead pools only for "avg"; the ClNorm head takes avg,
     * max and avgmax. Built {@code empty} it holds nothing and passes the maps through (the features-only form).
     */
    static final class Head extends PooledMlpHead {
        private final String pool;
        private final Module norm;
        private final Module preLogits;

        Head(int dim, int hidden, int numClasses, String pool, double dropRate, boolean clNorm) {
            super(dropRate);
            this.pool = pool;
            norm = register("norm", new LayerNorm(dim, LN_EPS));
            NamedSequential pre = new NamedSequential()
                    .add("fc", new Linear(dim, hidden))
                    .add("act", new Activation(Activation.Kind.GELU));
            if (!clNorm) {
                pre.add("norm", new LayerNorm(hidden, LN_EPS));
            }
            preLogits = register("pre_logits", pre);
            classifier("fc", Linear.classifier(hidden, numClasses));
        }

        private Head() {
            super(0);
            pool = "";
            norm = null;
            preLogits = null;
        }

        @Override
        NDArray hidden(NDArray maps) {
            NDArray x = switch (pool) {
                case "avg" -> maps.mean(new int[] {2}).mean(new int[] {1});
                case "max" -> maps.max(new int[] {2}).max(new int[] {1});
                case "avgmax" ->
                    Scalars.mul(
                            maps.max(new int[] {2})
                                    .max(new int[] {1})
                                    .add(maps.mean(new int[] {2}).mean(new int[] {1})),
                            0.5);
                default -> maps;
            };
            return preLogits.forward(norm.forward(x));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /** The head's width factor (timm's {@code mlp_ratio} 4, and {@code hidden_size=int(dim * 4)}). */
    public static final int HEAD_MLP_RATIO = 4;

    private final Config cfg;
    private final int hidden;
    private Head head;

    public MambaOut(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> dims = cfg.dims();
        addTrunkStep(register("stem", new Stem(inChans, dims.get(0), cfg.stemMidNorm(), cfg.act())));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("stages", new Sequential());
        int prev = dims.get(0);
        for (int i = 0; i < dims.size(); i++) {
            stages.add(
                    addTrunkStep(new Stage(cfg, prev, dims.get(i), cfg.depths().get(i), dpr[i])));
            prev = dims.get(i);
            addFeatureInfo(prev, 4 << i, "stages." + i);
        }
        setNumFeatures(prev);
        hidden = HEAD_MLP_RATIO * prev;
        head = register("head", newHead(numClasses, globalPool));
    }

    private Head newHead(int classes, String pool) {
        if (pool.isEmpty() && classes == 0) {
            return new Head();
        }
        List<String> accepted = cfg.clNormHead() ? List.of("avg", "max", "avgmax") : List.of("avg");
        if (!accepted.contains(pool)) {
            throw new IllegalArgumentException("MambaOut's " + (cfg.clNormHead() ? "ClNormMlp" : "Mlp")
                    + " head pools with " + accepted + ", not '" + pool + "' (no pooling only with numClasses 0)");
        }
        return new Head(numFeatures(), hidden, classes, pool, dropRate, cfg.clNormHead());
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public int headHiddenSize() {
        return hidden;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        TimmInit.truncNormalConvsAndLinears(this, 0.02, random);
    }

    /** The trunk's last maps, NHWC as timm gives them. */
    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return head.forward(x, preLogits);
    }

    /** The chosen stages' maps, NCHW (timm's default {@code output_fmt}). */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        checkInput(x);
        return forwardLevels(x, indices, MambaOut::toNchw);
    }

    /**
     * timm's {@code reset}: a new {@code fc} and pooling; {@code norm} and {@code pre_logits} keep their weights.
     * Pooling {@code ""} is allowed only with 0 classes and drops the whole head (the features-only form).
     */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        String pool = newGlobalPool == null ? globalPool : newGlobalPool;
        Head fresh = newHead(newNumClasses, pool);
        Map<String, float[]> kept =
                fresh.isEmpty() || head.isEmpty() ? Map.of() : KeptWeights.snapshot(head, k -> !k.startsWith("fc."));
        head = register("head", fresh);
        KeptWeights.restore(head, kept);
        numClasses = newNumClasses;
        globalPool = pool;
    }

    /**
     * timm's {@code checkpoint_filter_fn}: the original checkpoints' {@code downsample_layers}, stage and head keys.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("stem.conv1.weight")) {
            return checkpoint;
        }
        return KeyMapping.renameEach(checkpoint, MambaOut::timmKey);
    }

    private static String timmKey(String key) {
        String k = key.replace("downsample_layers.0.", "stem.");
        k = k.replaceAll("stages.([0-9]+).([0-9]+)", "stages.$1.blocks.$2");
        k = k.replaceAll("downsample_layers.([0-9]+)", "stages.$1.downsample");
        if (k.startsWith("norm.")) {
            k = k.replace("norm.", "head.norm.");
        } else if (k.startsWith("head.")) {
            k = k.replace("head.fc1.", "head.pre_logits.fc.");
            k = k.replace("head.norm.", "head.pre_logits.norm.");
            k = k.replace("head.fc2.", "head.fc.");
        }
        return k;
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code mambaout_*} names and {@code test_mambaout}. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "mambaout";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Integer[] femtoDims = {48, 96, 192, 288};
            Integer[] tinyDims = {96, 192, 384, 576};
            Integer[] baseDims = {128, 256, 512, 768};
            add(m, "mambaout_femto", Config.builder().depths(3, 3, 9, 3).dims(femtoDims), 224);
            add(m, "mambaout_kobe", Config.builder().depths(3, 3, 15, 3).dims(femtoDims), 224);
            add(m, "mambaout_tiny", Config.builder().depths(3, 3, 9, 3).dims(tinyDims), 224);
            add(m, "mambaout_small", Config.builder().depths(3, 4, 27, 3).dims(tinyDims), 224);
            add(m, "mambaout_base", Config.builder().depths(3, 4, 27, 3).dims(baseDims), 224);
            add(
                    m,
                    "mambaout_small_rw",
                    Config.builder().depths(3, 4, 27, 3).dims(tinyDims).rw(),
                    224);
            Activation.Kind gelu = Activation.Kind.GELU;
            Activation.Kind silu = Activation.Kind.SILU;
            add(m, "mambaout_base_short_rw", baseRw(baseDims, 3.0, 1.25, gelu, 3, 3, 25, 3), 224);
            add(m, "mambaout_base_tall_rw", baseRw(baseDims, 2.5, 1.25, gelu, 3, 4, 30, 3), 224);
            add(m, "mambaout_base_wide_rw", baseRw(baseDims, 3.0, 1.5, silu, 3, 4, 27, 3), 224);
            add(m, "mambaout_base_plus_rw", baseRw(baseDims, 3.0, 1.5, silu, 3, 4, 30, 3), 224);
            add(
                    m,
                    "test_mambaout",
                    Config.builder()
                            .depths(1, 1, 3, 1)
                            .dims(16, 32, 48, 64)
                            .expansionRatio(3)
                            .act(Activation.Kind.SILU)
                            .rw(),
                    160);
            return m;
        }

        /** A base-width {@code _rw} variant: they differ in depths, expansion, conv ratio and activation. */
        private static Config.Builder baseRw(
                Integer[] dims, double expansion, double convRatio, Activation.Kind act, Integer... depths) {
            return Config.builder()
                    .depths(depths)
                    .dims(dims)
                    .expansionRatio(expansion)
                    .convRatio(convRatio)
                    .act(act)
                    .rw();
        }

        private static void add(List<ModelEntry> m, String name, Config.Builder c, int size) {
            Config cfg = c.build();
            m.add(ModelEntry.untrained(
                    name, "mambaout", args -> new MambaOut(cfg, args), size, "stem.conv1", "head.fc"));
        }
    }
}
