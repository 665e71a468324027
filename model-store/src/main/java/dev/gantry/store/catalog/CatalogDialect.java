package dev.gantry.store.catalog;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.h2.api.ErrorCode;
import org.h2.jdbcx.JdbcConnectionPool;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/** What differs between the catalogue's databases: how one is opened, pooled, migrated and closed. The SQL does not. */
enum CatalogDialect {
    /** Embedded, one process: the default. */
    H2(/* shared= */ false),
    /** A server that several Gantry replicas share. */
    POSTGRESQL(/* shared= */ true);

    /*
     * Pooling. H2 is in-process: its own JdbcConnectionPool hands out cheap connections. A PostgreSQL connection
     * is a server process (memory, a fork, authentication), so HikariCP keeps a few (POOL_SIZE) open, checks a
     * connection is alive before lending it and replaces the broken ones after a database restart or failover;
     * requests beyond the pool wait up to CONNECT_TIMEOUT and then fail with a clear error instead of opening
     * more. Catalogue traffic is governance changes, usage flushes and reads at startup: a handful is plenty,
     * plus one held by the change feed (LISTEN) and one by the holder of the background lease.
     */
    static final int POOL_SIZE = 6;
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** pg_advisory_lock key held while migrating, so replicas starting together migrate one at a time. */
    private static final long MIGRATION_LOCK = 0x47616e7472790001L;

    private final boolean shared;

    CatalogDialect(boolean shared) {
        this.shared = shared;
    }

    /** Whether other processes may use the same database (replicas): settings they must agree on are checked. */
    boolean shared() {
        return shared;
    }

    /** Brings the schema up to date; returns its version. */
    int migrate(Connection c) throws SQLException {
        if (this != POSTGRESQL) {
            return Migrations.migrate(c);
        }
        advisory(c, "SELECT pg_advisory_lock(?)");
        try {
            return Migrations.migrate(c);
        } finally {
            advisory(c, "SELECT pg_advisory_unlock(?)");
        }
    }

    private static void advisory(Connection c, String sql) throws SQLException {
        try (PreparedStatement p = c.prepareStatement(sql)) {
            p.setLong(1, MIGRATION_LOCK);
            p.executeQuery().close();
        }
    }

    /** An open database: a pool of connections to it, and how to close it. */
    interface Database {
        CatalogDialect dialect();

        Connection connection() throws SQLException;

        /**
         * Called right after each write transaction commits, before it is reported done: forces what the commit
         * wrote to the device where the database does not do so itself (an H2 file). PostgreSQL fsyncs its WAL
         * on commit already (synchronous_commit).
         */
        default void afterCommit(Connection c) throws SQLException {
        }

        /** The database's URL, without credentials, for messages. */
        String describe();

        /** Closes the pool (and, for H2, the database itself); never throws for a database already gone. */
        void close();
    }

    /**
     * An H2 database; a file database's URL carries {@link #H2_FILE_SETTINGS} (see below).
     *
     * @throws CatalogStoreException when it cannot be opened (for instance, another process holds the file)
     */
    static Database h2(String url) {
        boolean onDisk = !url.startsWith("jdbc:h2:mem:");
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "gantry", "");
        return new Database() {
            @Override
            public CatalogDialect dialect() {
                return H2;
            }

            @Override
            public Connection connection() throws SQLException {
                return pool.getConnection();
            }

            @Override
            public void afterCommit(Connection c) throws SQLException {
                // MVStore writes a commit's chunk at once (WRITE_DELAY=0) but does not fsync it: without this a
                // power loss or kernel crash could take an acknowledged change with it. One fsync per change.
                if (onDisk) {
                    try (Statement s = c.createStatement()) {
                        s.execute("CHECKPOINT SYNC");
                    }
                }
            }

            @Override
            public String describe() {
                return url;
            }

            @Override
            public void close() {
                try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
                    s.execute("SHUTDOWN");
                } catch (SQLException e) {
                    if (e.getErrorCode() == ErrorCode.DATABASE_CALLED_AT_SHUTDOWN
                            || e.getErrorCode() == ErrorCode.DATABASE_IS_CLOSED) {
                        return; // shut down already, by another store on the same in-memory database
                    }
                    throw new CatalogStoreException("cannot close the catalogue database " + url + ": "
                            + e.getMessage(), e);
                } finally {
                    pool.dispose();
                }
            }
        };
    }

    /*
     * H2 crash recovery. The file URL (CatalogStore.h2, H2_FILE_SETTINGS) runs H2 2.5.252's MVStore append-only (REUSE_SPACE=FALSE):
     * every commit's chunk is written after the last one, and no chunk is ever overwritten. With space reuse
     * (H2's default) SIGKILL lost acknowledged commits in two ways, both reproduced with the standalone
     * harness H2KillHarness (test sources) and with snapshots of the catalogue taken after each kill of
     * CrashAfterAcknowledgementTest:
     * - Recovery finds commits written after the file header's chunk by following each chunk's prediction of
     *   where the next one goes. A chunk that went elsewhere (into space freed meanwhile) was not found: the
     *   harness lost the newest acknowledged commits in 6 of 110 lives.
     * - The earlier mitigation, closing the database cleanly once after each unclean exit, made it worse.
     *   The clean close trusts what recovery rebuilt, and after it H2 reopened those files (replayed from the
     *   crash test's snapshots) either as corrupt ("File corrupted in chunk N") or, after the close's
     *   compaction (MAX_COMPACT_TIME), at a chunk dozens of commits old that reuse had left in the file: that
     *   is how an acknowledged approval, and the uploads before it, disappeared with the audit chain still
     *   verifying (a consistent older state).
     * Appended chunks need no prediction (the newest complete chunk is the last one in the file) and leave
     * every older chunk intact, so the plain recovery at open is kept and nothing is closed or compacted
     * after it. The cost is a file that only grows (about one 4 KiB block or more per commit): see the
     * durability paragraph of the README.
     */
    /** H2 settings of an on-disk catalogue: no write delay, append-only, no compaction (why: above). */
    static final String H2_FILE_SETTINGS = ";WRITE_DELAY=0;REUSE_SPACE=FALSE;MAX_COMPACT_TIME=0";

    /**
     * A PostgreSQL database reached through a pool of {@link #POOL_SIZE} connections (one of them held by a
     * {@link CatalogChangeFeed} when one runs, one by the {@link BackgroundLease} holder). The first connection is made here, once, so a wrong address or
     * password fails now, with the driver's reason.
     *
     * @throws CatalogStoreException when no connection can be made
     */
    static Database postgres(CatalogLocation location) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("gantry-catalog");
        config.setJdbcUrl(location.url());
        location.user().ifPresent(config::setUsername);
        location.password().ifPresent(config::setPassword);
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(1);
        config.setConnectionTimeout(CONNECT_TIMEOUT.toMillis());
        // One attempt at start: a wrong address or password stops the server now with the driver's reason (a
        // supervisor or Kubernetes restarts it), instead of retrying silently.
        config.setInitializationFailTimeout(1);
        HikariDataSource pool;
        try {
            pool = new HikariDataSource(config);
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new CatalogStoreException("cannot connect to the catalogue database " + location.url() + ": "
                    + cause.getMessage(), e);
        }
        return new Database() {
            @Override
            public CatalogDialect dialect() {
                return POSTGRESQL;
            }

            @Override
            public Connection connection() throws SQLException {
                return pool.getConnection();
            }

            @Override
            public String describe() {
                return location.url();
            }

            @Override
            public void close() {
                pool.close();
            }
        };
    }
}
