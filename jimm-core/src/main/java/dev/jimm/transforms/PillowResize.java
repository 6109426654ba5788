package dev.jimm.transforms;

import dev.jimm.data.DecodedImage;
import java.util.Arrays;

/**
 * Pillow's resampling (libImaging/Resample.c) on 8-bit images: a separable convolution, horizontal pass then vertical
 * pass, with the filter stretched by the scale when downscaling (antialias), weights in 22-bit fixed point and Pillow's
 * rounding and clipping, so results match PIL.Image.resize.
 */
public final class PillowResize {
    private static final int PRECISION_BITS = 32 - 8 - 2;

    private PillowResize() {}

    /** Coefficients of one axis: for output i, taps k[i*ksize .. ] starting at input bounds[2i]. */
    private record Coeffs(int ksize, int[] bounds, int[] kk) {}

    private static Coeffs precompute(int inSize, double in0, double in1, int outSize, Interpolation f) {
        double scale = (in1 - in0) / outSize;
        double filterscale = Math.max(scale, 1.0);
        double support = f.support() * filterscale;
        int ksize = (int) Math.ceil(support) * 2 + 1;
        int[] bounds = new int[outSize * 2];
        int[] kk = new int[outSize * ksize];
        double[] k = new double[ksize];
        for (int xx = 0; xx < outSize; xx++) {
            double center = in0 + (xx + 0.5) * scale;
            double ww = 0.0;
            double ss = 1.0 / filterscale;
            int xmin = (int) (center - support + 0.5); // C truncation toward zero, as in Pillow
            if (xmin < 0) {
                xmin = 0;
            }
            int xmax = (int) (center + support + 0.5);
            if (xmax > inSize) {
                xmax = inSize;
            }
            xmax -= xmin;
            for (int x = 0; x < xmax; x++) {
                double w = f.filter((x + xmin - center + 0.5) * ss);
                k[x] = w;
                ww += w;
            }
            for (int x = 0; x < ksize; x++) {
                double v = x < xmax ? (ww != 0.0 ? k[x] / ww : k[x]) : 0.0;
                kk[xx * ksize + x] =
                        v < 0 ? (int) (-0.5 + v * (1 << PRECISION_BITS)) : (int) (0.5 + v * (1 << PRECISION_BITS));
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return new Coeffs(ksize, bounds, kk);
    }

    private static final int HALF = 1 << (PRECISION_BITS - 1);

    /** Pillow's clip8 on its int32 sums (the weights sum to 2^22, so sums stay far below 2^31). */
    private static byte clip8(int v) {
        int s = v >> PRECISION_BITS;
        return (byte) (s < 0 ? 0 : s > 255 ? 255 : s);
    }

    /** Resizes to outW x outH with the given filter, like Pillow's Image.resize(size, filter). */
    public static DecodedImage resize(DecodedImage in, int outW, int outH, Interpolation f) {
        if (outW <= 0 || outH <= 0) {
            throw new IllegalArgumentException("resize target must be positive, got " + outW + "x" + outH);
        }
        if (f == Interpolation.NEAREST) {
            return nearest(in, outW, outH);
        }
        int inW = in.width(), inH = in.height(), c = in.channels();
        boolean needH = outW != inW;
        boolean needV = outH != inH;
        Coeffs horiz = precompute(inW, 0, inW, outW, f);
        Coeffs vert = precompute(inH, 0, inH, outH, f);
        byte[] src = in.pixels();
        int curW = inW, curH = inH;
        int[] vb = vert.bounds().clone();
        if (needH) {
            // Only rows the vertical pass will read are computed (Pillow's ybox_first..ybox_last).
            int yFirst = vb[0];
            int yLast = vb[outH * 2 - 2] + vb[outH * 2 - 1];
            if (!needV) {
                yFirst = 0;
                yLast = inH;
            } else {
                for (int i = 0; i < outH; i++) {
                    vb[2 * i] -= yFirst;
                }
            }
            int rows = yLast - yFirst;
            byte[] tmp = new byte[rows * outW * c];
            int ks = horiz.ksize();
            int[] hb = horiz.bounds(), hk = horiz.kk();
            for (int y = 0; y < rows; y++) {
                int rowOff = (y + yFirst) * inW * c;
                int o = y * outW * c;
                if (c == 3) {
                    // The three channels in one pass over the taps, as Pillow does (int32 sums).
                    for (int x = 0; x < outW; x++, o += 3) {
                        int xmin = hb[2 * x], xn = hb[2 * x + 1], kOff = x * ks;
                        int s0 = HALF, s1 = HALF, s2 = HALF;
                        for (int t = 0, p = rowOff + xmin * 3; t < xn; t++, p += 3) {
                            int k = hk[kOff + t];
                            s0 += (src[p] & 0xFF) * k;
                            s1 += (src[p + 1] & 0xFF) * k;
                            s2 += (src[p + 2] & 0xFF) * k;
                        }
                        tmp[o] = clip8(s0);
                        tmp[o + 1] = clip8(s1);
                        tmp[o + 2] = clip8(s2);
                    }
                } else {
                    for (int x = 0; x < outW; x++) {
                        int xmin = hb[2 * x], xn = hb[2 * x + 1], kOff = x * ks;
                        for (int ch = 0; ch < c; ch++, o++) {
                            int ss = HALF;
                            for (int t = 0, p = rowOff + xmin * c + ch; t < xn; t++, p += c) {
                                ss += (src[p] & 0xFF) * hk[kOff + t];
                            }
                            tmp[o] = clip8(ss);
                        }
                    }
                }
            }
            src = tmp;
            curW = outW;
            curH = rows;
        }
        if (needV) {
            byte[] out = new byte[outH * curW * c];
            int ks = vert.ksize();
            int[] vk = vert.kk();
            int stride = curW * c;
            int[] acc = new int[stride];
            for (int y = 0; y < outH; y++) {
                int ymin = vb[2 * y], yn = vb[2 * y + 1], kOff = y * ks;
                // Row by row over the taps: the same int32 sums as Pillow's per-pixel loop, in an
                // order the JIT can vectorize.
                Arrays.fill(acc, HALF);
                for (int t = 0; t < yn; t++) {
                    int k = vk[kOff + t];
                    int row = (ymin + t) * stride;
                    for (int xc = 0; xc < stride; xc++) {
                        acc[xc] += (src[row + xc] & 0xFF) * k;
                    }
                }
                int o = y * stride;
                for (int xc = 0; xc < stride; xc++) {
                    out[o + xc] = clip8(acc[xc]);
                }
            }
            src = out;
            curH = outH;
        }
        if (src == in.pixels()) {
            src = src.clone();
        }
        return in.with(curW, curH, c, src);
    }

    /** Pillow's NEAREST: source pixel at floor((x + 0.5) * scale). */
    private static DecodedImage nearest(DecodedImage in, int outW, int outH) {
        int inW = in.width(), inH = in.height(), c = in.channels();
        byte[] src = in.pixels(), out = new byte[outW * outH * c];
        for (int y = 0; y < outH; y++) {
            int sy = Math.min(inH - 1, (int) ((y + 0.5) * inH / outH));
            for (int x = 0; x < outW; x++) {
                int sx = Math.min(inW - 1, (int) ((x + 0.5) * inW / outW));
                System.arraycopy(src, (sy * inW + sx) * c, out, (y * outW + x) * c, c);
            }
        }
        return in.with(outW, outH, c, out);
    }
}
