package dev.gantry.core.routing;

import java.util.concurrent.atomic.AtomicLongArray;

/** Two counts (events and marked events) over a sliding window of one-second buckets. */
final class SlidingCounts {
    /*
     * A ring of seconds. Each bucket stores the second it belongs to; a writer that finds a stale second resets
     * the bucket (racing writers may lose a count at the turn of a second: acceptable for a budget). Readers sum
     * the buckets whose second is inside the window.
     */
    private final int seconds;
    private final AtomicLongArray second;
    private final AtomicLongArray total;
    private final AtomicLongArray marked;

    SlidingCounts(int seconds) {
        this.seconds = seconds;
        this.second = new AtomicLongArray(seconds);
        this.total = new AtomicLongArray(seconds);
        this.marked = new AtomicLongArray(seconds);
        for (int i = 0; i < seconds; i++) {
            second.set(i, Long.MIN_VALUE);
        }
    }

    void add(long nowMillis, boolean mark) {
        long s = nowMillis / 1000;
        int i = (int) Math.floorMod(s, (long) seconds);
        long had = second.get(i);
        if (had != s && second.compareAndSet(i, had, s)) {
            total.set(i, 0);
            marked.set(i, 0);
        }
        total.incrementAndGet(i);
        if (mark) {
            marked.incrementAndGet(i);
        }
    }

    /** {total, marked} over the window ending now. */
    long[] sum(long nowMillis) {
        long s = nowMillis / 1000;
        long t = 0;
        long m = 0;
        for (int i = 0; i < seconds; i++) {
            long at = second.get(i);
            if (at > s - seconds && at <= s) {
                t += total.get(i);
                m += marked.get(i);
            }
        }
        return new long[] {t, m};
    }

    void reset() {
        for (int i = 0; i < seconds; i++) {
            second.set(i, Long.MIN_VALUE);
        }
    }
}
