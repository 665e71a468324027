package dev.gantry.store.catalog;

import dev.gantry.store.deployment.DeploymentRecord;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.RevisionConflictException;
import dev.gantry.store.deployment.TrafficPolicy;
import dev.gantry.store.usage.UsageCounts;
import dev.gantry.store.usage.UsageQuery;
import dev.gantry.store.usage.UsageRow;
import dev.gantry.store.usage.UsageStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static dev.gantry.store.catalog.CatalogFixtures.digest;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two stores on one database, as two replicas sharing a PostgreSQL have: the database, not a lock in one
 * process, keeps concurrent writers correct. PostgreSQL only: an embedded H2 database belongs to one process,
 * whose one store serializes its writers itself (CatalogStoreContractTest covers that).
 */
@ParameterizedClass(name = "{0}")
@EnumSource(value = CatalogBackend.class, names = "POSTGRESQL")
class SharedDatabaseContractTest {
    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dir;

    private final CatalogFixtures.MutableClock clock = new CatalogFixtures.MutableClock(T0);
    private final ExecutorService threads = Executors.newFixedThreadPool(4);
    private CatalogStore a;
    private CatalogStore b;

    @BeforeEach
    void twoStoresOnOneDatabase() {
        CatalogStore[] two = backend.fresh(dir).openTwo(clock);
        a = two[0];
        b = two[1];
    }

    @AfterEach
    void close() throws InterruptedException {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
        b.close();
        a.close();
    }

    private static PolicyRevision rev(long n, String actor, TrafficPolicy p) {
        return new PolicyRevision(n, T0.plusSeconds(n), actor, p, Optional.empty(), "r" + n);
    }

