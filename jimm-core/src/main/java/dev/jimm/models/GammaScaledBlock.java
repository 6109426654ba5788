package dev.jimm.models;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.jimm.layers.Init;
import dev.jimm.layers.Module;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A block whose residual branches are scaled per channel by its own parameters, as timm's BEiT, EVA, CaiT, XCiT and
 * ResMLP blocks hold them ({@code gamma_1 = nn.Parameter(init_values * torch.ones(dim))}, no LayerScale module): each
 * {@link #gamma} starts at the block's init value.
 */
abstract class GammaScaledBlock extends Module {
    private final float initValues;
    private final List<Parameter> gammas = new ArrayList<>();

    GammaScaledBlock(double initValues) {
        this.initValues = (float) initValues;
    }

    /** A [dim] scale registered as {@code name}, reset to the init value. */
    final Parameter gamma(String name, int dim) {
        Parameter p = parameter(name, dim);
        gammas.add(p);
        return p;
    }

    /** The scale when {@code initValues} is positive, else null (timm's {@code gamma_1 = None}). */
    final Parameter gammaIfScaled(String name, int dim) {
        return initValues > 0 ? gamma(name, dim) : null;
    }

    @Override
    protected void resetParameters(SplittableRandom random) {
        for (Parameter p : gammas) {
            Init.constant(p.getArray(), initValues);
        }
    }

    /** A residual step: x + dropPath(gamma · y), without gamma when it is null. */
    static NDArray addScaled(NDArray x, NDArray y, Parameter gamma, Module dropPath) {
        if (gamma != null) {
            y = y.mul(gamma.getArray());
        }
        return x.add(dropPath.forward(y));
    }
}
