package dev.gantry.core.routing;

import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.core.governance.Actors;
import dev.gantry.store.catalog.CatalogStore;
import dev.gantry.store.catalog.DeploymentArchive;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Two servers' views of one deployment over one catalogue database (as replicas sharing PostgreSQL have): a
 * change made from a revision another server has already replaced is refused with the usual revision conflict.
 */
class SharedCatalogueDeploymentTest {
    private final Clock clock = Clock.fixed(Instant.parse("2025-06-01T12:00:00Z"), ZoneOffset.UTC);
    private final CatalogStore catalog = CatalogStore.inMemory(clock);
    private final DeploymentArchive archive = DeploymentArchive.in(catalog);
    private final DeploymentSettings settings = new DeploymentSettings(1, 100);

    @AfterEach
    void close() {
        catalog.close();
    }

    private static TrafficPolicy split(int w1, int w2) {
        return new TrafficPolicy(List.of(new Route(1, w1), new Route(2, w2)), List.of());
    }

    @Test
    void changeFromARevisionAnotherServerReplaced_isRefusedAsARevisionConflict_andChangesNothing() {
        Deployment.create("m", TrafficPolicy.single(1), dev.gantry.core.access.Actor.SYSTEM, "", archive, clock, settings);
        Deployment first = Deployment.restore(archive.load("m").orElseThrow(), archive, clock, settings);
        Deployment second = Deployment.restore(archive.load("m").orElseThrow(), archive, clock, settings);
        first.apply(split(90, 10), OptionalLong.of(1), Actors.as("alice", "deploy"), "canary");

        GantryException e = assertThrows(GantryException.class,
                () -> second.apply(split(50, 50), OptionalLong.of(1), Actors.as("bob", "deploy"), "half"));

        assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
        assertEquals("expected revision 1, current is 2 (changed through another server)", e.getMessage());
        assertEquals(1, second.snapshot().revision());
        assertEquals(split(90, 10), archive.load("m").orElseThrow().current().policy());
    }
}
