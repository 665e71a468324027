package dev.gantry.http.admin;

import dev.gantry.store.catalog.CatalogStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Appends admin actions that are not governance transitions (keys, load, unload) to the audit trail. */
public final class Auditor {
    private static final Logger log = LoggerFactory.getLogger(Auditor.class);
    private final CatalogStore catalog;

    public Auditor(CatalogStore catalog) {
        this.catalog = catalog;
    }

    /** Records one action; a failure to record is logged loudly but does not undo the action. */
    public void record(String actor, String role, String action, String target, String before, String after) {
        try {
            catalog.transaction(tx -> tx.audit(actor, role, action, target, before, after));
        } catch (RuntimeException e) {
            log.error("could not append to the audit trail: {} {} {} by {}", action, target, after, actor, e);
        }
    }
}
