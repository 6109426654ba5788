package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import dev.jimm.layers.Module;

/**
 * A module on the tokens [B, N, C] of an h x w map that needs the map's size (PVT-v2's attention, depthwise-conv MLP
 * and blocks): it runs through {@link #forward(NDArray, long, long)}, never through the size-less forward.
 */
abstract class MapTokenModule extends Module {
    /** Runs on the tokens of an {@code h x w} map. */
    abstract NDArray forward(NDArray x, long h, long w);

    @Override
    protected final NDArray forwardImpl(NDArray x) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " runs with its map size");
    }
}
