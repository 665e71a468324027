package dev.gantry.store.catalog;

import dev.gantry.store.rollout.RolloutRecord;
import dev.gantry.store.rollout.RolloutStore;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rollouts in the catalogue database: saved, replaced, found by state, and still there after a reopen. */
@ParameterizedClass(name = "{0}")
@EnumSource(CatalogBackend.class)
class RolloutStoreContractTest {
    @Parameter
    CatalogBackend backend;

    @TempDir
    Path dir;

    CatalogBackend.Database db;

    @BeforeEach
    void freshDatabase() {
        db = backend.fresh(dir);
    }

    static RolloutRecord record(String id, String state, Instant at) {
        return new RolloutRecord(id, "m", 2, 1, state, 0, at, 0, "v1;plan", "", at, "anonymous", at);
    }

    @Test
    void savedRollouts_surviveReopen_andAreFoundByState() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        try (CatalogStore catalog = db.open(Clock.systemUTC())) {
            RolloutStore store = JdbcRolloutStore.of(catalog);
            store.save(record("a", "RUNNING", t));
            store.save(record("b", "PROMOTED", t.plusSeconds(1)));
            store.save(new RolloutRecord("a", "m", 2, 1, "PAUSED", 1, t.plusSeconds(2), 1500, "v1;plan", "paused",
                    t, "anonymous", t.plusSeconds(3)));
        }
        try (CatalogStore catalog = db.open(Clock.systemUTC())) {
            RolloutStore store = JdbcRolloutStore.of(catalog);
            RolloutRecord a = store.load("a").orElseThrow();
            assertEquals("PAUSED", a.state());
            assertEquals(1, a.stepIndex());
            assertEquals(1500, a.pausedLeftMillis());
            assertEquals(t.plusSeconds(2), a.stepStartedAt());
            assertEquals(List.of("a"), store.inStates(List.of("RUNNING", "PAUSED")).stream()
                    .map(RolloutRecord::id).toList());
            assertEquals(List.of("a", "b"), store.forModel("m").stream().map(RolloutRecord::id).toList());
            assertTrue(store.forModel("other").isEmpty());
        }
    }
}
