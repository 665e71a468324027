package dev.gantry.store.catalog;

import dev.gantry.store.rollout.RolloutRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

import static dev.gantry.store.catalog.CatalogFixtures.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Fenced background writes: a write made inside {@link BackgroundLease#fenced} commits only if the database
 * confirms in its own transaction that the lease is still held; on PostgreSQL a holder whose lease session the
 * database ended (here with pg_terminate_backend, as a network partition or an idle-session kill would) writes
 * nothing once another server took the lease, though it has not noticed yet. A client's (unfenced) write is not
 * affected. On the embedded database (one process) the fence always passes.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class LeaseFenceContractTest {
    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dir;

    private CatalogBackend.Database db;
    private CatalogStore one;
    private CatalogStore two;
    private BackgroundLease first;
    private BackgroundLease second;

    @BeforeEach
    void twoServers() {
        db = backend.fresh(dir);
        CatalogStore[] stores = db.openTwo(new CatalogFixtures.MutableClock(T0));
        one = stores[0];
        two = stores[1];
        first = BackgroundLease.over(one);
        second = BackgroundLease.over(two);
    }

    @AfterEach
    void close() {
        first.close();
        second.close();
        one.close();
        two.close();
    }

    /** A background decision as rollouts write it: the rollout's row, then its audit entry. */
    private static void decide(CatalogStore catalog, String id) {
        JdbcRolloutStore.of(catalog).save(new RolloutRecord(id, "m", 2, 1, "RUNNING", 1,
                T0, 0, "v1;plan", "step 2", T0, "system", T0));
        catalog.transaction(tx -> tx.audit("system", "system", "rollout.step", "m/2", "rollout " + id + ": step 1",
                "RUNNING step 2"));
    }

    private static boolean written(CatalogStore catalog, String id) {
        boolean row = JdbcRolloutStore.of(catalog).load(id).isPresent();
        boolean entry = catalog.audit(AuditQuery.all()).stream()
                .anyMatch(e -> e.before().equals("rollout " + id + ": step 1"));
        assertEquals(row, entry, "the row and its audit entry are written together or not at all");
        return row;
    }

    @Test
    void fencedWrite_whileThisServerHoldsTheLease_commits() {
        assertTrue(first.check());

        first.fenced(() -> decide(one, "ro-held"));

        assertTrue(written(two, "ro-held"));
        assertTrue(first.held());
    }

    @Test
    void fencedWrite_ofAServerWaitingForTheLease_isRefusedOnlyOnPostgres() {
        first.check();
        second.check();

        if (backend == CatalogBackend.H2) {
            second.fenced(() -> decide(two, "ro-waiting"));
            assertTrue(written(one, "ro-waiting"));
        } else {
            assertThrows(LeaseLostException.class, () -> second.fenced(() -> decide(two, "ro-waiting")));
            assertFalse(written(one, "ro-waiting"));
        }
    }

    @Test
    void fencedWrite_afterTheDatabaseEndedTheHoldersSessionAndAnotherServerTookTheLease_isRefused()
            throws Exception {
        assumeTrue(backend == CatalogBackend.POSTGRESQL, "an embedded database has one process and no sessions");
        takeOverAfterTerminatingTheHolder();
        assertTrue(first.held(), "the old holder has not checked since: it still believes it holds the lease");

        LeaseLostException refused = assertThrows(LeaseLostException.class,
                () -> first.fenced(() -> decide(one, "ro-old-holder")));

        assertTrue(refused.getMessage().contains("nothing was written"), refused.getMessage());
        assertFalse(written(two, "ro-old-holder"), "no row, no audit entry");
        assertFalse(first.held(), "the refusal marks the lease lost at once");
    }

    @Test
    void fencedWrite_ofTheServerThatTookTheLeaseFromATerminatedSession_commits() throws Exception {
        assumeTrue(backend == CatalogBackend.POSTGRESQL, "an embedded database has one process and no sessions");
        takeOverAfterTerminatingTheHolder();
        assertThrows(LeaseLostException.class, () -> first.fenced(() -> decide(one, "ro-old-holder")));

        second.fenced(() -> decide(two, "ro-new-holder"));

        assertTrue(written(one, "ro-new-holder"));
        assertFalse(first.check(), "the old holder's next check finds the lease taken");
    }

    @Test
    void clientWrite_isNotFenced_evenOnAServerWhoseLeaseSessionWasTerminated() throws Exception {
        assumeTrue(backend == CatalogBackend.POSTGRESQL, "an embedded database has one process and no sessions");
        takeOverAfterTerminatingTheHolder();

        decide(one, "ro-client");

        assertTrue(written(two, "ro-client"));
    }

    @Test
    void oldHolder_afterARefusedWrite_holdsTheLeaseAgainOnceItIsFree_andItsFencedWritesCommit() throws Exception {
        assumeTrue(backend == CatalogBackend.POSTGRESQL, "an embedded database has one process and no sessions");
        takeOverAfterTerminatingTheHolder();
        assertThrows(LeaseLostException.class, () -> first.fenced(() -> decide(one, "ro-refused")));
        second.close();

        assertTrue(first.check());
        first.fenced(() -> decide(one, "ro-again"));

        assertTrue(written(two, "ro-again"));
        first.close();
        try (BackgroundLease third = BackgroundLease.over(two)) {
            assertTrue(third.check(), "closing released every count of the lock: another lease takes it");
        }
    }

    /**
     * first holds the lease; its session is ended from another connection, as the database would end it, and
     * second takes the lease at its next check (within 10 s: the session ends asynchronously).
     */
    private void takeOverAfterTerminatingTheHolder() throws Exception {
        assertTrue(first.check());
        assertFalse(second.check());
        try (Connection c = db.raw()) {
            int pid = holderPid(c);
            try (PreparedStatement p = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
                p.setInt(1, pid);
                p.executeQuery().close();
            }
        }
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!second.check() && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertTrue(second.held(), "the second server took the lease after the holder's session ended");
    }

    /** The backend holding the lease, as pg_locks shows it (a bigint key: high half classid, low half objid). */
    private static int holderPid(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT pid FROM pg_locks WHERE locktype = 'advisory'"
                + " AND granted AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1"
                + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")) {
            p.setLong(1, AdvisoryLease.KEY >>> 32);
            p.setLong(2, AdvisoryLease.KEY & 0xffffffffL);
            try (ResultSet rs = p.executeQuery()) {
                assertTrue(rs.next(), "pg_locks shows the lease");
                int pid = rs.getInt(1);
                assertFalse(rs.next(), "one holder");
                return pid;
            }
        }
    }
}
