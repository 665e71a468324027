package dev.gantry.store.catalog;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static dev.gantry.store.catalog.CatalogFixtures.digest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The catalogue's contract, on every database it runs on. */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class CatalogStoreContractTest {
    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dataDir;

    CatalogBackend.Database db;

    @BeforeEach
    void freshDatabase() {
        db = backend.fresh(dataDir);
    }

    private final CatalogFixtures.MutableClock clock = new CatalogFixtures.MutableClock(T0);

    private static ReleaseRecord v(String model, long version) {
        return ReleaseRecord.registered(model, version, digest('a'), 1234, "uploader", T0);
    }

    private static AuditEntry auditChange(CatalogStore store, String actor, String target) {
        return store.transaction(tx -> tx.audit(actor, "admin", "version.test", target, "{}", "{\"x\":1}"));
    }

    @Test
    void open_appliesMigrations_andReopenAppliesNothingTwice() throws Exception {
        try (CatalogStore store = db.open(clock)) {
            assertEquals(Migrations.latest(), store.schemaVersion());
            store.insertVersion(v("m", 1));
        }
        try (CatalogStore store = db.open(clock)) {
            assertEquals(Migrations.latest(), store.schemaVersion());
            assertTrue(store.version("m", 1).isPresent());
        }
        try (Connection c = db.raw(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT version, script FROM schema_version ORDER BY version")) {
            assertTrue(rs.next());
            assertEquals("V1__catalog.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V2__deployments.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V3__usage.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V4__model_file_digest.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V5__rollouts.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V6__policy_fallback.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V7__shared_writers.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V8__api_keys.sql", rs.getString(2));
            assertTrue(rs.next());
            assertEquals("V9__rollout_observations.sql", rs.getString(2));
            assertFalse(rs.next());
        }
    }

    @Test
    void open_whenAnAppliedMigrationChanged_isRefusedNamingIt() throws Exception {
        db.open(clock).close();
        try (Connection c = db.raw(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE schema_version SET checksum = '" + "0".repeat(64) + "' WHERE version = 1");
        }
        CatalogStoreException e = assertThrows(CatalogStoreException.class, () -> db.open(clock));
        assertTrue(e.getMessage().startsWith("migration V1__catalog.sql was changed after it was applied"),
                e.getMessage());
    }

    @Test
    void open_whenDatabaseIsNewerThanThisBuild_isRefused() throws Exception {
        db.open(clock).close();
        try (Connection c = db.raw(); Statement s = c.createStatement()) {
            s.executeUpdate("INSERT INTO schema_version VALUES (99, 'V99__future.sql', '" + "0".repeat(64)
                    + "', CURRENT_TIMESTAMP)");
        }
        CatalogStoreException e = assertThrows(CatalogStoreException.class, () -> db.open(clock));
        assertTrue(e.getMessage().contains("schema version 99, newer than this Gantry knows ("
                + Migrations.latest() + ")"), e.getMessage());
    }

    @Test
    void version_roundTripsEveryField() {
        ReleaseRecord r = new ReleaseRecord("m", 3, ReleaseStage.SUSPENDED, digest('b'), 99, "up",
                Instant.parse("2025-01-01T00:00:00.123456Z"), Optional.of("why"), Optional.of("req"),
                Optional.of(T0.plusSeconds(60)), Optional.of(4L), Optional.of(ReleaseStage.DEPRECATED),
                T0.plusNanos(5000));
        try (CatalogStore store = db.open(clock)) {
            store.insertVersion(r);
            assertEquals(Optional.of(r), store.version("m", 3));
            ReleaseRecord back = r.toBuilder().stage(ReleaseStage.DEPRECATED).suspendedFrom(Optional.empty())
                    .successor(Optional.empty()).reason(Optional.empty()).build();
            store.updateVersion(back);
            assertEquals(Optional.of(back), store.version("m", 3));
        }
    }

    @Test
    void times_areKeptToTheMicrosecond() {
        try (CatalogStore store = db.open(clock)) {
            store.insertVersion(ReleaseRecord.registered("m", 1, digest('a'), 1, "up",
                    Instant.parse("2025-01-01T00:00:00.123456789Z")));
            assertEquals(Instant.parse("2025-01-01T00:00:00.123456Z"), store.version("m", 1).orElseThrow().uploadedAt());
        }
    }

    @Test
    void versions_areListedByModelThenVersion() {
        try (CatalogStore store = db.open(clock)) {
            store.insertVersion(v("b", 1));
            store.insertVersion(v("a", 2));
            store.insertVersion(v("a", 1));
            assertEquals(List.of(1L, 2L), store.versions("a").stream().map(ReleaseRecord::version).toList());
            assertEquals(List.of("a/1", "a/2", "b/1"), store.versions().stream().map(ReleaseRecord::target).toList());
            assertEquals(Optional.empty(), store.version("a", 9));
        }
    }

    @Test
    void versionsIn_listsOnlyThatStage_byModelThenVersion() {
        try (CatalogStore store = db.open(clock)) {
            store.insertVersion(v("b", 1).toBuilder().stage(ReleaseStage.DEPRECATED).sunset(Optional.of(T0)).build());
            store.insertVersion(v("a", 2).toBuilder().stage(ReleaseStage.DEPRECATED).sunset(Optional.of(T0)).build());
            store.insertVersion(v("a", 1));
            store.insertVersion(v("c", 1).toBuilder().stage(ReleaseStage.RETIRED).build());
            assertEquals(List.of("a/2", "b/1"), store.versionsIn(ReleaseStage.DEPRECATED).stream()
                    .map(ReleaseRecord::target).toList());
            assertEquals(List.of("a/1"), store.versionsIn(ReleaseStage.REGISTERED).stream()
                    .map(ReleaseRecord::target).toList());
            assertEquals(List.of(), store.versionsIn(ReleaseStage.APPROVED));
            assertEquals(store.versionsIn(ReleaseStage.DEPRECATED),
                    store.transaction(tx -> tx.versionsIn(ReleaseStage.DEPRECATED)));
        }
    }

    @Test
    void insertVersion_twice_isRefused() {
        try (CatalogStore store = db.open(clock)) {
            store.insertVersion(v("m", 1));
            CatalogStoreException e = assertThrows(CatalogStoreException.class, () -> store.insertVersion(v("m", 1)));
            assertEquals("version 1 of model 'm' is already in the catalogue", e.getMessage());
        }
    }

    @Test
    void updateVersion_ofUnknownVersion_isRefused() {
        try (CatalogStore store = db.open(clock)) {
            assertThrows(CatalogStoreException.class, () -> store.updateVersion(v("m", 1)));
        }
    }

    @Test
    void card_andApprovals_roundTrip() {
        ModelCard card = ModelCard.fromJson("{\"owner\":\"team\",\"risk_tier\":\"high\",\"metrics\":{\"auc\":0.91}}");
        Approval a = new Approval("m", 1, "alice", "approve", T0, digest('a'), "c".repeat(64),
                Approval.Decision.APPROVE, "looks good", false);
        try (CatalogStore store = db.open(clock)) {
            store.insertVersion(v("m", 1));
            store.putCard("m", 1, card);
            store.addApproval(a);
            assertEquals(Optional.of(card), store.card("m", 1));
            assertEquals(List.of(a), store.approvals("m", 1));

            ModelCard edited = ModelCard.fromJson("{\"owner\":\"other\"}");
            store.putCard("m", 1, edited);
            assertEquals(Optional.of(edited), store.card("m", 1));
            assertEquals(Integer.valueOf(1), store.transaction(tx -> tx.voidApprovals("m", 1)));
            assertEquals(List.of(a.asVoided()), store.approvals("m", 1));
            assertEquals(Integer.valueOf(0), store.transaction(tx -> tx.voidApprovals("m", 1)));
        }
    }

    @Test
    void transaction_thatThrows_leavesNothing_notEvenItsAuditEntry() {
        try (CatalogStore store = db.open(clock)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.transaction(tx -> {
                tx.insertVersion(v("m", 1));
                tx.putCard("m", 1, ModelCard.EMPTY);
                tx.audit("alice", "deploy", "version.register", "m/1", "", "{}");
                throw new IllegalStateException("boom");
            }));
            assertEquals("boom", e.getMessage());
            assertEquals(Optional.empty(), store.version("m", 1));
            assertEquals(Optional.empty(), store.card("m", 1));
            assertEquals(List.of(), store.audit(AuditQuery.all()));
            assertEquals(1, auditChange(store, "bob", "m").seq());
        }
    }

    @Test
    void transaction_insideAnother_isRefused() {
        try (CatalogStore store = db.open(clock)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> store.transaction(tx ->
                    store.transaction(inner -> null)));
            assertTrue(e.getMessage().contains("do not nest"), e.getMessage());
        }
    }

    @Test
    void audit_chainsEachEntryToThePrevious_andVerifies() {
        try (CatalogStore store = db.open(clock)) {
            AuditEntry first = auditChange(store, "alice", "m/1");
            AuditEntry second = auditChange(store, "bob", "m/2");
            assertEquals(AuditChain.GENESIS, first.prevHash());
            assertEquals(first.hash(), second.prevHash());
            assertEquals(List.of(second, first), store.audit(AuditQuery.all()));
            AuditVerification ok = store.verifyAudit();
            assertTrue(ok.ok());
            assertEquals(2, ok.checked());
        }
    }

    @Test
    void verifyAudit_onEmptyTrail_isIntact() {
        try (CatalogStore store = db.open(clock)) {
            assertEquals(AuditVerification.intact(0), store.verifyAudit());
        }
    }

    @Test
    void verifyAudit_afterRowEditedThroughJdbc_reportsThatEntry() throws Exception {
        try (CatalogStore store = db.open(clock)) {
            for (int i = 0; i < 4; i++) {
                auditChange(store, "alice", "m/" + (i + 1));
            }
        }
        try (Connection c = db.raw(); Statement s = c.createStatement()) {
            assertEquals(1, s.executeUpdate("UPDATE audit SET after = '{\"x\":2}' WHERE seq = 3"));
        }
        try (CatalogStore store = db.open(clock)) {
            AuditVerification v = store.verifyAudit();
            assertFalse(v.ok());
            assertEquals(3, v.firstBroken().getAsLong());
            assertTrue(v.problem().orElseThrow().startsWith("entry 3 was altered after it was written"),
                    v.problem().orElseThrow());
        }
    }

    @Test
    void verifyAudit_afterRowRehashedThroughJdbc_reportsTheNextEntry() throws Exception {
        try (CatalogStore store = db.open(clock)) {
            for (int i = 0; i < 3; i++) {
                auditChange(store, "alice", "m/1");
            }
        }
        try (Connection c = db.raw(); Statement s = c.createStatement()) {
            s.executeUpdate("UPDATE audit SET hash = '" + "f".repeat(64) + "' WHERE seq = 2");
        }
        try (CatalogStore store = db.open(clock)) {
            assertEquals(2, store.verifyAudit().firstBroken().getAsLong());
        }
    }

    @Test
    void verifyAudit_afterRowDeleted_reportsTheGap() throws Exception {
        try (CatalogStore store = db.open(clock)) {
            for (int i = 0; i < 3; i++) {
                auditChange(store, "alice", "m/1");
            }
        }
        try (Connection c = db.raw(); Statement s = c.createStatement()) {
            s.executeUpdate("DELETE FROM audit WHERE seq = 2");
        }
        try (CatalogStore store = db.open(clock)) {
            AuditVerification v = store.verifyAudit();
            assertEquals(2, v.firstBroken().getAsLong());
            assertTrue(v.problem().orElseThrow().startsWith("entry 2 is missing"), v.problem().orElseThrow());
        }
    }

    @Test
    void audit_isQueriedByModelVersionActorAndTime() {
        try (CatalogStore store = db.open(clock)) {
            AuditEntry a = auditChange(store, "alice", "m/1");
            clock.advanceSeconds(10);
            AuditEntry b = auditChange(store, "bob", "m/2");
            clock.advanceSeconds(10);
            AuditEntry c = auditChange(store, "alice", "m");
            clock.advanceSeconds(10);
            AuditEntry d = auditChange(store, "carol", "other/1");
            AuditEntry k = auditChange(store, "admin", "key:k1");

            assertEquals(List.of(c, b, a), store.audit(AuditQuery.all().model("m")));
            assertEquals(List.of(b), store.audit(AuditQuery.all().version("m", 2)));
            assertEquals(List.of(c, a), store.audit(AuditQuery.all().actor("alice")));
            assertEquals(List.of(c, b), store.audit(AuditQuery.all().between(T0.plusSeconds(10), T0.plusSeconds(30))));
            assertEquals(List.of(k, d), store.audit(AuditQuery.all().limit(2)));
            assertEquals(List.of(k), store.audit(AuditQuery.all().actor("admin")));
        }
    }

    @Test
    void auditQuery_withVersionButNoModel_isRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new AuditQuery(
                Optional.empty(), Optional.of(2L), Optional.empty(), Optional.empty(), Optional.empty(), 10));
        assertEquals("version 2 needs a model to query by", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AuditQuery.all().limit(0));
    }
}
