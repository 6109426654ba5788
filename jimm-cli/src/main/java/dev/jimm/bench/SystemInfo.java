package dev.jimm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What the benchmark reads about this machine and process: resident memory from {@code /proc/self/status} (VmRSS, and
 * the peak VmHWM, which writing 5 to {@code /proc/self/clear_refs} resets), JVM heap use, and the CPU's fp32 peak.
 */
public final class SystemInfo {
    private SystemInfo() {}

    /**
     * The fp32 peak of this CPU: cores × GHz × FMA units per core × 16 fp32 lanes (AVX-512) × 2 (an FMA is a multiply
     * and an add).
     *
     * @param cpu the model name from /proc/cpuinfo
     * @param cores online cores
     * @param ghz the clock assumed
     * @param fmaUnits 512-bit FMA units per core
     * @param lanes fp32 lanes per vector (16 with AVX-512, 8 with AVX2)
     */
    public record CpuPeak(String cpu, int cores, double ghz, int fmaUnits, int lanes) {
        /** The same CPU with only {@code n} of its cores (the threads a run uses). */
        public CpuPeak withCores(int n) {
            return new CpuPeak(cpu, Math.min(n, cores), ghz, fmaUnits, lanes);
        }

        public double gflops() {
            return cores * ghz * fmaUnits * lanes * 2;
        }

        /** How the peak is derived, for the table's footer. */
        public String derivation() {
            return String.format(
                    Locale.ROOT,
                    "%s: %d cores x %.2f GHz (cpuinfo, nominal; AVX-512 may run slower) x %d FMA units"
                            + " x %d fp32 lanes x 2 = %.1f GFLOP/s",
                    cpu,
                    cores,
                    ghz,
                    fmaUnits,
                    lanes,
                    gflops());
        }
    }

    /** The peak of this machine, from /proc/cpuinfo (two FMA units per core for Xeon with AVX-512). */
    public static CpuPeak cpuPeak() {
        String name = "unknown CPU";
        double mhz = 0;
        boolean avx512 = false;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name") && name.equals("unknown CPU")) {
                    name = line.substring(line.indexOf(':') + 1).trim();
                } else if (line.startsWith("cpu MHz") && mhz == 0) {
                    mhz = Double.parseDouble(
                            line.substring(line.indexOf(':') + 1).trim());
                } else if (line.startsWith("flags") && line.contains(" avx512f")) {
                    avx512 = true;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux: the peak is reported as unknown (0 GHz)
        }
        int cores = Runtime.getRuntime().availableProcessors();
        return new CpuPeak(name, cores, mhz / 1000, 2, avx512 ? 16 : 8);
    }

    /** Resident memory now, in bytes (0 where /proc is missing). */
    public static long rssBytes() {
        return statusKb("VmRSS:") * 1024;
    }

    /** Peak resident memory since the process started or since {@link #resetPeakRss()}, in bytes. */
    public static long peakRssBytes() {
        return statusKb("VmHWM:") * 1024;
    }

    /** Resets the peak resident memory to the current one; false where the kernel does not allow it. */
    public static boolean resetPeakRss() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** JVM heap in use, in bytes. */
    public static long heapUsedBytes() {
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    /** JVM heap committed (resident at most this much), in bytes. */
    public static long heapCommittedBytes() {
        return Runtime.getRuntime().totalMemory();
    }

    private static long statusKb(String key) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
            for (String l : lines) {
                if (l.startsWith(key)) {
                    return Long.parseLong(l.substring(key.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return 0;
    }
}
