package dev.gantry.store.catalog;

import org.h2.jdbcx.JdbcConnectionPool;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/** A {@link CatalogStore} in an embedded H2 database (a file, or memory for tests). */
final class H2CatalogStore implements CatalogStore {
    /** H2 settings of an on-disk catalogue (why: {@link CatalogStore#h2(java.nio.file.Path, Clock)}). */
    static final String FILE_SETTINGS = ";WRITE_DELAY=0;REUSE_SPACE=FALSE;MAX_COMPACT_TIME=0";

    /*
     * Transactions are serialized by one lock: the audit chain needs each entry to see the one before it, and
     * an embedded database has one process writing anyway. The audit table's primary key on seq is the
     * second line of defence: two writers that computed the same next seq cannot both commit. Reads take a
     * pooled connection of their own and do not wait for writers (MVCC).
     */
    private final JdbcConnectionPool pool;
    private final Clock clock;
    private final String url;
    private final int schemaVersion;
    private final AuditKey auditKey;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Reads reads = new PooledReads();

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private H2CatalogStore(JdbcConnectionPool pool, Clock clock, String url, int schemaVersion, AuditKey auditKey) {
        this.auditKey = auditKey;
        this.pool = pool;
        this.clock = clock;
        this.url = url;
        this.schemaVersion = schemaVersion;
    }

    /**
     * @param auditKey the key file of the audit chain (created when absent), or empty for a random key held in
     *     memory (in-memory catalogues)
     */
    static H2CatalogStore open(String url, Clock clock, java.util.Optional<java.nio.file.Path> auditKey) {
        JdbcConnectionPool pool = JdbcConnectionPool.create(url, "gantry", "");
        try (Connection c = pool.getConnection()) {
            int schema = Migrations.migrate(c);
            AuditKey key = auditKey.isEmpty() ? AuditKey.random() : AuditKey.openOrCreate(auditKey.get(), nextSeq(c));
            return new H2CatalogStore(pool, clock, url, schema, key);
        } catch (SQLException | RuntimeException e) {
            pool.dispose();
            if (e instanceof CatalogStoreException c) {
                throw c;
            }
            throw new CatalogStoreException("cannot open the catalogue database " + url + ": " + e.getMessage(), e);
        }
    }

    private static long nextSeq(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(seq), 0) FROM audit")) {
            rs.next();
            return rs.getLong(1) + 1;
        }
    }

    /** The catalogue's SQL over {@code c}, its audit entries chained under this catalogue's key. */
    JdbcCatalog jdbc(Connection c) {
        return new JdbcCatalog(c, clock, auditKey);
    }

    /*
     * Crash recovery. The file URL (CatalogStore.h2) runs H2 2.5.252's MVStore append-only (REUSE_SPACE=FALSE):
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

    Clock clock() {
        return clock;
    }

    /** Runs {@code work} on a pooled connection in auto-commit mode. */
    <T> T read(SqlWork<T> work) {
        try (Connection c = pool.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new CatalogStoreException("catalogue read failed: " + e.getMessage(), e);
        }
    }

    /** Runs {@code work} in one transaction under the write lock; commits on return, rolls back on a throw. */
    <T> T write(SqlWork<T> work) {
        if (writeLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("a catalogue transaction is already open on this thread; "
                    + "transactions do not nest");
        }
        writeLock.lock();
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException | Error e) {
                try {
                    c.rollback();
                } catch (SQLException r) {
                    e.addSuppressed(r);
                }
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw new CatalogStoreException("catalogue transaction failed: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public Reads reads() {
        return reads;
    }

    @Override
    public <T> T transaction(Function<Tx, T> work) {
        return write(c -> work.apply(jdbc(c)));
    }

    @Override
    public List<AuditEntry> audit(AuditQuery query) {
        return read(c -> jdbc(c).queryAudit(query));
    }

    @Override
    public AuditVerification verifyAudit() {
        return read(c -> jdbc(c).verifyAudit());
    }

    @Override
    public int schemaVersion() {
        return schemaVersion;
    }

    @Override
    public void close() {
        try (Connection c = pool.getConnection(); Statement s = c.createStatement()) {
            s.execute("SHUTDOWN");
        } catch (SQLException e) {
            throw new CatalogStoreException("cannot close the catalogue database " + url + ": " + e.getMessage(), e);
        } finally {
            pool.dispose();
        }
    }

    private final class PooledReads implements Reads {
        @Override
        public Optional<ReleaseRecord> version(String model, long version) {
            return read(c -> jdbc(c).version(model, version));
        }

        @Override
        public List<ReleaseRecord> versions(String model) {
            return read(c -> jdbc(c).versions(model));
        }

        @Override
        public List<ReleaseRecord> versions() {
            return read(c -> jdbc(c).versions());
        }

        @Override
        public Optional<ModelCard> card(String model, long version) {
            return read(c -> jdbc(c).card(model, version));
        }

        @Override
        public List<Approval> approvals(String model, long version) {
            return read(c -> jdbc(c).approvals(model, version));
        }
    }
}
