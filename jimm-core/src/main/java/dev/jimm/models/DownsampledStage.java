package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Identity;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;

/**
 * A stage as many of timm's families build it (LeViT, EfficientFormer v1 and v2, InceptionNeXt, MambaOut, MetaFormer,
 * FocalNet, EdgeNeXt, DaViT): a downsampler {@code downsample} (an identity where the stage keeps its width) and then
 * its {@code blocks}, in that state_dict order.
 */
class DownsampledStage extends Module {
    /**
     * Registers the downsampler; the family then builds its blocks and registers them with {@link #blocks}.
     *
     * @param downsample the downsampler, or null for none (then {@code in} must equal {@code out})
     */
    DownsampledStage(Module downsample, int in, int out) {
        if (downsample == null && in != out) {
            throw new IllegalArgumentException("a stage without downsampling keeps its width: " + in + " -> " + out);
        }
        register("downsample", downsample == null ? new Identity() : downsample);
    }

    /** Registers the blocks, after the downsampler. */
    final void blocks(Sequential blocks) {
        register("blocks", blocks);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        return child("blocks").forward(child("downsample").forward(x));
    }
}
