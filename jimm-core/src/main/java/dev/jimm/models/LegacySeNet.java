package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.ConvNetInit;
import dev.jimm.layers.Layers;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The legacy SE-ResNet, SE-ResNeXt and SENet-154 of timm's {@code models/senet.py} (Cadene's port of the Caffe models),
 * registered as {@code legacy_*}. Their keys are their own, not the ResNet class's: a {@code layer0} stem
 * ({@code conv1}, {@code bn1}, ...), {@code pool0}, blocks with {@code se_module.fc1/fc2} registered before
 * {@code downsample}, and the classifier {@code last_linear}. The SE-ResNet bottleneck strides its first 1x1 conv (as
 * Caffe did), not the 3x3; the stem pool rounds up ({@code ceil_mode}) instead of padding.
 *
 * <p>Feature levels, as timm's {@code feature_info}: {@code layer0} (/2, before pool0), then {@code layer1} to
 * {@code layer4} (/4 to /32).
 */
public final class LegacySeNet extends ImageModel {

    // ---- blocks ---------------------------------------------------------------------------------

    /** The residual block kinds of senet.py. */
    public enum BlockType {
        /** SEResNetBlock: two 3x3 convs (SE-ResNet-18/34). */
        SE_RESNET_BASIC(1),
        /** SEResNetBottleneck: the stride on the first 1x1 conv. */
        SE_RESNET_BOTTLENECK(4),
        /** SEResNeXtBottleneck: grouped 3x3 of width floor(planes * 4 / 64) * groups, the stride on it. */
        SE_RESNEXT_BOTTLENECK(4),
        /** SEBottleneck of SENet-154: widths 2 and 4 times planes, the stride on the grouped 3x3. */
        SE_BOTTLENECK(4);

        final int expansion;

        BlockType(int expansion) {
            this.expansion = expansion;
        }
    }

    /** senet.py's SEModule: mean, 1x1 conv reduce ({@code fc1}), ReLU, 1x1 conv expand ({@code fc2}), sigmoid. */
    static final class SeModule extends Module {
        private final Module fc1;
        private final Module fc2;

        SeModule(int channels, int reduction) {
            fc1 = register("fc1", new Conv2d(channels, channels / reduction, 1, Conv2d.Options.defaults()));
            register("relu", Activation.relu());
            fc2 = register("fc2", new Conv2d(channels / reduction, channels, 1, Conv2d.Options.defaults()));
            register("sigmoid", new Activation(Activation.Kind.SIGMOID));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray s = Activation.apply(Activation.Kind.RELU, fc1.forward(Layers.spatialMean(x, true)));
            return x.mul(Activation.apply(Activation.Kind.SIGMOID, fc2.forward(s)));
        }
    }

    private static Conv2d conv(int in, int out, int kernel, int stride, int padding, int groups) {
        return new Conv2d(
                in,
                out,
                kernel,
                Conv2d.Options.defaults()
                        .stride(stride)
                        .padding(padding)
                        .groups(groups)
                        .bias(false));
    }

    /**
     * Every block of senet.py: convs with their norms ({@code conv1}, {@code bn1}, ... in timm's order), a shared ReLU
     * ({@code relu}), {@code se_module}, then the optional {@code downsample}; the output is relu(se(body) + shortcut),
     * where the body has a ReLU after its first two norms (the basic block's last too), none after bn3.
     */
    static final class Block extends Module {
        private final List<Module> body = new ArrayList<>();
        private final Module seModule;
        private final Module downsample;

        Block(BlockType type, int inplanes, int planes, int groups, int reduction, int stride, Module downsample) {
            int out = planes * type.expansion;
            switch (type) {
                case SE_RESNET_BASIC -> {
                    convBn(1, conv(inplanes, planes, 3, stride, 1, 1), planes);
                    convBn(2, conv(planes, planes, 3, 1, 1, groups), planes);
                }
                case SE_RESNET_BOTTLENECK -> {
                    convBn(1, conv(inplanes, planes, 1, stride, 0, 1), planes);
                    convBn(2, conv(planes, planes, 3, 1, 1, groups), planes);
                    convBn(3, conv(planes, out, 1, 1, 0, 1), out);
                }
                case SE_RESNEXT_BOTTLENECK -> {
                    int width = (int) Math.floor(planes * (4 / 64.0)) * groups;
                    convBn(1, conv(inplanes, width, 1, 1, 0, 1), width);
                    convBn(2, conv(width, width, 3, stride, 1, groups), width);
                    convBn(3, conv(width, out, 1, 1, 0, 1), out);
                }
                case SE_BOTTLENECK -> {
                    convBn(1, conv(inplanes, planes * 2, 1, 1, 0, 1), planes * 2);
                    convBn(2, conv(planes * 2, planes * 4, 3, stride, 1, groups), planes * 4);
                    convBn(3, conv(planes * 4, out, 1, 1, 0, 1), out);
                }
            }
            register("relu", Activation.relu());
            seModule = register("se_module", new SeModule(out, reduction));
            this.downsample = downsample == null ? null : register("downsample", downsample);
        }

