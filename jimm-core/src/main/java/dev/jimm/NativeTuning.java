package dev.jimm;

import com.sun.jna.Platform;

/**
 * Two process settings that make libtorch's CPU kernels faster for training loops. {@link #apply()} (the {@code jimm}
 * command calls it at start; a program using the library calls it first thing in {@code main}, before any model is
 * built) flushes denormals; keeping freed memory costs resident memory and is applied only with
 * {@code JIMM_NATIVE_TUNING=all}. {@code JIMM_NATIVE_TUNING=off} turns both off.
 *
 * <ul>
 *   <li><b>Keep freed memory</b> (glibc {@code mallopt}): glibc serves every block above its mmap threshold (at most 32
 *       MB) with a fresh {@code mmap} and returns it on free, so each batch zero-fills and page-faults its activations
 *       again (25–100 MB each for a ResNet at batch 32 and 224 pixels). With mmap off and trimming raised, the next
 *       batch reuses the blocks of the previous one. Resident memory stays at the loop's peak and flat across epochs
 *       ({@code TrainingMemoryTest}). PyTorch users get this with {@code MALLOC_MMAP_MAX_=0
 *       MALLOC_TRIM_THRESHOLD_=...}. It does not reach the per-thread heaps that glibc gives Java threads, which fault
 *       most; the allocator {@link NativeAllocator} describes does.
 *   <li><b>Flush denormals</b> ({@code at::globalContext().setFlushDenormal(true)}, PyTorch's
 *       {@code torch.set_flush_denormal(True)}): floats below 1.2e-38 become 0. Adam's second-moment estimates and
 *       late-training gradients fill up with such values, and every multiply or square root that touches one takes a
 *       microcode assist: on this project's machine an AdamW step over denormal state took 106 ms instead of 21 ms. The
 *       setting is per thread and OpenMP's worker threads copy it from the thread that starts them, so it must happen
 *       before libtorch's first parallel operation on that thread; {@link #apply()} does it on the calling thread.
 * </ul>
 *
 * Off Linux/glibc, or when a symbol is missing, the setting concerned is skipped. Before either, {@link #apply()}
 * settles oneDNN's level ({@link OneDnn#holdWhereCachesHidden()}), which is about right numbers, not speed, and so is
 * not turned off with the rest.
 */
public final class NativeTuning {
    // glibc's mallopt parameter numbers (malloc.h)
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_MAX = -4;

    private NativeTuning() {}

    /** What {@link #apply()} managed to set. */
    public record Applied(boolean keepFreedMemory, boolean flushDenormals) {}

    /** The allocator setting is process-wide: computed once, the first time it is asked for. */
    private static final class Allocator {
        static final boolean APPLIED = keepFreed();

        private static boolean keepFreed() {
            LibC c = LibC.get().orElse(null);
            if (!Platform.isLinux() || c == null) {
                return false;
            }
            try {
                // mallopt returns 1 on success; musl and other libcs lack it or refuse
                return c.mallopt(M_MMAP_MAX, 0) == 1 & c.mallopt(M_TRIM_THRESHOLD, Integer.MAX_VALUE) == 1;
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                return false;
            }
        }
    }

    /**
     * Flushes denormals on this thread and, with {@code JIMM_NATIVE_TUNING=all}, keeps freed memory (measured: resnet18
     * training at batch 32 peaked at 3.6 GB resident with it, 2.2 GB without, for a gain within this machine's
     * run-to-run noise of about 5%).
     */
    public static Applied apply() {
        // a correctness matter, not a speed one: whatever JIMM_NATIVE_TUNING says (OneDnn)
        OneDnn.holdWhereCachesHidden();
        String mode = System.getenv("JIMM_NATIVE_TUNING");
        if ("off".equalsIgnoreCase(mode)) {
            return new Applied(false, false);
        }
        boolean keep = "all".equalsIgnoreCase(mode) && keepFreedMemory();
        return new Applied(keep, flushDenormalsOnThisThread());
    }

    /**
     * Keeps freed native memory for reuse, process-wide (glibc: no mmap for large blocks, no trimming); true when
     * applied. Resident memory then stays at the largest the process has used.
     */
    public static boolean keepFreedMemory() {
        return Allocator.APPLIED;
    }

    /**
     * Makes libtorch flush denormal floats to zero on the calling thread (and on the OpenMP threads it starts from now
     * on); false when that is not possible here.
     */
    public static boolean flushDenormalsOnThisThread() {
        // at::Context::setFlushDenormal(bool) returns whether the CPU supports it
        return LibtorchContext.set("_ZN2at7Context16setFlushDenormalEb", true).orElse(0) != 0;
    }
}
