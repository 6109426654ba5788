package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Init;
import dev.jimm.layers.Module;
import java.util.SplittableRandom;

/**
 * {@code scale * x + bias} with one learned scalar each ({@code scale} starting at 1, {@code bias} at 0), in that
 * state_dict order: timm's HGNetV2 LearnableAffineBlock, and the affine end of MetaFormer's StarReLU, which applies it
 * to {@code relu(x)^2}.
 */
abstract class ScalarAffine extends Module {
    private final Parameter scale;
    private final Parameter bias;

    ScalarAffine() {
        scale = parameter("scale", 1);
        bias = parameter("bias", 1);
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        Init.constant(scale.getArray(), 1f);
        Init.constant(bias.getArray(), 0f);
    }

    /** {@code scale * x + bias}. */
    protected final NDArray affine(NDArray x) {
        return x.mul(scale.getArray()).add(bias.getArray());
    }
}
