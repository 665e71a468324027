package dev.gantry.core.usage;

import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The limits of one key per UTC day and per UTC calendar month: requests, and cost from the configured prices.
 * An empty limit is no limit.
 */
public record Quota(OptionalLong requestsPerDay, OptionalLong requestsPerMonth, OptionalDouble costPerDay,
                    OptionalDouble costPerMonth) {
    public static final Quota UNLIMITED = new Quota(OptionalLong.empty(), OptionalLong.empty(),
            OptionalDouble.empty(), OptionalDouble.empty());

    public Quota {
        requestsPerDay.ifPresent(v -> check("requests_per_day", v));
        requestsPerMonth.ifPresent(v -> check("requests_per_month", v));
        costPerDay.ifPresent(v -> check("cost_per_day", v));
        costPerMonth.ifPresent(v -> check("cost_per_month", v));
    }

    private static void check(String field, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("quota " + field + " must be a finite number >= 0, was " + v);
        }
    }

    public boolean isUnlimited() {
        return requestsPerDay.isEmpty() && requestsPerMonth.isEmpty() && costPerDay.isEmpty()
                && costPerMonth.isEmpty();
    }
}