    /** Runs the tasks at once (each waits for the others at a barrier) and returns what each did. */
    private List<Future<?>> together(List<Callable<?>> tasks) throws InterruptedException {
        CyclicBarrier start = new CyclicBarrier(tasks.size());
        List<Future<?>> out = new ArrayList<>();
        for (Callable<?> t : tasks) {
            out.add(threads.submit(() -> {
                start.await(10, TimeUnit.SECONDS);
                return t.call();
            }));
        }
        for (Future<?> f : out) {
            try {
                f.get(60, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                // inspected by the caller
            }
        }
        return out;
    }

    private static Optional<Throwable> failure(Future<?> f) {
        try {
            f.get(0, TimeUnit.SECONDS);
            return Optional.empty();
        } catch (java.util.concurrent.ExecutionException e) {
            return Optional.of(e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void twoStoresChangingOnePolicyFromTheSameRevision_exactlyOneWins_theOtherGetsARevisionConflict()
            throws Exception {
        PolicyRevision r1 = rev(1, "alice", TrafficPolicy.single(1));
        DeploymentArchive.in(a).save(new DeploymentRecord("m", List.of(r1), 1, List.of()), "deploy");
        DeploymentRecord fromA = new DeploymentRecord("m", List.of(r1, rev(2, "alice", TrafficPolicy.single(2))), 2,
                List.of(1L));
        DeploymentRecord fromB = new DeploymentRecord("m", List.of(r1, rev(2, "bob", TrafficPolicy.single(3))), 2,
                List.of(1L));

        List<Future<?>> done = together(List.of(
                () -> {
                    DeploymentArchive.in(a).save(fromA, "deploy");
                    return null;
                },
                () -> {
                    DeploymentArchive.in(b).save(fromB, "deploy");
                    return null;
                }));

        List<Throwable> failures = done.stream().map(SharedDatabaseContractTest::failure).flatMap(Optional::stream)
                .toList();
        assertEquals(1, failures.size(), "exactly one of the two saves must fail: " + failures);
        RevisionConflictException conflict = assertInstanceOf(RevisionConflictException.class, failures.get(0));
        assertEquals(2, conflict.storedRevision());
        DeploymentRecord winner = failure(done.get(0)).isEmpty() ? fromA : fromB;
        assertEquals(Optional.of(winner), DeploymentArchive.in(b).load("m"));
        assertEquals(2, a.audit(AuditQuery.all().model("m")).size(), "one audit entry per stored revision");
        assertTrue(a.verifyAudit().ok());
    }

    @Test
    void aStoreThatMissedARevision_cannotOverwriteItWithAStandbyChange() {
        PolicyRevision r1 = rev(1, "alice", TrafficPolicy.single(1));
        PolicyRevision r2 = rev(2, "alice", TrafficPolicy.single(2));
        DeploymentArchive.in(a).save(new DeploymentRecord("m", List.of(r1), 1, List.of()), "deploy");
        DeploymentArchive.in(a).save(new DeploymentRecord("m", List.of(r1, r2), 2, List.of(1L)), "deploy");

        RevisionConflictException e = assertThrows(RevisionConflictException.class, () -> DeploymentArchive.in(b)
                .save(new DeploymentRecord("m", List.of(r1), 1, List.of(5L)), "deploy"));

        assertEquals(2, e.storedRevision());
        assertEquals(2, DeploymentArchive.in(b).load("m").orElseThrow().currentRevision());
    }

    @Test
    void savingTheStoredRecordAgain_isNoConflict() {
        PolicyRevision r1 = rev(1, "alice", TrafficPolicy.single(1));
        DeploymentArchive.in(a).save(new DeploymentRecord("m", List.of(r1), 1, List.of()), "deploy");
        DeploymentRecord loaded = DeploymentArchive.in(b).load("m").orElseThrow();

        DeploymentArchive.in(b).save(new DeploymentRecord("m", loaded.history(), 1, List.of(7L)), "deploy");

        assertEquals(List.of(7L), DeploymentArchive.in(a).load("m").orElseThrow().standby());
    }

    @Test
    void approvalsAndAuditEntriesFromTwoStoresAtOnce_formOneValidChain() throws Exception {
        a.insertVersion(ReleaseRecord.registered("m", 1, digest('a'), 1, "up", T0));
        int perThread = 25;
        List<Callable<?>> writers = new ArrayList<>();
        for (CatalogStore s : List.of(a, b, a, b)) {
            writers.add(() -> {
                for (int i = 0; i < perThread; i++) {
                    s.transaction(tx -> {
                        tx.addApproval(new Approval("m", 1, "approver", "approve", T0, digest('a'), "c".repeat(64),
                                Approval.Decision.APPROVE, "ok", false));
                        return tx.audit("approver", "approve", "version.approve", "m/1", "", "{}");
                    });
                }
                return null;
            });
        }

        List<Future<?>> done = together(writers);

        for (Future<?> f : done) {
            assertEquals(Optional.empty(), failure(f));
        }
        AuditVerification v = b.verifyAudit();
        assertTrue(v.ok(), v.problem().orElse(""));
        assertEquals(4 * perThread, v.checked());
        assertEquals(4 * perThread, a.approvals("m", 1).size());
    }

    @Test
    void usageFlushesFromTwoStoresAtOnce_addEveryCount() throws Exception {
        UsageCounts one = new UsageCounts(1, 1, 1, 1, 1, 1, 0.5);
        int perThread = 20;
        List<Callable<?>> flushers = new ArrayList<>();
        for (CatalogStore s : List.of(a, b)) {
            UsageStore usage = JdbcUsageStore.in(s);
            flushers.add(() -> {
                for (int i = 0; i < perThread; i++) {
                    usage.add(List.of(new UsageRow(100, "k", "m", 1, one), new UsageRow(100 + i, "k", "m", 1, one)));
                }
                return null;
            });
        }

        List<Future<?>> done = together(flushers);

        for (Future<?> f : done) {
            assertEquals(Optional.empty(), failure(f));
        }
        long requests = JdbcUsageStore.in(a).query(new UsageQuery(0, 1000, Optional.empty(), Optional.empty(),
                EnumSet.noneOf(UsageQuery.GroupBy.class))).get(0).counts().requests();
        assertEquals(2L * 2 * perThread, requests);
    }
}
