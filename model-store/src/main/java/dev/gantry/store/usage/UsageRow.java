package dev.gantry.store.usage;

import java.util.Objects;

/**
 * One per-minute aggregate: what {@code keyId} used of {@code model} version {@code version} in the minute
 * starting at {@code epochMinute} (minutes since 1970-01-01T00:00Z).
 */
public record UsageRow(long epochMinute, String keyId, String model, long version, UsageCounts counts) {
    public UsageRow {
        Objects.requireNonNull(keyId, "keyId");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(counts, "counts");
    }
}
