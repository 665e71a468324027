package dev.gantry.store.catalog;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The databases the storage contracts run on. Each test gets a fresh, empty database that it can open, close
 * and open again; PostgreSQL is one embedded server per test JVM (started on first use, about 1-10 s), each
 * database a schema of its own in it.
 */
enum CatalogBackend {
    H2 {
        @Override
        Database fresh(Path dir) {
            return new Database() {
                /** Set by openTwo: the named in-memory database both stores use. */
                private String shared;

                @Override
                public CatalogStore open(Clock clock, Optional<Path> auditKey) {
                    return CatalogStore.h2(dir, clock, auditKey);
                }

                @Override
                public CatalogStore[] openTwo(Clock clock) {
                    // Two stores on one database in one JVM: a named in-memory database (a file database is
                    // shut down and reopened by each open), one key file.
                    shared = "jdbc:h2:mem:shared-" + SCHEMAS.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
                    Optional<Path> key = Optional.of(dir.resolve("audit.key"));
                    JdbcCatalogStore a = JdbcCatalogStore.open(CatalogDialect.h2(shared), clock, key);
                    return new CatalogStore[] {a, JdbcCatalogStore.open(CatalogDialect.h2(shared), clock, key)};
                }

                @Override
                public Connection raw() throws SQLException {
                    return shared != null ? DriverManager.getConnection(shared, "gantry", "") : CatalogFixtures.raw(dir);
                }
            };
        }
    },
    POSTGRESQL {
        @Override
        Database fresh(Path dir) {
            CatalogLocation location = TestPostgres.freshSchema();
            return new Database() {
                @Override
                public CatalogStore open(Clock clock, Optional<Path> auditKey) {
                    return CatalogStore.postgres(location, clock, auditKey.orElse(dir.resolve("audit.key")));
                }

                @Override
                public CatalogStore[] openTwo(Clock clock) {
                    return new CatalogStore[] {open(clock), open(clock)};
                }

                @Override
                public Connection raw() throws SQLException {
                    return DriverManager.getConnection(location.url());
                }
            };
        }
    };

    private static final AtomicInteger SCHEMAS = new AtomicInteger();

    /** A new empty database, its files (H2, the audit key) under {@code dir}. */
    abstract Database fresh(Path dir);

    /** One test's database. */
    interface Database {
        /** Opens (or reopens) the database with the audit key {@code <dir>/audit.key}. */
        default CatalogStore open(Clock clock) {
            return open(clock, Optional.empty());
        }

        CatalogStore open(Clock clock, Optional<Path> auditKey);

        /** Two stores on the one database, as two replicas have, sharing one audit key. */
        CatalogStore[] openTwo(Clock clock);

        /** A raw connection to the database, bypassing the store. */
        Connection raw() throws SQLException;
    }

    /** The embedded PostgreSQL server of this test JVM. */
    static final class TestPostgres {
        private static EmbeddedPostgres server;

        private TestPostgres() {
        }

        static synchronized EmbeddedPostgres server() {
            if (server == null) {
                try {
                    EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
                    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                        try {
                            pg.close();
                        } catch (IOException e) {
                            // the JVM is exiting
                        }
                    }));
                    server = pg;
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot start the embedded PostgreSQL", e);
                }
            }
            return server;
        }

        /** A location whose connections work in a new, empty schema of the server's database. */
        static CatalogLocation freshSchema() {
            EmbeddedPostgres pg = server();
            String schema = "t" + SCHEMAS.incrementAndGet();
            String base = pg.getJdbcUrl("postgres", "postgres");
            try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
                s.execute("CREATE SCHEMA " + schema);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot create schema " + schema + ": " + e.getMessage(), e);
            }
            return CatalogLocation.postgres(base + "&currentSchema=" + schema, Optional.empty(), Optional.empty());
        }
    }
}
