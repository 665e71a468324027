package dev.gantry.http.sizing;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * What the server may use of the machine it runs on: the cores and memory the JVM sees, and the cgroup CPU quota
 * when one is set (reported, not used: the JVM already counts it).
 *
 * @param cores {@link Runtime#availableProcessors()}: on Linux the CPUs of this process's affinity mask (taskset,
 *     cpuset), lowered to the cgroup CPU quota rounded up (cgroup v1 and v2, JDK 21+)
 * @param memoryBytes the physical memory the JVM sees, which in a container is the cgroup memory limit
 * @param cpuQuota the cgroup CPU quota in CPUs (quota / period), empty when none is set or it cannot be read
 */
public record Machine(int cores, long memoryBytes, Optional<Double> cpuQuota) {
    /*
     * JDK 21+ (and this project's JDK 25) computes availableProcessors() as the smaller of the affinity mask and
     * ceil(quota / period) of the cgroup CPU controller, and ignores cpu.shares (JDK-8281181, since JDK 19). Sizing
     * therefore derives from availableProcessors() alone; the quota is read here only so the start-up line and
     * GET /admin/v1/server can say where the core count came from.
     */
    private static final Path CGROUP_V2_CPU_MAX = Path.of("/sys/fs/cgroup/cpu.max");
    private static final Path CGROUP_V1_QUOTA = Path.of("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
    private static final Path CGROUP_V1_PERIOD = Path.of("/sys/fs/cgroup/cpu/cpu.cfs_period_us");

    public Machine {
        if (cores < 1) {
            throw new IllegalArgumentException("cores must be >= 1, was " + cores);
        }
        if (memoryBytes < 0) {
            throw new IllegalArgumentException("memory must be >= 0 bytes, was " + memoryBytes);
        }
    }

    /** The machine this JVM runs on. */
    public static Machine current() {
        long memory = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize();
        return new Machine(Runtime.getRuntime().availableProcessors(), memory, readQuota());
    }

    /** The cgroup CPU quota in CPUs: cgroup v2 {@code cpu.max}, else v1 {@code cpu.cfs_quota_us / cfs_period_us}. */
    static Optional<Double> readQuota() {
        try {
            if (Files.isReadable(CGROUP_V2_CPU_MAX)) {
                return parseCpuMax(Files.readString(CGROUP_V2_CPU_MAX));
            }
            if (Files.isReadable(CGROUP_V1_QUOTA) && Files.isReadable(CGROUP_V1_PERIOD)) {
                return quota(Files.readString(CGROUP_V1_QUOTA).trim(), Files.readString(CGROUP_V1_PERIOD).trim());
            }
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** Parses cgroup v2 {@code cpu.max} ("max 100000" for none, "150000 100000" for 1.5 CPUs). */
    static Optional<Double> parseCpuMax(String content) {
        String[] f = content.trim().split("\\s+");
        if (f.length != 2) {
            return Optional.empty();
        }
        return quota(f[0], f[1]);
    }

    private static Optional<Double> quota(String quota, String period) {
        if (quota.equals("max") || quota.startsWith("-")) {
            return Optional.empty();
        }
        try {
            long q = Long.parseLong(quota);
            long p = Long.parseLong(period);
            return q > 0 && p > 0 ? Optional.of((double) q / p) : Optional.empty();
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** "2 cores (cgroup CPU quota: none), 23.5 GiB memory". */
    public String describe() {
        return String.format(Locale.ROOT, "%d %s (cgroup CPU quota: %s), %.1f GiB memory", cores,
                cores == 1 ? "core" : "cores",
                cpuQuota.map(q -> String.format(Locale.ROOT, "%.2f CPUs", q)).orElse("none"),
                memoryBytes / (double) (1L << 30));
    }
}