        private void convBn(int index, Conv2d conv, int channels) {
            body.add(register("conv" + index, conv));
            body.add(register("bn" + index, new BatchNorm2d(channels)));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out = x;
            // conv, bn pairs; ReLU after the first two (the basic block's second too), none after a bottleneck's bn3
            for (int i = 0; i < body.size(); i += 2) {
                out = body.get(i + 1).forward(body.get(i).forward(out));
                if (i < 4) {
                    out = Activation.apply(Activation.Kind.RELU, out);
                }
            }
            NDArray shortcut = downsample == null ? x : downsample.forward(x);
            return Activation.apply(Activation.Kind.RELU, seModule.forward(out).add(shortcut));
        }
    }

    // ---- the model ------------------------------------------------------------------------------

    /**
     * A legacy SENet variant, the arguments of timm's SENet.
     *
     * @param block the block kind
     * @param layers blocks per stage
     * @param groups groups of the 3x3 convs
     * @param reduction SE reduction ratio
     * @param inplanes width of the stem's output
     * @param input3x3 three 3x3 convs (64, 64, inplanes) in the stem instead of one 7x7
     * @param downsampleKernelSize kernel of the projection shortcuts of layer2 to layer4 (layer1's is 1)
     * @param downsamplePadding their padding
     */
    public record Config(
            BlockType block,
            List<Integer> layers,
            int groups,
            int reduction,
            int inplanes,
            boolean input3x3,
            int downsampleKernelSize,
            int downsamplePadding) {

        public Config {
            layers = List.copyOf(layers);
            if (layers.size() != 4) {
                throw new IllegalArgumentException("layers " + layers + " must give the blocks of 4 stages");
            }
        }

        /** An SE-ResNet or SE-ResNeXt: a 7x7 stem of 64, SE reduction 16, 1x1 projections. */
        public static Config of(BlockType block, int groups, int... layers) {
            return builder().block(block).groups(groups).layers(layers).build();
        }

        /** A builder holding timm's defaults; block and layers must be set. */
        public static Builder builder() {
            return new Builder();
        }

        /** A builder holding this variant, to change some of its fields. */
        public Builder toBuilder() {
            return new Builder(this);
        }

        /** Builds a {@link Config} by field name. */
        public static final class Builder {
            private BlockType block;
            private List<Integer> layers;
            private int groups = 1;
            private int reduction = 16;
            private int inplanes = 64;
            private boolean input3x3;
            private int downsampleKernelSize = 1;
            private int downsamplePadding;

            private Builder() {}

            private Builder(Config c) {
                block = c.block();
                layers = c.layers();
                groups = c.groups();
                reduction = c.reduction();
                inplanes = c.inplanes();
                input3x3 = c.input3x3();
                downsampleKernelSize = c.downsampleKernelSize();
                downsamplePadding = c.downsamplePadding();
            }

            public Builder block(BlockType v) {
                block = v;
                return this;
            }

            public Builder layers(int... v) {
                layers = Arrays.stream(v).boxed().toList();
                return this;
            }

            public Builder groups(int v) {
                groups = v;
                return this;
            }

            public Builder reduction(int v) {
                reduction = v;
                return this;
            }

            public Builder inplanes(int v) {
                inplanes = v;
                return this;
            }

            public Builder input3x3(boolean v) {
                input3x3 = v;
                return this;
            }

            /** The projection shortcuts of layer2 to layer4: kernel and padding. */
            public Builder downsample(int kernelSize, int padding) {
                downsampleKernelSize = kernelSize;
                downsamplePadding = padding;
                return this;
            }

            public Config build() {
                if (block == null || layers == null) {
                    throw new IllegalStateException(
                            "LegacySeNet.Config needs block and layers, got " + block + " and " + layers);
                }
                return new Config(
                        block, layers, groups, reduction, inplanes, input3x3, downsampleKernelSize, downsamplePadding);
            }
        }
    }

