package dev.gantry.store.catalog;

import java.time.Instant;

/**
 * One change committed to the catalogue, by this server or another sharing the database: the audit entry that
 * recorded it. {@code seq} orders every change; a feed delivers each once, in that order.
 *
 * @param target {@code "model/version"}, {@code "model"} or {@code "key:<id>"}, as in the audit trail
 */
public record CatalogChange(long seq, Instant time, String action, String target, String actor) {
    static CatalogChange of(AuditEntry e) {
        return new CatalogChange(e.seq(), e.time(), e.action(), e.target(), e.actor());
    }
}
