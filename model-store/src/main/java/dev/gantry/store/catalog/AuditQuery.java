package dev.gantry.store.catalog;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Which audit entries to return, newest first: all filters that are present must match.
 *
 * @param version only with {@code model}: entries whose target is {@code model/version}
 * @param from inclusive
 * @param to exclusive
 */
public record AuditQuery(Optional<String> model, Optional<Long> version, Optional<String> actor,
                         Optional<Instant> from, Optional<Instant> to, int limit) {
    public static final int DEFAULT_LIMIT = 1000;
    public static final int MAX_LIMIT = 10_000;

    public AuditQuery {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(actor, "actor");
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (version.isPresent() && model.isEmpty()) {
            throw new IllegalArgumentException("version " + version.get() + " needs a model to query by");
        }
        if (from.isPresent() && to.isPresent() && !from.get().isBefore(to.get())) {
            throw new IllegalArgumentException("from must be before to, was from " + from.get() + " to " + to.get());
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit must be in 1.." + MAX_LIMIT + ", was " + limit);
        }
    }

    /** Every entry, up to {@link #DEFAULT_LIMIT}. */
    public static AuditQuery all() {
        return new AuditQuery(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), DEFAULT_LIMIT);
    }

    /** Entries about the model or any of its versions. */
    public AuditQuery model(String m) {
        return new AuditQuery(Optional.of(m), Optional.empty(), actor, from, to, limit);
    }

    /** Entries about one version. */
    public AuditQuery version(String m, long v) {
        return new AuditQuery(Optional.of(m), Optional.of(v), actor, from, to, limit);
    }

    public AuditQuery actor(String a) {
        return new AuditQuery(model, version, Optional.of(a), from, to, limit);
    }

    /** Entries with {@code from <= time < to}. */
    public AuditQuery between(Instant fromInclusive, Instant toExclusive) {
        return new AuditQuery(model, version, actor, Optional.of(fromInclusive), Optional.of(toExclusive), limit);
    }

    public AuditQuery limit(int n) {
        return new AuditQuery(model, version, actor, from, to, n);
    }
}
