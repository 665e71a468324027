package dev.gantry.store.catalog;

import dev.gantry.store.rollout.RolloutRecord;
import dev.gantry.store.rollout.RolloutStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Rollouts in the catalogue database: saved, replaced, found by state, and still there after a reopen. */
class H2RolloutStoreTest {
    @TempDir
    Path dir;

    static RolloutRecord record(String id, String state, Instant at) {
        return new RolloutRecord(id, "m", 2, 1, state, 0, at, 0, "v1;plan", "", at, "anonymous", at);
    }

    @Test
    void savedRollouts_surviveReopen_andAreFoundByState() {
        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        try (CatalogStore catalog = CatalogStore.h2(dir, Clock.systemUTC())) {
            RolloutStore store = H2RolloutStore.of(catalog);
            store.save(record("a", "RUNNING", t));
            store.save(record("b", "PROMOTED", t.plusSeconds(1)));
            store.save(new RolloutRecord("a", "m", 2, 1, "PAUSED", 1, t.plusSeconds(2), 1500, "v1;plan", "paused",
                    t, "anonymous", t.plusSeconds(3)));
        }
        try (CatalogStore catalog = CatalogStore.h2(dir, Clock.systemUTC())) {
            RolloutStore store = H2RolloutStore.of(catalog);
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
