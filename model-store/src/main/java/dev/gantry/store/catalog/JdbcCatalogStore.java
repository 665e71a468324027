package dev.gantry.store.catalog;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/** A {@link CatalogStore} over JDBC: an embedded H2 database (a file, or memory for tests) or a PostgreSQL server. */
final class JdbcCatalogStore implements CatalogStore {
    /*
     * One implementation for both databases; what differs (opening, pooling, closing, the migration lock) is in
     * CatalogDialect. The SQL is the same.
     *
     * Write transactions are serialized twice. In this process by writeLock (no nesting, and a waiting writer
     * holds no pooled connection). Across processes -- replicas sharing one PostgreSQL -- by the database: every
     * write transaction first locks the one row of catalog_lock (SELECT ... FOR UPDATE, migration V7), so a
     * second writer waits until the first commits and then reads what it committed (READ COMMITTED takes a new
     * snapshot per statement). An embedded H2 database has one process, so there the row is not locked and H2's
     * write path stays exactly what the crash tests have measured (see CatalogDialect on its recovery). That is what keeps the audit chain a chain (each entry sees the one before it)
     * and lets the stores check their preconditions (a policy's latest revision) against committed state. The
     * audit table's primary key on seq stays the last line of defence. Reads take a pooled connection of their
     * own and do not wait for writers (MVCC).
     */
    static final int WRITE_LOCK_ROW = 1;
    static final int USAGE_LOCK_ROW = 2;

    private final CatalogDialect.Database db;
    private final Clock clock;
    private final int schemaVersion;
    private final AuditKey auditKey;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Reads reads = new PooledReads();
    private final java.util.List<Runnable> commitListeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    @FunctionalInterface
    interface SqlWork<T> {
        T run(Connection c) throws SQLException;
    }

    private JdbcCatalogStore(CatalogDialect.Database db, Clock clock, int schemaVersion, AuditKey auditKey) {
        this.db = db;
        this.auditKey = auditKey;
        this.clock = clock;
        this.schemaVersion = schemaVersion;
    }

    /**
     * {@code catalog} as this class, for the stores that share its database (deployments, usage, rollouts, keys,
     * observations, the change feed, the lease).
     *
     * @throws IllegalArgumentException when {@code catalog} is not one of {@link CatalogStore}'s own stores
     */
    static JdbcCatalogStore own(CatalogStore catalog) {
        if (!(catalog instanceof JdbcCatalogStore jdbc)) {
            throw new IllegalArgumentException("catalog must be one of CatalogStore's own stores (h2, inMemory, "
                    + "postgres), was " + catalog.getClass().getName());
        }
        return jdbc;
    }

    /**
     * Opens {@code db} (closing it again when anything fails), migrates its schema and reads or creates the
     * audit key.
     *
     * @param auditKey the key file of the audit chain (created when absent), or empty for a random key held in
     *     memory (in-memory catalogues)
     */
    static JdbcCatalogStore open(CatalogDialect.Database db, Clock clock, Optional<Path> auditKey) {
        try (Connection c = db.connection()) {
            int schema = db.dialect().migrate(c);
            AuditKey key = auditKey.isEmpty() ? AuditKey.random() : AuditKey.openOrCreate(auditKey.get(), nextSeq(c));
            if (db.dialect().shared()) {
                AuditKeyCheck.verify(c, key, auditKey);
            }
            return new JdbcCatalogStore(db, clock, schema, key);
        } catch (SQLException | RuntimeException e) {
            db.close();
            if (e instanceof CatalogStoreException c) {
                throw c;
            }
            throw new CatalogStoreException("cannot open the catalogue database " + db.describe() + ": "
                    + e.getMessage(), e);
        }
    }

    private static long nextSeq(Connection c) throws SQLException {
        return auditHead(c) + 1;
    }

    /** The seq of the newest audit entry, 0 when there is none. */
    static long auditHead(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery("SELECT COALESCE(MAX(seq), 0) FROM audit")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The catalogue's SQL over {@code c}, its audit entries chained under this catalogue's key. */
    JdbcCatalog jdbc(Connection c) {
        return new JdbcCatalog(c, clock, auditKey);
    }

    CatalogDialect dialect() {
        return db.dialect();
    }

    Clock clock() {
        return clock;
    }

    /** Runs {@code work} on a pooled connection in auto-commit mode. */
    <T> T read(SqlWork<T> work) {
        try (Connection c = db.connection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw new CatalogStoreException("catalogue read failed: " + e.getMessage(), e);
        }
    }

    /** Forces a transaction committed on {@code c} outside {@link #write} to the device (see the dialect). */
    void afterCommit(Connection c) throws SQLException {
        db.afterCommit(c);
    }

    /**
     * Runs {@code work} in one transaction under the write lock (this process's, and the database's row lock for
     * every process sharing the database); commits on return, rolls back on a throw. Inside fenced background
     * work ({@link BackgroundLease#fenced}) it first confirms the lease and throws {@link LeaseLostException}
     * (nothing written) when this server no longer holds it.
     */
    <T> T write(SqlWork<T> work) {
        if (writeLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("a catalogue transaction is already open on this thread; "
                    + "transactions do not nest");
        }
        writeLock.lock();
        try (Connection c = db.connection()) {
            T result = SqlTransaction.run(c, tx -> {
                lockShared(tx, WRITE_LOCK_ROW);
                AdvisoryLease.confirmFence(this, tx); // background work: still the lease holder? (see there)
                T r = work.run(tx);
                if (db.dialect() == CatalogDialect.POSTGRESQL) {
                    notifyOnCommit(tx);
                }
                return r;
            });
            db.afterCommit(c);
            commitListeners.forEach(Runnable::run);
            return result;
        } catch (SQLException e) {
            throw new CatalogStoreException("catalogue transaction failed: " + e.getMessage(), e);
        } finally {
            writeLock.unlock();
        }
    }

    /** Wakes every server's change feed when this transaction commits (PostgreSQL sends NOTIFY on commit). */
    private static void notifyOnCommit(Connection c) throws SQLException {
        try (java.sql.PreparedStatement p = c.prepareStatement("SELECT pg_notify(?, '')")) {
            p.setString(1, JdbcChangeFeed.CHANNEL);
            p.executeQuery().close();
        }
    }

    /** Runs {@code r} after each write transaction of this store commits (on the committing thread). */
    void onCommit(Runnable r) {
        commitListeners.add(r);
    }

    void removeOnCommit(Runnable r) {
        commitListeners.remove(r);
    }

    /** A pooled connection, for work that holds one (the change feed's LISTEN); the caller closes it. */
    Connection connection() throws SQLException {
        return db.connection();
    }

    /**
     * On a database other processes share, locks row {@code id} of catalog_lock until the transaction ends:
     * waits for any other holder to commit. Nothing on an embedded one.
     */
    void lockShared(Connection c, int id) throws SQLException {
        if (db.dialect().shared()) {
            lockRow(c, id);
        }
    }

    /** Locks row {@code id} of catalog_lock until the transaction ends: waits for any other holder to commit. */
    static void lockRow(Connection c, int id) throws SQLException {
        try (java.sql.PreparedStatement p = c.prepareStatement("SELECT id FROM catalog_lock WHERE id = ? FOR UPDATE")) {
            p.setInt(1, id);
            try (java.sql.ResultSet rs = p.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("catalog_lock has no row " + id + " (migration V7 not applied?)");
                }
            }
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
        db.close();
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
        public List<ReleaseRecord> versionsIn(ReleaseStage stage) {
            return read(c -> jdbc(c).versionsIn(stage));
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
