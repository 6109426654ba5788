package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.List;

/**
 * Stochastic depth: in train mode drops a residual branch for whole samples with probability {@code rate} and scales
 * the kept ones by 1/(1-rate), as timm's {@code DropPath}.
 */
public class DropPath extends Module {
    private final float rate;

    public DropPath(float rate) {
        this.rate = rate;
    }

    public float rate() {
        return rate;
    }

    /**
     * A drop path of {@code rate}, or an identity when the rate is 0 (timm's {@code DropPath if dpr > 0 else
     * Identity}).
     */
    public static Module orIdentity(double rate) {
        return rate > 0 ? new DropPath((float) rate) : new Identity();
    }

    /**
     * timm's stochastic-depth schedule: {@code torch.linspace(0, rate, sum(depths)).split(depths)}, the rate rising
     * linearly from 0 at the first block to {@code rate} at the last, split by stage.
     */
    public static double[][] schedule(double rate, List<Integer> depths) {
        int total = 0;
        for (int d : depths) {
            total += d;
        }
        double[][] out = new double[depths.size()][];
        int index = 0;
        for (int s = 0; s < out.length; s++) {
            out[s] = new double[depths.get(s)];
            for (int i = 0; i < out[s].length; i++, index++) {
                out[s][i] = total > 1 ? rate * index / (total - 1) : 0;
            }
        }
        return out;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        if (!isTraining() || rate == 0f) {
            return x;
        }
        float keep = 1f - rate;
        long[] shape = new long[x.getShape().dimension()];
        Arrays.fill(shape, 1);
        shape[0] = x.getShape().get(0);
        NDArray mask =
                x.getManager().randomUniform(0f, 1f, new Shape(shape)).lt(keep).toType(x.getDataType(), false);
        return Scalars.div(x.mul(mask), keep);
    }

    @Override
    protected String extraRepr() {
        return "DropPath(drop_prob=" + rate + ")";
    }
}
