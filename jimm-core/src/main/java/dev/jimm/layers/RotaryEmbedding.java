package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Rotary position embeddings of timm's {@code layers/pos_embed_sincos.py} for 2-D token grids: the fixed tables of
 * {@code RotaryEmbeddingCat} (EVA-02, Perception Encoder, RoPE-ViT) and {@code RotaryEmbeddingDinoV3}, each [H·W,
 * 2·dim] with the sines then the cosines, and {@code apply_rot_embed_cat}, which rotates queries or keys by them. The
 * tables hold no parameters (timm keeps them in non-persistent buffers), so they are computed here, step by step in
 * float32 as PyTorch computes them.
 */
public final class RotaryEmbedding {
    private RotaryEmbedding() {}

    /**
     * timm's {@code RotaryEmbeddingCat(in_pixels=False)} table for an {@code h x w} grid: per axis {@code dim / 4}
     * frequencies {@code temperature^-(k / (dim / 4))} times the grid coordinate ({@code index + gridOffset}, scaled by
     * {@code ref / size} when a reference grid is given), each repeated twice (the interleaved layout); row-major
     * positions, [h·w, 2·dim] = sin | cos.
     *
     * @param dim the head width the table rotates (a multiple of 4)
     * @param refFeatShape the pretraining grid {h, w} the coordinates are scaled to (EVA's resize scheme), or null
     * @param xy timm's {@code grid_indexing='xy'}: the column coordinate comes first
     */
    public static float[] catTable(
            int dim, int h, int w, double temperature, int[] refFeatShape, double gridOffset, boolean xy) {
        if (dim % 4 != 0) {
            throw new IllegalArgumentException("rotary dim " + dim + " is not a multiple of 4");
        }
        int nb = dim / 4;
        float[] bands = new float[nb];
        for (int k = 0; k < nb; k++) {
            float e = (float) k / nb;
            bands[k] = (float) (1.0 / (float) Math.pow(temperature, e));
        }
        // the axes in meshgrid order: (H, W) for 'ij', (W, H) for 'xy'
        int[] size = xy ? new int[] {w, h} : new int[] {h, w};
        int[] ref = refFeatShape == null ? null : xy ? new int[] {refFeatShape[1], refFeatShape[0]} : refFeatShape;
        float[][] t = new float[2][];
        for (int a = 0; a < 2; a++) {
            t[a] = new float[size[a]];
            for (int i = 0; i < size[a]; i++) {
                float v = (float) i + (float) gridOffset;
                if (ref != null) {
                    v = (float) ((float) (v / (float) size[a]) * (float) ref[a]);
                }
                t[a][i] = v;
            }
        }
        float[] out = new float[h * w * 2 * dim];
        float[] coord = new float[2];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                if (xy) {
                    coord[0] = t[0][j];
                    coord[1] = t[1][i];
                } else {
                    coord[0] = t[0][i];
                    coord[1] = t[1][j];
                }
                int base = (i * w + j) * 2 * dim;
                for (int a = 0; a < 2; a++) {
                    for (int k = 0; k < nb; k++) {
                        float angle = coord[a] * bands[k];
                        float s = (float) Math.sin(angle);
                        float c = (float) Math.cos(angle);
                        int col = 2 * (a * nb + k);
                        out[base + col] = s;
                        out[base + col + 1] = s;
                        out[base + dim + col] = c;
                        out[base + dim + col + 1] = c;
                    }
                }
            }
        }
        return out;
    }

    /**
     * timm's {@code RotaryEmbeddingDinoV3} table (eval mode, no coordinate augmentation, 'separate' normalization, 'ij'
     * grid): coordinates {@code 2 (i + 0.5) / size - 1} per axis, periods {@code temperature^(2k / (dim / 2))} for
     * {@code k < dim / 4}, angles {@code 2π coord / period}; tiled (half layout) or repeated twice (interleaved), [h·w,
     * 2·dim] = sin | cos.
     */
    public static float[] dinov3Table(int dim, int h, int w, double temperature, boolean rotateHalf) {
        if (dim % 4 != 0) {
            throw new IllegalArgumentException("rotary dim " + dim + " is not a multiple of 4");
        }
        int nd = dim / 4;
        float[] periods = new float[nd];
        for (int k = 0; k < nd; k++) {
            float e = (float) (2.0f * k) / (float) (dim / 2);
            periods[k] = (float) Math.pow(temperature, e);
        }
        float twoPi = (float) (2 * Math.PI);
        int half = dim / 2;
        float[] out = new float[h * w * 2 * dim];
        float[] angles = new float[half];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                float ch = 2f * (float) ((i + 0.5f) / (float) h) - 1f;
                float cw = 2f * (float) ((j + 0.5f) / (float) w) - 1f;
                for (int k = 0; k < nd; k++) {
                    angles[k] = twoPi * ch / periods[k];
                    angles[nd + k] = twoPi * cw / periods[k];
                }
                int base = (i * w + j) * 2 * dim;
                for (int d = 0; d < dim; d++) {
                    float angle = rotateHalf ? angles[d % half] : angles[d / 2];
                    out[base + d] = (float) Math.sin(angle);
                    out[base + dim + d] = (float) Math.cos(angle);
                }
            }
        }
        return out;
    }

    /** A table made by {@link #catTable} or {@link #dinov3Table} as an [h·w, 2·dim] array in {@code manager}. */
    public static NDArray toArray(NDManager manager, float[] table, int dim) {
        return manager.create(table, new Shape(table.length / (2L * dim), 2L * dim));
    }

    /**
     * timm's {@code apply_rot_embed_cat}: {@code x · cos + rot(x) · sin} with {@code emb} = sin | cos on the last axis
     * (broadcast against x's leading axes); {@code half} picks the half-rotation layout ([-x2, x1]) over the
     * interleaved one ([-x1, x0, -x3, x2, ...]).
     */
    public static NDArray apply(NDArray x, NDArray emb, boolean half) {
        NDList sc = emb.split(2, emb.getShape().dimension() - 1);
        NDArray rotated = half ? rotateHalf(x) : rotateInterleaved(x);
        return x.mul(sc.get(1)).add(rotated.mul(sc.get(0)));
    }

    /** [x0, x1, x2, x3, ...] to [-x1, x0, -x3, x2, ...] on the last axis (timm's {@code rot}). */
    public static NDArray rotateInterleaved(NDArray x) {
        Shape s = x.getShape();
        int rank = s.dimension();
        long d = s.get(rank - 1);
        long[] pairs = new long[rank + 1];
        System.arraycopy(s.getShape(), 0, pairs, 0, rank - 1);
        pairs[rank - 1] = d / 2;
        pairs[rank] = 2;
        NDList eo = x.reshape(new Shape(pairs)).split(2, rank);
        return NDArrays.concat(new NDList(eo.get(1).neg(), eo.get(0)), rank).reshape(s);
    }

    /** [x1, x2] halves to [-x2, x1] on the last axis (timm's {@code rope_rotate_half}). */
    public static NDArray rotateHalf(NDArray x) {
        int last = x.getShape().dimension() - 1;
        NDList halves = x.split(2, last);
        return NDArrays.concat(new NDList(halves.get(1).neg(), halves.get(0)), last);
    }
}
