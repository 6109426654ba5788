package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Dropout;
import dev.jimm.layers.GlobalPool;
import dev.jimm.layers.Identity;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.ResettableHead;
import dev.jimm.layers.Scalars;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * MIT Han Lab's EfficientViT (B and L series), as timm's {@code models/efficientvit_mit.py} builds them: a conv stem,
 * MBConv (or, in the L series, fused-MBConv) stages, and in the last stages EfficientViT blocks of lightweight
 * multi-scale linear attention ({@code LiteMLA}: ReLU-kernel attention over q, k, v and their 5x5-aggregated copies)
 * followed by an MBConv; the head is a 1x1 conv, pooling, and a Linear-LayerNorm-activation MLP before the classifier.
 * The B series uses Hardswish and BatchNorm eps 1e-5, the L series tanh-GELU and eps 1e-7.
 */
public final class EfficientVitMit extends ImageModel {

    /**
     * An EfficientViT variant, as timm's EfficientVit / EfficientVitLarge keyword arguments.
     *
     * @param widths the stem's width, then one per stage
     * @param depths the stem's residual blocks, then blocks per stage
     * @param headDim width of each LiteMLA head
     * @param headWidths the head's 1x1 conv width and its MLP's width (the pre-logits)
     * @param large the L series (timm's EfficientVitLarge)
     */
    public record Config(
            List<Integer> widths, List<Integer> depths, int headDim, List<Integer> headWidths, boolean large) {
        public Config {
            widths = List.copyOf(widths);
            depths = List.copyOf(depths);
            headWidths = List.copyOf(headWidths);
            if (widths.size() != 5 || depths.size() != 5) {
                throw new IllegalArgumentException(
                        "EfficientViT needs a stem and 4 stages: widths " + widths + ", depths " + depths);
            }
            if (headWidths.size() != 2) {
                throw new IllegalArgumentException("headWidths " + headWidths + " needs the conv and MLP widths");
            }
        }

        /** A B-series variant (timm's EfficientVit: Hardswish, BatchNorm eps 1e-5, MBConv expansion 4). */
        public static Config b(List<Integer> widths, List<Integer> depths, int headDim, int conv, int mlp) {
            return new Config(widths, depths, headDim, List.of(conv, mlp), false);
        }

        /** An L-series variant (timm's EfficientVitLarge: tanh-GELU, BatchNorm eps 1e-7, fused MBConvs early). */
        public static Config l(List<Integer> widths, List<Integer> depths, int conv, int mlp) {
            return new Config(widths, depths, 32, List.of(conv, mlp), true);
        }

        Activation.Kind act() {
            return large ? Activation.Kind.GELU_TANH : Activation.Kind.HARD_SWISH;
        }

        float normEps() {
            return large ? 1e-7f : 1e-5f;
        }
    }

    // ---- blocks ---------------------------------------------------------------------------------

    /** One layer's norm and activation choice: BatchNorm or none, an activation or none, a conv bias or not. */
    private record Layer(boolean norm, Activation.Kind act, boolean bias) {}

    /**
     * EfficientViT's ConvNormAct: {@code dropout} (none at rate 0), a "same"-padded {@code conv}, a BatchNorm
     * {@code norm} (or identity) and an activation {@code act} (or identity).
     */
    static final class ConvNormAct extends Module {
        private final Conv2d conv;
        private final Module norm;
        private final Activation.Kind act;

        ConvNormAct(int in, int out, int kernel, int stride, int groups, Layer layer, float eps) {
            register("dropout", new Dropout(0f));
            this.conv = register("conv", Conv2d.symmetric(in, out, kernel, stride, 1, groups, layer.bias()));
            this.norm = register("norm", layer.norm() ? new BatchNorm2d(out, eps, 0.1f) : new Identity());
            this.act = layer.act() == null ? Activation.Kind.IDENTITY : layer.act();
            register("act", new Activation(act));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return Activation.apply(act, norm.forward(conv.forward(x)));
        }
    }

    /** Children run in order under their names: DSConv, ConvBlock, MBConv and FusedMBConv are such chains. */
    private static NamedSequential chain(String[] names, ConvNormAct... layers) {
        NamedSequential s = new NamedSequential();
        for (int i = 0; i < names.length; i++) {
            s.add(names[i], layers[i]);
        }
        return s;
    }

