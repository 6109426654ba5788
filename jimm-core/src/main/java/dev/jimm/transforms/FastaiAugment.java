package dev.jimm.transforms;

import java.util.SplittableRandom;

/**
 * fastai's {@code aug_transforms} (flip, rotate, zoom, perspective warp, brightness, contrast) on one float CHW image
 * in [0, 1], with fastai's formulas (fastai/vision/augment.py): one affine matrix and the warp are composed into a
 * single sampling grid, read with PyTorch's {@code grid_sample} (bilinear, reflection padding, align_corners=True),
 * then brightness and contrast act on the logits.
 *
 * <p>fastai runs these as batch transforms, drawing each image's parameters with torch's generator; here every sample
 * draws its own from the per-sample {@link SplittableRandom}. Two deliberate differences: a draw with no geometric
 * change skips the resampling, and a draw with no lighting change skips the logit/sigmoid round trip, so an identity
 * draw returns the input untouched (fastai would change it by float rounding).
 */
public final class FastaiAugment implements Transform<TensorImage, TensorImage> {
    /** fastai's logit clamp, so 0 and 1 map to finite logits. */
    private static final double LOGIT_EPS = 1e-7;

    private final Options options;

    private FastaiAugment(Options options) {
        this.options = options;
    }

    /**
     * The arguments of fastai's {@code aug_transforms} that apply to single images.
     *
     * @param doFlip flip left-right with probability 0.5
     * @param maxRotate largest rotation in degrees (0 = none)
     * @param minZoom smallest zoom factor
     * @param maxZoom largest zoom factor (zoom is off when minZoom >= 1 and maxZoom &lt;= 1)
     * @param maxLighting brightness and contrast magnitude in [0, 1) (0 = none)
     * @param maxWarp perspective warp magnitude in [0, 1) (0 = none)
     * @param pAffine probability of each of rotate, zoom, warp x and warp y
     * @param pLighting probability of each of brightness and contrast
     */
    public record Options(
            boolean doFlip,
            double maxRotate,
            double minZoom,
            double maxZoom,
            double maxLighting,
            double maxWarp,
            double pAffine,
            double pLighting) {
        public Options {
            check(Double.isFinite(maxRotate) && maxRotate >= 0, "maxRotate", "finite and >= 0", maxRotate);
            check(Double.isFinite(minZoom) && minZoom > 0, "minZoom", "finite and > 0", minZoom);
            check(
                    Double.isFinite(maxZoom) && maxZoom >= minZoom,
                    "maxZoom",
                    "finite and >= minZoom " + minZoom,
                    maxZoom);
            // log(1 - maxLighting) must exist for the contrast range
            check(maxLighting >= 0 && maxLighting < 1, "maxLighting", "in [0, 1)", maxLighting);
            // a warp of 1 or more can fold the target quadrilateral
            check(maxWarp >= 0 && maxWarp < 1, "maxWarp", "in [0, 1)", maxWarp);
            check(pAffine >= 0 && pAffine <= 1, "pAffine", "in [0, 1]", pAffine);
            check(pLighting >= 0 && pLighting <= 1, "pLighting", "in [0, 1]", pLighting);
        }

        /** fastai's defaults: flip, 10 degrees, zoom 1 to 1.1, lighting 0.2, warp 0.2, p 0.75 and 0.75. */
        public static Options defaults() {
            return new Options(true, 10, 1.0, 1.1, 0.2, 0.2, 0.75, 0.75);
        }

        /** A copy with {@code doFlip} replaced. */
        public Options withFlip(boolean flip) {
            return new Options(flip, maxRotate, minZoom, maxZoom, maxLighting, maxWarp, pAffine, pLighting);
        }

        boolean zoomEnabled() {
            return minZoom < 1 || maxZoom > 1;
        }
    }

