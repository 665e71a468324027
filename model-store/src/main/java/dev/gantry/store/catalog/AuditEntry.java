package dev.gantry.store.catalog;

import java.time.Instant;
import java.util.Objects;

/**
 * One state-changing admin action, chained to the one before it: {@code hash} is SHA-256 over
 * {@code prevHash} and this entry's fields (see {@link AuditChain}), so editing or deleting an entry breaks the
 * chain from there on.
 *
 * @param target {@code "model/version"}, {@code "model"} or {@code "key:<id>"}
 * @param before the target's relevant state before, as a short JSON object ({@code ""} when there was none)
 * @param after the same after the action
 */
public record AuditEntry(long seq, Instant time, String actor, String role, String action, String target,
                         String before, String after, String prevHash, String hash) {
    public AuditEntry {
        if (seq < 1) {
            throw new IllegalArgumentException("seq must be >= 1, was " + seq);
        }
        Objects.requireNonNull(time, "time");
        Checks.name("actor", actor);
        Objects.requireNonNull(role, "role");
        Checks.name("action", action);
        Checks.name("target", target);
        Objects.requireNonNull(before, "before");
        Objects.requireNonNull(after, "after");
        Objects.requireNonNull(prevHash, "prevHash");
        Objects.requireNonNull(hash, "hash");
    }
}
