package dev.gantry.core.audit;

import dev.gantry.core.access.Actor;
import dev.gantry.store.catalog.AuditEntry;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.AuditVerification;
import dev.gantry.store.catalog.CatalogStore;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one path into the audit trail for actions that are not release transitions: traffic is audited by the
 * deployment store in the policy's own transaction, release transitions by the release rules; everything else
 * (load, unload, key changes) comes here. An entry that cannot be written fails the action.
 */
public final class AuditTrail {
    /*
     * record(): the change runs inside the catalogue transaction that appends its entry, after the change has
     * succeeded and before the commit. A change that throws writes nothing. A change whose entry cannot be
     * appended or committed is undone by the caller's undo step (the key file is not in the database, so it
     * cannot roll back with it), and the failure propagates: nothing is acknowledged without its entry on disk.
     */
    private final CatalogStore catalog;

    public AuditTrail(CatalogStore catalog) {
        this.catalog = Objects.requireNonNull(catalog, "catalog");
    }

    /** What one audit entry says about a change. */
    public record Entry(String action, String target, String before, String after) {
        public Entry {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(target, "target");
            before = before == null ? "" : before;
            after = after == null ? "" : after;
        }
    }

    /** Appends one entry on its own; durable when this returns. */
    public void record(Actor actor, Entry entry) {
        catalog.transaction(tx -> tx.audit(actor.name(), actor.auditRole(), entry.action(), entry.target(),
                entry.before(), entry.after()));
    }

    /**
     * Runs {@code change} and appends the entry {@code describe} makes of its result, committed together.
     *
     * @param undo reverses the change when its entry cannot be written; called with the change's result
     * @throws RuntimeException what the change threw (nothing written), or why the entry could not be written
     *     (the change undone)
     */
    public <T> T record(Actor actor, Supplier<T> change, Function<T, Entry> describe, java.util.function.Consumer<T> undo) {
        Object[] done = new Object[1];
        boolean[] changed = {false};
        try {
            return catalog.transaction(tx -> {
                T result = change.get();
                done[0] = result;
                changed[0] = true;
                Entry e = describe.apply(result);
                tx.audit(actor.name(), actor.auditRole(), e.action(), e.target(), e.before(), e.after());
                return result;
            });
        } catch (RuntimeException e) {
            if (changed[0]) {
                @SuppressWarnings("unchecked")
                T result = (T) done[0];
                try {
                    undo.accept(result);
                } catch (RuntimeException u) {
                    e.addSuppressed(u);
                }
            }
            throw e;
        }
    }

    /** Entries matching {@code query}, newest first. */
    public List<AuditEntry> query(AuditQuery query) {
        return catalog.audit(query);
    }

    /** Walks the chain and reports the first missing or altered entry. */
    public AuditVerification verify() {
        return catalog.verifyAudit();
    }
}
