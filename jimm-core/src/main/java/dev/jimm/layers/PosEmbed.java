package dev.jimm.layers;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Locale;

/**
 * Resampling of learned position embeddings for a model built at another input size than its checkpoint, as timm's
 * {@code layers/pos_embed.py} ({@code resample_abs_pos_embed}: ViT, DeiT) and {@code layers/pos_embed_rel.py}
 * ({@code resize_rel_pos_bias_table}: Swin's relative position bias tables) do it when weights load. Plain Java on the
 * values, so the result does not depend on the engine; {@link #interpolate} is PyTorch's {@code F.interpolate} with
 * {@code align_corners=False}, with or without {@code antialias}.
 */
public final class PosEmbed {
    private PosEmbed() {}

    /** The resampling filters of {@link #interpolate}. */
    public enum Mode {
        BILINEAR,
        BICUBIC;

        /** "bilinear" or "bicubic", as timm names them. */
        public static Mode parse(String name) {
            return switch (name.toLowerCase(Locale.ROOT)) {
                case "bilinear" -> BILINEAR;
                case "bicubic" -> BICUBIC;
                default ->
                    throw new IllegalArgumentException("interpolation '" + name + "' is not bilinear or bicubic");
            };
        }
    }

    /**
     * timm's {@code resample_abs_pos_embed}: position embeddings [1, prefix + h * w, C] of a square grid resampled to
     * {@code newH x newW} patches; the first {@code numPrefixTokens} (class, distillation, register tokens) are kept as
     * they are. Returned unchanged when the grid already fits.
     *
     * @param posEmbed the checkpoint's embeddings [1, N, C]
     * @param interpolation "bicubic" or "bilinear"
     * @param antialias PyTorch's {@code antialias} (timm's ViT loader sets it, except for FlexiViT)
     */
    public static NDArray resampleAbsPosEmbed(
            NDArray posEmbed, int newH, int newW, int numPrefixTokens, String interpolation, boolean antialias) {
        Shape s = posEmbed.getShape();
        if (s.dimension() != 3 || s.get(0) != 1) {
            throw new IllegalArgumentException("position embeddings " + s + " are not [1, tokens, channels]");
        }
        int tokens = (int) s.get(1);
        int channels = (int) s.get(2);
        if (tokens == (long) newH * newW + numPrefixTokens && newH == newW) {
            return posEmbed;
        }
        int grid = tokens - numPrefixTokens;
        int side = (int) Math.round(Math.sqrt(grid));
        if (grid <= 0 || side * side != grid) {
            throw new IllegalArgumentException("position embeddings of " + tokens + " tokens with " + numPrefixTokens
                    + " prefix tokens are not a square grid; cannot resample them to " + newH + "x" + newW);
        }
        float[] all = posEmbed.toType(DataType.FLOAT32, false).toFloatArray();
        // [side * side, C] row-major to [C, side, side]
        float[] grid0 = new float[channels * grid];
        for (int t = 0; t < grid; t++) {
            for (int c = 0; c < channels; c++) {
                grid0[c * grid + t] = all[(numPrefixTokens + t) * channels + c];
            }
        }
        float[] resized = interpolate(grid0, channels, side, side, newH, newW, Mode.parse(interpolation), antialias);
        int newGrid = newH * newW;
        float[] out = new float[(numPrefixTokens + newGrid) * channels];
        System.arraycopy(all, 0, out, 0, numPrefixTokens * channels);
        for (int t = 0; t < newGrid; t++) {
            for (int c = 0; c < channels; c++) {
                out[(numPrefixTokens + t) * channels + c] = resized[c * newGrid + t];
            }
        }
        return posEmbed.getManager()
                .create(out, new Shape(1, numPrefixTokens + newGrid, channels))
                .toType(posEmbed.getDataType(), false);
    }

