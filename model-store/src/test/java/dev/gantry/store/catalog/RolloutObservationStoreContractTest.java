package dev.gantry.store.catalog;

import dev.gantry.store.rollout.RolloutObservation;
import dev.gantry.store.rollout.RolloutObservation.Side;
import dev.gantry.store.rollout.RolloutObservationStore;
import dev.gantry.store.rollout.RolloutRecord;
import dev.gantry.store.rollout.RolloutStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What each server saw of a rollout's step, in the catalogue database: every server's rows are read back with
 * their histograms, a server's newer counts replace its row, a write is not an audited change, and the rows of
 * ended rollouts are deleted. On H2 and PostgreSQL.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class RolloutObservationStoreContractTest {
    static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dir;

    CatalogBackend.Database db;

    @BeforeEach
    void freshDatabase() {
        db = backend.fresh(dir);
    }

    static long[] histogram(int... bucketCounts) {
        long[] h = new long[64];
        for (int i = 0; i + 1 < bucketCounts.length; i += 2) {
            h[bucketCounts[i]] = bucketCounts[i + 1];
        }
        return h;
    }

    static RolloutObservation obs(String rollout, int step, String replica, Side side, long requests, long errors,
                                  long[] latency) {
        return new RolloutObservation(rollout, step, replica, side, requests + 1, requests, errors, 0, 0, latency);
    }

    static RolloutRecord rollout(String id, String state) {
        return new RolloutRecord(id, "m", 2, 1, state, 0, T, 0, "v1;plan", "", T, "anonymous", T);
    }

    @Test
    void everyServersObservationsOfAStep_areReadBackWithTheirHistograms() {
        CatalogStore[] two = db.openTwo(Clock.systemUTC());
        try (CatalogStore a = two[0]; CatalogStore b = two[1]) {
            RolloutObservation a1 = obs("ro-1", 0, "host-a-1", Side.CANDIDATE, 40, 3, histogram(10, 30, 12, 10));
            RolloutObservation a2 = obs("ro-1", 0, "host-a-1", Side.BASELINE, 160, 1, histogram(10, 150, 63, 10));
            RolloutObservation b1 = obs("ro-1", 0, "host-b-2", Side.CANDIDATE, 7, 0, histogram(0, 7));
            JdbcRolloutObservationStore.of(a).put(List.of(a1, a2));
            JdbcRolloutObservationStore.of(b).put(List.of(b1, obs("ro-1", 1, "host-b-2", Side.CANDIDATE, 5, 0,
                    histogram(1, 5)), obs("ro-2", 0, "host-b-2", Side.CANDIDATE, 9, 0, histogram(1, 9))));

            List<RolloutObservation> step = JdbcRolloutObservationStore.of(b).step("ro-1", 0);
            assertEquals(List.of(a2, a1, b1), step, "ordered by server, then side");
            assertArrayEquals(histogram(10, 150, 63, 10), step.get(0).latency());
            assertEquals(161, step.get(0).offered());
            assertEquals(List.of(), JdbcRolloutObservationStore.of(a).step("ro-1", 2));
        }
    }

    @Test
    void aServersNewerCounts_replaceItsRow_andAreNotAnAuditedChange() {
        try (CatalogStore catalog = db.open(Clock.systemUTC())) {
            RolloutObservationStore store = JdbcRolloutObservationStore.of(catalog);
            int audited = catalog.audit(AuditQuery.all()).size();
            store.put(List.of(obs("ro-1", 0, "host-a-1", Side.CANDIDATE, 40, 3, histogram(10, 40))));
            RolloutObservation later = obs("ro-1", 0, "host-a-1", Side.CANDIDATE, 55, 4, histogram(10, 50, 11, 5));
            store.put(List.of(later));
            store.put(List.of(later));

            assertEquals(List.of(later), store.step("ro-1", 0));
            assertEquals(audited, catalog.audit(AuditQuery.all()).size(), "no audit entry for observations");
        }
    }

    @Test
    void deleteEnded_removesTheObservationsOfEndedAndUnknownRollouts_only() {
        try (CatalogStore catalog = db.open(Clock.systemUTC())) {
            RolloutStore rollouts = JdbcRolloutStore.of(catalog);
            rollouts.save(rollout("running", "RUNNING"));
            rollouts.save(rollout("paused", "PAUSED"));
            rollouts.save(rollout("done", "ROLLED_BACK"));
            RolloutObservationStore store = JdbcRolloutObservationStore.of(catalog);
            for (String id : List.of("running", "paused", "done", "unknown")) {
                store.put(List.of(obs(id, 0, "host-a-1", Side.CANDIDATE, 1, 0, histogram(0, 1)),
                        obs(id, 0, "host-a-1", Side.BASELINE, 1, 0, histogram(0, 1))));
            }

            assertEquals(4, store.deleteEnded(List.of("PENDING", "RUNNING", "PAUSED")));
            assertEquals(2, store.step("running", 0).size());
            assertEquals(2, store.step("paused", 0).size());
            assertEquals(List.of(), store.step("done", 0));
            assertEquals(List.of(), store.step("unknown", 0));
        }
    }
}
