package dev.jimm;

import com.sun.jna.Platform;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The instruction set libtorch's oneDNN kernels (its CPU convolutions) may use, and the one machine fault that makes
 * jimm choose it.
 *
 * <p>oneDNN sizes its convolution kernels from the CPU's cache sizes, which it reads with CPUID. A virtual machine that
 * hides them (Linux then has no {@code /sys/devices/system/cpu/cpu0/cache}; seen on 2-core AMD EPYC machines of family
 * 26, whose CPUID leaf 0x8000001D is all zeros) gets kernels sized for one-byte caches: at the AVX-512 and AVX2 levels
 * some die of SIGFPE, and at every level from AVX up some convolutions come out wrong by 8-23% (inputs of 24 or 26
 * channels, for example: {@code res2net50_26w_4s}'s logits 22% off timm's at AVX). At SSE4.1 every convolution tried
 * there, forward and backward (450 random shapes, groups, strides and dilations against a float64 loop and libtorch's
 * own non-oneDNN path), was right to rounding.
 *
 * <p>So where the cache sizes are hidden and {@code ONEDNN_MAX_CPU_ISA} is not set, {@link #holdWhereCachesHidden()}
 * sets it to {@code SSE41} in the process environment, which oneDNN reads once, when it builds its first kernel. It
 * also turns NNPACK off there ({@code torch.backends.nnpack}), which cannot start on those machines either. Every jimm
 * {@link dev.jimm.layers.Module} calls it when built, so a model is never run before; a program that runs libtorch
 * convolutions of its own before building any jimm module should call it first. Elsewhere it does nothing.
 */
public final class OneDnn {
    /** The environment variable oneDNN reads for its highest instruction set. */
    public static final String ISA_VARIABLE = "ONEDNN_MAX_CPU_ISA";

    /** The level jimm holds oneDNN to where the CPU hides its cache sizes. */
    public static final String ISA_WHERE_CACHES_HIDDEN = "SSE41";

    private static final Path CACHE_TOPOLOGY = Path.of("/sys/devices/system/cpu/cpu0/cache");

    private OneDnn() {}

    /** The hold is process-wide and oneDNN reads the variable once: decided the first time it is asked for. */
    private static final class Once {
        static final boolean HELD = hold();
    }

    /**
     * Holds oneDNN to SSE4.1 if this is an x86 Linux machine that hides its cache sizes and the user has not chosen a
     * level; true when this process runs with that hold.
     */
    public static boolean holdWhereCachesHidden() {
        return Once.HELD;
    }

    /** Whether this is an x86 Linux machine that does not report its cache sizes (the fault above). */
    public static boolean cachesHidden() {
        return Platform.isLinux() && Platform.isIntel() && !Files.isDirectory(CACHE_TOPOLOGY);
    }

    /**
     * The level oneDNN is held to in this process, as the native environment holds it now (which includes what
     * {@link #holdWhereCachesHidden()} set); empty when oneDNN may use all the CPU has.
     */
    public static Optional<String> isaCap() {
        String value;
        try {
            value = LibC.get().map(c -> c.getenv(ISA_VARIABLE)).orElseGet(() -> System.getenv(ISA_VARIABLE));
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            value = System.getenv(ISA_VARIABLE);
        }
        return value == null || value.isBlank() || value.equalsIgnoreCase("ALL")
                ? Optional.empty()
                : Optional.of(value);
    }

    private static boolean hold() {
        if (!cachesHidden()) {
            return false;
        }
        boolean held = System.getenv(ISA_VARIABLE) == null && setIsa();
        // NNPACK cannot start on these machines either, and libtorch, which tries it for the small convolutions oneDNN
        // does not take, prints "Could not initialize NNPACK! Reason: Unsupported hardware." at each of them
        LibtorchContext.set("_ZN2at7Context20setUserEnabledNNPACKEb", false);
        return held;
    }

    private static boolean setIsa() {
        try {
            // overwrite 0: a value set natively since the JVM started (by the user's own code) wins
            LibC c = LibC.get().orElse(null);
            if (c == null) {
                return false;
            }
            c.setenv(ISA_VARIABLE, ISA_WHERE_CACHES_HIDDEN, 0);
            return isaCap().filter(ISA_WHERE_CACHES_HIDDEN::equals).isPresent();
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return false;
        }
    }
}
