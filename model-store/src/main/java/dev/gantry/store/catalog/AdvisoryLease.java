package dev.gantry.store.catalog;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** {@link BackgroundLease} as a PostgreSQL session advisory lock on a connection this lease keeps. */
final class AdvisoryLease implements BackgroundLease {
    /*
     * pg_try_advisory_lock never waits: the holder gets true, everyone else false, and each server tries again
     * at its next check. The lock belongs to the session, so it lasts exactly as long as the connection: a
     * killed holder's connection closes with its socket and the lock is free for the next check of another
     * server. A holder checks its own connection with pg_try_advisory_lock too (re-entrant for the holder,
     * counted; each extra count is released at once) so one query both proves the session alive and says the
     * lock is still ours. A failed query drops the connection: the database ends the session and so the lock.
     */
    static final long KEY = 0x47616e7472790002L;
    /** A database that does not answer a check within this long is taken as lost (seconds). */
    private static final int QUERY_TIMEOUT_SECONDS = 5;
    private static final Logger log = LoggerFactory.getLogger(AdvisoryLease.class);

    private final JdbcCatalogStore catalog;
    private Connection connection;
    private volatile boolean held;

    AdvisoryLease(JdbcCatalogStore catalog) {
        this.catalog = catalog;
    }

    @Override
    public synchronized boolean check() {
        try {
            if (connection == null) {
                connection = catalog.connection();
            }
            boolean got = tryLock(connection);
            if (got && held) {
                unlock(connection); // the check's own count; the first one stays
            }
            if (got != held) {
                log.info(got ? "this server now holds the background lease (sunset retirement, rollouts)"
                        : "this server lost the background lease");
            }
            held = got;
            if (!got) {
                release(); // do not keep a connection for a lease someone else holds
            }
        } catch (SQLException | RuntimeException e) {
            if (held) {
                log.warn("background lease lost: {}", e.getMessage());
            }
            release();
            held = false;
        }
        return held;
    }

    @Override
    public boolean held() {
        return held;
    }

    private static boolean tryLock(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            p.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            p.setLong(1, KEY);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    private static void unlock(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            p.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            p.setLong(1, KEY);
            p.executeQuery().close();
        }
    }

    private void release() {
        if (connection == null) {
            return;
        }
        try {
            unlock(connection); // harmless when not held; never return a pooled connection holding the lock
        } catch (SQLException e) {
            // the session is gone, and the lock with it
        }
        try {
            connection.close();
        } catch (SQLException e) {
            // broken already
        }
        connection = null;
    }

    @Override
    public synchronized void close() {
        release();
        held = false;
    }
}
