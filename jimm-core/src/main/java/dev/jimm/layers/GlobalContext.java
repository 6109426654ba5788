package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.SplittableRandom;

/**
 * timm's {@code GlobalContext} (GCNet): a context vector pooled over the map by a softmax attention ({@code conv_attn},
 * or a plain mean without it), passed through a 1x1-conv MLP with LayerNorm ({@code mlp_add}, {@code mlp_scale}) and
 * added to the input and/or used to gate it. timm's {@code 'gca'} attention is {@link #gca}: attention, add, no scale.
 */
public class GlobalContext extends Module {
    /** timm's LayerNorm2d eps inside the context MLPs. */
    private static final float LN_EPS = 1e-6f;

    private final Conv2d convAttn;
    private final ConvMlp mlpAdd;
    private final ConvMlp mlpScale;

    /**
     * @param channels input (and output) channels
     * @param useAttn pool the context with a softmax attention map (else a plain spatial mean)
     * @param fuseAdd add the transformed context to the input ({@code mlp_add})
     * @param fuseScale gate the input by the sigmoid of the transformed context ({@code mlp_scale})
     * @param rdRatio hidden width of the MLPs relative to {@code channels}
     * @param rdDivisor the hidden width is rounded to a multiple of this (timm's make_divisible, round limit 0)
     */
    public GlobalContext(
            int channels, boolean useAttn, boolean fuseAdd, boolean fuseScale, double rdRatio, int rdDivisor) {
        int rd = Layers.makeDivisible(channels * rdRatio, rdDivisor, 0.0);
        convAttn = useAttn ? register("conv_attn", new Conv2d(channels, 1, 1, Conv2d.Options.defaults())) : null;
        mlpAdd = fuseAdd ? register("mlp_add", new ConvMlp(channels, rd)) : null;
        mlpScale = fuseScale ? register("mlp_scale", new ConvMlp(channels, rd)) : null;
    }

    /** timm's {@code get_attn('gca')}: attention pooling, additive fusion only, hidden width channels / 8. */
    public static GlobalContext gca(int channels) {
        return new GlobalContext(channels, true, true, false, 1.0 / 8, 1);
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        Shape s = x.getShape();
        long b = s.get(0);
        long c = s.get(1);
        long hw = s.get(2) * s.get(3);
        NDArray context;
        if (convAttn != null) {
            NDArray attn = convAttn.forward(x).reshape(b, hw, 1).softmax(1);
            context = x.reshape(b, c, hw).matMul(attn).reshape(b, c, 1, 1);
        } else {
            context = Layers.spatialMean(x, true);
        }
        if (mlpScale != null) {
            x = x.mul(Activation.apply(Activation.Kind.SIGMOID, mlpScale.forward(context)));
        }
        if (mlpAdd != null) {
            x = x.add(mlpAdd.forward(context));
        }
        return x;
    }

    /**
     * timm's reset_parameters: the attention conv kaiming-normal over its fan-in, and {@code mlp_add}'s last conv zero,
     * so that the block starts as the identity.
     */
    @Override
    protected void resetParameters(SplittableRandom random) {
        if (convAttn != null) {
            NDArray w = convAttn.weight().getArray();
            Init.normal(w, Math.sqrt(2.0 / Init.fanIn(w)), random);
        }
        if (mlpAdd != null) {
            Init.constant(mlpAdd.fc2.weight().getArray(), 0f);
        }
    }

    /** Re-applies {@link #resetParameters}, for a model init that has just overwritten the convolutions. */
    public void reset(SplittableRandom random) {
        resetParameters(random);
    }

    @Override
    protected String extraRepr() {
        return "GlobalContext(attn=" + (convAttn != null) + ", add=" + (mlpAdd != null) + ", scale="
                + (mlpScale != null) + ")";
    }

    /** timm's {@code ConvMlp} with LayerNorm2d and ReLU: {@code fc1}, {@code norm}, act, {@code fc2}. */
    private static final class ConvMlp extends Module {
        private final Conv2d fc1;
        private final Module norm;
        private final Conv2d fc2;

        ConvMlp(int channels, int hidden) {
            fc1 = register("fc1", new Conv2d(channels, hidden, 1, Conv2d.Options.defaults()));
            norm = register("norm", LayerNorm.channelsFirst(hidden, LN_EPS));
            register("act", new Activation(Activation.Kind.RELU));
            register("drop", new Identity());
            fc2 = register("fc2", new Conv2d(hidden, channels, 1, Conv2d.Options.defaults()));
        }

        @Override
        protected NDArray forwardImpl(NDArray x) {
            return fc2.forward(Activation.apply(Activation.Kind.RELU, norm.forward(fc1.forward(x))));
        }
    }
}
