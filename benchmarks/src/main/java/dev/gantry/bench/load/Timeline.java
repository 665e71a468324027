package dev.gantry.bench.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * An open-loop window cut into slices of intended send time, each with how many of the requests due in it were
 * answered 200, their mean latency and the slowest one's: where in the window its tail was made. Failed requests
 * (errors, timeouts, requests the generator dropped over its backlog) are not in it; the window's totals count them.
 *
 * <p>Why: a window's p99 says how many requests were late, not when. The hot swap arm compares a window with admin
 * calls against one without; whether its slow requests were due right after a call (the server's doing) or spread
 * over the window (the machine's) decides what a higher p99 there means.
 *
 * <p>Written only from the load generator's one event loop ({@link #record}) and read after the window's answers
 * have all been counted, which the generator's latch orders after every write.
 */
final class Timeline {
    /** One slice: its start in seconds into the window, its answered requests, their mean and slowest latency. */
    record Slice(double atSeconds, long requests, double meanMillis, double maxMillis) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "+%.1f s: max %.1f ms, mean %.2f ms", atSeconds, maxMillis, meanMillis);
        }
    }

    private final long sliceNanos;
    private final long[] requests;
    private final long[] maxMicros;
    private final long[] sumMicros;
    private long start;

    /** @param window the window's length; requests due after it count in its last slice */
    Timeline(Duration window, Duration slice) {
        if (slice.isZero() || slice.isNegative()) {
            throw new IllegalArgumentException("slice must be positive, was " + slice);
        }
        this.sliceNanos = slice.toNanos();
        int slices = Math.toIntExact(Math.max(1, (window.toNanos() + sliceNanos - 1) / sliceNanos));
        this.requests = new long[slices];
        this.maxMicros = new long[slices];
        this.sumMicros = new long[slices];
    }

    /** The window's first intended send time ({@link System#nanoTime()}); set before the first request is due. */
    void begin(long startNanos) {
        this.start = startNanos;
    }

    /** A request due at {@code intendedNanos} answered after {@code latencyMicros}. */
    void record(long intendedNanos, long latencyMicros) {
        int i = (int) Math.min(requests.length - 1, Math.max(0, (intendedNanos - start) / sliceNanos));
        requests[i]++;
        sumMicros[i] += latencyMicros;
        if (latencyMicros > maxMicros[i]) {
            maxMicros[i] = latencyMicros;
        }
    }

    /** The {@code n} slices with the slowest requests, slowest first; slices without answers are left out. */
    List<Slice> slowest(int n) {
        List<Slice> all = new ArrayList<>();
        for (int i = 0; i < requests.length; i++) {
            if (requests[i] > 0) {
                all.add(new Slice(i * sliceNanos / 1e9, requests[i], sumMicros[i] / 1000.0 / requests[i],
                        maxMicros[i] / 1000.0));
            }
        }
        all.sort(Comparator.comparingDouble(Slice::maxMillis).reversed());
        return List.copyOf(all.subList(0, Math.min(n, all.size())));
    }
}
