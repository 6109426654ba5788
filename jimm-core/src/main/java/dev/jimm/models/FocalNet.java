package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Mlp;
import dev.jimm.layers.Module;
import dev.jimm.layers.NormMlpClassifierHead;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.TimmInit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Pattern;

/**
 * FocalNet (Yang et al. 2022, "Focal Modulation Networks"), as timm's {@code models/focalnet.py} builds it, NCHW
 * throughout: a patch {@code stem} (conv and LayerNorm2d), four {@code layers} of FocalNet blocks (norm, focal
 * modulation, layer scale, norm, 1x1-conv MLP), each layer after the first opening with a stride-2 conv and a norm; a
 * final LayerNorm2d {@code norm} and timm's {@code ClassifierHead} ({@code head.fc}). The large, xlarge and huge
 * variants overlap their downsampling convs, put the norms after the branches ({@code norm1_post}, {@code norm2_post})
 * and have layer scale; the huge ones also normalize inside the modulation.
 *
 * <p>timm's FocalNet can also end in a {@code NormMlpClassifierHead} ({@code head_hidden_size}); no registered name
 * does, but {@link Config#headHiddenSize()} builds it.
 */
public final class FocalNet extends ImageModel {

    /**
     * A variant, as timm's {@code FocalNet} keyword arguments.
     *
     * @param depths blocks per layer (stage)
     * @param embedDim channels of the first layer, doubled at each next one
     * @param focalLevels focal levels per layer
     * @param focalWindows kernel of the first focal level per layer (each next level 2 wider)
     * @param overlapDown overlapping downsampling convs (7x7 stem, 3x3 between layers)
     * @param postNorm norms after the modulation and MLP instead of before
     * @param postNormInModulation a norm on the modulated features before {@code proj}
     * @param normalizeModulator divide the aggregated context by the number of levels plus one
     * @param layerScale layer-scale init value, or null for none
     * @param headHiddenSize the NormMlpClassifierHead's hidden width, 0 for timm's ClassifierHead after a norm
     * @param mlpRatio MLP width as a multiple of the channels
     */
    public record Config(
            List<Integer> depths,
            int embedDim,
            List<Integer> focalLevels,
            List<Integer> focalWindows,
            boolean overlapDown,
            boolean postNorm,
            boolean postNormInModulation,
            boolean normalizeModulator,
            Double layerScale,
            int headHiddenSize,
            double mlpRatio) {
        public Config {
            depths = List.copyOf(depths);
            focalLevels = List.copyOf(focalLevels);
            focalWindows = List.copyOf(focalWindows);
            if (focalLevels.size() != depths.size() || focalWindows.size() != depths.size()) {
                throw new IllegalArgumentException("FocalNet layers disagree: depths " + depths + ", focalLevels "
                        + focalLevels + ", focalWindows " + focalWindows);
            }
        }

        /** A builder with timm's defaults: embed 96, depths 2, 2, 6, 2, focal levels 2 and windows 3. */
        public static Builder builder() {
            return new Builder();
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private List<Integer> depths = List.of(2, 2, 6, 2);
            private int embedDim = 96;
            private List<Integer> focalLevels = List.of(2, 2, 2, 2);
            private List<Integer> focalWindows = List.of(3, 3, 3, 3);
            private boolean overlapDown;
            private boolean postNorm;
            private boolean postNormInModulation;
            private boolean normalizeModulator;
            private Double layerScale;
            private int headHiddenSize;
            private double mlpRatio = 4;

            private Builder() {}

            /** Blocks per layer. */
            public Builder depths(Integer... value) {
                depths = List.of(value);
                return this;
            }

            /** Channels of the first layer. */
            public Builder embedDim(int value) {
                embedDim = value;
                return this;
            }

            /** The same number of focal levels in every layer. */
            public Builder focalLevel(int value) {
                focalLevels = List.of(value, value, value, value);
                return this;
            }

            /** The same first focal window in every layer. */
            public Builder focalWindow(int value) {
                focalWindows = List.of(value, value, value, value);
                return this;
            }

            /**
             * The large models' form: overlapping downsampling, post-norms, layer scale 1e-4, and for the huge ones a
             * norm inside the modulation.
             */
            public Builder large(boolean normInModulation) {
                overlapDown = true;
                postNorm = true;
                postNormInModulation = normInModulation;
                layerScale = 1e-4;
                return this;
            }

            /** Divides the aggregated context by the number of levels plus one. */
            public Builder normalizeModulator(boolean value) {
                normalizeModulator = value;
                return this;
            }

            /** A NormMlpClassifierHead of this hidden width instead of the norm and ClassifierHead. */
            public Builder headHiddenSize(int value) {
                headHiddenSize = value;
                return this;
            }

            /** MLP width as a multiple of the channels (default 4). */
            public Builder mlpRatio(double value) {
                mlpRatio = value;
                return this;
            }

            public Config build() {
                return new Config(
                        depths,
                        embedDim,
                        focalLevels,
                        focalWindows,
                        overlapDown,
                        postNorm,
                        postNormInModulation,
                        normalizeModulator,
                        layerScale,
                        headHiddenSize,
                        mlpRatio);
            }
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's FocalNet norm: {@code partial(LayerNorm2d, eps=1e-5)}. */
    private static LayerNorm norm(int dim) {
        return LayerNorm.channelsFirst(dim, 1e-5f);
    }

    private static Module normOrIdentity(boolean on, int dim) {
        return on ? norm(dim) : new Identity();
    }

    /** timm's {@code LayerScale2d}: a learned per-channel {@code gamma} on NCHW maps. */
    static final class LayerScale2d extends Module {
        private final Parameter gamma;
        private final double init;
        private final int dim;

        LayerScale2d(int dim, double init) {
            this.dim = dim;
            this.init = init;
            gamma = parameter("gamma", dim);
        }

        @Override
        protected void resetParameters(SplittableRandom random) {
            Init.constant(gamma.getArray(), (float) init);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return x.mul(gamma.getArray().reshape(new Shape(1, dim, 1, 1)));
        }
    }

    /**
     * timm's {@code FocalModulation}: {@code f} projects to a query, a context and {@code level + 1} gates; each focal
     * level is a depthwise conv and GELU on the previous level's context, summed under its gate; the global context
     * (GELU of the last level's mean) adds under the last gate; {@code h} turns the aggregate into the modulator that
     * multiplies the query, then an optional {@code norm} and {@code proj}.
     */
    static final class FocalModulation extends Module {
        private final int dim;
        private final int levels;
        private final boolean normalizeModulator;
        private final Module f;
        private final Module h;
        private final Module proj;
        private final List<Module> focalLayers = new ArrayList<>();
        private final Module norm;

        FocalModulation(int dim, int window, int levels, boolean postNorm, boolean normalizeModulator) {
            this.dim = dim;
            this.levels = levels;
            this.normalizeModulator = normalizeModulator;
            f = register("f", new Conv2d(dim, 2 * dim + levels + 1, 1, Conv2d.Options.defaults()));
            h = register("h", new Conv2d(dim, dim, 1, Conv2d.Options.defaults()));
            proj = register("proj", new Conv2d(dim, dim, 1, Conv2d.Options.defaults()));
            Sequential layers = register("focal_layers", new Sequential());
            for (int k = 0; k < levels; k++) {
                int kernel = 2 * k + window;
                Module level = new Sequential(
                        new Conv2d(
                                dim,
                                dim,
                                kernel,
                                Conv2d.Options.defaults()
                                        .padding(kernel / 2)
                                        .groups(dim)
                                        .bias(false)),
                        new Activation(Activation.Kind.GELU));
                layers.add(level);
                focalLayers.add(level);
            }
            norm = register("norm", normOrIdentity(postNorm, dim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = f.forward(x);
            NDArray q = x.get(":, 0:" + dim);
            NDArray ctx = x.get(":, " + dim + ":" + 2 * dim);
            NDArray gates = x.get(":, " + 2 * dim + ":");
            NDArray all = null;
            for (int l = 0; l < levels; l++) {
                ctx = focalLayers.get(l).forward(ctx);
                NDArray term = ctx.mul(gates.get(":, " + l + ":" + (l + 1)));
                all = all == null ? term : all.add(term);
            }
            NDArray global = Activation.apply(
                    Activation.Kind.GELU, ctx.mean(new int[] {3}, true).mean(new int[] {2}, true));
            NDArray term = global.mul(gates.get(":, " + levels + ":"));
            all = all == null ? term : all.add(term);
            if (normalizeModulator) {
                all = Scalars.div(all, levels + 1);
            }
            return proj.forward(norm.forward(q.mul(h.forward(all))));
        }
    }

    /** timm's {@code FocalNetBlock}: pre- or post-norm modulation and MLP branches, each with layer scale. */
    static final class Block extends Module {
        private final Module norm1;
        private final Module modulation;
        private final Module norm1Post;
        private final Module ls1;
        private final Module dropPath1;
        private final Module norm2;
        private final Module mlp;
        private final Module norm2Post;
        private final Module ls2;
        private final Module dropPath2;

        Block(Config cfg, int dim, int level, int window, double dpr) {
            boolean post = cfg.postNorm();
            norm1 = register("norm1", normOrIdentity(!post, dim));
            modulation = register(
                    "modulation",
                    new FocalModulation(dim, window, level, cfg.postNormInModulation(), cfg.normalizeModulator()));
            norm1Post = register("norm1_post", normOrIdentity(post, dim));
            ls1 = register("ls1", layerScale(cfg, dim));
            dropPath1 = register("drop_path1", DropPath.orIdentity(dpr));
            norm2 = register("norm2", normOrIdentity(!post, dim));
            mlp = register("mlp", Mlp.conv(dim, (int) (dim * cfg.mlpRatio()), dim, Activation.Kind.GELU, 0f));
            norm2Post = register("norm2_post", normOrIdentity(post, dim));
            ls2 = register("ls2", layerScale(cfg, dim));
            dropPath2 = register("drop_path2", DropPath.orIdentity(dpr));
        }

        private static Module layerScale(Config cfg, int dim) {
            return cfg.layerScale() != null ? new LayerScale2d(dim, cfg.layerScale()) : new Identity();
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = norm1Post.forward(modulation.forward(norm1.forward(x)));
            x = x.add(dropPath1.forward(ls1.forward(y)));
            y = norm2Post.forward(mlp.forward(norm2.forward(x)));
            return x.add(dropPath2.forward(ls2.forward(y)));
        }
    }

    /** timm's FocalNet {@code Downsample}: {@code proj} (stride-sized, or overlapping) then {@code norm}. */
    static final class Downsample extends Module {
        private final Module proj;
        private final Module norm;

        Downsample(int in, int out, int stride, boolean overlap) {
            int kernel = stride;
            int padding = 0;
            if (overlap) {
                kernel = stride == 4 ? 7 : 3;
                padding = stride == 4 ? 2 : 1;
            }
            proj = register(
                    "proj",
                    new Conv2d(
                            in,
                            out,
                            kernel,
                            Conv2d.Options.defaults().stride(stride).padding(padding)));
            norm = register("norm", norm(out));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return norm.forward(proj.forward(x));
        }
    }

    /** timm's {@code FocalNetStage}: {@code downsample} (or identity), then {@code blocks}. */
    static final class Stage extends DownsampledStage {
        Stage(Config cfg, int stage, int in, int out, double[] dpr) {
            super(stage > 0 ? new Downsample(in, out, 2, cfg.overlapDown()) : null, in, out);
            Sequential b = new Sequential();
            for (int i = 0; i < cfg.depths().get(stage); i++) {
                b.add(new Block(
                        cfg,
                        out,
                        cfg.focalLevels().get(stage),
                        cfg.focalWindows().get(stage),
                        dpr[i]));
            }
            blocks(b);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Module norm;
    private final NormMlpClassifierHead mlpHead;

    public FocalNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int layers = cfg.depths().size();
        addTrunkStep(register("stem", new Downsample(inChans, cfg.embedDim(), 4, cfg.overlapDown())));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        Sequential stages = register("layers", new Sequential());
        int prev = cfg.embedDim();
        for (int i = 0; i < layers; i++) {
            int out = cfg.embedDim() << i;
            stages.add(addTrunkStep(new Stage(cfg, i, prev, out, dpr[i])));
            prev = out;
            addFeatureInfo(out, 4 << i, "layers." + i);
        }
        if (cfg.headHiddenSize() > 0) {
            norm = register("norm", new Identity());
            setNumFeatures(prev);
            mlpHead = register(
                    "head",
                    new NormMlpClassifierHead(
                            prev,
                            numClasses,
                            cfg.headHiddenSize(),
                            globalPool,
                            dropRate,
                            norm(prev),
                            Activation.Kind.TANH));
        } else {
            norm = register("norm", norm(prev));
            mlpHead = null;
            registerNestedClassifierHead("head", prev);
        }
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    public int headHiddenSize() {
        return mlpHead != null ? mlpHead.numFeatures() : numFeatures();
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        TimmInit.truncNormalConvsAndLinears(this, 0.02, random);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(forwardTrunk(x));
    }

    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        return mlpHead != null ? mlpHead.forward(x, preLogits) : super.forwardHead(x, preLogits);
    }

    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        if (mlpHead == null) {
            super.resetClassifier(newNumClasses, newGlobalPool);
            return;
        }
        String pool = newGlobalPool == null ? globalPool : newGlobalPool;
        mlpHead.reset(newNumClasses, pool);
        numClasses = newNumClasses;
        globalPool = pool;
    }

    /**
     * timm's {@code checkpoint_filter_fn}: Microsoft's original checkpoints ({@code patch_embed}, {@code gamma_1},
     * downsampling at the end of a layer, {@code head}) renamed to timm's keys.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("stem.proj.weight")) {
            return checkpoint;
        }
        Map<String, Shape> own = stateDictShapes();
        Pattern down = Pattern.compile("layers.(\\d+).downsample");
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            NDArray v = e.getValue();
            k = k.replaceAll("gamma_([0-9])", "ls$1.gamma");
            k = k.replace("patch_embed", "stem");
            k = down.matcher(k).replaceAll(m -> "layers." + (Integer.parseInt(m.group(1)) + 1) + ".downsample");
            if (k.contains("norm") && !own.containsKey(k)) {
                k = k.replaceAll("norm([0-9])", "norm$1_post");
            }
            k = k.replace("ln.", "norm.");
            k = k.replace("head", "head.fc");
            Shape target = own.get(k);
            if (target != null && target.size() == v.size() && !target.equals(v.getShape())) {
                v = v.reshape(target);
            }
            out.put(k, v);
        }
        return out;
    }

    // ---- registrations --------------------------------------------------------------------------

    /** timm's {@code focalnet_*} names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "focalnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            for (int level : new int[] {2, 3}) {
                String rf = level == 2 ? "srf" : "lrf";
                add(m, "focalnet_tiny_" + rf, Config.builder().focalLevel(level).build());
                add(
                        m,
                        "focalnet_small_" + rf,
                        Config.builder().depths(2, 2, 18, 2).focalLevel(level).build());
                add(
                        m,
                        "focalnet_base_" + rf,
                        Config.builder()
                                .depths(2, 2, 18, 2)
                                .embedDim(128)
                                .focalLevel(level)
                                .build());
            }
            large(m, "large", 192, false);
            large(m, "xlarge", 256, false);
            large(m, "huge", 352, true);
            return m;
        }

        private static void large(List<ModelEntry> m, String size, int dim, boolean huge) {
            // fl3: windows 5 (3 for huge); fl4: the default windows 3
            Config.Builder fl3 = Config.builder()
                    .depths(2, 2, 18, 2)
                    .embedDim(dim)
                    .focalLevel(3)
                    .focalWindow(huge ? 3 : 5)
                    .large(huge);
            Config.Builder fl4 = Config.builder()
                    .depths(2, 2, 18, 2)
                    .embedDim(dim)
                    .focalLevel(4)
                    .large(huge);
            add(m, "focalnet_" + size + "_fl3", fl3.build());
            add(m, "focalnet_" + size + "_fl4", fl4.build());
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(name, "focalnet", args -> new FocalNet(c, args), 224, "stem.proj", "head.fc"));
        }
    }
}
