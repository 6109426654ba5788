package dev.jimm.models;

import dev.jimm.layers.Activation;
import dev.jimm.models.ByobNet.BlockCfg;
import dev.jimm.models.ByobNet.BlockOptions;
import dev.jimm.models.ByobNet.BlockType;
import dev.jimm.models.ByobNet.Config;
import dev.jimm.models.ByobNet.Downsample;
import dev.jimm.models.ByobNet.StemPool;
import dev.jimm.models.ByobNet.StemType;
import java.util.ArrayList;
import java.util.List;

/**
 * MobileViT and MobileViT-v2 as timm's {@code models/mobilevit.py} builds them: {@link ByobNet}s of inverted-residual
 * bottlenecks (depthwise, from the input width, linear output) whose last three stages each end in a MobileViT block
 * ({@link ByobNet.BlockType#MOBILEVIT}: ViT blocks over unfolded 2x2 patches) or a MobileViT-v2 block
 * ({@link ByobNet.BlockType#MOBILEVIT2}: linear self-attention). The models are plain ByobNets; this class holds their
 * configs.
 */
public final class MobileVit {
    private MobileVit() {}

    /**
     * timm's {@code _inverted_residual_block}: a bottleneck of ratio {@code br} on the input, depthwise, linear out.
     */
    static BlockCfg invertedResidual(int d, int c, int s, double br) {
        return BlockCfg.builder(BlockType.BOTTLE, d, c)
                .s(s)
                .gs(1)
                .br(br)
                .options(BlockOptions.defaults().withBottleInLinearOut())
                .build();
    }

    /** timm's {@code _mobilevit_block}: an inverted residual, then a MobileViT block (ViT of 2x2 patches). */
    static List<BlockCfg> mobileVitStage(int c, int transformerDim, int depth, double br) {
        return List.of(
                invertedResidual(1, c, 2, br),
                BlockCfg.builder(BlockType.MOBILEVIT, 1, c)
                        .s(1)
                        .options(BlockOptions.defaults().withTransformer(transformerDim, depth, 2))
                        .build());
    }

    /** timm's {@code _mobilevitv2_block}: an inverted residual of ratio 2, then a MobileViT-v2 block of half width. */
    static List<BlockCfg> mobileVitV2Stage(int c, int depth) {
        return List.of(
                invertedResidual(1, c, 2, 2.0),
                BlockCfg.builder(BlockType.MOBILEVIT2, 1, c)
                        .s(1)
                        .gs(1)
                        .br(0.5)
                        .options(BlockOptions.defaults().withTransformer(0, depth, 2))
                        .build());
    }

    /**
     * A MobileViT (v1): stem width 16, five stages of the given widths (the last three with transformers of these
     * widths and depths 2, 4, 3), a final 1x1 conv of {@code numFeatures}.
     */
    static Config mobileVit(int[] c, int[] transformerDims, double br, int numFeatures) {
        return base(16).stages(List.of(
                        List.of(invertedResidual(1, c[0], 1, br)),
                        List.of(invertedResidual(3, c[1], 2, br)),
                        mobileVitStage(c[2], transformerDims[0], 2, br),
                        mobileVitStage(c[3], transformerDims[1], 4, br),
                        mobileVitStage(c[4], transformerDims[2], 3, br)))
                .numFeatures(numFeatures)
                .build();
    }

    /** timm's {@code _mobilevitv2_cfg}: widths 64..512 and stem 32 times the multiplier (truncated), no final conv. */
    static Config mobileVitV2(double multiplier) {
        int[] c = {64, 128, 256, 384, 512};
        for (int i = 0; i < c.length; i++) {
            c[i] = (int) (c[i] * multiplier);
        }
        return base((int) (32 * multiplier))
                .stages(List.of(
                        List.of(invertedResidual(1, c[0], 1, 2.0)),
                        List.of(invertedResidual(2, c[1], 2, 2.0)),
                        mobileVitV2Stage(c[2], 2),
                        mobileVitV2Stage(c[3], 4),
                        mobileVitV2Stage(c[4], 3)))
                .build();
    }

    /** The settings every MobileViT shares: a strided 3x3 stem without pool, no shortcut where shapes change, SiLU. */
    private static Config.Builder base(int stemChs) {
        return Config.builder()
                .stemChs(stemChs)
                .stemType(StemType.CONV3X3)
                .stemPool(StemPool.NONE)
                .downsample(Downsample.NONE)
                .act(Activation.Kind.SILU);
    }

    /** timm's {@code mobilevit} names. */
    public static final class Family implements ModelFamily {
        @Override
        public String name() {
            return "mobilevit";
        }

        @Override
        public List<ModelEntry> models() {
            List<ModelEntry> m = new ArrayList<>();
            add(m, "mobilevit_xxs", mobileVit(new int[] {16, 24, 48, 64, 80}, new int[] {64, 80, 96}, 2.0, 320));
            add(m, "mobilevit_xs", mobileVit(new int[] {32, 48, 64, 80, 96}, new int[] {96, 120, 144}, 4.0, 384));
            add(m, "mobilevit_s", mobileVit(new int[] {32, 64, 96, 128, 160}, new int[] {144, 192, 240}, 4.0, 640));
            add(m, "mobilevitv2_050", mobileVitV2(0.5));
            add(m, "mobilevitv2_075", mobileVitV2(0.75));
            add(m, "mobilevitv2_100", mobileVitV2(1.0));
            add(m, "mobilevitv2_125", mobileVitV2(1.25));
            add(m, "mobilevitv2_150", mobileVitV2(1.5));
            add(m, "mobilevitv2_175", mobileVitV2(1.75));
            add(m, "mobilevitv2_200", mobileVitV2(2.0));
            return m;
        }

        private static void add(List<ModelEntry> m, String name, Config c) {
            m.add(new ModelEntry(
                    name,
                    "mobilevit",
                    args -> new ByobNet(c, args),
                    PretrainedCfg.untrained(name, 256, "stem.conv", "head.fc")));
        }
    }
}
