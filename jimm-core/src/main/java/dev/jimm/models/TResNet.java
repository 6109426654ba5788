package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.BlurPool2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.ConvNormAct;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Init;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TResNet as timm's {@code models/tresnet.py} builds it: a space-to-depth stem (4x4 pixel blocks become 48 channels)
 * and a 3x3 conv, basic blocks (TResNet-M/L/XL) or bottlenecks (TResNet-V2-L) in the first two stages and bottlenecks
 * after, anti-aliased downsampling (the strided 3x3 convs run at stride 1, then a 3x3 blur pool of stride 2), SE in the
 * first three stages, average-pool shortcuts. The original's inplace-ABN is replaced as timm does: BatchNorm then
 * LeakyReLU (slope 0.01 in the stem, 0.001 in the blocks); {@link #prepareForPretrained} converts checkpoints in the
 * original layout ({@code conv1.0.0}, ...) and their inplace-ABN weights ({@code |w| + 1e-5}), as timm's
 * {@code checkpoint_filter_fn}.
 *
 * <p>Feature levels, as timm's {@code feature_info}: the stem conv ({@code ""}, which timm lists at /2 though it runs
 * at /4 after space-to-depth), then {@code body.layer1} (/4) to {@code body.layer4} (/32). timm's features_only model
 * takes levels 1 to 4 by default; here every level is listed, and {@code featuresOnly(1, 2, 3, 4)} picks timm's.
 */
public final class TResNet extends ImageModel {

    /** Leaky ReLU slope of the blocks; the stem's is PyTorch's default 0.01. */
    private static final float BLOCK_SLOPE = 1e-3f;

    private static final float STEM_SLOPE = 1e-2f;

    // ---- blocks ---------------------------------------------------------------------------------

