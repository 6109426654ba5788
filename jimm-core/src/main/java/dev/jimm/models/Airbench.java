package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Module;
import dev.jimm.layers.PatchWhitening;
import dev.jimm.layers.Pool2d;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The network of Keller Jordan's CIFAR-10 speed runs (airbench), for images of 28 to 32 pixels trained from scratch: a
 * stem conv at full resolution, then three conv groups (conv, 2x2 max pool, BatchNorm, GELU, conv, BatchNorm, GELU),
 * each halving the size, and a global max pool into a linear classifier. It is jimm's own family (timm has no speed-run
 * net): where timm's ResNets divide a 28-pixel image by 4 in their stem, this one does its first convolutions at 28x28,
 * which is where Fashion-MNIST's detail is.
 *
 * <p>airbench's whitening first layer (a 2x2 conv set from the patches' covariance) is a 3x3 conv, BatchNorm and GELU
 * here ({@code stem}), whose first filters start as the training patches' whitening filters in a fit from scratch
 * ({@link InitFromData}); the groups keep airbench's names ({@code block1.conv1}, {@code block1.norm1}, ...) and its
 * identity start (each group conv's first filters pass their input channel through). Feature levels: the stem
 * (reduction 1) and each group (2, 4, 8). {@code globalPool} defaults to "max", airbench's.
 */
public final class Airbench extends ImageModel implements InitFromData {

    /** conv, 2x2 max pool, BatchNorm, activation, conv, BatchNorm, activation: the group's width at half the size. */
    static final class ConvGroup extends Module {
        private final Module conv1;
        private final Module pool;
        private final Module norm1;
        private final Module conv2;
        private final Module norm2;
        private final Activation.Kind act;

        ConvGroup(int in, int out, Activation.Kind act) {
            Conv2d.Options o = Conv2d.Options.defaults().padding(1).bias(false);
            conv1 = register("conv1", new Conv2d(in, out, 3, o));
            pool = register("pool", Pool2d.max(2, 2, 0));
            norm1 = register("norm1", new BatchNorm2d(out));
            conv2 = register("conv2", new Conv2d(out, out, 3, o));
            norm2 = register("norm2", new BatchNorm2d(out));
            this.act = act;
        }

        /**
         * airbench's identity start: each conv's first filters, as many as it has input channels, pass their own
         * channel through unchanged (PyTorch's {@code dirac_}), so the group starts close to the identity map and early
         * steps train the filters added on top of it.
         */
        @Override
        protected void resetParameters(SplittableRandom random) {
            dirac((Conv2d) conv1);
            dirac((Conv2d) conv2);
        }

        private static void dirac(Conv2d conv) {
            NDArray w = conv.weight().getArray();
            Shape s = w.getShape();
            int out = (int) s.get(0);
            int in = (int) s.get(1);
            int kh = (int) s.get(2);
            int kw = (int) s.get(3);
            float[] v = w.toFloatArray();
            for (int o = 0; o < Math.min(out, in); o++) {
                Arrays.fill(v, o * in * kh * kw, (o + 1) * in * kh * kw, 0f);
                v[((o * in + o) * kh + kh / 2) * kw + kw / 2] = 1f;
            }
            Module.assign(w, v);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            x = Activation.apply(act, norm1.forward(pool.forward(conv1.forward(x))));
            return Activation.apply(act, norm2.forward(conv2.forward(x)));
        }
    }

    /** A 3x3 conv, BatchNorm and activation at full resolution. */
    static final class Stem extends Module {
        private final Conv2d conv;
        private final Module norm;
        private final Activation.Kind act;

        Stem(int in, int out, Activation.Kind act) {
            conv = register(
                    "conv",
                    new Conv2d(in, out, 3, Conv2d.Options.defaults().padding(1).bias(false)));
            norm = register("norm", new BatchNorm2d(out));
            this.act = act;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return Activation.apply(act, norm.forward(conv.forward(x)));
        }

        /**
         * airbench's whitening start: the first filters become the patches' whitening filters and their negatives
         * ({@link PatchWhitening}), as many pairs as fit in half the width; the rest keep their random start.
         */
        void whiten(NDArray images) {
            Shape s = images.getShape();
            int c = (int) s.get(1);
            NDArray w = conv.weight().getArray();
            int pairs = Math.min(c * 9, (int) w.getShape().get(0) / 2);
            float[] filters = PatchWhitening.filters(
                    images.toFloatArray(), (int) s.get(0), c, (int) s.get(2), (int) s.get(3), 3, pairs, WHITEN_EPS);
            float[] v = w.toFloatArray();
            System.arraycopy(filters, 0, v, 0, filters.length);
            Module.assign(w, v);
        }
    }

    /** airbench's eigenvalue floor of the whitening filters (on normalised images). */
    static final double WHITEN_EPS = 5e-4;

    /**
     * A variant's widths.
     *
     * @param stemWidth channels of the stem conv
     * @param widths channels of the three conv groups
     * @param act the activation after every norm
     */
    public record Config(int stemWidth, List<Integer> widths, Activation.Kind act) {
        public Config {
            widths = List.copyOf(widths);
            if (widths.size() != 3) {
                throw new IllegalArgumentException("airbench has three conv groups, got widths " + widths);
            }
        }
    }

    private final Stem stem;

    public Airbench(Config config, ModelArgs args) {
        super(args);
        stem = register("stem", new Stem(inChans, config.stemWidth(), config.act()));
        addTrunkStep(stem);
        addFeatureInfo(config.stemWidth(), 1, "stem");
        int in = config.stemWidth();
        int reduction = 1;
        for (int i = 0; i < 3; i++) {
            int out = config.widths().get(i);
            reduction *= 2;
            String name = "block" + (i + 1);
            addTrunkStep(register(name, new ConvGroup(in, out, config.act())));
            addFeatureInfo(out, reduction, name);
            in = out;
        }
        registerClassifierHead("fc", in);
    }

    /** Whitens the stem from the patches of {@code images}: see {@link Stem#whiten}. */
    @Override
    public void initFromData(NDArray images) {
        stem.whiten(images);
    }

    /** Registers the airbench variants. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "airbench";
        }

        @Override
        public List<ModelEntry> models() {
            return List.of(
                    entry("airbench_s", new Config(24, List.of(48, 96, 192), Activation.Kind.GELU)),
                    entry("airbench_m", new Config(32, List.of(64, 128, 256), Activation.Kind.GELU)),
                    // narrow at full size, wide from 7x7 down: the README's Fashion-MNIST recipe
                    entry("airbench_w", new Config(16, List.of(32, 128, 256), Activation.Kind.GELU)),
                    // airbench94's widths
                    entry("airbench94", new Config(24, List.of(64, 256, 256), Activation.Kind.GELU)));
        }

        private static ModelEntry entry(String name, Config c) {
            return new ModelEntry(
                    name,
                    "airbench",
                    args -> new Airbench(c, args),
                    PretrainedCfg.untrained(name, 32, "stem.conv", "fc"),
                    "max");
        }
    }
}
