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
     *
     * Fencing. What the last check found is up to a check interval old: the database may have ended the lease's
     * session since (a network partition, an idle-session timeout, pg_terminate_backend) while this process
     * lives, and another server may hold the lock already. So fenced work (fenced(), a thread-local scope on the
     * calling thread) has every write transaction of this catalogue ask the database itself, right after it
     * holds the catalog_lock row (JdbcCatalogStore.write -> confirmFence): pg_locks must show the advisory lock
     * KEY granted to the backend of this lease's connection (its pid, read when the connection was taken). A
     * bigint key shows in pg_locks as classid = its high 32 bits, objid = its low 32 bits, objsubid = 1. When it
     * does not, the transaction rolls back before the work wrote anything, the lease is marked lost (logged once)
     * and the next check starts over on a fresh connection; a server that regains the lease resumes the rollouts
     * from what is stored.
     *
     * Why that is enough: every write transaction of every server takes the catalog_lock row first. A fenced
     * transaction that passed the check holds that row until it commits, so a new holder's writes all come after
     * it; and once the new holder has the lock, every later fenced transaction of the old holder fails the check.
     * The background writes of two servers are therefore never interleaved: at most the one transaction the old
     * holder had already checked commits, and it commits before the new holder's first. (A backend pid reused by
     * the new holder's lease connection within that window would pass; PostgreSQL hands out pids like any
     * process, so that takes a pid wrap-around between two checks a second apart.)
     */
    static final long KEY = 0x47616e7472790002L;
    /** A database that does not answer a check within this long is taken as lost (seconds). */
    private static final int QUERY_TIMEOUT_SECONDS = 5;
    private static final Logger log = LoggerFactory.getLogger(AdvisoryLease.class);
    /** The lease whose fenced work the current thread runs, if any. */
    private static final ThreadLocal<AdvisoryLease> FENCE = new ThreadLocal<>();

    private final JdbcCatalogStore catalog;
    private Connection connection;
    private volatile boolean held;
    /** The backend pid of {@link #connection}'s session; -1 without one. */
    private volatile int pid = -1;
    /** Set when a fenced write found the lock not ours: the next check starts on a fresh connection. */
    private volatile boolean suspect;

    AdvisoryLease(JdbcCatalogStore catalog) {
        this.catalog = catalog;
    }

    @Override
    public synchronized boolean check() {
        try {
            if (suspect) {
                suspect = false;
                release();
            }
            if (connection == null) {
                connection = catalog.connection();
                pid = backendPid(connection);
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

    @Override
    public void fenced(Runnable work) {
        AdvisoryLease outer = FENCE.get();
        FENCE.set(this);
        try {
            work.run();
        } finally {
            if (outer == null) {
                FENCE.remove();
            } else {
                FENCE.set(outer);
            }
        }
    }

    /**
     * Called by each write transaction of {@code store} once it holds the catalogue's write lock: when the calling
     * thread runs fenced work of a lease over {@code store}, confirms on {@code c} that the lease is still held.
     *
     * @throws LeaseLostException when it is not (the caller rolls back)
     */
    static void confirmFence(JdbcCatalogStore store, Connection c) throws SQLException {
        AdvisoryLease lease = FENCE.get();
        if (lease != null && lease.catalog == store) {
            lease.confirm(c);
        }
    }

    private void confirm(Connection c) throws SQLException {
        int session = pid;
        if (!held || session < 0) {
            lost("this server does not hold it");
        } else if (!holdsLock(c, session)) {
            lost("the database shows its session (backend " + session + ") no longer holding the lock; another"
                    + " server may hold it");
        } else {
            return;
        }
        throw new LeaseLostException("background write refused: this server does not hold the background lease"
                + " (confirmed in the write's own transaction); nothing was written");
    }

    private void lost(String why) {
        suspect = true;
        if (held) {
            held = false;
            log.warn("background lease lost: {}; its background writes are refused until it holds it again", why);
        }
    }

    private static boolean holdsLock(Connection c, int session) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted"
                + " AND pid = ? AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                + " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1")) {
            p.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            p.setInt(1, session);
            p.setLong(2, KEY >>> 32);
            p.setLong(3, KEY & 0xffffffffL);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next();
            }
        }
    }

    private static int backendPid(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pg_backend_pid()")) {
            p.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        }
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

    /** Releases one count of the lock; whether this session held one. */
    private static boolean unlock(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            p.setQueryTimeout(QUERY_TIMEOUT_SECONDS);
            p.setLong(1, KEY);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private void release() {
        pid = -1;
        if (connection == null) {
            return;
        }
        try {
            // harmless when not held; never return a pooled connection holding the lock (a count or more)
            for (int i = 0; i < 4 && unlock(connection); i++) {
                // one count per round
            }
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
