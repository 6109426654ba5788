package dev.jimm.data;

/** Derives independent 64-bit seeds from (seed, epoch, index) so per-sample randomness needs no shared state. */
public final class Seeds {
    private Seeds() {}

    /** SplitMix64 finalizer. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A well-mixed seed for (seed, epoch, index); different tuples give unrelated streams. */
    public static long derive(long seed, long epoch, long index) {
        long h = mix(seed + 0x9E3779B97F4A7C15L);
        h = mix(h ^ (epoch * 0xC2B2AE3D27D4EB4FL + 0x165667B19E3779F9L));
        return mix(h ^ (index * 0x9E3779B97F4A7C15L + 0x27D4EB2F165667C5L));
    }
}
