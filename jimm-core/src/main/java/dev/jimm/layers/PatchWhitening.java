package dev.jimm.layers;

import java.util.Arrays;

/**
 * The whitening filters of airbench's first layer (Keller Jordan's CIFAR-10 speed runs): the eigenvectors of the
 * training images' {@code k x k} patch second-moment matrix, each divided by {@code sqrt(eigenvalue + eps)}, and their
 * negatives. A conv with these filters maps the patches to uncorrelated unit-variance responses, so the next layer sees
 * every frequency of the images at the same scale from the first step.
 */
public final class PatchWhitening {
    private PatchWhitening() {}

    /**
     * The filters, {@code [2 * count, channels, k, k]} row-major: the {@code count} eigenvectors of largest eigenvalue,
     * scaled, then the same negated.
     *
     * @param images {@code n x channels x height x width} values, row-major (normalised as the model sees them)
     * @param count how many eigenvectors (at most {@code channels * k * k})
     * @param eps added to each eigenvalue (airbench: 5e-4)
     */
    public static float[] filters(
            float[] images, int n, int channels, int height, int width, int k, int count, double eps) {
        int d = channels * k * k;
        if (count < 1 || count > d) {
            throw new IllegalArgumentException("whitening keeps 1 to " + d + " eigenvectors of " + channels + "x" + k
                    + "x" + k + " patches, asked for " + count);
        }
        if (images.length != (long) n * channels * height * width || height < k || width < k) {
            throw new IllegalArgumentException("whitening needs " + n + " images of " + channels + "x" + height + "x"
                    + width + " (at least " + k + " px), got " + images.length + " values");
        }
        double[][] cov = secondMoment(images, n, channels, height, width, k);
        double[] values = new double[d];
        double[][] vectors = jacobiEigen(cov, values);
        Integer[] order = new Integer[d];
        for (int i = 0; i < d; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(values[b], values[a]));
        float[] out = new float[2 * count * d];
        for (int j = 0; j < count; j++) {
            int e = order[j];
            double scale = 1 / Math.sqrt(Math.max(values[e], 0) + eps);
            for (int i = 0; i < d; i++) {
                float v = (float) (vectors[i][e] * scale);
                out[j * d + i] = v;
                out[(count + j) * d + i] = -v;
            }
        }
        return out;
    }

    /** The mean of {@code p p^T} over every {@code k x k} patch inside the images (no padding). */
    static double[][] secondMoment(float[] images, int n, int channels, int height, int width, int k) {
        int d = channels * k * k;
        double[][] m = new double[d][d];
        double[] p = new double[d];
        long count = 0;
        int plane = height * width;
        for (int img = 0; img < n; img++) {
            int base = img * channels * plane;
            for (int y = 0; y + k <= height; y++) {
                for (int x = 0; x + k <= width; x++) {
                    int i = 0;
                    for (int c = 0; c < channels; c++) {
                        for (int dy = 0; dy < k; dy++) {
                            int row = base + c * plane + (y + dy) * width + x;
                            for (int dx = 0; dx < k; dx++) {
                                p[i++] = images[row + dx];
                            }
                        }
                    }
                    for (int a = 0; a < d; a++) {
                        double pa = p[a];
                        for (int b = a; b < d; b++) {
                            m[a][b] += pa * p[b];
                        }
                    }
                    count++;
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                m[a][b] /= count;
                m[b][a] = m[a][b];
            }
        }
        return m;
    }

    /**
     * The eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: fills {@code values} and returns the
     * eigenvectors as columns ({@code v[i][j]} is component i of vector j).
     */
    static double[][] jacobiEigen(double[][] sym, double[] values) {
        int d = sym.length;
        double[][] a = new double[d][];
        double[][] v = new double[d][d];
        for (int i = 0; i < d; i++) {
            a[i] = sym[i].clone();
            v[i][i] = 1;
        }
        // the Frobenius norm is invariant under the rotations: what is off the diagonal is measured against it
        double total = 0;
        for (double[] row : a) {
            for (double x : row) {
                total += x * x;
            }
        }
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++) {
                    off += i != j ? a[i][j] * a[i][j] : 0;
                }
            }
            if (off <= 1e-30 * Math.max(total, 1e-300)) {
                break;
            }
            for (int p = 0; p < d - 1; p++) {
                for (int q = p + 1; q < d; q++) {
                    if (a[p][q] == 0) {
                        continue;
                    }
                    // the rotation that zeroes a[p][q] (Golub and Van Loan, symmetric Schur decomposition)
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    rotateColumns(a, p, q, c, s);
                    rotateRows(a, p, q, c, s);
                    rotateColumns(v, p, q, c, s);
                }
            }
        }
        for (int i = 0; i < d; i++) {
            values[i] = a[i][i];
        }
        return v;
    }

    /** {@code m = m J} for the rotation J in the (p, q) plane: columns p and q become {@code c p - s q, s p + c q}. */
    private static void rotateColumns(double[][] m, int p, int q, double c, double s) {
        for (double[] row : m) {
            double mp = row[p];
            double mq = row[q];
            row[p] = c * mp - s * mq;
            row[q] = s * mp + c * mq;
        }
    }

    /** {@code m = J^T m}: rows p and q become {@code c p - s q, s p + c q}. */
    private static void rotateRows(double[][] m, int p, int q, double c, double s) {
        double[] rp = m[p];
        double[] rq = m[q];
        for (int r = 0; r < rp.length; r++) {
            double mp = rp[r];
            double mq = rq[r];
            rp[r] = c * mp - s * mq;
            rq[r] = s * mp + c * mq;
        }
    }
}