    /**
     * One draw of the augmentation parameters.
     *
     * @param flip mirror left-right
     * @param rotateDeg rotation angle in degrees (0 = none)
     * @param zoom drawn zoom factor z (1 = none); the sampling grid shrinks by 1/z
     * @param colPct horizontal zoom centre in [0, 1]
     * @param rowPct vertical zoom centre in [0, 1]
     * @param warpX perspective warp x magnitude (0 = none)
     * @param warpY perspective warp y magnitude (0 = none)
     * @param brightness fastai's brightness "change" in (0, 1), added as a logit (0.5 = none)
     * @param contrast logit multiplier (1 = none)
     */
    public record Params(
            boolean flip,
            double rotateDeg,
            double zoom,
            double colPct,
            double rowPct,
            double warpX,
            double warpY,
            double brightness,
            double contrast) {
        public Params {
            check(Double.isFinite(rotateDeg), "rotateDeg", "finite", rotateDeg);
            check(Double.isFinite(zoom) && zoom > 0, "zoom", "finite and > 0", zoom);
            check(colPct >= 0 && colPct <= 1, "colPct", "in [0, 1]", colPct);
            check(rowPct >= 0 && rowPct <= 1, "rowPct", "in [0, 1]", rowPct);
            check(Double.isFinite(warpX), "warpX", "finite", warpX);
            check(Double.isFinite(warpY), "warpY", "finite", warpY);
            check(brightness > 0 && brightness < 1, "brightness", "in (0, 1)", brightness);
            check(Double.isFinite(contrast) && contrast > 0, "contrast", "finite and > 0", contrast);
        }

        /** The draw that changes nothing. */
        public static Params identity() {
            return new Params(false, 0, 1, 0.5, 0.5, 0, 0, 0.5, 1);
        }

        /** True when no flip, rotation, zoom or warp was drawn (the zoom centre is then irrelevant). */
        public boolean isGeometryIdentity() {
            return !flip && rotateDeg == 0 && zoom == 1 && warpX == 0 && warpY == 0;
        }

        /** True when neither brightness nor contrast changes. */
        public boolean isLightingIdentity() {
            return brightness == 0.5 && contrast == 1;
        }
    }

    private static void check(boolean ok, String name, String expected, double got) {
        if (!ok) {
            throw new IllegalArgumentException(name + " must be " + expected + ", got " + got);
        }
    }

    @Override
    public String toString() {
        return "FastaiAugment";
    }

    /** The transform that draws fresh parameters per sample and applies them. */
    public static FastaiAugment of(Options options) {
        if (options == null) {
            throw new IllegalArgumentException("options must not be null");
        }
        return new FastaiAugment(options);
    }

    /** The options this transform draws with. */
    public Options options() {
        return options;
    }

    @Override
    public TensorImage apply(TensorImage in, SplittableRandom rng) {
        return apply(in, draw(options, rng));
    }

    /**
     * fastai's _draw_mask for one item: the drawn value with probability p, else the neutral value. The value is drawn
     * either way so every draw consumes the same numbers from the generator.
     */
    private static double masked(SplittableRandom rng, double p, double lo, double hi, double neutral) {
        double v = lo + (hi - lo) * rng.nextDouble();
        return rng.nextDouble() < p ? v : neutral;
    }

    /** Draws one set of parameters, each with fastai's distribution; disabled ops stay at their neutral value. */
    public static Params draw(Options o, SplittableRandom rng) {
        boolean flip = o.doFlip() && rng.nextDouble() < 0.5;
        double warpX = 0, warpY = 0;
        if (o.maxWarp() > 0) {
            warpX = masked(rng, o.pAffine(), -o.maxWarp(), o.maxWarp(), 0);
            warpY = masked(rng, o.pAffine(), -o.maxWarp(), o.maxWarp(), 0);
        }
        double rotate = o.maxRotate() > 0 ? masked(rng, o.pAffine(), -o.maxRotate(), o.maxRotate(), 0) : 0;
        double zoom = 1, colPct = 0.5, rowPct = 0.5;
        if (o.zoomEnabled()) {
            zoom = masked(rng, o.pAffine(), o.minZoom(), o.maxZoom(), 1);
            // fastai draws the centre whether or not the zoom itself is masked out
            colPct = rng.nextDouble();
            rowPct = rng.nextDouble();
        }
        double brightness = 0.5, contrast = 1;
        double ml = o.maxLighting();
        if (ml > 0) {
            brightness = masked(rng, o.pLighting(), 0.5 * (1 - ml), 0.5 * (1 + ml), 0.5);
            double logC = Math.log(1 - ml);
            contrast = Math.exp(masked(rng, o.pLighting(), logC, -logC, 0));
        }
        return new Params(flip, rotate, zoom, colPct, rowPct, warpX, warpY, brightness, contrast);
    }