    /**
     * PyTorch's {@code F.interpolate(x, size=(outH, outW), mode, align_corners=False, antialias)} of {@code channels}
     * maps {@code [C, inH, inW]} (row-major), computed in double and rounded to float.
     */
    public static float[] interpolate(
            float[] src, int channels, int inH, int inW, int outH, int outW, Mode mode, boolean antialias) {
        if (src.length != channels * inH * inW) {
            throw new IllegalArgumentException(
                    src.length + " values are not " + channels + " maps of " + inH + "x" + inW);
        }
        double[][] wy = axisWeights(inH, outH, mode, antialias);
        double[][] wx = axisWeights(inW, outW, mode, antialias);
        float[] out = new float[channels * outH * outW];
        double[] rows = new double[inH * outW];
        for (int c = 0; c < channels; c++) {
            int base = c * inH * inW;
            // along the width, then along the height (PyTorch's separable order)
            for (int i = 0; i < inH; i++) {
                for (int x = 0; x < outW; x++) {
                    double acc = 0;
                    for (int j = 0; j < inW; j++) {
                        if (wx[x][j] != 0) {
                            acc += wx[x][j] * src[base + i * inW + j];
                        }
                    }
                    rows[i * outW + x] = acc;
                }
            }
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    double acc = 0;
                    for (int i = 0; i < inH; i++) {
                        if (wy[y][i] != 0) {
                            acc += wy[y][i] * rows[i * outW + x];
                        }
                    }
                    out[c * outH * outW + y * outW + x] = (float) acc;
                }
            }
        }
        return out;
    }

    /** out x in weights of one axis: PyTorch's upsample kernels (align_corners False, no explicit scale). */
    private static double[][] axisWeights(int in, int out, Mode mode, boolean antialias) {
        double scale = (double) in / out;
        double[][] w = new double[out][in];
        for (int o = 0; o < out; o++) {
            if (antialias) {
                antialiasWeights(w[o], o, in, scale, mode);
            } else if (mode == Mode.BICUBIC) {
                // area_pixel_compute_source_index for cubic: not clamped at 0; taps clamped to the border
                double real = scale * (o + 0.5) - 0.5;
                int i0 = (int) Math.floor(real);
                double t = real - i0;
                double[] c = {cubic2(t + 1), cubic1(t), cubic1(1 - t), cubic2(2 - t)};
                for (int k = 0; k < 4; k++) {
                    w[o][Math.min(Math.max(i0 - 1 + k, 0), in - 1)] += c[k];
                }
            } else {
                double real = Math.max(scale * (o + 0.5) - 0.5, 0);
                int i0 = (int) real;
                int i1 = i0 + (i0 < in - 1 ? 1 : 0);
                double l1 = real - i0;
                w[o][i0] += 1 - l1;
                w[o][i1] += l1;
            }
        }
        return w;
    }

    private static final double CUBIC_A = -0.75;

    private static double cubic1(double x) {
        return ((CUBIC_A + 2) * x - (CUBIC_A + 3)) * x * x + 1;
    }

    private static double cubic2(double x) {
        return ((CUBIC_A * x - 5 * CUBIC_A) * x + 8 * CUBIC_A) * x - 4 * CUBIC_A;
    }

    /**
     * PyTorch's antialiased weights (_compute_indices_min_size_weights_aa): a filter stretched by the scale when
     * shrinking, truncated at the borders and normalized to sum 1; bicubic with a = -0.5 (PIL's).
     */
    private static void antialiasWeights(double[] w, int o, int in, double scale, Mode mode) {
        double interpSize = mode == Mode.BICUBIC ? 4 : 2;
        double support = scale >= 1 ? interpSize * 0.5 * scale : interpSize * 0.5;
        double center = scale * (o + 0.5);
        double invScale = scale >= 1 ? 1 / scale : 1;
        // C++'s static_cast<int64_t> truncates toward zero, as Java's (long) does
        int xmin = (int) Math.max((long) (center - support + 0.5), 0);
        int xsize = (int) Math.min((long) (center + support + 0.5), in) - xmin;
        double total = 0;
        for (int j = 0; j < xsize; j++) {
            double v = aaFilter((j + xmin - center + 0.5) * invScale, mode);
            w[xmin + j] = v;
            total += v;
        }
        if (total != 0) {
            for (int j = 0; j < xsize; j++) {
                w[xmin + j] /= total;
            }
        }
    }

    private static double aaFilter(double x, Mode mode) {
        x = Math.abs(x);
        if (mode == Mode.BILINEAR) {
            return x < 1 ? 1 - x : 0;
        }
        double a = -0.5;
        if (x < 1) {
            return ((a + 2) * x - (a + 3)) * x * x + 1;
        }
        if (x < 2) {
            return (((x - 5) * x + 8) * x - 4) * a;
        }
        return 0;
    }

    /**
     * timm's {@code resize_rel_pos_bias_table} for a flat table [(2h-1)(2w-1) + extra, heads]: each head's (2h-1) x
     * (2w-1) grid is re-sampled onto the new window's grid, the source positions spaced by a geometric progression (the
     * BEiT / UniLM scheme) and values read by linear interpolation between them (timm's RegularGridInterpolator, as it
     * runs without scipy). Extra rows after the grid (class-token entries) are kept. Returned unchanged when the grid
     * already fits.
     *
     * @param table the checkpoint's table [rows, heads]
     * @param newWindowH the model's window height
     * @param newWindowW the model's window width
     * @param newRows the model's table rows (the grid plus any extra rows)
     */
    public static NDArray resizeRelPosBiasTable(NDArray table, int newWindowH, int newWindowW, long newRows) {
        Shape s = table.getShape();
        if (s.dimension() != 2) {
            throw new IllegalArgumentException("relative position bias table " + s + " is not [positions, heads]");
        }
        int dstH = 2 * newWindowH - 1;
        int dstW = 2 * newWindowW - 1;
        int extra = (int) (newRows - (long) dstH * dstW);
        int rows = (int) s.get(0);
        int heads = (int) s.get(1);
        int srcSide = (int) Math.sqrt(rows - extra);
        if (extra < 0 || srcSide * srcSide != rows - extra) {
            throw new IllegalArgumentException("relative position bias table of " + rows + " rows is not a square grid"
                    + (extra > 0 ? " plus " + extra + " extra rows" : "") + "; cannot resize it to " + dstH + "x"
                    + dstW);
        }
        if (srcSide == dstH && srcSide == dstW) {
            return table;
        }
        float[] v = table.toType(DataType.FLOAT32, false).toFloatArray();
        float[] ys = progression(srcSide, dstH);
        float[] xs = progression(srcSide, dstW);
        float ty = dstH / 2;
        float tx = dstW / 2;
        float[] out = new float[(dstH * dstW + extra) * heads];
        for (int i = 0; i < dstH; i++) {
            Tap y = tap(ys, -ty + i);
            for (int j = 0; j < dstW; j++) {
                Tap x = tap(xs, -tx + j);
                for (int h = 0; h < heads; h++) {
                    float ll = v[(y.left * srcSide + x.left) * heads + h];
                    float lr = v[(y.left * srcSide + x.right) * heads + h];
                    float rl = v[(y.right * srcSide + x.left) * heads + h];
                    float rr = v[(y.right * srcSide + x.right) * heads + h];
                    float num = ll * (y.distRight * x.distRight)
                            + lr * (y.distRight * x.distLeft)
                            + rl * (y.distLeft * x.distRight)
                            + rr * (y.distLeft * x.distLeft);
                    float den = (y.distLeft + y.distRight) * (x.distLeft + x.distRight);
                    out[(i * dstW + j) * heads + h] = num / den;
                }
            }
        }
        System.arraycopy(v, (rows - extra) * heads, out, dstH * dstW * heads, extra * heads);
        return table.getManager()
                .create(out, new Shape(dstH * dstW + extra, heads))
                .toType(table.getDataType(), false);
    }

    /**
     * The source positions of timm's {@code _calc}: 0 in the middle and, outwards, 1, 1 + q, 1 + q + q^2, ..., with q
     * found by bisection so that the progression reaches the destination's half width (in double, then float32 as
     * {@code torch.tensor} holds them).
     */
    static float[] progression(int src, int dst) {
        double[] offsets = RelPosResize.offsets(src, dst);
        float[] out = new float[offsets.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) offsets[i];
        }
        return out;
    }

    /** The two grid points around a position and its distances to them, as timm's RegularGridInterpolator has it. */
    private record Tap(int left, int right, float distLeft, float distRight) {}

    private static Tap tap(float[] p, float x) {
        // torch.bucketize(x, p): the first index with x <= p[i]
        int right = p.length;
        for (int i = 0; i < p.length; i++) {
            if (x <= p[i]) {
                right = i;
                break;
            }
        }
        right = Math.min(right, p.length - 1);
        int left = Math.max(right - 1, 0);
        float dl = Math.max(x - p[left], 0f);
        float dr = Math.max(p[right] - x, 0f);
        if (dl == 0 && dr == 0) {
            dl = 1;
            dr = 1;
        }
        return new Tap(left, right, dl, dr);
    }
}
