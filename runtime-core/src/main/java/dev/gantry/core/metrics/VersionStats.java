package dev.gantry.core.metrics;

import dev.gantry.core.model.ModelId;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Gantry's own per-version measurements for analysis (rollout gates, fallback decisions): requests offered to the
 * version, requests it finished (answered or failed) and their server-side errors, a latency histogram and
 * shadow output agreement, as monotonic counters. A window is the difference of
 * two {@link Counts} taken at its ends; nothing here reads Micrometer.
 */
public final class VersionStats {
    /*
     * Hot path: one map lookup, two LongAdder increments and one AtomicLongArray increment per request. The
     * latency histogram has 64 buckets growing by 25% from 50 µs (bucket i holds latencies up to
     * 50 µs * 1.25^(i+1)); the last one holds everything above ~60 s. Percentiles read from it are the upper
     * edge of the bucket, so they are at most 25% high. Counters only grow: a caller that wants "since T" keeps
     * the Counts it took at T and subtracts (Counts.minus), which makes windows exact and free of any clock.
     */
    /** The latency histogram's bucket count. */
    public static final int BUCKETS = 64;
    private static final double BASE_NANOS = 50_000;
    private static final double GROWTH = 1.25;
    private static final double LOG_GROWTH = Math.log(GROWTH);

    private final ConcurrentHashMap<ModelId, Cells> cells = new ConcurrentHashMap<>();

    private static final class Cells {
        final LongAdder offered = new LongAdder();
        final LongAdder requests = new LongAdder();
        final LongAdder errors = new LongAdder();
        final LongAdder compared = new LongAdder();
        final LongAdder agreed = new LongAdder();
        final AtomicLongArray latency = new AtomicLongArray(BUCKETS);
    }

    /** {@code id}'s cells: a plain read once they exist (computeIfAbsent may lock the map's bin). */
    private Cells cells(ModelId id) {
        Cells c = cells.get(id);
        return c != null ? c : cells.computeIfAbsent(id, k -> new Cells());
    }

    /**
     * Makes {@code id}'s cells before the version takes requests, so that its first request finds them: under
     * load, the lookup in {@link #record} and {@link #offer} had only ever found cells, and the JIT compiled the
     * miss as a trap that a version taking its first requests at a traffic change set off (the hot swap arm,
     * -Xlog:deoptimization, 12-04). Idempotent; a version never opened still gets its cells on first use.
     */
    public void open(ModelId id) {
        cells(id);
    }

    /** One request answered by {@code id} (or failed by it, when {@code serverError}) after {@code nanos}. */
    public void record(ModelId id, boolean serverError, long nanos) {
        Cells c = cells(id);
        c.requests.increment();
        if (serverError) {
            c.errors.increment();
        }
        c.latency.incrementAndGet(bucket(nanos));
    }

    /**
     * One request handed to {@code id}'s queue (admitted or refused there) by the router: its {@link #record} comes
     * when it finishes, or never while the version does not answer. Shadow copies are not offered requests.
     */
    public void offer(ModelId id) {
        cells(id).offered.increment();
    }

    /** One shadow answer of {@code shadow} compared with its primary's. */
    public void recordComparison(ModelId shadow, boolean agree) {
        Cells c = cells(shadow);
        c.compared.increment();
        if (agree) {
            c.agreed.increment();
        }
    }

    /** The counters of {@code id} now (all zero for a version never seen). */
    public Counts counts(ModelId id) {
        Cells c = cells.get(id);
        if (c == null) {
            return Counts.ZERO;
        }
        long[] h = new long[BUCKETS];
        for (int i = 0; i < BUCKETS; i++) {
            h[i] = c.latency.get(i);
        }
        return new Counts(c.offered.sum(), c.requests.sum(), c.errors.sum(), c.compared.sum(), c.agreed.sum(), h);
    }

    static int bucket(long nanos) {
        if (nanos <= BASE_NANOS) {
            return 0;
        }
        int i = (int) (Math.log(nanos / BASE_NANOS) / LOG_GROWTH);
        return Math.min(i, BUCKETS - 1);
    }

    /** The upper edge of bucket {@code i}, in nanoseconds. */
    static double upperEdgeNanos(int i) {
        return BASE_NANOS * Math.pow(GROWTH, i + 1);
    }

    /**
     * A version's counters at one moment, or the difference of two such moments (a window).
     *
     * @param offered requests the router handed to the version (see {@link #offer})
     * @param requests requests the version finished, answered or failed
     * @param errors of those, the server-side failures
     */
    public record Counts(long offered, long requests, long errors, long compared, long agreed, long[] latency) {
        public static final Counts ZERO = new Counts(0, 0, 0, 0, 0, new long[BUCKETS]);

        /** What happened between {@code earlier} and this. */
        public Counts minus(Counts earlier) {
            long[] h = new long[BUCKETS];
            for (int i = 0; i < BUCKETS; i++) {
                h[i] = latency[i] - earlier.latency[i];
            }
            return new Counts(offered - earlier.offered, requests - earlier.requests, errors - earlier.errors,
                    compared - earlier.compared, agreed - earlier.agreed, h);
        }

        /**
         * This and {@code other} together: every counter and every latency bucket summed (windows of the same
         * versions seen by different servers).
         */
        public Counts plus(Counts other) {
            long[] h = new long[BUCKETS];
            for (int i = 0; i < BUCKETS; i++) {
                h[i] = latency[i] + other.latency[i];
            }
            return new Counts(offered + other.offered, requests + other.requests, errors + other.errors,
                    compared + other.compared, agreed + other.agreed, h);
        }

        /** Whether nothing at all was counted. */
        public boolean isEmpty() {
            if (offered != 0 || requests != 0 || errors != 0 || compared != 0 || agreed != 0) {
                return false;
            }
            for (long v : latency) {
                if (v != 0) {
                    return false;
                }
            }
            return true;
        }

        /** Requests answered without a server-side error. */
        public long answered() {
            return requests - errors;
        }

        /** The {@code q} quantile of the latencies (0 < q <= 1), in milliseconds; 0 without requests. */
        public double percentileMillis(double q) {
            long total = 0;
            for (long v : latency) {
                total += v;
            }
            if (total == 0) {
                return 0;
            }
            long rank = (long) Math.ceil(q * total);
            long seen = 0;
            for (int i = 0; i < BUCKETS; i++) {
                seen += latency[i];
                if (seen >= rank) {
                    return upperEdgeNanos(i) / 1e6;
                }
            }
            return upperEdgeNanos(BUCKETS - 1) / 1e6;
        }
    }
}