    private final Config cfg;

    public LegacySeNet(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        int inplanes = cfg.inplanes();
        NamedSequential layer0 = new NamedSequential();
        if (cfg.input3x3()) {
            layer0.add("conv1", conv(inChans, 64, 3, 2, 1, 1))
                    .add("bn1", new BatchNorm2d(64))
                    .add("relu1", Activation.relu())
                    .add("conv2", conv(64, 64, 3, 1, 1, 1))
                    .add("bn2", new BatchNorm2d(64))
                    .add("relu2", Activation.relu())
                    .add("conv3", conv(64, inplanes, 3, 1, 1, 1))
                    .add("bn3", new BatchNorm2d(inplanes))
                    .add("relu3", Activation.relu());
        } else {
            layer0.add("conv1", conv(inChans, inplanes, 7, 2, 3, 1))
                    .add("bn1", new BatchNorm2d(inplanes))
                    .add("relu1", Activation.relu());
        }
        addTrunkStep(register("layer0", layer0));
        addFeatureInfo(inplanes, 2, "layer0");
        // Caffe's pooling: ceil_mode instead of padding
        addTrunkStep(register("pool0", Pool2d.max(3, 2, 0, true)));

        BlockType type = cfg.block();
        int reductionSoFar = 2;
        for (int s = 0; s < 4; s++) {
            int planes = 64 << s;
            int stride = s == 0 ? 1 : 2;
            reductionSoFar *= 2;
            int out = planes * type.expansion;
            Module downsample = null;
            if (stride != 1 || inplanes != out) {
                int k = s == 0 ? 1 : cfg.downsampleKernelSize();
                int p = s == 0 ? 0 : cfg.downsamplePadding();
                downsample = new Sequential(conv(inplanes, out, k, stride, p, 1), new BatchNorm2d(out));
            }
            Sequential stage = new Sequential();
            for (int b = 0; b < cfg.layers().get(s); b++) {
                stage.add(new Block(
                        type,
                        inplanes,
                        planes,
                        cfg.groups(),
                        cfg.reduction(),
                        b == 0 ? stride : 1,
                        b == 0 ? downsample : null));
                inplanes = out;
            }
            String name = "layer" + (s + 1);
            addTrunkStep(register(name, stage));
            addFeatureInfo(out, reductionSoFar, name);
        }
        registerClassifierHead("last_linear", inplanes);
    }

    /** The variant this model was built from. */
    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's _weight_init: kaiming_normal_(fan_out) on every conv (SE's too), BatchNorm ones and zeros
        ConvNetInit.fanOutConvs().apply(this, random);
    }

    // ---- registrations --------------------------------------------------------------------------

    /** Registers timm's legacy_seresnet*, legacy_seresnext* and legacy_senet154. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "senet";
        }

        @Override
        public List<ModelEntry> models() {
            BlockType basic = BlockType.SE_RESNET_BASIC;
            BlockType bottle = BlockType.SE_RESNET_BOTTLENECK;
            BlockType next = BlockType.SE_RESNEXT_BOTTLENECK;
            List<ModelEntry> m = new ArrayList<>();
            add(m, "legacy_seresnet18", Config.of(basic, 1, 2, 2, 2, 2));
            add(m, "legacy_seresnet34", Config.of(basic, 1, 3, 4, 6, 3));
            add(m, "legacy_seresnet50", Config.of(bottle, 1, 3, 4, 6, 3));
            add(m, "legacy_seresnet101", Config.of(bottle, 1, 3, 4, 23, 3));
            add(m, "legacy_seresnet152", Config.of(bottle, 1, 3, 8, 36, 3));
            add(
                    m,
                    "legacy_senet154",
                    Config.builder()
                            .block(BlockType.SE_BOTTLENECK)
                            .layers(3, 8, 36, 3)
                            .groups(64)
                            .downsample(3, 1)
                            .inplanes(128)
                            .input3x3(true)
                            .build());
            add(m, "legacy_seresnext26_32x4d", Config.of(next, 32, 2, 2, 2, 2));
            add(m, "legacy_seresnext50_32x4d", Config.of(next, 32, 3, 4, 6, 3));
            add(m, "legacy_seresnext101_32x4d", Config.of(next, 32, 3, 4, 23, 3));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(
                    name, "senet", args -> new LegacySeNet(c, args), 224, "layer0.conv1", "last_linear"));
        }
    }
}
