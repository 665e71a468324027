package dev.gantry.store.catalog;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/** {@link CatalogChangeFeed} over the audit table, woken by PostgreSQL notifications or by local commits. */
final class JdbcChangeFeed implements CatalogChangeFeed {
    /*
     * The audit chain is the change log: every state change a server must see is audited in the transaction
     * that makes it, and seq is gap-free and ordered by commit (writers are serialized by catalog_lock). So
     * delivery is "read entries above position, deliver, advance": a wake-up may be spurious or late, never
     * wrong, and a missed one only delays delivery until the next safety check.
     *
     * One thread (gantry-catalog-changes) does everything. On PostgreSQL it holds one pooled connection for
     * LISTEN and waits in getNotifications(timeout); if that connection fails it is dropped and, after the next
     * safety interval, listened on again. On H2 it waits on a condition that JdbcCatalogStore signals after each
     * commit.
     */
    static final String CHANNEL = "gantry_catalog";
    private static final Logger log = LoggerFactory.getLogger(JdbcChangeFeed.class);
    private static final int BATCH = 500;
    private static final long SLICE_MS = 250;

    private final JdbcCatalogStore catalog;
    private final Duration safetyCheck;
    private final Consumer<CatalogChange> listener;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition woken = lock.newCondition();
    private final Thread thread;
    private final Runnable waker = this::wake;
    private volatile long position;
    private volatile boolean closed;
    private boolean wake;
    private Connection listening;

    private JdbcChangeFeed(JdbcCatalogStore catalog, Duration safetyCheck, Consumer<CatalogChange> listener,
                           long position) {
        this.catalog = catalog;
        this.safetyCheck = safetyCheck;
        this.listener = listener;
        this.position = position;
        this.thread = Thread.ofPlatform().daemon(true).name("gantry-catalog-changes").unstarted(this::run);
    }

    static JdbcChangeFeed start(JdbcCatalogStore catalog, Duration safetyCheck, Consumer<CatalogChange> listener) {
        Objects.requireNonNull(listener, "listener");
        if (safetyCheck.isNegative() || safetyCheck.isZero()) {
            throw new IllegalArgumentException("safety check interval must be positive, was " + safetyCheck);
        }
        JdbcChangeFeed feed = new JdbcChangeFeed(catalog, safetyCheck, listener, catalog.read(JdbcCatalogStore::auditHead));
        if (catalog.dialect() == CatalogDialect.POSTGRESQL) {
            feed.listen();
        }
        catalog.onCommit(feed.waker);
        feed.thread.start();
        return feed;
    }

    @Override
    public long position() {
        return position;
    }

    @Override
    public long head() {
        return catalog.read(JdbcCatalogStore::auditHead);
    }

    /** A local commit happened: deliver without waiting for the safety check. */
    void wake() {
        lock.lock();
        try {
            wake = true;
            woken.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (!closed) {
            try {
                deliverNew();
                await();
            } catch (RuntimeException e) {
                if (!closed) {
                    log.warn("catalogue change feed: {}; retrying after {}", e.getMessage(), safetyCheck);
                    sleep(safetyCheck.toMillis());
                }
            }
        }
        dropListening();
    }

    /** Delivers every entry above position, in seq order. */
    private void deliverNew() {
        while (!closed) {
            long from = position;
            List<CatalogChange> batch = catalog.read(c -> changesAfter(c, from));
            for (CatalogChange change : batch) {
                if (closed) {
                    return;
                }
                position = change.seq();
                try {
                    listener.accept(change);
                } catch (RuntimeException e) {
                    log.error("catalogue change listener failed on change {} ({} {})", change.seq(), change.action(),
                            change.target(), e);
                }
            }
            if (batch.size() < BATCH) {
                return;
            }
        }
    }

    private static List<CatalogChange> changesAfter(Connection c, long after) throws SQLException {
        List<CatalogChange> out = new ArrayList<>();
        try (PreparedStatement p = c.prepareStatement("SELECT seq, at, action, target, actor FROM audit WHERE seq > ? "
                + "ORDER BY seq FETCH FIRST " + BATCH + " ROWS ONLY")) {
            p.setLong(1, after);
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    out.add(new CatalogChange(rs.getLong(1), JdbcCatalog.instant(rs, 2), rs.getString(3),
                            rs.getString(4), rs.getString(5)));
                }
            }
        }
        return out;
    }

    /** Waits for a notification, a local commit or the safety interval, whichever comes first. */
    private void await() {
        long timeout = safetyCheck.toMillis();
        if (catalog.dialect() == CatalogDialect.POSTGRESQL) {
            if (listening == null && !listen()) {
                sleep(timeout);
                return;
            }
            /* Waits in short slices so that close() is answered within one (a thread blocked in the driver's
             * socket read is not interruptible). */
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
            try {
                PGConnection pg = listening.unwrap(PGConnection.class);
                while (!closed) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) {
                        return; // the safety check
                    }
                    PGNotification[] n = pg.getNotifications((int) Math.max(1, Math.min(left, SLICE_MS)));
                    if (n != null && n.length > 0) {
                        return;
                    }
                }
            } catch (SQLException e) {
                if (!closed) {
                    log.warn("catalogue change feed lost its notification connection ({}); checking every {} until "
                            + "it is back", e.getMessage(), safetyCheck);
                }
                dropListening();
            }
            return;
        }
        lock.lock();
        try {
            long left = TimeUnit.MILLISECONDS.toNanos(timeout);
            while (!wake && !closed && left > 0) {
                left = woken.awaitNanos(left);
            }
            wake = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    private boolean listen() {
        try {
            Connection c = catalog.connection();
            try (Statement s = c.createStatement()) {
                s.execute("LISTEN " + CHANNEL);
            } catch (SQLException e) {
                c.close();
                throw e;
            }
            listening = c;
            return true;
        } catch (SQLException e) {
            log.warn("catalogue change feed cannot listen for notifications ({}); checking every {}", e.getMessage(),
                    safetyCheck);
            return false;
        }
    }

    private void dropListening() {
        if (listening != null) {
            try {
                listening.close();
            } catch (SQLException e) {
                // broken already
            }
            listening = null;
        }
    }

    private void sleep(long millis) {
        lock.lock();
        try {
            long left = TimeUnit.MILLISECONDS.toNanos(millis);
            while (!closed && left > 0) {
                left = woken.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closed = true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        closed = true;
        catalog.removeOnCommit(waker);
        wake();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
