package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * timm's {@code resize_rel_pos_bias_table} (its default, scipy-free path): a relative position bias table trained for
 * one window size resampled to another. The source offsets are spread geometrically (BEiT's scheme: dense near 0,
 * reaching the target's extent), and each head is interpolated bilinearly at the target's integer offsets, clamped at
 * the ends (timm's RegularGridInterpolator). Tables are [positions, heads] (RelPosBias, square windows) or [heads,
 * 2H-1, 2W-1] (RelPosBiasTf).
 */
public final class RelPosResize {
    private RelPosResize() {}

    /** Resizes {@code table} to {@code target}'s shape; a table of that shape already comes back unchanged. */
    public static NDArray resize(NDArray table, Shape target) {
        Shape src = table.getShape();
        if (src.equals(target)) {
            return table;
        }
        float[] v = table.toType(DataType.FLOAT32, false).toFloatArray();
        if (src.dimension() == 3 && target.dimension() == 3) {
            int heads = (int) src.get(0);
            if (target.get(0) != heads) {
                throw new IllegalArgumentException(
                        "relative position table " + src + " has another head count than " + target);
            }
            int sh = (int) src.get(1);
            int sw = (int) src.get(2);
            int dh = (int) target.get(1);
            int dw = (int) target.get(2);
            float[] out = new float[heads * dh * dw];
            for (int n = 0; n < heads; n++) {
                float[] z = new float[sh * sw];
                System.arraycopy(v, n * sh * sw, z, 0, sh * sw);
                float[] r = resample(z, sh, sw, dh, dw);
                System.arraycopy(r, 0, out, n * dh * dw, dh * dw);
            }
            return table.getManager().create(out, target);
        }
        if (src.dimension() == 2 && target.dimension() == 2) {
            int heads = (int) src.get(1);
            if (target.get(1) != heads) {
                throw new IllegalArgumentException(
                        "relative position table " + src + " has another head count than " + target);
            }
            int s = squareSide(src.get(0), src);
            int d = squareSide(target.get(0), target);
            float[] out = new float[d * d * heads];
            for (int n = 0; n < heads; n++) {
                float[] z = new float[s * s];
                for (int i = 0; i < s * s; i++) {
                    z[i] = v[i * heads + n];
                }
                float[] r = resample(z, s, s, d, d);
                for (int i = 0; i < d * d; i++) {
                    out[i * heads + n] = r[i];
                }
            }
            return table.getManager().create(out, target);
        }
        throw new IllegalArgumentException("cannot resize a relative position table " + src + " to " + target
                + ": expected [positions, heads] or [heads, 2H-1, 2W-1] on both sides");
    }

    private static int squareSide(long positions, Shape shape) {
        int s = (int) Math.round(Math.sqrt(positions));
        if ((long) s * s != positions) {
            throw new IllegalArgumentException("relative position table " + shape + " is not of a square window");
        }
        return s;
    }

    /** One head's [sh, sw] grid resampled to [dh, dw]. */
    static float[] resample(float[] z, int sh, int sw, int dh, int dw) {
        double[][] wy = weights(offsets(sh, dh), dh);
        double[][] wx = weights(offsets(sw, dw), dw);
        float[] out = new float[dh * dw];
        for (int i = 0; i < dh; i++) {
            for (int j = 0; j < dw; j++) {
                double acc = 0;
                for (int a = 0; a < sh; a++) {
                    if (wy[i][a] == 0) {
                        continue;
                    }
                    for (int b = 0; b < sw; b++) {
                        acc += wy[i][a] * wx[j][b] * z[a * sw + b];
                    }
                }
                out[i * dw + j] = (float) acc;
            }
        }
        return out;
    }

    /** timm's _calc: the source offsets, a geometric progression whose src/2 steps reach about dst/2. */
    static double[] offsets(int src, int dst) {
        double left = 1.01;
        double right = 1.5;
        double q = (left + right) / 2.0;
        while (right - left > 1e-6) {
            q = (left + right) / 2.0;
            double gp = (1.0 - Math.pow(q, src / 2)) / (1.0 - q);
            if (gp > dst / 2) {
                right = q;
            } else {
                left = q;
            }
        }
        int half = src / 2;
        double[] dis = new double[half];
        double cur = 1;
        for (int i = 0; i < half; i++) {
            dis[i] = cur;
            cur += Math.pow(q, i + 1);
        }
        double[] out = new double[2 * half + 1];
        for (int i = 0; i < half; i++) {
            out[i] = -dis[half - 1 - i];
            out[half + 1 + i] = dis[i];
        }
        return out;
    }

    /**
     * Per target offset (-dst/2 .. dst/2), the linear weights over the source offsets {@code p}, as timm's
     * RegularGridInterpolator gives them (constant beyond the ends).
     */
    static double[][] weights(double[] p, int dst) {
        int n = p.length;
        double t0 = -Math.floor(dst / 2.0);
        double[][] w = new double[dst][n];
        for (int i = 0; i < dst; i++) {
            double t = t0 + i;
            int right = 0;
            while (right < n && p[right] < t) {
                right++;
            }
            right = Math.min(right, n - 1);
            int left = Math.max(right - 1, 0);
            double dl = Math.max(t - p[left], 0);
            double dr = Math.max(p[right] - t, 0);
            if (dl == 0 && dr == 0) {
                dl = 1;
                dr = 1;
            }
            w[i][left] += dr / (dl + dr);
            w[i][right] += dl / (dl + dr);
        }
        return w;
    }
}
