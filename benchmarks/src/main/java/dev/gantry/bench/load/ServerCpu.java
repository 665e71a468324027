package dev.gantry.bench.load;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * A server process's CPU time, and the part of it its JIT compiler threads took, from {@code /proc}; and the
 * settling step that keeps a server under load until its JIT has gone quiet.
 *
 * <p>Why: a fixed warm-up is counted in seconds, but HotSpot compiles a method with C2 after a count of calls. At
 * MiniLM's ~150 requests per second the per-request methods reach that count a minute or more into the load, and
 * their C2 compiles (the request handler's took 2.4 s on the server's one core, twice) then run inside the measured
 * windows: C2 took 19%, 6%, 1% and 0.4% of the server's CPU in the four 15 s windows after a 45 s warm-up
 * (benchmarks/results/jit-settle-20261201.txt). At MLP's 10,000+ requests per second the same count takes seconds.
 */
record ServerCpu(long totalTicks, long jitTicks, long systemTicks, long eventLoopTicks) {
    /** The share of a window's server CPU that its JIT may take for the server to count as settled. */
    static final double SETTLED_JIT_SHARE = 0.02;
    /** The length of one settling window. */
    static final Duration SETTLE_WINDOW = Duration.ofSeconds(5);

    /** A sample that knows only the total and the JIT's part. */
    ServerCpu(long totalTicks, long jitTicks) {
        this(totalTicks, jitTicks, 0, 0);
    }

    /**
     * CPU time so far of process {@code pid}: all threads, the part in the kernel, the C1/C2 compiler threads and
     * the Vert.x event loops; null when it is gone.
     */
    static ServerCpu of(long pid) throws IOException {
        Path proc = Path.of("/proc", Long.toString(pid));
        long total;
        long system;
        try {
            String stat = Files.readString(proc.resolve("stat"));
            total = ticks(stat);
            system = systemTicks(stat);
        } catch (NoSuchFileException e) {
            return null;
        }
        long jit = 0;
        long loops = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (NoSuchFileException e) {
                    continue; // the thread ended while the directory was read
                }
                if (isCompilerThread(stat)) {
                    jit += ticks(stat);
                } else if (isEventLoop(stat)) {
                    loops += ticks(stat);
                }
            }
        }
        return new ServerCpu(total, jit, system, loops);
    }

    /** User plus system clock ticks of one {@code /proc/.../stat} line (the command may hold spaces and ')'). */
    static long ticks(String stat) {
        String[] f = fields(stat);
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    /** System (kernel) clock ticks of one {@code /proc/.../stat} line. */
    static long systemTicks(String stat) {
        return Long.parseLong(fields(stat)[12]);
    }

    /** The fields after the command of a {@code /proc/.../stat} line: utime is [11], stime [12]. */
    private static String[] fields(String stat) {
        return stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    }

    /** Whether a thread's stat line names a Vert.x event loop ("vert.x-eventloop-thread-0", cut to 15 characters). */
    static boolean isEventLoop(String stat) {
        return name(stat).startsWith("vert.x-eventloo");
    }

    /** Whether a thread's stat line names a HotSpot compiler thread ("C1 CompilerThre", "C2 CompilerThre"). */
    static boolean isCompilerThread(String stat) {
        String name = name(stat);
        return (name.startsWith("C1 ") || name.startsWith("C2 ")) && name.contains("Compiler");
    }

    /** The thread or command name of a {@code /proc/.../stat} line, between its first '(' and last ')'. */
    private static String name(String stat) {
        return stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    }

    /** Microseconds per answered request of {@code ticks} clock ticks (100 per second, Linux's USER_HZ). */
    static double microsPerAnswer(long ticks, Measurement m) {
        return ticks * 10_000.0 / Math.max(1, m.ok());
    }

    /** The JIT's share of the CPU the process used from {@code before} to this sample; 0 when it used none. */
    double jitShareSince(ServerCpu before) {
        long total = totalTicks - before.totalTicks;
        return total <= 0 ? 0 : (double) (jitTicks - before.jitTicks) / total;
    }

    /**
     * The part of a warm-up of {@code warmup} that comes before {@link #settle}'s first window: the warm-up less
     * that window, but at least {@link #FIRST_LOAD} (or the whole warm-up when shorter), because the harness tells
     * a server that answers nothing by this part. A 5 s warm-up (--quick's, and the standard plan's per further
     * workload) left none, so every such workload was reported as "no request succeeded" and skipped.
     */
    static Duration beforeSettling(Duration warmup) {
        Duration rest = warmup.minus(SETTLE_WINDOW);
        Duration least = warmup.compareTo(FIRST_LOAD) < 0 ? warmup : FIRST_LOAD;
        return rest.compareTo(least) < 0 ? least : rest;
    }

    /** The least load before the settling windows. */
    static final Duration FIRST_LOAD = Duration.ofSeconds(2);

    /** One window of load on the server being settled. */
    interface Window {
        void run(Duration length) throws Exception;
    }

    /**
     * What {@link #settle} found.
     *
     * @param extra    the load given after the fixed warm-up
     * @param jitShare the JIT's share of the server's CPU in the last window
     * @param settled  whether that share was below {@link #SETTLED_JIT_SHARE}
     */
    record Settling(Duration extra, double jitShare, boolean settled) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s after %d s more load (JIT %.1f%% of the server's CPU in the last"
                    + " %d s)", settled ? "JIT settled" : "JIT NOT settled", extra.toSeconds(), jitShare * 100,
                    SETTLE_WINDOW.toSeconds());
        }
    }

    /**
     * The last {@link #SETTLE_WINDOW} of a warm-up, then more such windows until the server's JIT threads took
     * less than {@link #SETTLED_JIT_SHARE} of its CPU in one or {@code cap} of extra load has passed. The caller
     * runs the rest of its warm-up first ({@link #beforeSettling}), so a server that settles in time gets the
     * warm-up it was given and no more. Null when {@code pid}'s process cannot be read.
     */
    static Settling settle(long pid, Window window, Duration cap) throws Exception {
        return settle(() -> of(pid), window, cap);
    }

    /** Reads a server's CPU time; null when its process is gone. */
    interface Sampler {
        ServerCpu sample() throws IOException;
    }

    /** {@link #settle(long, Window, Duration)} with the samples taken by {@code cpu}. */
    static Settling settle(Sampler cpu, Window window, Duration cap) throws Exception {
        Duration extra = SETTLE_WINDOW.negated();
        while (true) {
            ServerCpu before = cpu.sample();
            if (before == null) {
                return null;
            }
            window.run(SETTLE_WINDOW);
            extra = extra.plus(SETTLE_WINDOW);
            ServerCpu after = cpu.sample();
            if (after == null) {
                return null;
            }
            double share = after.jitShareSince(before);
            if (share < SETTLED_JIT_SHARE || extra.compareTo(cap) >= 0) {
                return new Settling(extra, share, share < SETTLED_JIT_SHARE);
            }
        }
    }
}
