package dev.gantry.store.catalog;

import dev.gantry.store.deployment.DeploymentRecord;
import dev.gantry.store.deployment.DeploymentStore;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.ShadowRoute;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class DeploymentArchiveContractTest {
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

    private static PolicyRevision rev(long n, Instant t, TrafficPolicy p) {
        return new PolicyRevision(n, t, "alice", p, Optional.empty(), "r" + n);
    }

    private static final TrafficPolicy CANARY = new TrafficPolicy(List.of(new Route(1, 90), new Route(2, 10)),
            List.of(new ShadowRoute(3, 25)), java.util.OptionalLong.of(4));

    @Test
    void save_thenLoad_returnsEqualRecord_acrossReopen() {
        DeploymentRecord record = new DeploymentRecord("m", List.of(
                rev(1, Instant.parse("2025-01-01T00:00:00.123456Z"), TrafficPolicy.single(1)),
                new PolicyRevision(2, T0, "bob", CANARY, Optional.of(1L), "canary \"v2\"")), 2, List.of(4L, 5L));
        try (CatalogStore catalog = db.open(clock)) {
            DeploymentStore store = DeploymentArchive.in(catalog);
            store.save(record, "deploy");
            assertEquals(Optional.of(record), store.load("m"));
        }
        try (CatalogStore catalog = db.open(clock)) {
            assertEquals(List.of(record), DeploymentArchive.in(catalog).loadAll());
            assertEquals(Optional.empty(), DeploymentArchive.in(catalog).load("other"));
        }
    }

    @Test
    void inForceAt_answersWhichVersionsTookTrafficAtAPastTime_evenAfterHistoryWasTrimmed() {
        try (CatalogStore catalog = db.open(clock)) {
            DeploymentArchive store = DeploymentArchive.in(catalog);
            PolicyRevision r1 = rev(1, T0, TrafficPolicy.single(1));
            PolicyRevision r2 = rev(2, T0.plusSeconds(100), CANARY);
            PolicyRevision r3 = rev(3, T0.plusSeconds(200), TrafficPolicy.single(2));
            store.save(new DeploymentRecord("m", List.of(r1), 1, List.of()), "deploy");
            store.save(new DeploymentRecord("m", List.of(r1, r2), 2, List.of()), "deploy");
            store.save(new DeploymentRecord("m", List.of(r2, r3), 3, List.of(1L)), "deploy");

            assertEquals(Optional.empty(), store.inForceAt("m", T0.minusSeconds(1)));
            assertEquals(Optional.of(r1), store.inForceAt("m", T0.plusSeconds(99)));
            assertEquals(Optional.of(r2), store.inForceAt("m", T0.plusSeconds(100)));
            assertEquals(Optional.of(r3), store.inForceAt("m", T0.plusSeconds(1000)));
            assertEquals(List.of(r1, r2, r3), store.revisions("m"));
            assertEquals(List.of(r2, r3), store.load("m").orElseThrow().history());
        }
    }

    @Test
    void save_ofARevisionDifferingFromTheStoredOneOnlyInItsFallback_isAConflict_notSilentlyDropped() {
        try (CatalogStore catalog = db.open(clock)) {
            DeploymentArchive store = DeploymentArchive.in(catalog);
            TrafficPolicy withFallback = new TrafficPolicy(List.of(new Route(1, 100)), List.of(),
                    java.util.OptionalLong.of(2));
            store.save(new DeploymentRecord("m", List.of(rev(1, T0, withFallback)), 1, List.of()), "deploy");

            assertThrows(dev.gantry.store.deployment.RevisionConflictException.class, () -> store.save(
                    new DeploymentRecord("m", List.of(rev(1, T0, TrafficPolicy.single(1))), 1, List.of()), "deploy"));
            assertEquals(java.util.OptionalLong.of(2),
                    store.load("m").orElseThrow().history().get(0).policy().fallback());
        }
    }

    @Test
    void save_ofNewRevisions_appendsOneAuditEntryEach() {
        try (CatalogStore catalog = db.open(clock)) {
            DeploymentArchive store = DeploymentArchive.in(catalog);
            PolicyRevision r1 = rev(1, T0, TrafficPolicy.single(1));
            PolicyRevision r2 = new PolicyRevision(2, T0, "bob", TrafficPolicy.single(2), Optional.of(1L), "back");
            store.save(new DeploymentRecord("m", List.of(r1), 1, List.of()), "deploy");
            store.save(new DeploymentRecord("m", List.of(r1), 1, List.of(3L)), "deploy");
            store.save(new DeploymentRecord("m", List.of(r1, r2), 2, List.of()), "deploy");

            List<AuditEntry> entries = catalog.audit(AuditQuery.all().model("m"));
            assertEquals(List.of("policy.rollback", "policy.apply"), entries.stream().map(AuditEntry::action).toList());
            assertEquals("bob", entries.get(0).actor());
            assertTrue(entries.get(0).after().contains("\"routes\":\"2=100\""), entries.get(0).after());
            assertTrue(entries.get(0).before().contains("\"routes\":\"1=100\""), entries.get(0).before());
            assertTrue(catalog.verifyAudit().ok());
        }
    }

    /** A save reads only the revisions its record holds, so the state before may come from one it dropped. */
    @Test
    void save_ofARecordWhoseHistoryDroppedTheStoredLatest_auditsThatRevisionAsTheStateBefore() {
        try (CatalogStore catalog = db.open(clock)) {
            DeploymentArchive store = DeploymentArchive.in(catalog);
            PolicyRevision r1 = rev(1, T0, CANARY);
            PolicyRevision r2 = rev(2, T0.plusSeconds(1), TrafficPolicy.single(2));
            PolicyRevision r3 = rev(3, T0.plusSeconds(2), TrafficPolicy.single(3));
            store.save(new DeploymentRecord("m", List.of(r1), 1, List.of()), "deploy");
            store.save(new DeploymentRecord("m", List.of(r2, r3), 3, List.of()), "deploy");

            List<AuditEntry> entries = catalog.audit(AuditQuery.all().model("m"));
            assertEquals(3, entries.size());
            assertTrue(entries.get(1).after().contains("\"revision\":2,"), entries.get(1).after());
            assertTrue(entries.get(0).after().contains("\"revision\":3,"), entries.get(0).after());
            assertTrue(entries.get(1).before().contains("\"routes\":\"1=90,2=10\""), entries.get(1).before());
            assertTrue(entries.get(0).before().contains("\"routes\":\"2=100\""), entries.get(0).before());
            assertEquals(List.of(r1, r2, r3), store.revisions("m"));
            assertEquals(List.of(r2, r3), store.load("m").orElseThrow().history());
            // a record built on revision 1 is stale now, whatever it holds
            assertThrows(dev.gantry.store.deployment.RevisionConflictException.class, () -> store.save(
                    new DeploymentRecord("m", List.of(r1, rev(2, T0.plusSeconds(5), CANARY)), 2, List.of()),
                    "deploy"));
            assertEquals(3, catalog.audit(AuditQuery.all().model("m")).size());
        }
    }

    @Test
    void in_ofForeignCatalogStore_isRejected() {
        assertThrows(IllegalArgumentException.class, () -> DeploymentArchive.in(new CatalogStore() {
            public Reads reads() { return null; }
            public <T> T transaction(java.util.function.Function<Tx, T> work) { return null; }
            public List<AuditEntry> audit(AuditQuery query) { return List.of(); }
            public AuditVerification verifyAudit() { return null; }
            public int schemaVersion() { return 0; }
            public void close() { }
        }));
    }
}
