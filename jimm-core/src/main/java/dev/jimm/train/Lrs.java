package dev.jimm.train;

import java.util.Arrays;

/**
 * Learning rates per parameter group, as fastai reads an lr argument: one value for every group, or a range
 * {@code slice(lo, hi)} spread geometrically from the first group to the last, or {@code slice(hi)}: hi for the last
 * group and hi/10 for the others.
 */
public final class Lrs {
    private final double lo;
    private final double hi;
    private final boolean range;
    private final boolean sliceHiOnly;

    private Lrs(double lo, double hi, boolean range, boolean sliceHiOnly) {
        if (!(hi > 0) || !(lo > 0) || Double.isInfinite(hi)) {
            throw new IllegalArgumentException(
                    "learning rate must be positive and finite, got " + (range ? lo + ".." + hi : Double.toString(hi)));
        }
        this.lo = lo;
        this.hi = hi;
        this.range = range;
        this.sliceHiOnly = sliceHiOnly;
    }

    /** The same rate for every group. */
    public static Lrs of(double lr) {
        return new Lrs(lr, lr, false, false);
    }

    /** fastai's slice(lo, hi): geometric from lo (first group) to hi (last group). */
    public static Lrs slice(double lo, double hi) {
        return new Lrs(lo, hi, true, false);
    }

    /** fastai's slice(hi): hi for the last group, hi/10 for the others. */
    public static Lrs slice(double hi) {
        return new Lrs(hi / 10, hi, true, true);
    }

    /** The rate of each of {@code n} groups. */
    public double[] forGroups(int n) {
        double[] out = new double[n];
        if (!range) {
            Arrays.fill(out, hi);
        } else if (sliceHiOnly) {
            Arrays.fill(out, hi / 10);
            out[n - 1] = hi;
        } else if (n == 1) {
            out[0] = hi;
        } else {
            for (int i = 0; i < n; i++) {
                out[i] = lo * Math.pow(hi / lo, (double) i / (n - 1));
            }
        }
        return out;
    }

    /** The largest rate (the last group's). */
    public double max() {
        return hi;
    }

    /** Divides every rate by {@code d}. */
    public Lrs div(double d) {
        return new Lrs(lo / d, hi / d, range, sliceHiOnly);
    }

    @Override
    public String toString() {
        return range ? (sliceHiOnly ? "slice(" + hi + ")" : "slice(" + lo + ", " + hi + ")") : Double.toString(hi);
    }
}
