package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.SplittableRandom;

/**
 * timm's {@code RotaryEmbeddingMixed} (RoPE-Mixed of RoPE-ViT): learnable 2-D frequencies per block and head,
 * {@code freqs} [2, depth, heads, headDim / 2] (x then y). The angle of a position is {@code t_x · fx + t_y · fy}; its
 * table [depth, heads, h·w, 2·headDim] (sines, then cosines, each repeated twice) feeds {@link RotaryEmbedding#apply}
 * block by block.
 */
public class RotaryEmbeddingMixed extends Module {
    private final int depth;
    private final int numHeads;
    private final int headDim;
    private final double temperature;
    private final boolean xy;
    private final Parameter freqs;

    /**
     * @param dim the token width (split over the heads)
     * @param depth the number of blocks, each with its own frequencies
     * @param numHeads attention heads
     * @param temperature the base of the frequency magnitudes
     * @param xy timm's {@code grid_indexing='xy'} (x runs along the columns)
     */
    public RotaryEmbeddingMixed(int dim, int depth, int numHeads, double temperature, boolean xy) {
        if (dim % numHeads != 0 || (dim / numHeads) % 4 != 0) {
            throw new IllegalArgumentException(
                    "head width " + dim + " / " + numHeads + " must be a whole multiple of 4 for mixed RoPE");
        }
        this.depth = depth;
        this.numHeads = numHeads;
        this.headDim = dim / numHeads;
        this.temperature = temperature;
        this.xy = xy;
        freqs = parameter("freqs", 2, depth, numHeads, headDim / 2);
    }

    /**
     * timm's {@code init_random_2d_freqs}: magnitudes {@code temperature^-(4k / headDim)}, turned by a random angle per
     * block and head: fx = mag·[cos θ, cos(θ + π/2)], fy = mag·[sin θ, sin(θ + π/2)].
     */
    @Override
    protected void resetParameters(SplittableRandom random) {
        int quarter = headDim / 4;
        float[] v = new float[2 * depth * numHeads * 2 * quarter];
        int per = depth * numHeads * 2 * quarter;
        for (int d = 0; d < depth; d++) {
            for (int h = 0; h < numHeads; h++) {
                double theta = random.nextDouble() * 2 * Math.PI;
                for (int k = 0; k < quarter; k++) {
                    double mag = 1.0 / Math.pow(temperature, (4.0 * k) / headDim);
                    int base = (d * numHeads + h) * 2 * quarter;
                    v[base + k] = (float) (mag * Math.cos(theta));
                    v[base + quarter + k] = (float) (mag * Math.cos(theta + Math.PI / 2));
                    v[per + base + k] = (float) (mag * Math.sin(theta));
                    v[per + base + quarter + k] = (float) (mag * Math.sin(theta + Math.PI / 2));
                }
            }
        }
        assign(freqs.getArray(), v);
    }

    /** The table of every block for an {@code h x w} grid: [depth, heads, h·w, 2·headDim]. */
    public NDArray table(int h, int w) {
        NDArray f = freqs.getArray();
        int n = h * w;
        float[] tx = new float[n];
        float[] ty = new float[n];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                // 'xy': x is the column index; 'ij': x is the row index
                tx[i * w + j] = xy ? j : i;
                ty[i * w + j] = xy ? i : j;
            }
        }
        NDArray txa = f.getManager().create(tx, new Shape(n, 1));
        NDArray tya = f.getManager().create(ty, new Shape(n, 1));
        // [N, 1] x [depth, heads, 1, D/2] -> [depth, heads, N, D/2] (timm's t.unsqueeze(-1) @ freqs.unsqueeze(-2))
        NDArray angles = txa.mul(f.get(0).expandDims(2)).add(tya.mul(f.get(1).expandDims(2)));
        NDArray sin = repeatEach(angles.sin());
        NDArray cos = repeatEach(angles.cos());
        return NDArrays.concat(new NDList(sin, cos), 3);
    }

    /** Each value twice along the last axis (PyTorch's repeat_interleave(2, -1)). */
    private static NDArray repeatEach(NDArray x) {
        Shape s = x.getShape();
        long[] out = s.getShape().clone();
        out[out.length - 1] *= 2;
        return NDArrays.stack(new NDList(x, x), s.dimension()).reshape(new Shape(out));
    }

    public int depth() {
        return depth;
    }

    @Override
    protected NDArray forwardImpl(NDArray x) {
        throw new UnsupportedOperationException("RotaryEmbeddingMixed gives tables (table(h, w)); it has no forward");
    }

    @Override
    protected String extraRepr() {
        return "RotaryEmbeddingMixed(depth=" + depth + ", num_heads=" + numHeads + ", head_dim=" + headDim + ")";
    }
}
