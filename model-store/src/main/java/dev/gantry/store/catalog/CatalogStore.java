package dev.gantry.store.catalog;

import dev.gantry.store.files.PrivateFiles;

import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The model catalogue: every version's lifecycle stage, model cards, approval decisions and the hash-chained
 * audit trail, in one database. Writes that change state go through {@link #transaction(Function)} so the
 * change and its audit entry commit together or not at all.
 */
public interface CatalogStore extends AutoCloseable {

    /**
     * An embedded H2 database under {@code <dataDir>/catalog/}, schema migrations applied on open.
     *
     * @throws CatalogStoreException when it cannot be opened or migrated (for instance, another process holds it)
     */
    static CatalogStore h2(Path dataDir) {
        return h2(dataDir, Clock.systemUTC());
    }

    /**
     * As {@link #h2(Path)}, with audit entries timed by {@code clock}. The directory is created owner-only (0700).
     *
     * <p>Durability: WRITE_DELAY=0, so a commit writes H2's MVStore chunk to the file before it returns (H2's
     * default holds commits in memory for up to 500 ms, and a killed process lost them), and REUSE_SPACE=FALSE,
     * so each chunk is appended and none is ever overwritten: with space reuse, H2 2.5.252's recovery after a
     * SIGKILL could miss the newest commits or fall back to an older chunk still in the file (see
     * CatalogDialect). MVStore does not fsync on commit, so each write transaction is followed by CHECKPOINT
     * SYNC before it returns (CatalogDialect.Database#afterCommit): a power loss or kernel crash cannot take an
     * acknowledged change either. The file
     * only grows while it is open (old chunks are not reclaimed in place) and there is no compaction on close
     * (MAX_COMPACT_TIME=0: in append-only mode it would only append rewritten pages); a file grown past 64 MiB is
     * copied into a compact one at the next open, before anything writes (H2Compaction).
     */
    static CatalogStore h2(Path dataDir, Clock clock) {
        return h2(dataDir, clock, Optional.empty());
    }

    /**
     * As {@link #h2(Path, Clock)}, the audit chain keyed by {@code auditKeyFile} (default
     * {@code <dataDir>/audit.key}), which is created 0600 with a random key when it does not exist. The database
     * directory is made 0700 and its files 0600.
     *
     * @throws CatalogStoreException when the database or the key file cannot be used
     */
    static CatalogStore h2(Path dataDir, Clock clock, Optional<Path> auditKeyFile) {
        Path dir = dataDir.toAbsolutePath().resolve("catalog");
        PrivateFiles.createDirectories(dir);
        H2Compaction.compactIfLarger(dir.resolve("gantry"), H2Compaction.COMPACT_ABOVE_BYTES);
        CatalogStore store = JdbcCatalogStore.open(
                CatalogDialect.h2("jdbc:h2:file:" + dir.resolve("gantry") + CatalogDialect.H2_FILE_SETTINGS), clock,
                Optional.of(auditKeyFile.orElse(dataDir.resolve("audit.key"))));
        PrivateFiles.filesIn(dir);
        return store;
    }

    /** A private in-memory H2 database, gone when closed; for tests and throw-away servers. */
    static CatalogStore inMemory(Clock clock) {
        return JdbcCatalogStore.open(CatalogDialect.h2("jdbc:h2:mem:catalog-" + java.util.UUID.randomUUID()
                + ";DB_CLOSE_DELAY=-1"), clock, Optional.empty());
    }

    /**
     * A PostgreSQL database that several servers (replicas) may share, schema migrations applied on open (one
     * server at a time). Writers in different processes are serialized by the database, so concurrent changes
     * keep the audit chain whole and a stale change is refused rather than lost. Every server sharing the
     * database must use the same audit key file: one with another key refuses to open.
     *
     * @param auditKeyFile the key of the audit chain, created 0600 when absent
     * @throws CatalogStoreException when the database cannot be reached or migrated, or the audit key differs
     *     from the one the database's other servers use
     */
    static CatalogStore postgres(CatalogLocation location, Clock clock, Path auditKeyFile) {
        if (location.isEmbedded()) {
            throw new IllegalArgumentException("location must be a PostgreSQL database, was " + location);
        }
        return JdbcCatalogStore.open(CatalogDialect.postgres(location), clock, Optional.of(auditKeyFile));
    }

    /**
     * The catalogue at {@code location}: {@link #h2(Path, Clock, Optional)} under {@code dataDir} when it is the
     * embedded one, else {@link #postgres}, the audit key by default {@code <dataDir>/audit.key}.
     */
    static CatalogStore open(CatalogLocation location, Path dataDir, Clock clock, Optional<Path> auditKeyFile) {
        if (location.isEmbedded()) {
            return h2(dataDir, clock, auditKeyFile);
        }
        return postgres(location, clock, auditKeyFile.orElse(dataDir.resolve("audit.key")));
    }

    /** The reads, inside and outside a transaction. */
    interface Reads {
        Optional<ReleaseRecord> version(String model, long version);

        /** The model's versions, lowest first. */
        List<ReleaseRecord> versions(String model);

        /** Every version of every model, by model then version. */
        List<ReleaseRecord> versions();

        /**
         * The versions in {@code stage}, by model then version: what a check run every second needs, without
         * reading (and building a record for) every version of every model.
         */
        List<ReleaseRecord> versionsIn(ReleaseStage stage);

        Optional<ModelCard> card(String model, long version);

        /** Every decision on the version, oldest first, voided ones included. */
        List<Approval> approvals(String model, long version);
    }

    /** The writes of one transaction, and its audit entries. */
    interface Tx extends Reads {
        /** @throws CatalogStoreException when the version already exists */
        void insertVersion(ReleaseRecord record);

        /** @throws CatalogStoreException when the version does not exist */
        void updateVersion(ReleaseRecord record);

        /** Creates or replaces the version's card. */
        void putCard(String model, long version, ModelCard card);

        void addApproval(Approval approval);

        /** Marks every approval of the version voided; returns how many were not voided before. */
        int voidApprovals(String model, long version);

        /**
         * Appends an entry to the audit chain, timed now; committed with the transaction.
         *
         * @param target {@code "model/version"}, {@code "model"} or {@code "key:<id>"}
         */
        AuditEntry audit(String actor, String role, String action, String target, String before, String after);
    }

    Reads reads();

    default Optional<ReleaseRecord> version(String model, long version) {
        return reads().version(model, version);
    }

    default List<ReleaseRecord> versions(String model) {
        return reads().versions(model);
    }

    default List<ReleaseRecord> versions() {
        return reads().versions();
    }

    default List<ReleaseRecord> versionsIn(ReleaseStage stage) {
        return reads().versionsIn(stage);
    }

    default Optional<ModelCard> card(String model, long version) {
        return reads().card(model, version);
    }

    default List<Approval> approvals(String model, long version) {
        return reads().approvals(model, version);
    }

    /** Writes without an audit entry; for imports and tests. State changes go through a transaction. */
    default void insertVersion(ReleaseRecord record) {
        transaction(tx -> {
            tx.insertVersion(record);
            return null;
        });
    }

    default void updateVersion(ReleaseRecord record) {
        transaction(tx -> {
            tx.updateVersion(record);
            return null;
        });
    }

    default void putCard(String model, long version, ModelCard card) {
        transaction(tx -> {
            tx.putCard(model, version, card);
            return null;
        });
    }

    default void addApproval(Approval approval) {
        transaction(tx -> {
            tx.addApproval(approval);
            return null;
        });
    }

    /**
     * Runs {@code work} in one transaction, committed when it returns and rolled back when it throws (the
     * exception propagates unchanged). Transactions are serialized, across every server sharing the database;
     * do not start one inside another.
     *
     * @throws CatalogStoreException when the database fails
     */
    <T> T transaction(Function<Tx, T> work);

    /** Audit entries matching {@code query}, newest first. */
    List<AuditEntry> audit(AuditQuery query);

    /** Walks the audit chain from the first entry and reports the first one that is missing or altered. */
    AuditVerification verifyAudit();

    /** The schema version the database is at. */
    int schemaVersion();

    @Override
    void close();
}