    /**
     * timm's build_local_block: with expansion 1 a DSConv (depthwise, pointwise) or, for the L series' stem, a
     * ConvBlock (3x3, 3x3); else an MBConv (1x1 expand, depthwise, 1x1 project) or a FusedMBConv (3x3 expand, 1x1
     * project). {@code fewerNorm} drops the norms but the last, giving the others a bias.
     */
    static Module localBlock(
            Config cfg, int in, int out, int stride, int expandRatio, boolean fewerNorm, boolean fused) {
        Activation.Kind act = cfg.act();
        float eps = cfg.normEps();
        Layer first = new Layer(!fewerNorm, act, fewerNorm);
        Layer last = new Layer(true, null, false);
        if (expandRatio == 1) {
            if (!fused) {
                return chain(
                        new String[] {"depth_conv", "point_conv"},
                        new ConvNormAct(in, in, 3, stride, in, first, eps),
                        new ConvNormAct(in, out, 1, 1, 1, last, eps));
            }
            return chain(
                    new String[] {"conv1", "conv2"},
                    new ConvNormAct(in, in, 3, stride, 1, first, eps),
                    new ConvNormAct(in, out, 3, 1, 1, last, eps));
        }
        int mid = in * expandRatio;
        if (!fused) {
            return chain(
                    new String[] {"inverted_conv", "depth_conv", "point_conv"},
                    new ConvNormAct(in, mid, 1, 1, 1, first, eps),
                    new ConvNormAct(mid, mid, 3, stride, mid, first, eps),
                    new ConvNormAct(mid, out, 1, 1, 1, last, eps));
        }
        return chain(
                new String[] {"spatial_conv", "point_conv"},
                new ConvNormAct(in, mid, 3, stride, 1, first, eps),
                new ConvNormAct(mid, out, 1, 1, 1, last, eps));
    }

    /** timm's ResidualBlock: {@code pre_norm} (identity), {@code main}, and an identity {@code shortcut} or none. */
    static final class ResidualBlock extends Module {
        private final Module main;
        private final boolean shortcut;

        ResidualBlock(Module main, boolean shortcut) {
            register("pre_norm", new Identity());
            this.main = register("main", main);
            this.shortcut = shortcut;
            if (shortcut) {
                register("shortcut", new Identity());
            }
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = main.forward(x);
            return shortcut ? y.add(x) : y;
        }
    }

    /**
     * timm's LiteMLA, lightweight multi-scale linear attention: a 1x1 {@code qkv} projection, per scale a depthwise kxk
     * plus grouped 1x1 aggregation of it ({@code aggreg}), ReLU-kernel linear attention per head over all of them
     * ({@code q (kᵀ [v, 1])}, normalized by the last column), and a 1x1 {@code proj} with BatchNorm.
     */
    static final class LiteMla extends Module {
        private static final int[] SCALES = {5};
        private static final double EPS = 1e-5;
        private final int dim;
        private final Module qkv;
        private final List<Module> aggreg = new ArrayList<>();
        private final Module proj;

        LiteMla(int in, int out, int dim, float normEps) {
            this.dim = dim;
            int heads = in / dim;
            int total = heads * dim;
            this.qkv = register("qkv", new ConvNormAct(in, 3 * total, 1, 1, 1, new Layer(false, null, false), normEps));
            Sequential agg = register("aggreg", new Sequential());
            for (int scale : SCALES) {
                Sequential s = new Sequential(
                        new Conv2d(
                                3 * total,
                                3 * total,
                                scale,
                                Conv2d.Options.defaults()
                                        .padding(scale / 2)
                                        .groups(3 * total)
                                        .bias(false)),
                        new Conv2d(
                                3 * total,
                                3 * total,
                                1,
                                Conv2d.Options.defaults().groups(3 * heads).bias(false)));
                agg.add(s);
                aggreg.add(s);
            }
            register("kernel_func", new Activation(Activation.Kind.RELU));
            this.proj = register(
                    "proj",
                    new ConvNormAct(total * (1 + SCALES.length), out, 1, 1, 1, new Layer(true, null, false), normEps));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long b = s.get(0);
            long h = s.get(2);
            long w = s.get(3);
            NDArray q = qkv.forward(x);
            NDList scales = new NDList(q);
            for (Module m : aggreg) {
                scales.add(m.forward(q));
            }
            // [B, heads', HW, 3 dim]
            NDArray all =
                    NDArrays.concat(scales, 1).reshape(b, -1, 3L * dim, h * w).swapAxes(-1, -2);
            NDArray query = Activation.apply(Activation.Kind.RELU, all.get(new NDIndex("..., 0:{}", dim)));
            NDArray key = Activation.apply(Activation.Kind.RELU, all.get(new NDIndex("..., {}:{}", dim, 2 * dim)));
            NDArray value = all.get(new NDIndex("..., {}:", 2 * dim));
            Shape vs = value.getShape();
            NDArray ones = value.getManager().ones(new Shape(vs.get(0), vs.get(1), vs.get(2), 1), value.getDataType());
            value = NDArrays.concat(new NDList(value, ones), -1);
            NDArray out = query.matMul(key.swapAxes(-1, -2).matMul(value));
            NDArray num = out.get(new NDIndex("..., :-1"));
            NDArray den = out.get(new NDIndex("..., -1:"));
            try (NDArray eps = Scalars.of(den, EPS)) {
                out = num.div(den.add(eps));
            }
            out = out.swapAxes(-1, -2).reshape(b, -1, h, w);
            return proj.forward(out);
        }
    }

