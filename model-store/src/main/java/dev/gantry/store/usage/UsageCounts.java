package dev.gantry.store.usage;

/**
 * What was used: requests, rows (batch rows), request and response bytes, tokens (text models), model
 * compute time, and the cost priced when it was recorded.
 */
public record UsageCounts(long requests, long rows, long bytesIn, long bytesOut, long tokens, long computeNanos,
                          double cost) {
    public static final UsageCounts ZERO = new UsageCounts(0, 0, 0, 0, 0, 0, 0);

    public UsageCounts plus(UsageCounts o) {
        return new UsageCounts(requests + o.requests, rows + o.rows, bytesIn + o.bytesIn, bytesOut + o.bytesOut,
                tokens + o.tokens, computeNanos + o.computeNanos, cost + o.cost);
    }
}
