package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import dev.jimm.layers.Conv2d;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Init;
import dev.jimm.layers.LayerNorm;
import dev.jimm.layers.Linear;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import dev.jimm.models.SwinTransformer.Windows;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The trunk and head timm's Swin v1 and v2 share: {@code patch_embed} (NHWC out), stages {@code layers.N} of a
 * {@code downsample} (identity in stage 0, patch merging after) and {@code blocks}, the final {@code norm} and
 * {@code head} ({@code global_pool}, {@code fc}) on NHWC maps. The versions give their blocks and merging; drop-path
 * rates follow timm's schedule.
 */
abstract class SwinBase extends ImageModel {

    /** Makes block {@code index} of stage {@code stage}: its width, map side and drop-path rate. */
    @FunctionalInterface
    interface BlockMaker {
        Module make(int stage, int index, int dim, int res, double dropPath);
    }

    /** Makes the patch merging at the start of stages 1.. (from {@code inDim} to {@code outDim}). */
    @FunctionalInterface
    interface MergeMaker {
        Module make(int inDim, int outDim);
    }

    // the stage depths (tiny, small and up) and heads (tiny and small, base, large) of the registered variants
    static final List<Integer> DEPTHS_T = List.of(2, 2, 6, 2);
    static final List<Integer> DEPTHS_S = List.of(2, 2, 18, 2);
    static final List<Integer> HEADS_T = List.of(3, 6, 12, 24);
    static final List<Integer> HEADS_B = List.of(4, 8, 16, 32);
    static final List<Integer> HEADS_L = List.of(6, 12, 24, 48);

    private final Module norm;

    SwinBase(
            ModelArgs args,
            int imgSize,
            int patchSize,
            int embedDim,
            List<Integer> depths,
            MergeMaker merge,
            BlockMaker block) {
        super(args);
        addTrunkStep(register("patch_embed", new PatchEmbed(imgSize, patchSize, inChans, embedDim)));
        Sequential layers = new Sequential();
        double[][] dpr = DropPath.schedule(args.dropPathRate(), depths);
        int inDim = embedDim;
        int res = imgSize / patchSize;
        int reduction = patchSize;
        for (int i = 0; i < depths.size(); i++) {
            int outDim = embedDim << i;
            Module downsample = new Identity();
            if (i > 0) {
                downsample = merge.make(inDim, outDim);
                res /= 2;
                reduction *= 2;
            }
            Sequential blocks = new Sequential();
            for (int b = 0; b < depths.get(i); b++) {
                blocks.add(block.make(i, b, outDim, res, dpr[i][b]));
            }
            Stage stage = new Stage(downsample, blocks);
            layers.add(addTrunkStep(stage));
            addFeatureInfo(outDim, reduction, "layers." + i);
            inDim = outDim;
        }
        register("layers", layers);
        int numFeatures = embedDim << (depths.size() - 1);
        norm = register("norm", new LayerNorm(numFeatures));
        registerNestedClassifierHead("head", numFeatures);
    }

    @Override
    protected void initWeights(SplittableRandom random) {
        // timm's init_weights_vit_timm: trunc_normal(.02) Linear weights, zero biases; convs and
        // norms keep their defaults, the bias tables their own trunc_normal(.02)
        truncNormalLinears(this, random);
    }

    @Override
    public NDArray forwardFeatures(NDArray x) {
        return norm.forward(forwardTrunk(x));
    }

    /**
     * What timm's Swin v1 and v2 {@code checkpoint_filter_fn}s share: the buffers timm rebuilds
     * ({@code relative_position_index}, {@code relative_coords_table}, {@code attn_mask}) are dropped, and checkpoints
     * of the original layout (the patch merging at the end of stages 0..2, {@code head.*} for {@code head.fc.*}) are
     * renamed. Each entry then passes {@link #adaptEntry} (v1 resizes its bias tables there).
     */
    @Override
    protected Map<String, NDArray> prepareForPretrained(Map<String, NDArray> checkpoint) {
        // timm renames when head.fc.weight is absent; a merging under layers.0 is the surer sign of the old layout
        boolean original = checkpoint.keySet().stream().anyMatch(k -> k.startsWith("layers.0.downsample."));
        Map<String, NDArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : checkpoint.entrySet()) {
            String k = e.getKey();
            if (k.contains("relative_position_index")
                    || k.contains("relative_coords_table")
                    || k.contains("attn_mask")) {
                continue;
            }
            if (original) {
                Matcher m = OLD_DOWNSAMPLE.matcher(k);
                if (m.find()) {
                    k = m.replaceFirst("layers." + (Integer.parseInt(m.group(1)) + 1) + ".downsample");
                }
                if (k.startsWith("head.") && !k.startsWith("head.fc.")) {
                    k = "head.fc." + k.substring("head.".length());
                }
            }
            out.put(k, adaptEntry(k, e.getValue()));
        }
        return out;
    }

    private static final Pattern OLD_DOWNSAMPLE = Pattern.compile("layers\\.(\\d+)\\.downsample");

    /** A checkpoint entry adapted to this model (after renaming); unchanged by default. */
    NDArray adaptEntry(String key, NDArray value) {
        return value;
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

    /** timm's and torchvision's Linear init: N(0, .02) weights, zero biases. */
    static void truncNormalLinears(Module root, SplittableRandom random) {
        for (Module m : root.namedModules().values()) {
            if (m instanceof Linear l) {
                // timm's trunc_normal_(std=.02) cuts at +-2 absolute, i.e. never at this std
                Init.normal(l.weight().getArray(), 0.02, random);
                if (l.bias() != null) {
                    Init.constant(l.bias().getArray(), 0f);
                }
            }
        }
    }

    /** timm's PatchEmbed with NHWC output: a strided conv, then LayerNorm over channels. */
    static final class PatchEmbed extends Module {
        private final int imgSize;
        private final Module proj;
        private final Module norm;

        PatchEmbed(int imgSize, int patchSize, int inChans, int embedDim) {
            this.imgSize = imgSize;
            proj = register(
                    "proj",
                    new Conv2d(
                            inChans,
                            embedDim,
                            patchSize,
                            Conv2d.Options.defaults().stride(patchSize)));
            norm = register("norm", new LayerNorm(embedDim));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            Shape s = x.getShape();
            if (s.dimension() != 4 || s.get(2) != imgSize || s.get(3) != imgSize) {
                throw new IllegalArgumentException("input shape " + s + " does not match the model's fixed input size "
                        + imgSize + "x" + imgSize + " (timm builds Swin's windows and masks for one size)");
            }
            return norm.forward(proj.forward(x).transpose(0, 2, 3, 1));
        }
    }

    /** One timm stage: an optional PatchMerging, then the blocks. */
    static final class Stage extends Module {
        private final Module downsample;
        private final Sequential blocks;

        Stage(Module downsample, Sequential blocks) {
            this.downsample = register("downsample", downsample);
            this.blocks = register("blocks", blocks);
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return blocks.forward(downsample.forward(x));
        }
    }

    /**
     * timm's ClassifierHead for NHWC features: global pool (over H and W), dropout, fc. With no pooling the NHWC maps
     * pass through.
     */
}
