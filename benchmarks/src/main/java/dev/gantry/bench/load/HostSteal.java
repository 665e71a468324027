package dev.gantry.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The share of a CPU's time the hypervisor gave to someone else while our work waited for it ("steal" in
 * {@code /proc/stat}), over each measured window, so a report says how much of its machine a figure had.
 *
 * <p>Why: this machine is a virtual one with 2 shared CPUs. The load average does not see time taken by the host,
 * and in the 12-02 02:38 run the host took 8-21% of each CPU; sampled every 30 s from 04:35 to 05:01 the same day it
 * took 0-42%, changing from one half minute to the next. Arms measured minutes apart can have had very different
 * machines; this puts the difference in the report beside the figures instead of in a note written afterwards.
 */
final class HostSteal {
    /** Clock ticks of a set of CPUs since boot: all of them, and those stolen by the host. */
    record Ticks(long total, long stolen) {
        /** The share of the ticks since {@code earlier} that were stolen; NaN when either is unknown or none passed. */
        double stolenSince(Ticks earlier) {
            if (earlier == null || total <= earlier.total) {
                return Double.NaN;
            }
            return (double) (stolen - earlier.stolen) / (total - earlier.total);
        }
    }

    private static final Path PROC_STAT = Path.of("/proc/stat");

    private final Set<Integer> cpus;
    private final String describe;
    private final Map<String, List<Double>> windows = new LinkedHashMap<>();

    /** @param cpuList the CPUs to watch as a taskset list ("1", "0-3", "1,3"), or empty for all of them */
    HostSteal(String cpuList) {
        this.cpus = cpuList.isBlank() ? Set.of() : cpuSet(cpuList);
        this.describe = cpuList.isBlank() ? "all CPUs" : "CPU " + cpuList;
    }

    /** Which CPUs this watches, as a reader would say it ("CPU 1", "all CPUs"). */
    String cpus() {
        return describe;
    }

    /** The ticks so far, or null when {@code /proc/stat} cannot be read (not Linux) or names none of the CPUs. */
    Ticks now() {
        return ticks(readProcStat());
    }

    /** {@code /proc/stat}'s text now, or null where it cannot be read (not Linux). */
    static String readProcStat() {
        try {
            return Files.readString(PROC_STAT);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** These CPUs' ticks in a {@code /proc/stat} text (null when it could not be read); null when unknown. */
    Ticks ticks(String procStat) {
        try {
            return procStat == null ? null : parse(procStat, cpus);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * The ticks these CPUs spent running something in this machine (user, nice, system, irq and softirq time:
     * neither idle, waiting for I/O, nor stolen) in a {@code /proc/stat} text (null: unknown); -1 when unknown.
     */
    long busyTicks(String procStat) {
        try {
            return procStat == null ? -1 : busy(procStat, cpus);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /** The busy ticks of {@code cpus} in a {@code /proc/stat} text; -1 when none of them is in it. */
    static long busy(String procStat, Set<Integer> cpus) {
        long busy = 0;
        boolean found = false;
        for (String line : procStat.split("\n")) {
            String[] f = cpuLine(line, cpus);
            if (f != null) {
                busy += Long.parseLong(f[1]) + Long.parseLong(f[2]) + Long.parseLong(f[3]) + Long.parseLong(f[6])
                        + Long.parseLong(f[7]);
                found = true;
            }
        }
        return found ? busy : -1;
    }

    /** A {@code /proc/stat} line's fields when it is one of {@code cpus}' (the aggregate when empty), else null. */
    private static String[] cpuLine(String line, Set<Integer> cpus) {
        if (!line.startsWith("cpu")) {
            return null;
        }
        String[] f = line.trim().split("\\s+");
        String id = f[0].substring(3);
        boolean wanted = cpus.isEmpty() ? id.isEmpty() : !id.isEmpty() && cpus.contains(Integer.parseInt(id));
        return wanted && f.length >= 9 ? f : null;
    }

    /** The share of these CPUs' ticks since {@code before} that were stolen; NaN when unknown. */
    double stolenSince(Ticks before) {
        Ticks now = now();
        return now == null ? Double.NaN : now.stolenSince(before);
    }

    /**
     * Sums the ticks of {@code cpus} (all CPUs, the aggregate line, when empty) in a {@code /proc/stat} text; null
     * when none of them is in it. A CPU line holds user, nice, system, idle, iowait, irq, softirq, steal, then guest
     * time, which the kernel has already counted in user and nice, so the total is the first eight fields.
     */
    static Ticks parse(String procStat, Set<Integer> cpus) {
        long total = 0;
        long stolen = 0;
        boolean found = false;
        for (String line : procStat.split("\n")) {
            String[] f = cpuLine(line, cpus);
            if (f == null) {
                continue;
            }
            for (int i = 1; i <= 8; i++) {
                total += Long.parseLong(f[i]);
            }
            stolen += Long.parseLong(f[8]);
            found = true;
        }
        return found ? new Ticks(total, stolen) : null;
    }

    /** The CPUs a taskset list like "1", "0-3" or "1,3" names. */
    static Set<Integer> cpuSet(String list) {
        Set<Integer> out = new TreeSet<>();
        for (String part : list.split(",")) {
            String[] range = part.trim().split("-");
            int from = Integer.parseInt(range[0].trim());
            int to = range.length == 2 ? Integer.parseInt(range[1].trim()) : from;
            if (from < 0 || to < from) {
                throw new IllegalArgumentException("not a CPU list: '" + list + "'");
            }
            for (int c = from; c <= to; c++) {
                out.add(c);
            }
        }
        return out;
    }

    /** Records a measured window of {@code arm} on {@code workload}; returns the share stolen in it (NaN: unknown). */
    double record(String arm, Workload workload, Ticks before, Ticks after) {
        double share = after == null ? Double.NaN : after.stolenSince(before);
        if (!Double.isNaN(share)) {
            windows.computeIfAbsent(key(arm, workload), k -> new ArrayList<>()).add(share);
        }
        return share;
    }

    /** The median and the largest share stolen in {@code arm}'s windows on {@code workload}, e.g. "4 (max 21)". */
    String summary(String arm, Workload workload) {
        List<Double> shares = windows.get(key(arm, workload));
        if (shares == null || shares.isEmpty()) {
            return "";
        }
        double[] v = shares.stream().mapToDouble(Double::doubleValue).toArray();
        double max = shares.stream().mapToDouble(Double::doubleValue).max().orElseThrow();
        return String.format(Locale.ROOT, "%.0f (max %.0f)", 100 * BenchHost.median(v), 100 * max);
    }

    /** A share as the console and reports print it: "12%", or "unknown". */
    static String percent(double share) {
        return Double.isNaN(share) ? "unknown" : String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    private static String key(String arm, Workload workload) {
        return arm + " " + workload.label();
    }
}
