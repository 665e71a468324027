package dev.gantry.core.usage;

import dev.gantry.store.usage.UsageCounts;

/**
 * What one model costs: per 1,000 requests, per 1,000 tokens and per second of model compute, in whatever
 * currency unit the operator prices in. Zero means that part is free.
 */
public record Price(double perThousandRequests, double perThousandTokens, double perComputeSecond) {
    public static final Price FREE = new Price(0, 0, 0);

    public Price {
        check("per_1k_requests", perThousandRequests);
        check("per_1k_tokens", perThousandTokens);
        check("per_compute_second", perComputeSecond);
    }

    private static void check(String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("price " + field + " must be a finite number >= 0, was " + v);
        }
    }

    /** The cost of {@code counts} (its own cost field is ignored). */
    public double cost(long requests, long tokens, long computeNanos) {
        return requests * perThousandRequests / 1000.0 + tokens * perThousandTokens / 1000.0
                + computeNanos / 1e9 * perComputeSecond;
    }

    public double cost(UsageCounts counts) {
        return cost(counts.requests(), counts.tokens(), counts.computeNanos());
    }
}
