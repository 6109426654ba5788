package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;

/**
 * timm's {@code resample_abs_pos_embed}: a learned position embedding [1, prefix + oh·ow, C] of one patch grid made to
 * fit another, the prefix (class, register) tokens kept and the grid resized as PyTorch's
 * {@code interpolate(mode='bicubic', antialias=True)} does; checkpoint filters use it when a checkpoint was trained at
 * another input size.
 */
public final class PosEmbedResample {
    private PosEmbedResample() {}

    /**
     * Resamples {@code posEmbed} to an {@code newH x newW} grid. The stored grid is {@code oldH x oldW}, or square (as
     * timm assumes) when {@code oldH} is 0. Returned unchanged when it already has the new token count on a square grid
     * (timm's shortcut).
     */
    public static NDArray resample(NDArray posEmbed, int newH, int newW, int oldH, int oldW, int numPrefixTokens) {
        long tokens = posEmbed.getShape().get(1);
        long dim = posEmbed.getShape().get(2);
        if ((long) newH * newW + numPrefixTokens == tokens && newH == newW) {
            return posEmbed;
        }
        if (oldH <= 0) {
            int side = (int) Math.sqrt(tokens - numPrefixTokens);
            if ((long) side * side + numPrefixTokens != tokens) {
                throw new IllegalArgumentException("position embedding of " + (tokens - numPrefixTokens)
                        + " patch tokens is not a square grid; give its grid size");
            }
            oldH = side;
            oldW = side;
        }
        if ((long) oldH * oldW + numPrefixTokens != tokens) {
            throw new IllegalArgumentException("position embedding " + posEmbed.getShape() + " does not hold "
                    + numPrefixTokens + " prefix tokens and a " + oldH + "x" + oldW + " grid");
        }
        NDArray grid = posEmbed.get(":, " + numPrefixTokens + ":").reshape(oldH, (long) oldW * dim);
        NDArray wh = posEmbed.getManager()
                .create(AttentionPool2d.bicubicAntialiasWeights(oldH, newH), new Shape(newH, oldH));
        NDArray ww = posEmbed.getManager()
                .create(AttentionPool2d.bicubicAntialiasWeights(oldW, newW), new Shape(newW, oldW));
        // rows first: [newH, oldW * C] -> [newH, oldW, C]; then columns: [newH, C, oldW] x [oldW, newW]
        NDArray rows = wh.matMul(grid).reshape(newH, oldW, dim).transpose(0, 2, 1);
        NDArray both = rows.matMul(ww.transpose()).transpose(0, 2, 1).reshape(1, (long) newH * newW, dim);
        if (numPrefixTokens == 0) {
            return both;
        }
        return NDArrays.concat(new NDList(posEmbed.get(":, :" + numPrefixTokens), both), 1);
    }
}
