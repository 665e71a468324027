package dev.gantry.core.routing;

import dev.gantry.core.access.Actor;
import dev.gantry.core.audit.AuditTrail;
import dev.gantry.core.governance.TrafficGate;
import dev.gantry.core.metrics.VersionStats;
import dev.gantry.core.model.ModelId;
import dev.gantry.core.rollout.Rollouts;
import dev.gantry.core.rollout.Step;
import dev.gantry.store.catalog.AuditQuery;
import dev.gantry.store.catalog.BackgroundLease;
import dev.gantry.store.catalog.CatalogLocation;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.DeploymentArchive;
import dev.gantry.store.catalog.JdbcRolloutStore;
import dev.gantry.store.catalog.LeaseLostException;
import dev.gantry.store.rollout.RolloutRecord;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.gantry.core.routing.RolloutsTest.BASELINE;
import static dev.gantry.core.routing.RolloutsTest.CANDIDATE;
import static dev.gantry.core.routing.RolloutsTest.plan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rollout tick run fenced by the background lease, on a real PostgreSQL, with a step whose time is up and whose
 * gates pass: on the lease holder the tick takes the next step; on a server whose lease session the database
 * ended, and whose lease another server then took, the same tick writes nothing (no policy revision, no change
 * to the rollout, no audit entry) although that server has not checked its lease since, and the rollout as this
 * server shows it stays as stored.
 */
class FencedRolloutTickTest {
    private static final AtomicInteger SCHEMAS = new AtomicInteger();
    private static final String KEY_PIDS = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            + " AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1"
            + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    /** The lease's advisory lock key (AdvisoryLease.KEY): its high half is classid in pg_locks, its low half objid. */
    private static final long LEASE_KEY = 0x47616e7472790002L;
    private static EmbeddedPostgres postgres;

    @TempDir
    Path dir;
    final RolloutsTest.ManualClock clock = new RolloutsTest.ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    final VersionStats stats = new VersionStats();
    ServingFixture f;
    CatalogStore other;
    BackgroundLease lease;
    BackgroundLease otherLease;
    Rollouts rollouts;
    String id;

    @BeforeAll
    static void startPostgres() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        postgres.close();
    }

    /** Two servers on one database; this one ("f") starts a rollout whose first step is then due to pass. */
    @BeforeEach
    void start() throws SQLException {
        String base = postgres.getJdbcUrl("postgres", "postgres");
        String schema = "fence" + SCHEMAS.incrementAndGet();
        try (Connection c = DriverManager.getConnection(base); Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA " + schema);
        }
        CatalogLocation location = CatalogLocation.postgres(base + "&currentSchema=" + schema, Optional.empty(),
                Optional.empty());
        CatalogStore mine = CatalogStore.postgres(location, Clock.systemUTC(), dir.resolve("audit.key"));
        other = CatalogStore.postgres(location, Clock.systemUTC(), dir.resolve("audit.key"));
        f = new ServingFixture(dir, mine, 1, 1, 2).start();
        f.deployments.loadVersion(ServingFixture.MODEL, 1, Actor.SYSTEM).join();
        rollouts = Rollouts.create(f.deployments, TrafficGate.allowAll(), stats, JdbcRolloutStore.of(mine),
                Optional.of(new AuditTrail(mine)), f.registry, clock);
        lease = BackgroundLease.over(mine);
        otherLease = BackgroundLease.over(other);
        assertTrue(lease.check());
        id = rollouts.start(ServingFixture.MODEL, plan(
                Step.of(0, Step.Kind.WEIGHT, 20, Duration.ofMinutes(1), 150),
                Step.of(1, Step.Kind.WEIGHT, 50, Duration.ofMinutes(1), 150)), Actor.ANONYMOUS).id();
        feed(CANDIDATE, 200);
        feed(BASELINE, 800);
        clock.advance(Duration.ofMinutes(2));
    }

    @AfterEach
    void stop() {
        lease.close();
        otherLease.close();
        f.close();
        other.close();
    }

    private void feed(ModelId version, int ok) {
        for (int i = 0; i < ok; i++) {
            stats.offer(version);
            stats.record(version, false, 1_000_000);
        }
    }

    private RolloutRecord stored() {
        return JdbcRolloutStore.of(other).load(id).orElseThrow();
    }

    private long storedRevision() {
        return DeploymentArchive.in(other).load(ServingFixture.MODEL).orElseThrow().currentRevision();
    }

    @Test
    void tick_onTheLeaseHolder_takesTheNextStep() {
        long revision = storedRevision();

        lease.fenced(rollouts::tick);

        assertEquals(1, stored().stepIndex());
        assertEquals(revision + 1, storedRevision());
        assertEquals(1, rollouts.get(ServingFixture.MODEL, id).stepIndex());
    }

    @Test
    void tick_onAServerWhoseLeaseSessionWasEndedAndTaken_writesNothing() throws Exception {
        terminateLeaseSessionAndTakeOver();
        assertTrue(lease.held(), "this server has not checked its lease since: it still believes it holds it");
        int entries = other.audit(AuditQuery.all()).size();
        long revision = storedRevision();
        RolloutRecord before = stored();

        assertThrows(LeaseLostException.class, () -> lease.fenced(rollouts::tick));

        assertEquals(entries, other.audit(AuditQuery.all()).size(), "no audit entry");
        assertEquals(revision, storedRevision(), "no policy revision");
        assertEquals(revision, f.deployments.snapshot(ServingFixture.MODEL).orElseThrow().revision(),
                "the policy in force here is unchanged");
        assertEquals(before, stored(), "the rollout is unchanged");
        assertEquals(0, rollouts.get(ServingFixture.MODEL, id).stepIndex(), "this server shows it as stored");
        assertFalse(lease.held());
    }

    /** Ends this server's lease session from another connection; the other server takes the lease. */
    private void terminateLeaseSessionAndTakeOver() throws Exception {
        assertFalse(otherLease.check());
        try (Connection c = DriverManager.getConnection(postgres.getJdbcUrl("postgres", "postgres"));
             PreparedStatement p = c.prepareStatement("SELECT pg_terminate_backend(pid) FROM (" + KEY_PIDS + ") h")) {
            p.setLong(1, LEASE_KEY >>> 32);
            p.setLong(2, LEASE_KEY & 0xffffffffL);
            try (ResultSet rs = p.executeQuery()) {
                assertTrue(rs.next() && rs.getBoolean(1), "the lease's session was terminated");
            }
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!otherLease.check() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(otherLease.held(), "the other server took the lease");
    }
}