    /**
     * timm's EfficientVitBlock: a residual LiteMLA ({@code context_module}), then a residual MBConv
     * ({@code local_module}).
     */
    static final class EfficientVitBlock extends Module {
        private final Module context;
        private final Module local;

        EfficientVitBlock(Config cfg, int in, int expandRatio) {
            this.context = register(
                    "context_module", new ResidualBlock(new LiteMla(in, in, cfg.headDim(), cfg.normEps()), true));
            this.local = register(
                    "local_module", new ResidualBlock(localBlock(cfg, in, in, 1, expandRatio, true, false), true));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return local.forward(context.forward(x));
        }
    }

    /** timm's EfficientVitStage / EfficientVitLargeStage: a strided first block without shortcut, then the rest. */
    static final class Stage extends Module {
        private final Module blocks;

        Stage(Config cfg, int i, int in, int out, int depth) {
            Sequential b = new Sequential();
            if (!cfg.large()) {
                boolean vit = i >= 2;
                b.add(new ResidualBlock(localBlock(cfg, in, out, 2, 4, vit, false), false));
                if (vit) {
                    for (int j = 0; j < depth; j++) {
                        b.add(new EfficientVitBlock(cfg, out, 4));
                    }
                } else {
                    for (int j = 1; j < depth; j++) {
                        b.add(new ResidualBlock(localBlock(cfg, out, out, 1, 4, false, false), true));
                    }
                }
            } else {
                boolean vit = i >= 3;
                boolean fewerNorm = i >= 2;
                b.add(new ResidualBlock(
                        localBlock(cfg, in, out, 2, vit ? 24 : 16, vit || fewerNorm, !fewerNorm), false));
                if (vit) {
                    for (int j = 0; j < depth; j++) {
                        b.add(new EfficientVitBlock(cfg, out, 6));
                    }
                } else {
                    for (int j = 0; j < depth; j++) {
                        b.add(new ResidualBlock(localBlock(cfg, out, out, 1, 4, fewerNorm, !fewerNorm), true));
                    }
                }
            }
            this.blocks = register("blocks", b);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(x);
        }
    }

    /**
     * EfficientViT's ClassifierHead: a 1x1 ConvNormAct ({@code in_conv}), pooling, and {@code classifier}: Linear
     * without bias, LayerNorm, activation, dropout, Linear (or identity). timm cannot turn its pooling off; here ''
     * (with 0 classes, as the features-only wrapper asks) runs the head's layers on each pixel instead.
     */
    static final class Head extends Module implements ResettableHead {
        private final int[] widths;
        private final Activation.Kind act;
        private final Module inConv;
        private final ClassifierMlp classifier;
        private GlobalPool pool;

        Head(Config cfg, int in, int numClasses, String poolType, double dropRate) {
            List<Integer> w = cfg.headWidths();
            this.widths = new int[] {w.get(0), w.get(1)};
            this.act = cfg.act();
            String p = checkPool(poolType, numClasses);
            this.inConv =
                    register("in_conv", new ConvNormAct(in, widths[0], 1, 1, 1, new Layer(true, act, false), 1e-5f));
            this.pool = register("global_pool", new GlobalPool(p, true));
            this.classifier = register(
                    "classifier",
                    new ClassifierMlp(
                            new Linear(widths[0], widths[1], false),
                            new LayerNorm(widths[1], cfg.normEps()),
                            new Activation(act),
                            new Dropout((float) dropRate),
                            fc(numClasses)));
        }