    /** Applies one draw: geometry (one bilinear resampling), then brightness and contrast. Pure. */
    public static TensorImage apply(TensorImage in, Params p) {
        if (in == null || p == null) {
            throw new IllegalArgumentException("image and params must not be null");
        }
        TensorImage out = p.isGeometryIdentity() ? in : resample(in, p);
        return p.isLightingIdentity() ? out : lighting(out, p, out != in);
    }

    /** The 2x3 matrix of fastai's AffineCoordTfm: (flip @ rotate @ zoom) after _prepare_mat. */
    static double[] affineMatrix(Params p, int height, int width) {
        double[][] f = {{p.flip() ? -1 : 1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        double t = Math.toRadians(p.rotateDeg());
        double cos = Math.cos(t), sin = Math.sin(t);
        double[][] r = {{cos, sin, 0}, {-sin, cos, 0}, {0, 0, 1}};
        double s = 1 / p.zoom();
        double[][] z = {{s, 0, (1 - s) * (2 * p.colPct() - 1)}, {0, s, (1 - s) * (2 * p.rowPct() - 1)}, {0, 0, 1}};
        double[][] m = mul(mul(f, r), z);
        // _prepare_mat: the normalised grid is [-1, 1] on both axes, so rotations need the aspect ratio
        m[0][1] *= (double) height / width;
        m[1][0] *= (double) width / height;
        return new double[] {m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2]};
    }

    private static double[][] mul(double[][] a, double[][] b) {
        double[][] c = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                c[i][j] = a[i][0] * b[0][j] + a[i][1] * b[1][j] + a[i][2] * b[2][j];
            }
        }
        return c;
    }

    /**
     * fastai's find_coeffs(orig_pts, targ_pts) for _WarpCoord: the 8 perspective coefficients, by Gaussian elimination
     * with partial pivoting (torch.linalg.solve's LU does the same).
     */
    static double[] warpCoefficients(double warpX, double warpY) {
        double[][] p1 = {{-1, -1}, {-1, 1}, {1, -1}, {1, 1}};
        double[][] p2 = {
            {-1 - warpY, -1 - warpX}, {-1 + warpY, 1 + warpX}, {1 + warpY, -1 + warpX}, {1 - warpY, 1 - warpX}
        };
        double[][] a = new double[8][9];
        for (int i = 0; i < 4; i++) {
            double x1 = p1[i][0], y1 = p1[i][1], x2 = p2[i][0], y2 = p2[i][1];
            a[2 * i] = new double[] {x2, y2, 1, 0, 0, 0, -x1 * x2, -x1 * y2, x1};
            a[2 * i + 1] = new double[] {0, 0, 0, x2, y2, 1, -y1 * x2, -y1 * y2, y1};
        }
        for (int col = 0; col < 8; col++) {
            int piv = col;
            for (int row = col + 1; row < 8; row++) {
                if (Math.abs(a[row][col]) > Math.abs(a[piv][col])) {
                    piv = row;
                }
            }
            if (a[piv][col] == 0) {
                throw new IllegalArgumentException("warp (" + warpX + ", " + warpY + ") gives a singular system");
            }
            double[] tmp = a[col];
            a[col] = a[piv];
            a[piv] = tmp;
            for (int row = col + 1; row < 8; row++) {
                double k = a[row][col] / a[col][col];
                for (int j = col; j < 9; j++) {
                    a[row][j] -= k * a[col][j];
                }
            }
        }
        double[] c = new double[8];
        for (int row = 7; row >= 0; row--) {
            double v = a[row][8];
            for (int j = row + 1; j < 8; j++) {
                v -= a[row][j] * c[j];
            }
            c[row] = v / a[row][row];
        }
        return c;
    }

    /**
     * PyTorch's reflect_coordinates(x, 0, 2 * (size - 1)) then clip_coordinates: the reflection padding of grid_sample
     * with align_corners=True, in pixel units.
     */
    static double reflectClip(double x, int size) {
        double span = size - 1;
        if (span == 0) {
            return 0;
        }
        if (x >= 0 && x <= span) {
            // most taps of a mild augmentation fall inside: no reflection, and no fmod on the hot path
            return x;
        }
        double in = Math.abs(x);
        double extra = in % span;
        double flips = Math.floor(in / span);
        double r = flips % 2 == 0 ? extra : span - extra;
        // NaN (from a degenerate warp) lands on 0 like any other out-of-range value
        return r >= 0 ? Math.min(r, span) : 0;
    }

    /** Affine grid, optional warp, then grid_sample (bilinear, reflection, align_corners=True). */
    private static TensorImage resample(TensorImage in, Params p) {
        int c = in.channels(), h = in.height(), w = in.width(), n = h * w;
        double[] m = affineMatrix(p, h, w);
        boolean warp = p.warpX() != 0 || p.warpY() != 0;
        double[] k = warp ? warpCoefficients(p.warpX(), p.warpY()) : null;
        // Source taps are computed once per pixel and shared by all channels.
        int[] base = new int[n];
        int[] stepX = new int[n];
        int[] stepY = new int[n];
        double[] fx = new double[n];
        double[] fy = new double[n];
        for (int i = 0; i < h; i++) {
            // affine_grid's base grid; a size-1 axis sits at 0 (PyTorch's linspace_from_neg_one)
            double y = h > 1 ? -1 + 2.0 * i / (h - 1) : 0;
            for (int j = 0; j < w; j++) {
                double x = w > 1 ? -1 + 2.0 * j / (w - 1) : 0;
                double gx = m[0] * x + m[1] * y + m[2];
                double gy = m[3] * x + m[4] * y + m[5];
                if (warp) {
                    double u = k[0] * gx + k[1] * gy + k[2];
                    double v = k[3] * gx + k[4] * gy + k[5];
                    double d = k[6] * gx + k[7] * gy + 1;
                    if (d != 0) {
                        gx = u / d;
                        gy = v / d;
                    }
                }
                double ix = reflectClip((gx + 1) / 2 * (w - 1), w);
                double iy = reflectClip((gy + 1) / 2 * (h - 1), h);
                int x0 = (int) Math.floor(ix), y0 = (int) Math.floor(iy);
                int o = i * w + j;
                base[o] = y0 * w + x0;
                // After clipping the +1 neighbour is outside only on the last row/column, where its weight is 0.
                stepX[o] = x0 + 1 < w ? 1 : 0;
                stepY[o] = y0 + 1 < h ? w : 0;
                fx[o] = ix - x0;
                fy[o] = iy - y0;
            }
        }
        float[] src = in.data();
        float[] out = new float[src.length];
        for (int ch = 0; ch < c; ch++) {
            int off = ch * n;
            for (int o = 0; o < n; o++) {
                int b = off + base[o];
                double ax = fx[o], ay = fy[o];
                double top = (1 - ax) * src[b] + ax * src[b + stepX[o]];
                double bot = (1 - ax) * src[b + stepY[o]] + ax * src[b + stepY[o] + stepX[o]];
                out[off + o] = (float) ((1 - ay) * top + ay * bot);
            }
        }
        return new TensorImage(c, h, w, out);
    }

    /** fastai's logit with its clamp. */
    private static double logit(double x) {
        double v = Math.min(Math.max(x, LOGIT_EPS), 1 - LOGIT_EPS);
        return -Math.log(1 / v - 1);
    }

    /**
     * sigmoid(contrast * (logit(x) + logit(brightness))), fastai's Brightness then Contrast, rewritten as 1 / (1 +
     * e^(-contrast * logit(brightness)) * ((1 - x) / x)^contrast): one pow per value instead of a log and an exp, and
     * none when the contrast is 1.
     */
    private static TensorImage lighting(TensorImage in, Params p, boolean inPlace) {
        float[] src = in.data();
        float[] out = inPlace ? src : new float[src.length];
        double c = p.contrast();
        double k = Math.exp(-c * logit(p.brightness()));
        for (int i = 0; i < src.length; i++) {
            // fastai's logit clamp
            double x = Math.min(Math.max(src[i], LOGIT_EPS), 1 - LOGIT_EPS);
            double r = (1 - x) / x;
            out[i] = (float) (1 / (1 + k * (c == 1 ? r : Math.pow(r, c))));
        }
        return inPlace ? in : new TensorImage(in.channels(), in.height(), in.width(), out);
    }
}
