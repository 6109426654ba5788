package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Activation;
import dev.jimm.layers.BatchNorm2d;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Module;
import dev.jimm.layers.NamedSequential;
import dev.jimm.layers.Sequential;
import dev.jimm.layers.SqueezeExcite;
import java.util.List;
import java.util.SplittableRandom;

/**
 * torchvision's RegNets ({@code regnet.py}): the networks of {@link RegNet}'s X and Y configs with torchvision's width
 * rounding, under torchvision's module names ({@code stem.0}, {@code trunk_output.block1.block1-0.f.a.0}, {@code fc}),
 * registered as {@code tv/regnet_*}.
 *
 * <p>torchvision's RegNets have neither dropout nor stochastic depth; here {@code dropRate} acts before {@code fc} and
 * {@code dropPathRate} on each block's residual branch, as in timm's, and both default to 0 (torchvision's behaviour).
 * The feature levels are timm's: the stem and the four stages ({@code stem}, {@code trunk_output.blockN}).
 */
public final class TvRegNet extends ImageModel {

    /** torchvision's ResBottleneckBlock: optional {@code proj}, the transform {@code f} (a, b, se, c), ReLU. */
    static final class TvBlock extends Module {
        private final Module proj;
        private final Module f;
        private final Module dropPath;

        TvBlock(RegNet.Config cfg, int in, int out, int stride, double bottleRatio, int groupWidth, double dpr) {
            proj = in != out || stride != 1 ? register("proj", convBn(in, out, 1, stride, 1, false)) : null;
            int wb = (int) Math.rint(out * bottleRatio);
            int g = wb / groupWidth;
            // torchvision's BottleneckTransform, a Sequential with named children a, b, se, c
            NamedSequential t = new NamedSequential()
                    .add("a", convBn(in, wb, 1, 1, 1, true))
                    .add("b", convBn(wb, wb, 3, stride, g, true));
            if (cfg.seRatio() != 0) {
                int se = (int) Math.rint(cfg.seRatio() * in);
                t.add("se", new SqueezeExcite(wb, se, Activation.Kind.RELU, Activation.Kind.SIGMOID));
            }
            f = register("f", t.add("c", convBn(wb, out, 1, 1, 1, false)));
            register("activation", Activation.relu());
            // torchvision's RegNet has no stochastic depth; jimm's dropPathRate adds it on the residual branch
            dropPath = register("drop_path", DropPath.orIdentity(dpr));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            NDArray fx = dropPath.forward(f.forward(x));
            NDArray sc = proj == null ? x : proj.forward(x);
            return sc.add(fx).getNDArrayInternal().relu();
        }
    }

    /** torchvision's Conv2dNormActivation: Sequential(conv, BatchNorm, [ReLU]). */
    private static Sequential convBn(int in, int out, int k, int stride, int groups, boolean relu) {
        Sequential s = new Sequential(
                new Conv2d(
                        in,
                        out,
                        k,
                        Conv2d.Options.defaults()
                                .stride(stride)
                                .padding((k - 1) / 2)
                                .groups(groups)
                                .bias(false)),
                new BatchNorm2d(out));
        if (relu) {
            s.add(Activation.relu());
        }
        return s;
    }

    private final RegNet.Config cfg;

    /**
     * @param cfg a plain RegNet-X/Y config with torchvision's rounding ({@link RegNet.Config#tvRounding()})
     * @param args the model arguments
     */
    public TvRegNet(RegNet.Config cfg, ModelArgs args) {
        super(args);
        this.cfg = cfg;
        if (cfg.preact()
                || cfg.groupNormSize() > 0
                || cfg.act() != Activation.Kind.RELU
                || cfg.downsample() != RegNet.Downsample.CONV1X1
                || cfg.numFeatures() > 0
                || cfg.linearOut()) {
            throw new IllegalArgumentException(
                    "torchvision's RegNet layout builds only plain RegNet-X/Y configs, not " + cfg);
        }
        int prev = cfg.stemWidth();
        addTrunkStep(register("stem", convBn(inChans, prev, 3, 2, 1, true)));
        addFeatureInfo(prev, 2, "stem");
        int stride = 2;
        NamedSequential trunk = new NamedSequential();
        List<RegNet.StageArgs> sa = RegNet.stageArgs(cfg, args.dropPathRate());
        for (int s = 0; s < sa.size(); s++) {
            RegNet.StageArgs a = sa.get(s);
            NamedSequential stage = new NamedSequential();
            for (int i = 0; i < a.depth(); i++) {
                stage.add(
                        "block" + (s + 1) + "-" + i,
                        new TvBlock(
                                cfg,
                                i == 0 ? prev : a.outChs(),
                                a.outChs(),
                                i == 0 ? a.stride() : 1,
                                a.bottleRatio(),
                                a.groupSize(),
                                a.dropPath()[i]));
            }
            prev = a.outChs();
            stride *= a.stride();
            trunk.add("block" + (s + 1), addTrunkStep(stage));
            addFeatureInfo(prev, stride, "trunk_output.block" + (s + 1));
        }
        register("trunk_output", trunk);
        registerClassifierHead("avgpool", "fc", prev);
    }

    /** The variant this model was built from. */
    public RegNet.Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        RegNet.initConvLinear(this, random, false);
    }
}
