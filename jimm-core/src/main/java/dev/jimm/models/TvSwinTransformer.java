package dev.jimm.models;

import static dev.jimm.models.SwinBase.DEPTHS_S;
import static dev.jimm.models.SwinBase.DEPTHS_T;
import static dev.jimm.models.SwinBase.HEADS_B;
import static dev.jimm.models.SwinBase.HEADS_T;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import dev.jimm.models.SwinTransformer.Config;
import dev.jimm.models.SwinTransformer.Flavor;
import dev.jimm.models.SwinTransformer.Windows;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * torchvision's {@code SwinTransformer}, with v1 blocks ({@code swin_t/s/b}) or v2 blocks ({@code swin_v2_t/s/b}):
 * {@code features.0} the patch embedding (conv, permute, LayerNorm), {@code features.1,3,5,7} the stages,
 * {@code features.2,4,6} the patch merging, then {@code norm} and {@code head}. The blocks are
 * {@link SwinTransformer}'s and {@link SwinTransformerV2}'s in their torchvision flavor. Any input size works (maps are
 * padded to the window), as in torchvision.
 */
public final class TvSwinTransformer extends ImageModel {
    private final Config cfg;
    private final Sequential features;
    private final Module norm;

    /** A torchvision Swin of the given variant, with V2 blocks and merging when {@code v2}. */
    public TvSwinTransformer(Config cfg, ModelArgs args, boolean v2) {
        super(args);
        this.cfg = cfg;
        features = new Sequential();
        features.add(new Sequential(
                new Conv2d(
                        inChans,
                        cfg.embedDim(),
                        cfg.patchSize(),
                        Conv2d.Options.defaults().stride(cfg.patchSize())),
                new SwinTransformer.ToNhwc(),
                new LayerNorm(cfg.embedDim())));
        double[][] dpr = DropPath.schedule(args.dropPathRate(), cfg.depths());
        int res = cfg.imgSize() / cfg.patchSize();
        int reduction = cfg.patchSize();
        for (int i = 0; i < cfg.depths().size(); i++) {
            int dim = cfg.embedDim() << i;
            int window = cfg.windowSizes().get(i);
            int heads = cfg.numHeads().get(i);
            Sequential stage = new Sequential();
            for (int b = 0; b < cfg.depths().get(i); b++) {
                SwinTransformer.BlockArgs a = new SwinTransformer.BlockArgs(
                        Flavor.TORCHVISION, dim, res, heads, window, b, cfg.mlpRatio(), cfg.qkvBias(), dpr[i][b]);
                stage.add(v2 ? new SwinTransformerV2.Block(a, 0) : new SwinTransformer.Block(a));
            }
            features.add(stage);
            addFeatureInfo(dim, reduction, "features." + (features.size() - 1), features.size() - 1);
            if (i < cfg.depths().size() - 1) {
                features.add(new SwinTransformer.PatchMerging(dim, 2 * dim, v2, true));
                res = (res + 1) / 2;
                reduction *= 2;
            }
        }
        register("features", features);
        addTrunkSteps(features.children().values());
        norm = register("norm", new LayerNorm(cfg.numFeatures()));
        registerClassifierHead("avgpool", "head", cfg.numFeatures());
    }

    public Config config() {
        return cfg;
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // torchvision: trunc_normal(.02) on every Linear (the MLPs' xavier init is overwritten), zero biases
        SwinBase.truncNormalLinears(this, random);
        for (Module m : namedModules().values()) {
            if (m instanceof SwinTransformerV2.WindowAttentionV2 a) {
                a.zeroKeyBias();
            }
        }
    }

    /** The patch embedding, stages and merging layers, then the final norm: NHWC maps. */
    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(features.forward(x));
    }

    /** The head pools NHWC maps over H and W. */
    @Override
    protected NDArray toPoolInput(NDArray features) {
        return Windows.toNchw(features);
    }

    /** The stages' outputs as NCHW maps. */
    @Override
    public NDList forwardIntermediates(NDArray x, int[] indices) {
        return forwardLevels(x, indices, Windows::toNchw);
    }

    // ---- registrations ----------------------------------------------------------------------------

    /** Registers torchvision's swin_t/s/b and swin_v2_t/s/b ({@code tv/…}). */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            // the entries' family is "torchvision", shared with the other tv/ registrations
            return "tv_swin_transformer";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            // the last number is the builder's stochastic_depth_prob, the drop-path rate when the caller sets none
            add(m, "tv/swin_t", Config.of(224, 7, 96, DEPTHS_T, HEADS_T), false, 0.2);
            add(m, "tv/swin_s", Config.of(224, 7, 96, DEPTHS_S, HEADS_T), false, 0.3);
            add(m, "tv/swin_b", Config.of(224, 7, 128, DEPTHS_S, HEADS_B), false, 0.5);
            add(m, "tv/swin_v2_t", Config.of(256, 8, 96, DEPTHS_T, HEADS_T), true, 0.2);
            add(m, "tv/swin_v2_s", Config.of(256, 8, 96, DEPTHS_S, HEADS_T), true, 0.3);
            add(m, "tv/swin_v2_b", Config.of(256, 8, 128, DEPTHS_S, HEADS_B), true, 0.5);
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c, boolean v2, double dropPathRate) {
            m.add(new ModelEntry(
                    name,
                    "torchvision",
                    args -> new TvSwinTransformer(c, args.withDefaultDropPathRate(dropPathRate), v2),
                    SwinTransformer.swinCfg(name, c.imgSize(), "features.0.0", "head")));
        }
    }
}
