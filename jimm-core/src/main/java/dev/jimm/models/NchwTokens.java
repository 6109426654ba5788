package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * An NCHW map as tokens and back, as timm's {@code x.flatten(2).transpose(1, 2)} and its inverse: the hybrid families
 * (MetaFormer's attention stages, DaViT's blocks, FastViT's attention) run token layers on maps this way.
 */
final class NchwTokens {
    private NchwTokens() {}

    /** (B, C, H, W) to tokens (B, HW, C). */
    static NDArray toTokens(NDArray map) {
        Shape s = map.getShape();
        return map.reshape(s.get(0), s.get(1), s.get(2) * s.get(3)).transpose(0, 2, 1);
    }

    /** Tokens (B, HW, C) back to the map of {@code mapShape} (B, C, H, W). */
    static NDArray toMap(NDArray tokens, Shape mapShape) {
        return tokens.transpose(0, 2, 1).reshape(mapShape);
    }
}
