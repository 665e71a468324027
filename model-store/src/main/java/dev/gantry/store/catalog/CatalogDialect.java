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

        /** The database's URL, without credentials, for messages. */
        String describe();

        /** Closes the pool (and, for H2, the database itself); never throws for a database already gone. */
        void close();
    }

    /**
     * An H2 database. A file database is first opened and closed cleanly once (see below).
     *
     * @throws CatalogStoreException when it cannot be opened (for instance, another process holds the file)
     */
    static Database h2(String url) {
        if (!url.startsWith("jdbc:h2:mem:")) {
            closeCleanlyOnce(url);
        }
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
     * H2 crash recovery. H2 2.5.252's MVStore, opened after an unclean exit (SIGKILL, a JVM crash), loses the
     * commits of that session if the process dies again before the store is closed cleanly: the
     * CrashAfterAcknowledgementTest lost acknowledged traffic revisions (with their audit entries), and a
     * standalone harness (open, commit, SIGKILL 0-250 ms later, repeat) lost the last commit of every life
     * after the first few, with or without WRITE_DELAY=0 and CHECKPOINT. A clean close right after recovery
     * (SHUTDOWN, then open again) stopped the loss in that harness, so every start does it once.
     * It does not stop all of it: CrashAfterAcknowledgementTest with -Dgantry.crashTrials=3 still loses one
     * acknowledged approval transaction, reproducibly (see that test); open, not yet understood.
     */
    private static void closeCleanlyOnce(String url) {
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "gantry", "");
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        } catch (SQLException e) {
            throw new CatalogStoreException("cannot open the catalogue database " + url + ": " + e.getMessage(), e);
        } finally {
            pool.dispose();
        }
    }

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
