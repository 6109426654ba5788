package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.Module;
import dev.jimm.layers.Pool2d;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * ShuffleNet v2 as torchvision's {@code models/shufflenetv2.py} builds it, registered as {@code tv/shufflenet_v2_x0_5},
 * {@code x1_0}, {@code x1_5}, {@code x2_0} with torchvision's state_dict keys ({@code conv1.0.weight},
 * {@code stage2.0.branch1.0.weight}, {@code conv5.1.running_var}, {@code fc.weight}) and its init (PyTorch's layer
 * defaults).
 *
 * <p>The timm API on top: {@link #forwardFeatures} ends with {@code conv5}; the head is global pooling (torchvision's
 * {@code mean([2, 3])} is "avg"), dropout ({@code dropRate}, none in torchvision) and {@code fc}. Feature levels, one
 * per stride: {@code conv1} (/2), {@code maxpool} (/4, the stem has no stage at that stride), {@code stage2} (/8),
 * {@code stage3} (/16), {@code stage4} (/32); {@code conv5}, like timm's {@code conv_head} in EfficientNets, is not a
 * level.
 */
public final class ShuffleNetV2 extends ImageModel {

    /** Interleaves the channels of {@code groups} groups: [N, g*c, H, W] viewed [N, g, c, H, W], transposed. */
    static NDArray channelShuffle(NDArray x, int groups) {
        Shape s = x.getShape();
        long n = s.get(0);
        long c = s.get(1);
        long h = s.get(2);
        long w = s.get(3);
        return x.reshape(n, groups, c / groups, h, w).transpose(0, 2, 1, 3, 4).reshape(n, c, h, w);
    }

    /** The ShuffleNet v2 unit: split (or, strided, two-branch) with a channel shuffle after. */
    static final class InvertedResidual extends Module {
        private final int stride;
        private final Module branch1;
        private final Module branch2;

        InvertedResidual(int inp, int oup, int stride) {
            if (stride < 1 || stride > 3) {
                throw new IllegalArgumentException("InvertedResidual stride " + stride + " is not in 1..3");
            }
            int branchFeatures = oup / 2;
            if (stride == 1 && inp != branchFeatures * 2) {
                throw new IllegalArgumentException("InvertedResidual with stride 1 needs inp == (oup / 2) * 2, got inp "
                        + inp + " and oup " + oup);
            }
            this.stride = stride;
            Conv2d.Options pw = Conv2d.Options.defaults().bias(false);
            if (stride > 1) {
                branch1 = register(
                        "branch1",
                        new Sequential(
                                depthwise(inp, stride),
                                new BatchNorm2d(inp),
                                new Conv2d(inp, branchFeatures, 1, pw),
                                new BatchNorm2d(branchFeatures),
                                Activation.relu()));
            } else {
                // an empty nn.Sequential in torchvision: no keys, never run
                branch1 = register("branch1", new Sequential());
            }
            branch2 = register(
                    "branch2",
                    new Sequential(
                            new Conv2d(stride > 1 ? inp : branchFeatures, branchFeatures, 1, pw),
                            new BatchNorm2d(branchFeatures),
                            Activation.relu(),
                            depthwise(branchFeatures, stride),
                            new BatchNorm2d(branchFeatures),
                            new Conv2d(branchFeatures, branchFeatures, 1, pw),
                            new BatchNorm2d(branchFeatures),
                            Activation.relu()));
        }

        private static Conv2d depthwise(int channels, int stride) {
            return new Conv2d(
                    channels,
                    channels,
                    3,
                    Conv2d.Options.defaults()
                            .stride(stride)
                            .padding(1)
                            .groups(channels)
                            .bias(false));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray out;
            if (stride == 1) {
                NDList halves = x.split(2, 1);
                out = NDArrays.concat(new NDList(halves.get(0), branch2.forward(halves.get(1))), 1);
            } else {
                out = NDArrays.concat(new NDList(branch1.forward(x), branch2.forward(x)), 1);
            }
            return channelShuffle(out, 2);
        }
    }

    /**
     * A ShuffleNet v2 width.
     *
     * @param stagesRepeats units in stage2, stage3, stage4
     * @param stagesOutChannels output channels of conv1, the three stages and conv5
     */
    public record Config(List<Integer> stagesRepeats, List<Integer> stagesOutChannels) {
        public Config {
            stagesRepeats = List.copyOf(stagesRepeats);
            stagesOutChannels = List.copyOf(stagesOutChannels);
            if (stagesRepeats.size() != 3) {
                throw new IllegalArgumentException("stagesRepeats " + stagesRepeats + " must hold 3 positive ints");
            }
            if (stagesOutChannels.size() != 5) {
                throw new IllegalArgumentException(
                        "stagesOutChannels " + stagesOutChannels + " must hold 5 positive ints");
            }
        }
    }

    private final Config cfg;
    private final Module conv5;

    public ShuffleNetV2(Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        List<Integer> ch = cfg.stagesOutChannels();
        int in = ch.get(0);
        addTrunkStep(register(
                "conv1",
                new Sequential(
                        new Conv2d(
                                inChans,
                                in,
                                3,
                                Conv2d.Options.defaults().stride(2).padding(1).bias(false)),
                        new BatchNorm2d(in),
                        Activation.relu())));
        addFeatureInfo(in, 2, "conv1");
        addTrunkStep(register("maxpool", Pool2d.max(3, 2, 1)));
        addFeatureInfo(in, 4, "maxpool");
        int reduction = 4;
        for (int s = 0; s < 3; s++) {
            int out = ch.get(s + 1);
            Sequential stage = new Sequential(new InvertedResidual(in, out, 2));
            for (int i = 1; i < cfg.stagesRepeats().get(s); i++) {
                stage.add(new InvertedResidual(out, out, 1));
            }
            String name = "stage" + (s + 2);
            addTrunkStep(register(name, stage));
            reduction *= 2;
            addFeatureInfo(out, reduction, name);
            in = out;
        }
        int numFeatures = ch.get(4);
        conv5 = register(
                "conv5",
                new Sequential(
                        new Conv2d(in, numFeatures, 1, Conv2d.Options.defaults().bias(false)),
                        new BatchNorm2d(numFeatures),
                        Activation.relu()));
        registerClassifierHead("fc", numFeatures);
    }

    /** The width this model was built with. */
    public Config config() {
        return cfg;
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return conv5.forward(forwardTrunk(x));
    }

    /** torchvision's four ShuffleNet v2 widths. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "shufflenetv2";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            List<Integer> repeats = List.of(4, 8, 4);
            add(m, "tv/shufflenet_v2_x0_5", new Config(repeats, List.of(24, 48, 96, 192, 1024)));
            add(m, "tv/shufflenet_v2_x1_0", new Config(repeats, List.of(24, 116, 232, 464, 1024)));
            add(m, "tv/shufflenet_v2_x1_5", new Config(repeats, List.of(24, 176, 352, 704, 1024)));
            add(m, "tv/shufflenet_v2_x2_0", new Config(repeats, List.of(24, 244, 488, 976, 2048)));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(ModelEntry.untrained(name, "torchvision", args -> new ShuffleNetV2(c, args), 224, "conv1.0", "fc"));
        }
    }
}
