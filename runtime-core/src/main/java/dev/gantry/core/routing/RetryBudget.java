package dev.gantry.core.routing;

import java.util.function.LongSupplier;

/** At most a share of requests (plus a small floor per second) may be retried over a sliding window. */
final class RetryBudget {
    private final FallbackSettings settings;
    private final LongSupplier millis;
    private final SlidingCounts counts;

    RetryBudget(FallbackSettings settings, LongSupplier millis) {
        this.settings = settings;
        this.millis = millis;
        this.counts = new SlidingCounts((int) settings.window().toSeconds());
    }

    /** Counts a request that did not need a retry. */
    void request() {
        counts.add(millis.getAsLong(), false);
    }

    /** Takes a retry from the budget (counting the request); false when the budget is spent. */
    boolean tryRetry() {
        long now = millis.getAsLong();
        long[] w = counts.sum(now);
        double allowed = settings.retryRatio() * (w[0] + 1) + settings.retryFloorPerSecond() * settings.window()
                .toSeconds();
        if (w[1] + 1 > allowed) {
            counts.add(now, false);
            return false;
        }
        counts.add(now, true);
        return true;
    }
}
