package dev.jimm.models;

import dev.jimm.layers.Activation;
import dev.jimm.layers.Conv2dSame;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import dev.jimm.models.EfficientNetBuilder.ArchDef;
import dev.jimm.models.EfficientNetBuilder.NormSpec;
import dev.jimm.models.EfficientNetBuilder.RoundChs;
import dev.jimm.models.EfficientNetBuilder.SeSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * The trunk {@link EfficientNet} and {@link MobileNetV3} share, as timm's two classes do: {@code conv_stem},
 * {@code bn1} and the {@code blocks} built from arch strings by {@link EfficientNetBuilder}, their feature levels and
 * intermediates, and timm's {@code _init_weight_goog}. Subclasses register their head after it.
 */
public abstract class EfficientNetBase extends ImageModel {
    /** Channels of the last block, where the head starts. */
    protected final int trunkChs;

    /** The layer widths of a pruned variant (timm's adapt_model_from_file), or null. */
    final PrunedWidths pruned;

    /**
     * Registers {@code conv_stem}, {@code bn1} and {@code blocks}, and their feature levels.
     *
     * @param args the model arguments ({@code dropPathRate} reaches the blocks)
     * @param cfg the trunk's settings
     * @param prunedVariant the timm variant whose pruned widths ({@link PrunedWidths}) the model takes, or "" for none
     * @param seFromExp SE ratios relative to the expanded width (MobileNet-V3) rather than the block input
     * @param layerScale LayerScale2d init in uir/mqa blocks, or null
     */
    protected EfficientNetBase(ModelArgs args, Trunk cfg, String prunedVariant, boolean seFromExp, Double layerScale) {
        super(args);
        pruned = prunedVariant.isEmpty() ? null : PrunedWidths.load(prunedVariant);
        int stem = cfg.fixStem() ? cfg.stemSize() : cfg.roundChs().apply(cfg.stemSize());
        if (pruned != null) {
            stem = pruned.out("conv_stem");
        }
        Module convStem = register(
                "conv_stem", Conv2dSame.create(inChans, stem, cfg.stemKernel(), 2, 1, 1, false, cfg.padSame()));
        Module bn1 = register("bn1", cfg.norm().create(stem, cfg.act()));
        EfficientNetBuilder.Built built = EfficientNetBuilder.build(
                new EfficientNetBuilder.Settings(
                        cfg.roundChs(),
                        cfg.padSame(),
                        cfg.act(),
                        cfg.norm(),
                        cfg.se(),
                        seFromExp,
                        args.dropPathRate(),
                        cfg.aa(),
                        layerScale,
                        pruned),
                stem,
                cfg.arch().decode());
        Sequential blocks = register("blocks", new Sequential(built.stages()));
        // the trunk: conv_stem, bn1, then each stage; a level ending after n stages is step n + 1
        addTrunkStep(convStem);
        addTrunkStep(bn1);
        addTrunkSteps(blocks.children().values());
        for (int i = 0; i < built.features().size(); i++) {
            FeatureInfo f = built.features().get(i);
            addFeatureInfo(
                    f.numChs(), f.reduction(), f.module(), built.stageEnds().get(i) + 1);
        }
        trunkChs = built.outChs();
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        EfficientNetBuilder.initWeights(this, random);
    }

    /** An arch of one block-string list per stage. */
    protected static ArchDef arch(String[]... stages) {
        List<List<String>> l = new ArrayList<>();
        for (String[] s : stages) {
            l.add(List.of(s));
        }
        return ArchDef.of(l);
    }

    /** One stage's block strings. */
    protected static String[] s(String... blocks) {
        return blocks;
    }

