package dev.jimm;

import static org.junit.jupiter.api.Assertions.*;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class NativeTuningTest {
    /** 1e-39 is a denormal float: kept as such by default, flushed to 0 once the setting is on. */
    private static float denormalProduct() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1f});
            return x.mul(1e-39f).getFloat();
        }
    }

    @Test
    void flushingDenormalsTakesEffectOnTheThreadThatAsksForIt() throws Exception {
        AtomicReference<float[]> seen = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        // fresh threads: the setting is per thread, and the test thread's must not change
        Thread t = new Thread(() -> {
            try {
                float before = denormalProduct();
                boolean ok = NativeTuning.flushDenormalsOnThisThread();
                seen.set(new float[] {before, denormalProduct(), ok ? 1 : 0});
            } catch (Throwable e) {
                error.set(e);
            }
        });
        t.start();
        t.join();
        assertNull(error.get());
        float[] r = seen.get();
        assertTrue(r[0] > 0 && r[0] < Float.MIN_NORMAL, "without the setting libtorch keeps denormals: " + r[0]);
        assertEquals(1f, r[2], "at::Context::setFlushDenormal was found and accepted");
        assertEquals(0f, r[1], "with it, 1 x 1e-39 flushes to 0");
        assertTrue(denormalProduct() > 0, "other threads are not affected");
    }

    @Test
    void applyFlushesDenormalsAndTheAllocatorSettingWorksOnThisGlibcMachine() throws Exception {
        AtomicReference<NativeTuning.Applied> applied = new AtomicReference<>();
        Thread t = new Thread(() -> applied.set(NativeTuning.apply())); // apply() flushes on its thread only
        t.start();
        t.join();
        assertTrue(applied.get().flushDenormals());
        assertTrue(NativeTuning.keepFreedMemory(), "mallopt accepted M_MMAP_MAX and M_TRIM_THRESHOLD");
    }
}
