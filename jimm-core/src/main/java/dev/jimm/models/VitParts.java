package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.jimm.layers.DropPath;
import dev.jimm.layers.Module;
import dev.jimm.layers.Sequential;
import java.util.ArrayList;
import java.util.List;

/**
 * What the plain (single-resolution) token models, ViT, EVA, BEiT and MLP-Mixer, build and run alike: the stack of
 * blocks, the prefix tokens and the position embedding around them, and the check of a later attention pooling.
 */
final class VitParts {
    private VitParts() {}

    /** Builds block {@code index} at drop-path rate {@code dropPath}. */
    @FunctionalInterface
    interface BlockFactory<B extends Module> {
        B create(int index, float dropPath);
    }

    /** timm's stochastic-depth rates for {@code depth} blocks: torch.linspace(0, rate, depth). */
    static double[] linearRates(double dropPathRate, int depth) {
        return DropPath.schedule(dropPathRate, List.of(depth))[0];
    }

    /**
     * The {@code blocks} Sequential, for the caller to register: block i gets {@code rates[i]} (rounded to float32 as
     * PyTorch holds it), is a trunk step of {@code model} (added to {@code into} when that is not null) and a feature
     * level {@code blocks.i} of {@code dim} channels at stride {@code patchSize}.
     */
    static <B extends Module> Sequential stackBlocks(
            ImageModel model, double[] rates, int dim, int patchSize, List<? super B> into, BlockFactory<B> make) {
        Sequential seq = new Sequential();
        for (int i = 0; i < rates.length; i++) {
            B b = make.create(i, (float) rates[i]);
            seq.add(b);
            model.addTrunkStep(b);
            if (into != null) {
                into.add(b);
            }
            model.addFeatureInfo(dim, patchSize, "blocks." + i);
        }
        return seq;
    }

    /** The [1, n, C] tokens (null ones skipped), in order, broadcast over the batch of the patch tokens {@code x}. */
    static List<NDArray> prefixTokens(NDArray x, Parameter... tokens) {
        List<NDArray> out = new ArrayList<>();
        for (Parameter t : tokens) {
            if (t != null) {
                out.add(expandToBatch(t, x));
            }
        }
        return out;
    }

    /** A [1, n, C] token parameter broadcast to [B, n, C] over the batch of the [B, N, C] tokens {@code x}. */
    static NDArray expandToBatch(Parameter token, NDArray x) {
        NDArray t = token.getArray();
        return t.broadcast(
                new Shape(x.getShape().get(0), t.getShape().get(1), x.getShape().get(2)));
    }

    /**
     * timm's _pos_embed: the prefix tokens put ahead of the patch tokens and the positions (null: none) added after
     * that concat, or before it when {@code noEmbedClass} (positions for the patches only).
     */
    static NDArray addPositions(NDArray x, List<NDArray> prefix, NDArray pos, boolean noEmbedClass) {
        if (pos != null && noEmbedClass) {
            x = x.add(pos);
        }
        if (!prefix.isEmpty()) {
            NDList all = new NDList(prefix);
            all.add(x);
            x = NDArrays.concat(all, 1);
        }
        return pos != null && !noEmbedClass ? x.add(pos) : x;
    }

    /** A model built without attention pooling cannot be switched to it ("map"): its latent and MLP do not exist. */
    static void checkMapPool(String pool, boolean hasAttnPool) {
        if (pool.equals("map") && !hasAttnPool) {
            throw new IllegalArgumentException("globalPool 'map': attention pooling cannot be added to a built model");
        }
    }
}
