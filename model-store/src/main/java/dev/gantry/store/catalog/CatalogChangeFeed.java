package dev.gantry.store.catalog;

import java.time.Duration;
import java.util.function.Consumer;

/**
 * The changes committed to a shared catalogue, pushed to one listener as they commit, so a server can reload
 * what it caches (a policy, a version's stage, a key) when another server changed it.
 *
 * <p>Every audited change is delivered exactly once, in commit ({@link CatalogChange#seq()}) order, on the
 * feed's own thread. On PostgreSQL each write transaction notifies (LISTEN/NOTIFY, sent on commit) and the
 * feed wakes at once; a notification can be missed (the listening connection broke, a database failover), so
 * the feed also checks the head of the audit chain every {@code safetyCheck} and delivers whatever it has not
 * seen. On H2 (one process) commits through the same store wake the feed directly.
 */
public interface CatalogChangeFeed extends AutoCloseable {

    /**
     * Starts delivering changes committed after the current head of the audit chain.
     *
     * @param safetyCheck how often the head is checked when no notification arrives (e.g. 5 s)
     * @param listener called with each change; an exception it throws is logged and the next change delivered
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    static CatalogChangeFeed start(CatalogStore catalog, Duration safetyCheck, Consumer<CatalogChange> listener) {
        JdbcCatalogStore jdbc = JdbcCatalogStore.own(catalog);
        return JdbcChangeFeed.start(jdbc, safetyCheck, listener);
    }

    /** The seq of the last change delivered (the head of the chain when the feed started, if none since). */
    long position();

    /** The seq of the newest committed change, read from the database now; above {@link #position()} while behind. */
    long head();

    /** Stops the feed; no change is delivered after it returns. */
    @Override
    void close();
}
