package dev.jimm.models;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Measures what creating models costs (not part of the default suite): for each name given, creates the randomly
 * initialized model, closes it, and prints its parameter count, the peak Java heap in use (the sum of the heap pools'
 * peaks) and the process's peak RSS ({@code VmHWM}). The honest heap figure is the smallest {@code -Xmx} with which
 * this succeeds: run it under several and bisect.
 *
 * <pre>
 * mvn -o -q -pl jimm-core test-compile
 * java -Xmx256m -cp "jimm-core/target/test-classes:jimm-core/target/classes:$(cat cp.txt)" \
 *     dev.jimm.models.CreationMemoryCheck resnet50 vit_base_patch16_224 convnext_base
 * </pre>
 */
public final class CreationMemoryCheck {
    private CreationMemoryCheck() {}

    public static void main(String[] args) throws IOException {
        for (String name : args) {
            long params;
            try (ImageModel m = Models.createModel(name)) {
                params = m.numParameters();
            }
            System.out.printf(
                    Locale.ROOT,
                    "%s: %.1fM parameters (%.0f MB float32), peak heap used %.0f MB, peak RSS %.0f MB%n",
                    name,
                    params / 1e6,
                    params * 4 / 1048576.0,
                    peakHeapBytes() / 1048576.0,
                    peakRssKb() / 1024.0);
        }
    }

    static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** {@code VmHWM} of /proc/self/status in kB, or -1 where there is none. */
    static long peakRssKb() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return -1;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
