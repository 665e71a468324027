package dev.gantry.bench.load;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * What the load generator itself had over a window: the CPU its JVM used, the time the JVM's collectors reported
 * (for G1 and Serial, stop-the-world pauses), and how busy its CPUs were in all (its own work and anything else
 * scheduled there).
 *
 * <p>Why: an open-loop window's latency counts from each request's intended send, so a generator that stalls (a
 * collection of its own, or its CPU taken by other processes) is charged to the server being measured. A p99 read
 * beside these says whose stall it was.
 *
 * <p>The CPUs' busy share comes from {@code /proc/stat}'s clock ticks, which the kernel samples: at low load, in short
 * bursts between idle periods, it can read well below the JVM's own share (12-03: 4% busy against the generator's 24%
 * at 5,000 req/s), which is measured exactly. Near saturation the two agreed (95% against 94-97%).
 */
final class GeneratorLoad {
    /** A point in time: wall clock, this JVM's CPU time, its collectors' time and count, its CPUs' busy ticks. */
    record Snapshot(long wallNanos, long cpuNanos, long gcMillis, long gcCount, HostSteal.Ticks cpuTicks,
                    long cpuBusyTicks) {
    }

    private final HostSteal cpus;

    /** @param clientCpus the generator's CPUs as a taskset list ("0"), or empty for all of them */
    GeneratorLoad(String clientCpus) {
        this.cpus = new HostSteal(clientCpus);
    }

    Snapshot now() {
        long gcMillis = 0;
        long gcCount = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcMillis += Math.max(0, gc.getCollectionTime());
            gcCount += Math.max(0, gc.getCollectionCount());
        }
        long cpu = ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
                ? os.getProcessCpuTime() : -1;
        String procStat = HostSteal.readProcStat();
        return new Snapshot(System.nanoTime(), cpu, gcMillis, gcCount, cpus.ticks(procStat),
                cpus.busyTicks(procStat));
    }

    /** The generator's CPUs as a reader would say it ("CPU 0"). */
    String cpus() {
        return cpus.cpus();
    }

    /** The share of one CPU this JVM used between the two snapshots (above 1 on more CPUs); NaN when unknown. */
    static double cpuShare(Snapshot before, Snapshot after) {
        double wall = after.wallNanos() - before.wallNanos();
        return before.cpuNanos() < 0 || after.cpuNanos() < 0 || wall <= 0 ? Double.NaN
                : (after.cpuNanos() - before.cpuNanos()) / wall;
    }

    /**
     * A window, as the console prints it: e.g. "the generator used 58% of one CPU, its collectors ran 3 times for
     * 41 ms; its CPU 0 was 96% busy". The collectors' time is what their MXBeans count: pauses for G1 and Serial,
     * whole (mostly concurrent) cycles for ZGC.
     */
    static String describe(Snapshot before, Snapshot after, String cpuNames) {
        double share = cpuShare(before, after);
        StringBuilder out = new StringBuilder(Double.isNaN(share) ? "the generator's CPU time unknown"
                : String.format(Locale.ROOT, "the generator used %.0f%% of one CPU", 100 * share));
        out.append(String.format(Locale.ROOT, ", its collectors ran %d times for %d ms",
                after.gcCount() - before.gcCount(), after.gcMillis() - before.gcMillis()));
        boolean ticked = before.cpuTicks() != null && after.cpuTicks() != null
                && after.cpuTicks().total() > before.cpuTicks().total();
        if (ticked && before.cpuBusyTicks() >= 0 && after.cpuBusyTicks() >= 0) {
            double busy = (double) (after.cpuBusyTicks() - before.cpuBusyTicks())
                    / (after.cpuTicks().total() - before.cpuTicks().total());
            out.append("; its ").append(cpuNames).append(" was ").append(HostSteal.percent(busy)).append(" busy");
        }
        return out.toString();
    }
}
