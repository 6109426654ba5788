package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Init;
import dev.jimm.layers.Module;
import dev.jimm.layers.Scalars;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * DeiT and DeiT III as timm's {@code models/deit.py} builds them. The distilled DeiTs add a distillation token
 * ({@code dist_token}) after the class token and a second classifier ({@code head_dist}); in eval (and in plain
 * training) their output is the average of the two heads. The other DeiTs are plain {@link VisionTransformer}s.
 */
public final class Deit extends VisionTransformer {
    private final Parameter distToken;
    private Module headDist;

    /** A distilled DeiT of the given ViT variant; it pools by its two tokens only. */
    public Deit(Config cfg, ModelArgs args) {
        super(cfg, args);
        if (!globalPool.equals("token")) {
            throw new IllegalArgumentException("globalPool '" + globalPool
                    + "': a distilled DeiT pools its class and distillation tokens only ('token')");
        }
        if (!cfg.classToken() || cfg.regTokens() != 0) {
            throw new IllegalArgumentException("a distilled DeiT needs a class token and no register tokens");
        }
        numPrefixTokens = 2;
        // timm replaces pos_embed after the parent built it; re-declaring keeps its place in the order
        int embedLen = patchEmbed.numPatches() + (cfg.noEmbedClass() ? 0 : numPrefixTokens);
        posEmbed = parameter("pos_embed", 1, embedLen, cfg.embedDim());
        distToken = parameter("dist_token", 1, 1, cfg.embedDim());
        headDist = register("head_dist", newHead(numClasses));
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // std 0.02 stays far inside trunc_normal_'s absolute [-2, 2] bounds: a plain normal
        Init.normal(distToken.getArray(), 0.02, random);
        super.initWeights(random);
    }

    @Override
    protected NDArray posEmbed(NDArray x) {
        return addPositions(x, VitParts.prefixTokens(x, clsToken, distToken));
    }

    /** Pre-logits are the mean of the class and distillation tokens; logits the mean of both heads. */
    @Override
    public NDArray forwardHead(NDArray x, boolean preLogits) {
        NDArray cls = x.get(":, 0");
        NDArray dist = x.get(":, 1");
        if (preLogits) {
            return Scalars.div(cls.add(dist), 2);
        }
        return Scalars.div(tokenHead().forward(cls).add(headDist.forward(dist)), 2);
    }

    /**
     * Replaces both classifiers. As timm's, the pooling stays 'token' whatever {@code globalPool} says, so a
     * features-only wrapper (which asks for '') still works.
     */
    @Override
    public void resetClassifier(int newNumClasses, String newGlobalPool) {
        resetTokenClassifier(newNumClasses, globalPool);
        headDist = register("head_dist", newHead(newNumClasses));
    }

    // ---- configs and registrations ----------------------------------------------------------------

    /** Registers timm's deit_* and deit3_* names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "deit";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            Config ti = Config.of(224, 16, 192, 12, 3);
            Config s = Config.of(224, 16, 384, 12, 6);
            Config b = Config.of(224, 16, 768, 12, 12);
            plain(m, "deit_tiny_patch16_224", ti);
            plain(m, "deit_small_patch16_224", s);
            plain(m, "deit_base_patch16_224", b);
            plain(m, "deit_base_patch16_384", b.imgSize(384));
            distilled(m, "deit_tiny_distilled_patch16_224", ti);
            distilled(m, "deit_small_distilled_patch16_224", s);
            distilled(m, "deit_base_distilled_patch16_224", b);
            distilled(m, "deit_base_distilled_patch16_384", b.imgSize(384));

            // DeiT III: patch-only position embeddings and LayerScale 1e-6
            plain(m, "deit3_small_patch16_224", s.withNoEmbedClass().initValues(1e-6));
            plain(
                    m,
                    "deit3_small_patch16_384",
                    s.withNoEmbedClass().initValues(1e-6).imgSize(384));
            plain(
                    m,
                    "deit3_medium_patch16_224",
                    Config.of(224, 16, 512, 12, 8).withNoEmbedClass().initValues(1e-6));
            plain(m, "deit3_base_patch16_224", b.withNoEmbedClass().initValues(1e-6));
            plain(
                    m,
                    "deit3_base_patch16_384",
                    b.withNoEmbedClass().initValues(1e-6).imgSize(384));
            Config l = Config.of(224, 16, 1024, 24, 16).withNoEmbedClass().initValues(1e-6);
            plain(m, "deit3_large_patch16_224", l);
            plain(m, "deit3_large_patch16_384", l.imgSize(384));
            plain(
                    m,
                    "deit3_huge_patch14_224",
                    Config.of(224, 14, 1280, 32, 16).withNoEmbedClass().initValues(1e-6));
            return m;
        }

        private static void plain(List<ModelEntry> m, String name, Config c) {
            add(m, name, c, false);
        }

        private static void distilled(List<ModelEntry> m, String name, Config c) {
            add(m, name, c, true);
        }

        /** DeiT's _cfg (ImageNet statistics); a distilled one's two heads are both classifiers (timm's cfg). */
        private static void add(List<ModelEntry> m, String name, Config c, boolean distilled) {
            PretrainedCfg cfg = VisionTransformer.vitCfg(
                    name,
                    c.imgSize(),
                    PretrainedCfg.IMAGENET_MEAN,
                    PretrainedCfg.IMAGENET_STD,
                    distilled ? "head,head_dist" : "head");
            m.add(new ModelEntry(
                            name,
                            "deit",
                            args -> distilled ? new Deit(c, args) : new VisionTransformer(c, args),
                            cfg,
                            "token")
                    .takingImgSize());
        }
    }
}
