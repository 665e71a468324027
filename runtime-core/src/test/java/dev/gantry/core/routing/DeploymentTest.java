package dev.gantry.core.routing;

import dev.gantry.core.governance.Actors;
import dev.gantry.core.error.ErrorCode;
import dev.gantry.core.error.GantryException;
import dev.gantry.store.deployment.DeploymentStoreException;
import dev.gantry.store.deployment.PolicyRevision;
import dev.gantry.store.deployment.Route;
import dev.gantry.store.deployment.TrafficPolicy;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class DeploymentTest {
    private final MemoryDeploymentStore store = new MemoryDeploymentStore();
    private final Clock clock = Clock.fixed(Instant.parse("2025-06-01T12:00:00Z"), ZoneOffset.UTC);
    private final Deployment d = Deployment.create("m", TrafficPolicy.single(1), dev.gantry.core.access.Actor.SYSTEM, "", store, clock,
            new DeploymentSettings(1, 100));

    private static TrafficPolicy split(int w1, int w2) {
        return new TrafficPolicy(List.of(new Route(1, w1), new Route(2, w2)), List.of());
    }

    @Test
    void create_startsAtRevisionOne_andSavesIt() {
        assertEquals(1, d.snapshot().revision());
        assertEquals(1, store.saves());
        assertEquals(d.record(), store.load("m").orElseThrow());
    }

    @Test
    void apply_publishesNextRevision_andRecordsWhoAndWhy() {
        PolicyRevision r = d.apply(split(90, 10), OptionalLong.empty(), Actors.as("alice", "deploy"), "canary");

        assertEquals(2, r.revision());
        assertEquals(split(90, 10), d.snapshot().policy());
        assertEquals(2, d.snapshot().revision());
        assertEquals(new PolicyRevision(2, clock.instant(), "alice", split(90, 10), Optional.empty(), "canary"),
                d.history().get(1));
        assertEquals(d.record(), store.load("m").orElseThrow());
    }

    @Test
    void apply_withStaleExpectedRevision_isRefusedAndChangesNothing() {
        d.apply(split(90, 10), OptionalLong.of(1), Actors.as("a", "deploy"), "");
        DeploymentSnapshot before = d.snapshot();

        GantryException e = assertThrows(GantryException.class,
                () -> d.apply(split(50, 50), OptionalLong.of(1), Actors.as("b", "deploy"), ""));
        assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
        assertEquals("expected revision 1, current is 2", e.getMessage());
        assertSame(before, d.snapshot());
    }

    @Test
    void apply_whenSaveFails_changesNothingAndPropagates() {
        DeploymentSnapshot before = d.snapshot();
        store.failSaves(true);

        assertThrows(DeploymentStoreException.class, () -> d.apply(split(90, 10), OptionalLong.empty(), Actors.as("a", "deploy"), ""));
        assertSame(before, d.snapshot());
        assertEquals(1, d.history().size());
    }

    @Test
    void rollback_restoresPreviousPolicyAsNewRevision() {
        d.apply(split(90, 10), OptionalLong.empty(), Actors.as("a", "deploy"), "");
        d.apply(split(50, 50), OptionalLong.empty(), Actors.as("a", "deploy"), "");

        RollbackResult r = d.rollback(OptionalLong.empty(), Actors.as("bob", "deploy"));

        assertEquals(new RollbackResult(3, 2, 4, split(90, 10)), r);
        assertEquals(split(90, 10), d.snapshot().policy());
        assertEquals(Optional.of(3L), d.history().get(3).rollbackOf());
        assertEquals(4, d.history().size());
    }

    @Test
    void rollback_toNamedRevision_restoresThatPolicy() {
        d.apply(split(90, 10), OptionalLong.empty(), Actors.as("a", "deploy"), "");
        d.apply(split(50, 50), OptionalLong.empty(), Actors.as("a", "deploy"), "");

        RollbackResult r = d.rollback(OptionalLong.of(1), Actors.as("bob", "deploy"));

        assertEquals(new RollbackResult(3, 1, 4, TrafficPolicy.single(1)), r);
    }

    @Test
    void rollback_toUnknownRevision_isNotFound() {
        GantryException e = assertThrows(GantryException.class, () -> d.rollback(OptionalLong.of(9), Actors.as("bob", "deploy")));
        assertEquals(ErrorCode.NOT_FOUND, e.code());
    }

    @Test
    void rollback_withNothingBefore_isRefused() {
        GantryException e = assertThrows(GantryException.class, () -> d.rollback(OptionalLong.empty(), Actors.as("bob", "deploy")));
        assertEquals(ErrorCode.FAILED_PRECONDITION, e.code());
    }

    @Test
    void versionsLeavingAllRoutes_becomeStandby_mostRecentFirst_upToCount() {
        d.apply(TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("a", "deploy"), "");
        assertEquals(List.of(1L), d.snapshot().standby());
        d.apply(TrafficPolicy.single(3), OptionalLong.empty(), Actors.as("a", "deploy"), "");
        assertEquals(List.of(2L), d.snapshot().standby());
        d.apply(TrafficPolicy.single(2), OptionalLong.empty(), Actors.as("a", "deploy"), "");
        assertEquals(List.of(3L), d.snapshot().standby());
    }

    @Test
    void restore_publishesTheSameRevisionWithoutSaving() {
        d.apply(split(90, 10), OptionalLong.empty(), Actors.as("a", "deploy"), "");
        int saves = store.saves();

        Deployment again = Deployment.restore(store.load("m").orElseThrow(), store, clock, new DeploymentSettings(1, 100));

        assertEquals(2, again.snapshot().revision());
        assertEquals(split(90, 10), again.snapshot().policy());
        assertEquals(saves, store.saves());
    }
}