    /** timm's SpaceToDepth(4): [N, C, H, W] to [N, 16 C, H / 4, W / 4], the 4x4 offsets outermost. */
    static final class SpaceToDepth extends Module {
        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            long n = s.get(0);
            long c = s.get(1);
            long h = s.get(2) / 4;
            long w = s.get(3) / 4;
            return x.reshape(n, c, h, 4, w, 4).transpose(0, 3, 5, 1, 2, 4).reshape(n, c * 16, h, w);
        }
    }

    /** BatchNorm then a leaky ReLU (or nothing), keeping the norm's keys: timm's BatchNormAct2d. */
    static final class BatchNormLeaky extends BatchNorm2d {
        private final float slope;
        private final boolean applyAct;

        BatchNormLeaky(int channels, float slope, boolean applyAct) {
            super(channels);
            this.slope = slope;
            this.applyAct = applyAct;
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray y = super.forwardImpl(x);
            return applyAct ? y.getNDArrayInternal().leakyRelu(slope) : y;
        }

        @Override
        protected String extraRepr() {
            return "BatchNormAct2d(" + numFeatures() + ", act=" + (applyAct ? "LeakyReLU(" + slope + ")" : "none")
                    + ")";
        }
    }

    /**
     * timm's ConvNormAct with an optional anti-aliasing layer: {@code conv} (stride 1 when anti-aliased), {@code bn}
     * (with the leaky ReLU, or none), and for a strided anti-aliased conv {@code aa}, a blur pool that does the stride.
     */
    static ConvNormAct convNormAct(
            int in, int out, int kernel, int stride, float slope, boolean applyAct, boolean antiAlias) {
        boolean useAa = antiAlias && stride > 1;
        Conv2d conv = Conv2d.symmetric(in, out, kernel, useAa ? 1 : stride, 1, 1, false);
        return new ConvNormAct(
                conv, new BatchNormLeaky(out, slope, applyAct), useAa ? new BlurPool2d(out, stride) : null);
    }

    /** What TResNet's BasicBlock and Bottleneck share: the shortcut, drop path and the ReLU of the sum. */
    abstract static class ResBlock extends Module {
        private Module downsample;
        private Module dropPath;

        final void registerShortcut(Module ds) {
            downsample = ds == null ? null : register("downsample", ds);
        }

        final void registerDropPath(double rate) {
            dropPath = register("drop_path", DropPath.orIdentity(rate));
        }

        /** relu(drop_path(out) + shortcut). */
        final NDArray residual(NDArray out, NDArray x) {
            NDArray shortcut = downsample == null ? x : downsample.forward(x);
            return Activation.apply(Activation.Kind.RELU, dropPath.forward(out).add(shortcut));
        }

        /** The norm timm zeroes at init. */
        abstract BatchNorm2d lastNorm();
    }

    /** Two 3x3 convs (the first anti-aliased when strided) and SE of reduction max(planes / 4, 64). */
    static final class BasicBlock extends ResBlock {
        static final int EXPANSION = 1;
        private final Module conv1;
        private final ConvNormAct conv2;
        private final Module se;

        BasicBlock(int inplanes, int planes, int stride, Module downsample, boolean useSe, double dropPathRate) {
            registerShortcut(downsample);
            conv1 = register("conv1", convNormAct(inplanes, planes, 3, stride, BLOCK_SLOPE, true, true));
            conv2 = register("conv2", convNormAct(planes, planes, 3, 1, BLOCK_SLOPE, false, false));
            register("act", Activation.relu());
            int rd = Math.max(planes * EXPANSION / 4, 64);
            se = useSe
                    ? register(
                            "se",
                            new SqueezeExcite(planes * EXPANSION, rd, Activation.Kind.RELU, Activation.Kind.SIGMOID))
                    : null;
            registerDropPath(dropPathRate);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out = conv2.forward(conv1.forward(x));
            if (se != null) {
                out = se.forward(out);
            }
            return residual(out, x);
        }

        @Override
        BatchNorm2d lastNorm() {
            return (BatchNorm2d) conv2.norm();
        }
    }

    /** 1x1, 3x3 (anti-aliased when strided), SE on the 3x3's output, 1x1 to 4 x planes. */
    static final class Bottleneck extends ResBlock {
        static final int EXPANSION = 4;
        private final Module conv1;
        private final Module conv2;
        private final Module se;
        private final ConvNormAct conv3;

        Bottleneck(int inplanes, int planes, int stride, Module downsample, boolean useSe, double dropPathRate) {
            registerShortcut(downsample);
            conv1 = register("conv1", convNormAct(inplanes, planes, 1, 1, BLOCK_SLOPE, true, false));
            conv2 = register("conv2", convNormAct(planes, planes, 3, stride, BLOCK_SLOPE, true, true));
            int rd = Math.max(planes * EXPANSION / 8, 64);
            se = useSe
                    ? register("se", new SqueezeExcite(planes, rd, Activation.Kind.RELU, Activation.Kind.SIGMOID))
                    : null;
            conv3 = register("conv3", convNormAct(planes, planes * EXPANSION, 1, 1, BLOCK_SLOPE, false, false));
            registerDropPath(dropPathRate);
            register("act", Activation.relu());
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out = conv2.forward(conv1.forward(x));
            if (se != null) {
                out = se.forward(out);
            }
            return residual(conv3.forward(out), x);
        }

        @Override
        BatchNorm2d lastNorm() {
            return (BatchNorm2d) conv3.norm();
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A TResNet variant, the arguments of timm's TResNet.
     *
     * @param layers blocks per stage
     * @param widthFactor width multiplier of the base 64 channels (truncated)
     * @param v2 TResNet-V2: bottlenecks in every stage and widths rounded down to multiples of 8
     */
    public record Config(List<Integer> layers, double widthFactor, boolean v2) {
        public Config {
            layers = List.copyOf(layers);
            if (layers.size() != 4 || widthFactor <= 0) {
                throw new IllegalArgumentException(
                        "layers " + layers + " must give 4 stages and widthFactor " + widthFactor + " be positive");
            }
        }

        /** A TResNet (basic blocks in the first two stages). */
        public static Config of(double widthFactor, int... layers) {
            return new Config(Arrays.stream(layers).boxed().toList(), widthFactor, false);
        }

        /** The V2 variant of this config. */
        public Config withV2() {
            return new Config(layers, widthFactor, true);
        }

        /** The stem's and first stage's width: int(64 * widthFactor), for V2 rounded down to a multiple of 8. */
        int planes() {
            int p = (int) (64 * widthFactor);
            return v2 ? p / 8 * 8 : p;
        }
    }

    private final Config cfg;
    private final NamedSequential body;

    public TResNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int planes = cfg.planes();
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.layers());
        body = new NamedSequential();
        body.add("s2d", new SpaceToDepth());
        body.add("conv1", convNormAct(inChans * 16, planes, 3, 1, STEM_SLOPE, true, false));
        int inplanes = planes;
        int reduction = 2;
        String[] names = {"layer1", "layer2", "layer3", "layer4"};
        int[] outs = new int[4];
        for (int s = 0; s < 4; s++) {
            boolean bottleneck = s >= 2 || cfg.v2();
            int expansion = bottleneck ? Bottleneck.EXPANSION : BasicBlock.EXPANSION;
            int stagePlanes = planes << s;
            int stride = s == 0 ? 1 : 2;
            int out = stagePlanes * expansion;
            Module downsample = null;
            if (stride != 1 || inplanes != out) {
                ConvNormAct proj = convNormAct(inplanes, out, 1, 1, BLOCK_SLOPE, false, false);
                // average-pool shortcut: the pool before the 1x1 conv
                downsample =
                        stride == 2 ? new Sequential(Pool2d.avg(2, 2, 0, true, false), proj) : new Sequential(proj);
            }
            Sequential stage = new Sequential();
            for (int b = 0; b < cfg.layers().get(s); b++) {
                int st = b == 0 ? stride : 1;
                Module ds = b == 0 ? downsample : null;
                boolean useSe = s < 3;
                stage.add(
                        bottleneck
                                ? new Bottleneck(inplanes, stagePlanes, st, ds, useSe, dpr[s][b])
                                : new BasicBlock(inplanes, stagePlanes, st, ds, useSe, dpr[s][b]));
                inplanes = out;
            }
            body.add(names[s], stage);
            outs[s] = out;
        }
        register("body", body);
        addTrunkSteps(body.children().values());
        // timm's level 0 is the stem conv's output (trunk step 1), listed at /2
        addFeatureInfo(planes, 2, "", 1);
        for (int s = 0; s < 4; s++) {
            reduction *= 2;
            addFeatureInfo(outs[s], reduction, "body." + names[s], s + 2);
        }
        registerNestedClassifierHead("head", inplanes);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm: kaiming_normal_(fan_out, 'leaky_relu') convs (slope a = 0: ReLU's gain), N(0, 0.01) linear weights,
        // the last norm of each block at 0
        ConvNetInit.fanOutConvs().withLinearStd(0.01).apply(this, random);
        for (Module m : namedModules().values()) {
            if (m instanceof ResBlock b) {
                Init.constant(b.lastNorm().weight().getArray(), 0f);
            }
        }
    }

    // conv{n}.0.0 / conv{n}.0.1 (conv and norm in the original's nested Sequential), conv{n}.0 / conv{n}.1, and the
    // shortcut's downsample.{i}.0 / .1, each to timm's conv / bn
    private static final Pattern[] RENAMES = {
        Pattern.compile("conv(\\d+)\\.0\\.0"),
        Pattern.compile("conv(\\d+)\\.0\\.1"),
        Pattern.compile("conv(\\d+)\\.0"),
        Pattern.compile("conv(\\d+)\\.1"),
        Pattern.compile("downsample\\.(\\d+)\\.0"),
        Pattern.compile("downsample\\.(\\d+)\\.1"),
    };

    private static final String[] RENAMED = {
        "conv%s.conv", "conv%s.bn", "conv%s.conv", "conv%s.bn", "downsample.%s.conv", "downsample.%s.bn"
    };

    /**
     * timm's {@code checkpoint_filter_fn}: a checkpoint in timm's layout passes unchanged; one in the original TResNet
     * layout (inplace-ABN) is renamed to timm's keys, and its norm weights become {@code |w| + 1e-5}, the weights a
     * BatchNorm needs to match inplace-ABN's.
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        if (checkpoint.containsKey("body.conv1.conv.weight")) {
            return checkpoint;
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = renameOriginalKey(e.getKey());
            NDArray v = e.getValue();
            if (k.endsWith("bn.weight")) {
                v = v.abs().add(1e-5f);
            }
            out.put(k, v);
        }
        return out;
    }

    /** One key of the original TResNet layout in timm's (the regexes of timm's filter, applied in its order). */
    static String renameOriginalKey(String key) {
        String k = key;
        for (int i = 0; i < RENAMES.length; i++) {
            Matcher m = RENAMES[i].matcher(k);
            StringBuilder sb = new StringBuilder();
            while (m.find()) {
                m.appendReplacement(
                        sb, Matcher.quoteReplacement(String.format(RENAMED[i], Integer.parseInt(m.group(1)))));
            }
            m.appendTail(sb);
            k = sb.toString();
        }
        return k;
    }

    // ---- registrations --------------------------------------------------------------------------

    /** Registers timm's tresnet_m, tresnet_l, tresnet_xl and tresnet_v2_l. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "tresnet";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "tresnet_m", Config.of(1.0, 3, 4, 11, 3));
            add(m, "tresnet_l", Config.of(1.2, 4, 5, 18, 3));
            add(m, "tresnet_xl", Config.of(1.3, 4, 5, 24, 3));
            add(m, "tresnet_v2_l", Config.of(1.0, 3, 4, 23, 3).withV2());
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            // timm's global_pool 'fast' is its average pool
            m.add(ModelEntry.untrained(
                    name, "tresnet", args -> new TResNet(c, args), 224, "body.conv1.conv", "head.fc"));
        }
    }
}