        private Module fc(int numClasses) {
            return Linear.classifier(widths[1], numClasses);
        }

        private static String checkPool(String poolType, int numClasses) {
            String p = GlobalPool.validate(poolType);
            if (GlobalPool.featureMultiplier(p) != 1) {
                throw new IllegalArgumentException(
                        "globalPool '" + p + "' doubles the channels, which the head's " + "Linear cannot take");
            }
            if (p.isEmpty() && numClasses > 0) {
                throw new IllegalArgumentException(
                        "globalPool '' (no pooling) needs numClasses 0; a classifier needs pooled features");
            }
            return p;
        }

        @Override
        public void reset(int numClasses, String poolType) {
            String p = checkPool(poolType, numClasses);
            pool = register("global_pool", new GlobalPool(p, true));
            // timm replaces classifier[-1] in place, keeping the trained MLP before it
            classifier.replaceLast(fc(numClasses));
        }

        @Override
        public NDArray forward(NDArray x, boolean preLogits) {
            x = pool.forward(inConv.forward(x));
            boolean maps = pool.isIdentity();
            if (maps) {
                x = x.transpose(0, 2, 3, 1);
            }
            int upTo = preLogits ? 4 : 5;
            for (int i = 0; i < upTo; i++) {
                x = classifier.get(i).forward(x);
            }
            return maps ? x.transpose(0, 3, 1, 2) : x;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return forward(x, false);
        }
    }

    /** The head's {@code classifier} Sequential, whose last layer (the classifier proper) can be replaced. */
    static final class ClassifierMlp extends Sequential {
        ClassifierMlp(Module... layers) {
            super(layers);
        }

        void replaceLast(Module fc) {
            register(Integer.toString(size() - 1), fc);
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    private final Config cfg;
    private final Head head;

    public EfficientVitMit(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> w = cfg.widths();
        List<Integer> d = cfg.depths();
        NamedSequential stem = register("stem", new NamedSequential());
        stem.add(
                "in_conv",
                new ConvNormAct(inChans, w.get(0), 3, 2, 1, new Layer(true, cfg.act(), false), cfg.normEps()));
        for (int i = 0; i < d.get(0); i++) {
            stem.add("res" + i, new ResidualBlock(localBlock(cfg, w.get(0), w.get(0), 1, 1, false, cfg.large()), true));
        }
        addTrunkStep(stem);
        Sequential stages = register("stages", new Sequential());
        int in = w.get(0);
        int stride = 2;
        for (int i = 0; i < 4; i++) {
            stages.add(addTrunkStep(new Stage(cfg, i, in, w.get(i + 1), d.get(i + 1))));
            stride *= 2;
            in = w.get(i + 1);
            addFeatureInfo(in, stride, "stages." + i);
        }
        setNumFeatures(in);
        head = registerHead("head", new Head(cfg, in, numClasses, globalPool, dropRate));
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    /** The head's MLP width ({@code head_hidden_size}), wider than the trunk's {@link #numFeatures()}. */
    @Override
    public int headHiddenSize() {
        return cfg.headWidths().get(1);
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's efficientvit_b* and efficientvit_l* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "efficientvit_mit";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "efficientvit_b0", Config.b(List.of(8, 16, 32, 64, 128), List.of(1, 2, 2, 2, 2), 16, 1024, 1280));
            add(m, "efficientvit_b1", Config.b(List.of(16, 32, 64, 128, 256), List.of(1, 2, 3, 3, 4), 16, 1536, 1600));
            add(m, "efficientvit_b2", Config.b(List.of(24, 48, 96, 192, 384), List.of(1, 3, 4, 4, 6), 32, 2304, 2560));
            add(m, "efficientvit_b3", Config.b(List.of(32, 64, 128, 256, 512), List.of(1, 4, 6, 6, 9), 32, 2304, 2560));
            add(m, "efficientvit_l1", Config.l(List.of(32, 64, 128, 256, 512), List.of(1, 1, 1, 6, 6), 3072, 3200));
            add(m, "efficientvit_l2", Config.l(List.of(32, 64, 128, 256, 512), List.of(1, 2, 2, 8, 8), 3072, 3200));
            add(m, "efficientvit_l3", Config.l(List.of(64, 128, 256, 512, 1024), List.of(1, 2, 2, 8, 8), 6144, 6400));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name,
                    "efficientvit_mit",
                    args -> new EfficientVitMit(c, args),
                    224,
                    "stem.in_conv.conv",
                    "head.classifier.4"));
        }
    }
}