    /**
     * What both families' configs say about the trunk, as the keyword arguments timm's generators pass to both model
     * classes.
     *
     * @param arch the block strings and depth scaling
     * @param stemSize stem channels before width rounding
     * @param stemKernel stem kernel size
     * @param fixStem keep the stem width unscaled
     * @param roundChs width scaling
     * @param act the default activation
     * @param norm the norm layer
     * @param se the squeeze-excite flavour
     * @param padSame TensorFlow "same" padding
     * @param aa anti-aliasing of strided blocks: "" (none), "avg", "blur" or "blurpc"
     */
    public record Trunk(
            ArchDef arch,
            int stemSize,
            int stemKernel,
            boolean fixStem,
            RoundChs roundChs,
            Activation.Kind act,
            NormSpec norm,
            SeSpec se,
            boolean padSame,
            String aa) {}

    /**
     * The trunk fields of both families' config builders, set by name. {@link #tf()} is timm's {@code tf_} variant:
     * TensorFlow "same" padding and BN eps 1e-3.
     *
     * @param <B> the concrete builder
     */
    public abstract static class TrunkBuilder<B extends TrunkBuilder<B>> {
        private static final Set<String> AA_LAYERS = Set.of("", "avg", "blur", "blurpc");
        ArchDef arch;
        int stemSize = 32;
        int stemKernel = 3;
        boolean fixStem;
        RoundChs roundChs = RoundChs.of(1.0);
        Activation.Kind act;
        NormSpec norm = NormSpec.BN;
        SeSpec se = SeSpec.EFFICIENTNET;
        boolean padSame;
        String aa = "";

        TrunkBuilder() {}

        TrunkBuilder(Trunk c) {
            arch = c.arch();
            stemSize = c.stemSize();
            stemKernel = c.stemKernel();
            fixStem = c.fixStem();
            roundChs = c.roundChs();
            act = c.act();
            norm = c.norm();
            se = c.se();
            padSame = c.padSame();
            aa = c.aa();
        }

        abstract B self();

        /** The block strings and depth scaling (required). */
        public B arch(ArchDef value) {
            arch = value;
            return self();
        }

        /** Stem channels before width rounding (default 32). */
        public B stemSize(int value) {
            stemSize = value;
            return self();
        }

        /** Stem kernel size (default 3). */
        public B stemKernel(int value) {
            stemKernel = value;
            return self();
        }

        /** Keep the stem width unscaled. */
        public B fixStem(boolean value) {
            fixStem = value;
            return self();
        }

        /** Width scaling (default none). */
        public B roundChs(RoundChs value) {
            roundChs = value;
            return self();
        }

        /** The default activation (required). */
        public B act(Activation.Kind value) {
            act = value;
            return self();
        }

        /** The norm layer (default BatchNorm, eps 1e-5). */
        public B norm(NormSpec value) {
            norm = value;
            return self();
        }

        /** The squeeze-excite flavour (default EfficientNet's). */
        public B se(SeSpec value) {
            se = value;
            return self();
        }

        /** TensorFlow "same" padding. */
        public B padSame(boolean value) {
            padSame = value;
            return self();
        }

        /** Anti-aliasing of strided blocks: "" (none), "avg", "blur" or "blurpc". */
        public B aa(String value) {
            aa = value;
            return self();
        }

        /** timm's TensorFlow ports: "same" padding and BN eps 1e-3. */
        public B tf() {
            norm = norm.withEps(EfficientNetBuilder.BN_EPS_TF);
            padSame = true;
            return self();
        }

        /** The trunk settings, failing (naming the field) on a missing or invalid one. */
        Trunk trunk(String family) {
            String bad = arch == null
                    ? "arch is required"
                    : act == null
                            ? "act is required"
                            : roundChs == null || norm == null || se == null
                                    ? "roundChs, norm and se must not be null"
                                    : stemSize <= 0 || stemKernel <= 0
                                            ? "stemSize " + stemSize + " and stemKernel " + stemKernel
                                                    + " must be positive"
                                            : !AA_LAYERS.contains(aa)
                                                    ? "aa '" + aa + "' is not '', avg, blur or blurpc"
                                                    : null;
            if (bad != null) {
                throw new IllegalArgumentException(family + " config: " + bad);
            }
            return new Trunk(arch, stemSize, stemKernel, fixStem, roundChs, act, norm, se, padSame, aa);
        }
    }
}
